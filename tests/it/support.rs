use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The brickyard binary under test (`BRICKYARD_TEST_BIN` runs the tests
/// against another build, e.g. the last release, to see a test fail first).
pub fn bin() -> std::path::PathBuf {
    std::env::var_os("BRICKYARD_TEST_BIN")
        .filter(|b| !b.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("brickyard"))
}

/// The brickyard binary, as CI runs it: no terminal, CI=true.
pub fn brickyard() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("CI", "true")
        .env_remove("BRICKYARD_CATALOG")
        .env("BRICKYARD_STATE_DIR", state_dir());
    cmd
}

/// The user state directory the tests' brickyard keeps (catalog
/// directories named with --catalog), apart from the person's own.
pub fn state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("brickyard-test-state-{}", std::process::id()))
}

/// A scratch directory and the path of a project inside it.
pub fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("myapp");
    (dir, project)
}

/// A project made by `brickyard new --yes -q ARGS` in a scratch directory;
/// the test fails with brickyard's stderr when `new` does.
pub fn new_project(args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (dir, project) = scratch();
    let out = new_at(&project, args);
    assert!(out.status.success(), "{}", stderr_of(&out));
    (dir, project)
}

/// `brickyard new --yes -q ARGS PROJECT`, whatever it ends with.
pub fn new_at(project: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> std::process::Output {
    brickyard()
        .args(["new", "--yes", "-q"])
        .args(args)
        .arg(project)
        .output()
        .unwrap()
}

/// Every file below `root`, relative, sorted.
pub fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

/// The stderr of a command, as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every project of `tests/fixtures/compose/` (compose-go's and Compose's
/// own test cases, and edge cases found since), sorted.
pub fn compose_fixtures() -> Vec<PathBuf> {
    let root = fixture("compose");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// An opt-in switch: off unless set to 1/true.
pub fn switch(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v == "true")
}

/// Runs a command that must fail with exit code 1; what it said on stderr.
pub fn fails(cmd: &mut Command) -> String {
    failed(cmd.output().expect("brickyard runs"))
}

/// The output of a command that must have failed with exit code 1: its stderr.
pub fn failed(out: std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a failure:\n{}",
        stderr_of(&out)
    );
    stderr_of(&out)
}

/// `brickyard new <args> <project>`, which must fail with exit code 1; its stderr.
pub fn new_fails(project: &Path, args: &[&str]) -> String {
    fails(brickyard().arg("new").args(args).arg(project))
}

/// `brickyard --catalog DIR catalog list`, which must fail with exit code 1; its stderr.
pub fn catalog_fails(dir: &Path) -> String {
    fails(
        brickyard()
            .arg("--catalog")
            .arg(dir)
            .args(["catalog", "list"]),
    )
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command in a real terminal: a tmux pane (80 columns is too narrow
/// for the pickers' lines; 160 x 45). Killed when dropped.
pub struct Pane {
    session: String,
}

fn tmux(args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux runs (.ci/run installs it)")
}

impl Pane {
    /// Runs `cmd` (a shell line) in a new pane; `EXIT=<code>` is printed after it.
    pub fn start(name: &str, cmd: &str) -> Pane {
        let session = format!("{name}-{}", std::process::id());
        let line = format!("{cmd}; echo EXIT=$?; sleep 60");
        let out = tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "160",
            "-y",
            "45",
            &line,
        ]);
        assert!(out.status.success(), "tmux: {}", stderr_of(&out));
        Pane { session }
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend(keys);
        tmux(&args);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &self.session]).stdout)
            .into_owned()
    }

    /// Waits (up to 20 s) until the screen shows `text`; the screen.
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) || std::time::Instant::now() > deadline {
                return screen;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub fn cursor_visible(&self) -> bool {
        stdout_of(&tmux(&[
            "display",
            "-p",
            "-t",
            &self.session,
            "#{cursor_flag}",
        ]))
        .trim()
            == "1"
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.session]);
    }
}

/// Runs brickyard with each write step slowed, and sends it SIGINT
/// `after` the start, as Ctrl-C in a terminal would.
pub fn interrupted(args: &[&str], after: std::time::Duration) -> std::process::Output {
    signalled("-INT", args, after)
}

/// As [`interrupted`], with another signal (`-TERM`: `kill`, a supervisor).
pub fn signalled(signal: &str, args: &[&str], after: std::time::Duration) -> std::process::Output {
    let child = std::process::Command::new(crate::support::bin())
        .env("CI", "true")
        .env("BRICKYARD_TEST_WRITE_DELAY_MS", "250")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let kill = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

/// Runs a tool a test tier needs; its stdout. The test fails, with all it
/// said, when it fails or is missing (.ci/run installs it).
pub fn run_tool(what: &str, cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "{what}: cannot run {:?}: {e} (is it installed? .ci/run installs it)",
            cmd.get_program()
        )
    });
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file below `root` and its bytes (directories too, as empty).
pub fn snapshot(root: &Path) -> std::collections::BTreeMap<String, Option<Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(format!("{rel}/"), None);
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).ok());
            }
        }
    }
    out
}

/// The paths whose content differs between two snapshots.
pub fn differences(
    before: &std::collections::BTreeMap<String, Option<Vec<u8>>>,
    after: &std::collections::BTreeMap<String, Option<Vec<u8>>>,
) -> Vec<String> {
    let mut out: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}
