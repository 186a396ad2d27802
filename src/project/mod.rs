//! Living with a project after `new`: `update`, `add` and `remove` render
//! the project again (changed picks, a changed catalog) and merge the result
//! with the files on disk, losing nothing a person wrote.

pub mod k8s;
pub mod lock;
pub mod make;
pub mod merge;
pub mod state;
pub mod update;
