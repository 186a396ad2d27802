//! The trust boundary. Every file brickyard reads may come from a stranger:
//! `brickyard.yaml`, `.brickyard/`, `.env`, compose files and team catalogs
//! all arrive by `git clone`. What reads them goes through here first:
//!
//! - [`fs`]: a file is opened only if it is a regular file (a symbolic link
//!   to a device, FIFO or socket is refused before it is opened), and read
//!   with a size limit checked before the read;
//! - [`yaml`]: nesting deeper than [`yaml::MAX_DEPTH`] is refused in one
//!   linear pass, before the YAML parser (whose time grows with the square
//!   of the depth) sees the text;
//! - [`path`]: a path a file records is relative, normalized, stays inside
//!   the project, and is never one of brickyard's or git's own.
//!
//! Each file kind is then validated field by field by the module that owns
//! it, where it is read: `project::state` (brickyard.yaml), `project::undo`
//! (the undo record), `catalog` (entries, presets, templates),
//! `catalog::git` (recorded refs and commits), `compose` (compose files and
//! `.env`).

/// The SHA-256 of `bytes`, in hex: what records hold to tell a file was
/// not changed (the undo record, the export's record, catalog digests).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub mod allowed;
pub mod fs;
pub mod path;
pub mod yaml;
