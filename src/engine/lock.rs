//! One `up` or `down` of a project at a time on this machine. Two at once
//! would race on its network and containers (and Docker allows two networks
//! of the same name), so the second waits for the first, saying so.

use std::fs::{File, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

pub struct ProjectLock {
    _file: File,
}

fn lock_dir() -> PathBuf {
    // Per user, so one person's lock never blocks another's project.
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    std::env::temp_dir().join(format!("brickyard-{user}-locks"))
}

/// Takes the project's lock, waiting up to `limit` for another command
/// holding it; `waiting` is called once if it has to wait.
pub async fn acquire(
    project: &str,
    limit: Duration,
    waiting: impl FnOnce(),
) -> Result<ProjectLock, String> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{project}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(ProjectLock { _file: file }),
        Err(TryLockError::WouldBlock) => waiting(),
        Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
    }
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match file.try_lock() {
            Ok(()) => return Ok(ProjectLock { _file: file }),
            Err(TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {}
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "another brickyard command on project {project} is still running after {} s; let it finish, or stop it",
                    limit.as_secs()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_then_gets_it() {
        let name = format!("test-lock-{}", std::process::id());
        let first = acquire(&name, Duration::from_secs(5), || {}).await.unwrap();
        let mut waited = false;
        let err = acquire(&name, Duration::from_millis(300), || waited = true)
            .await
            .err()
            .unwrap();
        assert!(waited);
        assert!(err.contains("still running"), "{err}");
        drop(first);
        acquire(&name, Duration::from_secs(1), || panic!("free now"))
            .await
            .unwrap();
    }
}
