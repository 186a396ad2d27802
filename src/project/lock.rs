//! One command that changes a project's files at a time (`add`, `remove`,
//! `update`, `new --force`). Two at once would each merge against the same
//! base and the second would overwrite the first's work; so the second
//! waits, saying so, and then merges against what the first wrote.
//!
//! The lock is an advisory lock on the project directory itself: nothing is
//! written for it, and it goes with the process however that ends.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct ProjectLock {
    _dir: File,
}

/// Takes the lock on `dir`, waiting up to `limit`; `waiting` is called
/// once if another command holds it.
pub fn hold(dir: &Path, limit: Duration, waiting: impl FnOnce()) -> Result<ProjectLock> {
    let handle = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let started = Instant::now();
    let mut waiting = Some(waiting);
    loop {
        match handle.try_lock() {
            Ok(()) => return Ok(ProjectLock { _dir: handle }),
            Err(TryLockError::WouldBlock) => {
                if let Some(say) = waiting.take() {
                    say();
                }
                if started.elapsed() > limit {
                    bail!(
                        "another brickyard command has been changing {} for {}s; let it finish, then run this again",
                        dir.display(),
                        limit.as_secs()
                    );
                }
                crate::interrupt::check()?;
                std::thread::sleep(Duration::from_millis(50));
            }
            // A file system without locks: go on unguarded rather than refuse.
            Err(TryLockError::Error(_)) => return Ok(ProjectLock { _dir: handle }),
        }
    }
}
