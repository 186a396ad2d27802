//! One integration binary: the product as a user runs it.
//! Docker-backed tests run only when BRICKYARD_DOCKER_TESTS=1 (CI sets it);
//! validator tests only when BRICKYARD_VALIDATORS=1 (CI installs the tools).

mod chat;
mod cloned;
mod coverage;
mod docker;
mod engine;
mod fidelity;
mod hosted;
mod hostile;
mod kube;
mod new;
mod support;
mod update;
mod validators;
