//! Bounded reads of files that may be anything: a regular file is read, up
//! to a limit checked before the read; a FIFO (which would block the read
//! forever), a device (`/dev/zero` never ends), a socket or a directory is
//! refused, whether named directly or through a symbolic link.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file of each kind brickyard reads.
pub mod limit {
    /// A compose file (Compose reads any size; a log or disk image is no
    /// compose file).
    pub const COMPOSE: u64 = 16 * 1024 * 1024;
    /// A catalog entry, preset or template.
    pub const CATALOG: u64 = 1024 * 1024;
    /// `brickyard.yaml` or an answers file.
    pub const PROJECT: u64 = 1024 * 1024;
    /// `.env`, an `env_file:` or a `label_file:`.
    pub const ENV: u64 = 4 * 1024 * 1024;
    /// A file brickyard generated, read back to merge it (or its base copy).
    pub const GENERATED: u64 = 16 * 1024 * 1024;
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path} is {kind}, not a regular file; brickyard reads only files")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{path} is {size} bytes; brickyard reads at most {limit} bytes of such a file")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path} is not UTF-8 text")]
    NotText { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound { .. })
    }
}

fn kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (a named pipe)");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// The bytes of `path`, if it is a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ReadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    // Looked at before it is opened: opening a FIFO blocks, and opening a
    // device may do something.
    let check = |meta: &std::fs::Metadata| -> Result<(), ReadError> {
        if let Some(kind) = kind(meta) {
            return Err(ReadError::NotAFile {
                path: path.to_path_buf(),
                kind,
            });
        }
        if meta.len() > limit {
            return Err(ReadError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                limit,
            });
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(io)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Swapped for a FIFO between the look and the open, it still does
        // not block; the look after the open refuses it.
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
        options.custom_flags(flags.bits() as i32);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew since the look.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The text of `path`, if it is a regular UTF-8 file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| ReadError::NotText {
        path: path.to_path_buf(),
    })
}

/// As [`read_text`], with a missing file as `None` (any other failure,
/// such as a file brickyard may not read, is still an error).
pub fn read_text_if_exists(path: &Path, limit: u64) -> Result<Option<String>, ReadError> {
    match read_text(path, limit) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_within_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, "hello").unwrap();
        assert_eq!(read_text(&p, 5).unwrap(), "hello");
        assert!(matches!(
            read_text(&p, 4),
            Err(ReadError::TooLarge { size: 5, .. })
        ));
        assert!(
            read_text_if_exists(&dir.path().join("b"), 5)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            read_text(dir.path(), 5),
            Err(ReadError::NotAFile { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_device_or_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_text(&zero, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let link = dir.path().join("to-fifo");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        let e = read_text(&link, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
