//! Ctrl-C for the commands that write a project (`new`, `add`, `remove`,
//! `update`). Killing the process mid-write could leave half a project, so
//! while they run SIGINT only raises a flag: a question stops at once (the
//! prompt returns), and writing checks the flag at each step and puts back
//! what it moved before returning `Interrupted`. Nothing is written before
//! the last answer, so either way nothing is left half-done.
//!
//! (The engine commands handle Ctrl-C themselves, with `tokio::signal`.)

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// The person pressed Ctrl-C: nothing was written, or all of it was put back.
#[derive(Debug, thiserror::Error)]
#[error("interrupted; nothing was written (the project is as it was)")]
pub struct Interrupted;

/// From now on, Ctrl-C sets the flag instead of ending the process.
pub fn catch() {
    INSTALL.call_once(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready_tx.send(());
                    return;
                };
                rt.block_on(async {
                    #[cfg(unix)]
                    {
                        use tokio::signal::unix::{SignalKind, signal};
                        // Registered before `catch` returns, so no Ctrl-C is
                        // missed. SIGTERM (`kill`, a closing terminal's
                        // supervisor) is taken as Ctrl-C is.
                        let sigint = signal(SignalKind::interrupt());
                        let sigterm = signal(SignalKind::terminate());
                        let _ = ready_tx.send(());
                        if let (Ok(mut sigint), Ok(mut sigterm)) = (sigint, sigterm) {
                            loop {
                                tokio::select! {
                                    s = sigint.recv() => if s.is_none() { break },
                                    s = sigterm.recv() => if s.is_none() { break },
                                }
                                REQUESTED.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                    #[cfg(not(unix))]
                    {
                        let _ = ready_tx.send(());
                        while tokio::signal::ctrl_c().await.is_ok() {
                            REQUESTED.store(true, Ordering::SeqCst);
                        }
                    }
                });
            });
        if spawned.is_ok() {
            let _ = ready_rx.recv();
        }
    });
}

/// For the engine commands: resolves at Ctrl-C or SIGTERM, whichever
/// comes first (both stop the command the same way).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Whether Ctrl-C was pressed since `catch`.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once Ctrl-C was pressed: a point where stopping is safe.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}
