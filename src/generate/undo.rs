//! The undo record: what the last `add`, `remove`, `update` or `new --force`
//! replaced, kept in `.brickyard/undo/` for `update --undo`.
//!
//! `.brickyard/undo/files/` holds the files as they were, and
//! `.brickyard/undo/record.json` says which they are, with a SHA-256 of
//! each, and which files the change created (with a SHA-256 of what
//! brickyard wrote there). `--undo` acts only on a record that checks out:
//! made for this directory (one that came along in a copy or a clone does
//! not), every path normalized and inside the project, every copy as the
//! record says; and it removes a file it created only if that file still
//! holds what brickyard wrote. Nothing else in the directory is ever used.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::trust;

/// Under the undo directory: the files as they were.
pub const FILES: &str = "files";
/// Under the undo directory: the record.
pub const RECORD: &str = "record.json";
const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The record's format, so an older brickyard's is told apart.
    pub brickyard_undo: u32,
    /// The project directory it was made for, resolved.
    pub project: String,
    /// Files put aside (their copies are under `files/`).
    pub restore: Vec<Entry>,
    /// Files that did not exist before: what brickyard wrote there.
    pub created: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
}

/// A file to put back, read from the undo directory and checked.
pub struct Restore {
    pub path: String,
    pub contents: String,
}

/// What `--undo` may do, once the record checked out.
pub struct Plan {
    pub restore: Vec<Restore>,
    /// Created files that still hold what brickyard wrote: removed.
    pub remove: Vec<String>,
    /// Created files changed since: kept, and said.
    pub keep: Vec<String>,
}

pub use crate::trust::sha256_hex;

/// The directory as the record names it.
pub fn project_key(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// A path the record may name: a project file, or a base copy; never the
/// undo directory itself, nor anything of git's.
pub fn check_path(path: &str) -> Result<(), String> {
    trust::path::check_normal(path).map_err(|why| format!("`{path}` {why}"))?;
    if path == super::ENV_FILE {
        return Err("`.env` is never in an undo record: secrets live in one file only".into());
    }
    if path.starts_with(".brickyard/base/") {
        return Ok(());
    }
    match trust::path::reserved(path) {
        Some(why) => Err(format!("`{path}` {why}")),
        None => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("nothing to undo: no update, add or remove has run here (or it was undone already)")]
    Nothing,
    #[error(
        "{path} is not an undo record brickyard wrote here ({why}); nothing was changed\n  `rm -r {dir}` clears it"
    )]
    Invalid {
        path: String,
        dir: String,
        why: String,
    },
}

/// Reads and checks the undo record of the project in `dir`.
pub fn plan(dir: &Path) -> Result<Plan, UndoError> {
    let undo = dir.join(super::UNDO_DIR);
    let record_path = undo.join(RECORD);
    let invalid = |why: String| UndoError::Invalid {
        path: record_path.display().to_string(),
        dir: undo.display().to_string(),
        why,
    };
    if trust::path::first_link(dir, super::UNDO_DIR).is_some() {
        return Err(invalid("the undo directory is a symbolic link".into()));
    }
    let text = match trust::fs::read_text(&record_path, trust::fs::limit::PROJECT) {
        Ok(t) => t,
        Err(e) if e.is_not_found() && !undo.exists() => return Err(UndoError::Nothing),
        Err(e) => return Err(invalid(e.to_string())),
    };
    let record: Record = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if record.brickyard_undo != FORMAT {
        return Err(invalid(format!(
            "format {} (this brickyard reads {FORMAT})",
            record.brickyard_undo
        )));
    }
    if record.project != project_key(dir) {
        return Err(invalid(format!(
            "it was made for {}, and this is {}: it came with a copy or a clone",
            record.project,
            project_key(dir)
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in record.restore.iter().chain(&record.created) {
        check_path(&e.path).map_err(&invalid)?;
        if !seen.insert(e.path.as_str()) {
            return Err(invalid(format!("`{}` is listed twice", e.path)));
        }
    }
    let mut restore = Vec::new();
    for e in &record.restore {
        let rel = format!("{}/{FILES}/{}", super::UNDO_DIR, e.path);
        if trust::path::first_link(dir, &rel).is_some() {
            return Err(invalid(format!(
                "the copy of `{}` is a symbolic link",
                e.path
            )));
        }
        let bytes = trust::fs::read_bytes(&dir.join(&rel), trust::fs::limit::GENERATED)
            .map_err(|err| invalid(err.to_string()))?;
        if sha256_hex(&bytes) != e.sha256 {
            return Err(invalid(format!(
                "the copy of `{}` is not what was put aside",
                e.path
            )));
        }
        let contents = String::from_utf8(bytes)
            .map_err(|_| invalid(format!("the copy of `{}` is not text", e.path)))?;
        restore.push(Restore {
            path: e.path.clone(),
            contents,
        });
    }
    let (mut remove, mut keep) = (Vec::new(), Vec::new());
    for e in &record.created {
        if trust::path::first_link(dir, &e.path).is_some() {
            keep.push(e.path.clone());
            continue;
        }
        match trust::fs::read_bytes(&dir.join(&e.path), trust::fs::limit::GENERATED) {
            Ok(bytes) if sha256_hex(&bytes) == e.sha256 => remove.push(e.path.clone()),
            Err(err) if err.is_not_found() => {}
            _ => keep.push(e.path.clone()),
        }
    }
    Ok(Plan {
        restore,
        remove,
        keep,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_project_files_and_base_copies_may_be_named() {
        for ok in ["compose.yaml", ".brickyard/base/compose.yaml"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            ".env",
            "../x",
            "/etc/passwd",
            ".brickyard/undo/record.json",
            ".brickyard/lock",
            ".git/hooks/post-checkout",
            "a//b",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
