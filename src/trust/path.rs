//! Paths that a file records (`generated.files`, the undo record, a catalog
//! entry's `files:`): relative, normalized, inside the project, never
//! through a symbolic link, and never one of brickyard's or git's own.

use std::path::{Component, Path, PathBuf};

/// A relative path that stays inside the project (no `..`, not absolute).
pub fn check_relative(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.contains('\\') {
        return Err("must use forward slashes");
    }
    if path.contains('\0') {
        return Err("holds a NUL byte");
    }
    for c in Path::new(path).components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("climbs out of the project with `..`"),
            Component::RootDir | Component::Prefix(_) => {
                return Err("is absolute; paths must stay inside the project");
            }
        }
    }
    Ok(())
}

/// As [`check_relative`], and written as brickyard writes it: no `.`, no
/// empty part, no trailing `/`, no control character.
pub fn check_normal(path: &str) -> Result<(), &'static str> {
    check_relative(path)?;
    if path.chars().any(char::is_control) {
        return Err("holds a control character");
    }
    if path.split('/').any(|p| p.is_empty() || p == ".") {
        return Err("is not normalized (an empty part, `.`, or a trailing `/`)");
    }
    Ok(())
}

/// Where brickyard keeps its own state, and where git keeps its (a hook
/// written there would run on the person's next commit).
pub fn reserved(path: &str) -> Option<&'static str> {
    let first = path.split('/').find(|p| !p.is_empty() && *p != ".")?;
    match first {
        ".git" => Some("is inside .git/, git's own directory"),
        ".brickyard" => Some("is inside .brickyard/, brickyard's own directory"),
        _ => None,
    }
}

/// A path recorded in a project file: normalized, inside, not reserved.
pub fn check_recorded(path: &str) -> Result<(), &'static str> {
    check_normal(path)?;
    match reserved(path) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// The first existing part of `rel` under `root` that is a symbolic link.
pub fn first_link(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(path),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_paths_are_normal_inside_and_not_reserved() {
        for ok in [
            "compose.yaml",
            "app/main.py",
            ".env",
            ".github/workflows/ci.yml",
        ] {
            assert_eq!(check_recorded(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "a\nb",
            ".git/hooks/pre-commit",
            ".brickyard/undo/x",
            "./.git/config",
        ] {
            assert!(check_recorded(bad).is_err(), "{bad:?}");
        }
    }
}
