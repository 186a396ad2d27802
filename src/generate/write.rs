//! The only code that writes a project to disk.
//!
//! Files are rendered into a temporary directory inside the target (made
//! first for a new project, so no secret is ever written outside it) and
//! then moved into place, so an error or an interrupt leaves no
//! half-written project. A non-empty target is refused unless `force`, and
//! then only brickyard's own files are replaced. Nothing is written through
//! a symbolic link, so nothing lands outside the target.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::GeneratedFile;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} is a file, not a directory; choose another name for the project")]
    TargetIsFile { path: PathBuf },
    #[error(
        "{path} is not empty; choose a new directory, or pass --force to replace the files brickyard generates (yours are kept)"
    )]
    NotEmpty { path: PathBuf },
    #[error(
        "{path} goes through a symbolic link ({link}); brickyard writes only inside the project"
    )]
    Symlink { path: String, link: PathBuf },
    #[error("{0}")]
    Interrupted(#[from] crate::interrupt::Interrupted),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What happened to each file.
#[derive(Debug, Default)]
pub struct Written {
    pub created: Vec<String>,
    pub replaced: Vec<String>,
}

/// Checks a target can take the project, without writing anything.
pub fn preflight(target: &Path, force: bool) -> Result<(), WriteError> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(target)(e)),
        Ok(meta) if !meta.is_dir() => Err(WriteError::TargetIsFile {
            path: target.to_path_buf(),
        }),
        Ok(_) => {
            let non_empty = fs::read_dir(target).map_err(io(target))?.next().is_some();
            if non_empty && !force {
                return Err(WriteError::NotEmpty {
                    path: target.to_path_buf(),
                });
            }
            Ok(())
        }
    }
}

pub fn write(target: &Path, files: &[GeneratedFile], force: bool) -> Result<Written, WriteError> {
    preflight(target, force)?;
    let exists = target.exists();
    if !exists {
        return create(target, files);
    }
    replace_in(target, files, &[])
}

/// Into an existing directory, all or nothing, with no undo record (the
/// export's k8s/, a demo's own project): each file staged, then moved over
/// its place, `deletes` moved away; a failure puts everything back.
pub fn replace_in(
    target: &Path,
    files: &[GeneratedFile],
    deletes: &[String],
) -> Result<Written, WriteError> {
    let staging = staging_in(target)?;
    let new = staging.path().join("new");
    stage_each(&new, files)?;
    // The last moment to stop with nothing changed (the staging directory
    // goes with `staging`).
    crate::interrupt::check()?;
    let done = swap(target, staging.path(), &new, files, deletes, |_, _| Ok(()))?;
    let mut written = Written::default();
    for (path, had) in done.into_iter().filter(|(p, _)| !deletes.contains(p)) {
        if had {
            written.replaced.push(path);
        } else {
            written.created.push(path);
        }
    }
    Ok(written)
}

