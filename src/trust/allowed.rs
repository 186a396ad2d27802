//! Catalog directories outside a project that the person named for it.
//!
//! A project records its catalog directories relative to itself, and a
//! team's often sits beside the project (`../team-catalog`). A cloned
//! project's `brickyard.yaml` could name any directory of the machine that
//! way, so a directory outside the project is read only once this person
//! has named it for this project with `--catalog DIR` (as `direnv allow`
//! does for an `.envrc`). The record lives in the user's state directory
//! (`BRICKYARD_STATE_DIR`, else `$XDG_STATE_HOME/brickyard`, else
//! `~/.local/state/brickyard`), never in a project.

use std::path::{Path, PathBuf};

const FILE: &str = "catalog-dirs";

/// The user's state directory for brickyard.
pub fn state_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("BRICKYARD_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("brickyard")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/brickyard")))
}

/// `path` with links resolved as far as it exists (a project `new` is
/// about to make does not yet).
fn resolved(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return Some(rest.iter().rev().fold(real, |p, c| p.join(c)));
        }
        rest.push(at.file_name()?.to_os_string());
        at = at.parent()?;
    }
}

/// Both paths as the record keeps them: resolved (links followed), one line each.
fn key(project: &Path, catalog: &Path) -> Option<String> {
    let project = resolved(project)?;
    let catalog = std::fs::canonicalize(catalog).ok()?;
    let (p, c) = (project.to_str()?, catalog.to_str()?);
    if p.contains(['\t', '\n']) || c.contains(['\t', '\n']) {
        return None;
    }
    Some(format!("{p}\t{c}"))
}

fn read() -> String {
    state_dir()
        .and_then(|d| {
            crate::trust::fs::read_text(&d.join(FILE), crate::trust::fs::limit::PROJECT).ok()
        })
        .unwrap_or_default()
}

/// Whether the person named `catalog` for `project`.
pub fn is_allowed(project: &Path, catalog: &Path) -> bool {
    key(project, catalog).is_some_and(|k| read().lines().any(|l| l == k))
}

/// Remembers that the person named `catalog` for `project`. Best effort: a
/// state directory that cannot be written only means being asked again.
pub fn allow(project: &Path, catalog: &Path) {
    let (Some(dir), Some(k)) = (state_dir(), key(project, catalog)) else {
        return;
    };
    let mut text = read();
    if text.lines().any(|l| l == k) {
        return;
    }
    text.push_str(&k);
    text.push('\n');
    let _ = std::fs::create_dir_all(&dir).and_then(|()| {
        let tmp = tempfile::NamedTempFile::new_in(&dir)?;
        std::fs::write(tmp.path(), &text)?;
        tmp.persist(dir.join(FILE)).map_err(|e| e.error)?;
        Ok(())
    });
}
