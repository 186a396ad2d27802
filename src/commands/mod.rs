pub mod catalog;
pub mod demo;
pub mod export;
pub mod new;
pub mod stack;
pub mod update;
