pub mod catalog;
pub mod demo;
pub mod new;
pub mod stack;
pub mod update;
