pub mod catalog;
pub mod new;
