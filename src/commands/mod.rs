pub mod catalog;
pub mod new;
pub mod stack;