/// A new project: its directory is made first and everything is staged
/// inside it (so no secret is ever written outside the project), then
/// moved into place. An error or Ctrl-C removes the directory again, with
/// any parent made for it: nothing is left.
fn create(target: &Path, files: &[GeneratedFile]) -> Result<Written, WriteError> {
    let made = missing_dirs(Path::new(""), target);
    let top = made
        .first()
        .cloned()
        .unwrap_or_else(|| target.to_path_buf());
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    // Fails if it appeared meanwhile: then it is not ours to remove.
    fs::create_dir(target).map_err(io(target))?;
    let result = (|| {
        let staging = staging_in(target)?;
        stage_each(staging.path(), files)?;
        crate::interrupt::check()?;
        for entry in fs::read_dir(staging.path()).map_err(io(staging.path()))? {
            let entry = entry.map_err(io(staging.path()))?;
            let dest = target.join(entry.file_name());
            fs::rename(entry.path(), &dest).map_err(io(&dest))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(Written {
            created: files.iter().map(|f| f.path.clone()).collect(),
            replaced: Vec::new(),
        }),
        Err(e) => {
            let _ = fs::remove_dir_all(&top);
            Err(e)
        }
    }
}

/// Changes files of an existing project all together or not at all: each
/// new version is staged, then each current file is moved aside (into what
/// becomes `.brickyard/undo/files/`) and the new one moved in; the undo
/// record is written, and the previous undo directory is swapped for the
/// new one. A failure at any of these steps, the last included, moves
/// everything back, the previous undo too.
pub fn apply(target: &Path, files: &[GeneratedFile], deletes: &[String]) -> Result<(), WriteError> {
    let undo = target.join(super::UNDO_DIR);
    check_no_links(target, super::UNDO_DIR)?;
    let staging = staging_in(target)?;
    let new = staging.path().join("new");
    for file in files {
        stage(&new, file)?;
    }
    let previous_undo = staging.path().join("previous-undo");
    swap(
        target,
        staging.path(),
        &new,
        files,
        deletes,
        |aside: &Path, done: &[(String, bool)]| {
            // The record: a hash of each copy put aside, and of what was
            // written where nothing was.
            let old = aside.join(super::undo::FILES);
            let mut record = super::undo::Record {
                brickyard_undo: 1,
                project: super::undo::project_key(target),
                restore: Vec::new(),
                created: Vec::new(),
            };
            for (path, had) in done.iter().filter(|(p, _)| p != super::ENV_FILE) {
                if *had {
                    let copy = old.join(path);
                    let bytes =
                        crate::trust::fs::read_bytes(&copy, crate::trust::fs::limit::GENERATED)
                            .map_err(|e| WriteError::Io {
                                path: copy.clone(),
                                source: std::io::Error::other(e.to_string()),
                            })?;
                    record.restore.push(super::undo::Entry {
                        path: path.clone(),
                        sha256: super::undo::sha256_hex(&bytes),
                    });
                } else if let Some(file) = files.iter().find(|f| &f.path == path) {
                    record.created.push(super::undo::Entry {
                        path: path.clone(),
                        sha256: super::undo::sha256_hex(file.contents.as_bytes()),
                    });
                }
            }
            fs::create_dir_all(&old).map_err(io(&old))?;
            let record_path = aside.join(super::undo::RECORD);
            let json = serde_json::to_string_pretty(&record).expect("the record serializes");
            fs::write(&record_path, json).map_err(io(&record_path))?;
            step()?;
            // The previous undo goes aside (not away) until the new one is in.
            let moved_previous = fs::symlink_metadata(&undo).is_ok();
            if moved_previous {
                fs::rename(&undo, &previous_undo).map_err(io(&undo))?;
            }
            let parent = undo.parent().expect("the undo directory has a parent");
            let made = missing_dirs(target, parent);
            let put_back = |e: WriteError| {
                for dir in made.iter().rev() {
                    let _ = fs::remove_dir(dir);
                }
                if moved_previous {
                    let _ = fs::rename(&previous_undo, &undo);
                }
                e
            };
            fs::create_dir_all(parent)
                .map_err(io(parent))
                .and_then(|()| fs::rename(aside, &undo).map_err(io(&undo)))
                .map_err(put_back)?;
            Ok(())
        },
    )?;
    Ok(())
}

/// Moves each staged file (under `new`) over its place in `target`, and
/// each of `deletes` away, putting what was there aside (under
/// `staging/undo/files`, `.env` apart); then `finish` (given the aside
/// directory and what was done: path, whether a file was there). A failure
/// at any step, `finish` included, moves everything back.
fn swap(
    target: &Path,
    staging: &Path,
    new: &Path,
    files: &[GeneratedFile],
    deletes: &[String],
    finish: impl FnOnce(&Path, &[(String, bool)]) -> Result<(), WriteError>,
) -> Result<Vec<(String, bool)>, WriteError> {
    for path in files
        .iter()
        .map(|f| f.path.as_str())
        .chain(deletes.iter().map(String::as_str))
    {
        crate::trust::path::check_normal(path).map_err(|why| WriteError::Io {
            path: PathBuf::from(path),
            source: std::io::Error::other(why),
        })?;
        check_no_links(target, path)?;
    }
    let aside = staging.join("undo");
    let old = aside.join(super::undo::FILES);
    // `.env` is put aside apart from the undo copies: secrets live in one
    // file only, and an undo keeps the secrets a change added.
    let secrets_aside = staging.join("secrets");
    let aside_of = |path: &str| {
        if path == super::ENV_FILE {
            secrets_aside.join(path)
        } else {
            old.join(path)
        }
    };
    // What was done, to undo on failure or Ctrl-C: (path, had a file
    // before), and the directories made for new files.
    let mut done: Vec<(String, bool)> = Vec::new();
    let mut made_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for file in files {
            step()?;
            let dest = target.join(&file.path);
            let had = move_aside(&dest, &aside_of(&file.path))?;
            done.push((file.path.clone(), had));
            if let Some(parent) = dest.parent() {
                made_dirs.extend(missing_dirs(target, parent));
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::rename(new.join(&file.path), &dest).map_err(io(&dest))?;
        }
        for path in deletes {
            step()?;
            let had = move_aside(&target.join(path), &aside_of(path))?;
            done.push((path.clone(), had));
        }
        finish(&aside, &done)
    })();
    if let Err(e) = result {
        for (path, had) in done.iter().rev() {
            let dest = target.join(path);
            let _ = fs::remove_file(&dest);
            if *had {
                let _ = fs::rename(aside_of(path), &dest);
            }
        }
        // Deepest first; a directory something else now holds stays.
        for dir in made_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        return Err(e);
    }
    // A folder emptied by the deletes goes too (one the person keeps
    // anything in stays: remove_dir takes only empty ones).
    for path in deletes {
        let mut dir = target.join(path);
        while dir.pop() && dir != target && fs::remove_dir(&dir).is_ok() {}
    }
    Ok(done)
}

/// A staging directory inside `target` (gone when dropped).
fn staging_in(target: &Path) -> Result<tempfile::TempDir, WriteError> {
    tempfile::Builder::new()
        .prefix(".brickyard-")
        .tempdir_in(target)
        .map_err(io(target))
}

/// Stages every file under `root`, Ctrl-C checked before each.
fn stage_each(root: &Path, files: &[GeneratedFile]) -> Result<(), WriteError> {
    for file in files {
        step()?;
        stage(root, file)?;
    }
    Ok(())
}

/// Between two moves: Ctrl-C stops here (and everything moved is put
/// back). `BRICKYARD_TEST_WRITE_DELAY_MS` slows each step, so a test can
/// interrupt a write part way.
fn step() -> Result<(), WriteError> {
    if let Some(ms) = std::env::var("BRICKYARD_TEST_WRITE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    Ok(crate::interrupt::check()?)
}

/// The directories from `root` down to `dir` that do not exist yet, top first.
fn missing_dirs(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| *d != root && !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    out.reverse();
    out
}

/// Moves `dest` to `aside` if it exists; whether it did.
fn move_aside(dest: &Path, aside: &Path) -> Result<bool, WriteError> {
    match fs::symlink_metadata(dest) {
        Ok(_) => {
            if let Some(parent) = aside.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::rename(dest, aside).map_err(io(dest))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(dest)(e)),
    }
}

fn stage(root: &Path, file: &GeneratedFile) -> Result<(), WriteError> {
    crate::trust::path::check_relative(&file.path).map_err(|why| WriteError::Io {
        path: PathBuf::from(&file.path),
        source: std::io::Error::other(why),
    })?;
    let path = root.join(&file.path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if file.private { 0o600 } else { 0o644 });
    }
    let mut f = options.open(&path).map_err(io(&path))?;
    f.write_all(file.contents.as_bytes()).map_err(io(&path))?;
    Ok(())
}

/// Every existing component of `rel` under `root` must be a real directory
/// (or, for the last one, a real file).
fn check_no_links(root: &Path, rel: &str) -> Result<(), WriteError> {
    match crate::trust::path::first_link(root, rel) {
        Some(link) => Err(WriteError::Symlink {
            path: rel.to_string(),
            link,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
            private: path == ".env",
        }
    }

    #[test]
    fn a_new_project_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p");
        write(&target, &[file("a/b.txt", "x"), file(".env", "S=1")], false).unwrap();
        assert_eq!(fs::read_to_string(target.join("a/b.txt")).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(target.join(".env"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No staging directory is left beside it.
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn force_keeps_the_users_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("mine.txt"), "keep").unwrap();
        fs::write(dir.path().join("README.md"), "old").unwrap();
        let w = write(dir.path(), &[file("README.md", "new")], true).unwrap();
        assert_eq!(w.replaced, vec!["README.md"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("mine.txt")).unwrap(),
            "keep"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("README.md")).unwrap(),
            "new"
        );
    }

    #[test]
    fn apply_changes_all_and_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old a").unwrap();
        fs::write(dir.path().join("gone.txt"), "old gone").unwrap();
        apply(
            dir.path(),
            &[file("a.txt", "new a"), file("sub/b.txt", "new b")],
            &["gone.txt".into()],
        )
        .unwrap();
        let read = |p: &str| fs::read_to_string(dir.path().join(p)).ok();
        assert_eq!(read("a.txt").as_deref(), Some("new a"));
        assert_eq!(read("sub/b.txt").as_deref(), Some("new b"));
        assert_eq!(read("gone.txt"), None);
        assert_eq!(
            read(".brickyard/undo/files/a.txt").as_deref(),
            Some("old a")
        );
        assert_eq!(
            read(".brickyard/undo/files/gone.txt").as_deref(),
            Some("old gone")
        );
        let plan = crate::generate::undo::plan(dir.path()).unwrap();
        assert_eq!(plan.remove, ["sub/b.txt"]);
        let restored: Vec<&str> = plan.restore.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(restored, ["a.txt", "gone.txt"]);
        // No staging directory is left.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".brickyard-")),
            "{names:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_apply_puts_everything_back() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old a").unwrap();
        // `blocker` is a file, so `blocker/c.txt` cannot be written.
        fs::write(dir.path().join("blocker"), "x").unwrap();
        let err = apply(
            dir.path(),
            &[file("a.txt", "new a"), file("blocker/c.txt", "c")],
            &[],
        );
        assert!(err.is_err());
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "old a"
        );
        assert!(!dir.path().join(".brickyard").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_inside_the_target_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("app")).unwrap();
        let err = write(dir.path(), &[file("app/main.py", "x")], true).unwrap_err();
        assert!(matches!(err, WriteError::Symlink { .. }), "{err}");
        assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}
