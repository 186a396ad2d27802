//! A cloned project is untrusted input. Each case plants something in a
//! project (its brickyard.yaml, .brickyard/, .env, a catalog it records,
//! its compose file) and runs a command a person runs without a second
//! thought, under `strace -ff`. Every case asserts:
//!
//! - no program ran but brickyard and git, and git's arguments before `--`
//!   are brickyard's own (what follows `--` passes brickyard's checks);
//! - no path outside the project, the cache and the state directory was
//!   written, and nothing in the `outside/` directory beside the project
//!   was even read (through a link or not);
//! - no value of `.env` (each a marker) is in any file but `.env` and the
//!   export's git-ignored copies, nor in what the command printed;
//! - no panic, an answer within 5 s, and, where the case expects an error,
//!   an error that names the file and the field.
//!
//! Opt-in with the validator tier (strace comes with `.ci/run`). The
//! fuzzing of brickyard.yaml and of the undo record runs in-process, always.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{bin, brickyard};

/// The directories of one case.
struct World {
    _root: tempfile::TempDir,
    project: PathBuf,
    outside: PathBuf,
    cache: PathBuf,
    state: PathBuf,
    home: PathBuf,
    markers: Vec<String>,
}

/// A project made once (`new --yes`: the app with PostgreSQL and Redis),
/// copied for each case.
fn template() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| crate::support::new_project(&["--monitoring", "prometheus-grafana"]))
        .1
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(root.path()).unwrap();
    let project = base.join("myapp");
    let ok = Command::new("cp")
        .arg("-a")
        .arg(template())
        .arg(&project)
        .status()
        .unwrap();
    assert!(ok.success());
    // Every value of .env becomes a marker that must not leave it.
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    let mut markers = Vec::new();
    let marked: String = env
        .lines()
        .map(|l| match l.split_once('=') {
            Some((k, _)) if !l.starts_with('#') => {
                // As long as a generated secret, so the export's checks see it.
                let m = format!("Mk{:02}x{:02}Zq7v3KpW9nRt5L", markers.len(), k.len());
                markers.push(m.clone());
                format!("{k}={m}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(project.join(".env"), marked).unwrap();
    let outside = base.join("outside");
    std::fs::create_dir_all(outside.join("catalog/services")).unwrap();
    std::fs::write(outside.join("victim"), "keep me").unwrap();
    std::fs::write(outside.join("secret.txt"), "OUTSIDE-SECRET").unwrap();
    std::fs::write(
        outside.join("catalog/services/evil.yaml"),
        "id: evil\ntheme: services\nname: Evil\ndescription: x\n",
    )
    .unwrap();
    let (cache, state, home) = (base.join("cache"), base.join("state"), base.join("home"));
    for d in [&cache, &state, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    World {
        _root: root,
        project,
        outside,
        cache,
        state,
        home,
        markers,
    }
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.project.join(rel)
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        std::fs::write(p, text).unwrap();
    }
    fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) {
        let t = self.read(rel);
        self.write(rel, &f(t));
    }
    /// Replaces `generated.catalog` of brickyard.yaml with `entries`.
    fn record_catalog(&self, entries: &str) {
        self.edit("brickyard.yaml", |t| {
            let start = t.find("  catalog:\n").unwrap();
            let end = t.find("  files:\n").unwrap();
            format!("{}  catalog:\n{entries}{}", &t[..start], &t[end..])
        });
    }
    fn link(&self, target: &Path, rel: &str) {
        let p = self.path(rel);
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }
    fn fifo(&self, rel: &str) {
        let p = self.path(rel);
        let _ = std::fs::remove_file(&p);
        assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
    }
    /// A command that would leave a trace if it ran.
    fn payload(&self) -> String {
        format!("touch {}/pwned", self.outside.display())
    }
}

const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// What a case expects of the command.
enum Expect {
    /// Exit 1 with each of these in stderr (the file, the field).
    Error(&'static [&'static str]),
    /// Any answer but a crash (a refusal, or a command that goes on).
    Answer,
    /// This exit code, with these in stderr.
    Code(i32, &'static [&'static str]),
}

struct Case {
    class: &'static str,
    name: &'static str,
    setup: fn(&World) -> Vec<String>,
    expect: Expect,
}

/// The syscalls that name a path.
const TRACED: &str = "execve,open,openat,creat,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,truncate,link,linkat,symlink,symlinkat,chmod,fchmodat,chdir";

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
    traces: Vec<String>,
}

fn run_traced(w: &World, args: &[String]) -> Outcome {
    let traces = tempfile::tempdir().unwrap();
    let prefix = traces.path().join("t");
    let started = Instant::now();
    let mut child = Command::new("strace")
        .args(["-ff", "-qq", "-s", "4096", "-e"])
        .arg(format!("trace={TRACED}"))
        .args(["-e", "signal=none", "-o"])
        .arg(&prefix)
        .arg(bin())
        .args(args)
        .current_dir(&w.project)
        .env("CI", "true")
        .env("HOME", &w.home)
        .env("BRICKYARD_CACHE_DIR", &w.cache)
        .env("BRICKYARD_STATE_DIR", &w.state)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_STATE_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a brickyard that hangs goes with strace.
        .process_group(0)
        .spawn()
        .expect("strace runs (the validator tier installs it)");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    let mut files: Vec<PathBuf> = std::fs::read_dir(traces.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Outcome {
        code,
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        took,
        traces: files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect(),
    }
}

/// The quoted strings of a strace line, unescaped, in order.
fn strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('x') => {
                        let hex: String = [chars.next(), chars.next()].iter().flatten().collect();
                        s.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?') as char);
                    }
                    Some(other) => s.push(other),
                    None => {}
                },
                '"' => break,
                other => s.push(other),
            }
        }
        out.push(s);
    }
    out
}

/// `path` with links resolved as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path.to_path_buf();
    loop {
        if let Ok(real) = std::fs::canonicalize(&at) {
            return rest
                .iter()
                .rev()
                .fold(real, |p, c: &std::ffi::OsString| p.join(c));
        }
        match (at.file_name(), at.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                at = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Git's own options, as brickyard gives them.
const GIT_WORDS: &[&str] = &[
    "git",
    "-C",
    "-c",
    "core.hooksPath=/dev/null",
    "protocol.ext.allow=never",
    "fetch",
    "--quiet",
    "--no-tags",
    "init",
    "--bare",
    "--template=",
    ".",
    "rev-parse",
    "--verify",
    "FETCH_HEAD^{commit}",
    "cat-file",
    "-e",
    "archive",
    "--format=tar",
    "+refs/heads/*:refs/remotes/catalog/*",
    "+refs/tags/*:refs/tags/*",
];

fn check_exec(w: &World, argv: &[String], problems: &mut Vec<String>) {
    let program = argv.first().cloned().unwrap_or_default();
    let own = bin();
    if Path::new(&program) == own || program == own.to_string_lossy() {
        return;
    }
    let base = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !base.starts_with("git") {
        problems.push(format!("ran {argv:?}"));
        return;
    }
    if base != "git" {
        // git's own helpers (upload-pack for file://) take git's word.
        if argv.iter().any(|a| a.contains("pwned")) {
            problems.push(format!("git ran {argv:?}"));
        }
        return;
    }
    let mut after_dashes = false;
    for (i, a) in argv.iter().enumerate().skip(1) {
        if after_dashes {
            let ok = brickyard::catalog::git::check_url(a).is_ok()
                || brickyard::catalog::git::check_ref(a).is_ok()
                || a.starts_with('+');
            if !ok {
                problems.push(format!("git got an unchecked value after --: {a:?}"));
            }
            continue;
        }
        let under_cache = resolved(Path::new(a)).starts_with(resolved(&w.cache));
        let commit = a
            .strip_suffix("^{commit}")
            .is_some_and(|c| brickyard::catalog::git::check_commit(c).is_ok())
            || brickyard::catalog::git::check_commit(a).is_ok();
        if a == "--" {
            after_dashes = true;
        } else if !(GIT_WORDS.contains(&a.as_str()) || under_cache || commit) {
            problems.push(format!(
                "git argument {i} is not brickyard's: {a:?} in {argv:?}"
            ));
        }
    }
}

fn check_trace(w: &World, outcome: &Outcome, problems: &mut Vec<String>) {
    let outside = resolved(&w.outside);
    let writable = [resolved(&w.project), resolved(&w.cache), resolved(&w.state)];
    for trace in &outcome.traces {
        // Relative paths resolve against the working directory: the
        // project for brickyard, git's after its `chdir`.
        let mut cwd = Some(w.project.clone());
        let mut is_git = false;
        for line in trace.lines() {
            let Some(open) = line.find('(') else { continue };
            let call = &line[..open];
            let args = strings(line);
            if call == "execve" {
                if line.contains(" = -1 ") {
                    continue;
                }
                let argv: Vec<String> = args.iter().skip(1).cloned().collect();
                let mut full = vec![args.first().cloned().unwrap_or_default()];
                full.extend(argv.iter().skip(1).cloned());
                check_exec(w, &full, problems);
                if !full[0].ends_with("brickyard") {
                    is_git = true;
                    cwd = None;
                }
                continue;
            }
            if call == "chdir" {
                if let Some(p) = args.first() {
                    let p = Path::new(p);
                    cwd = if p.is_absolute() {
                        Some(p.to_path_buf())
                    } else {
                        cwd.map(|c| c.join(p))
                    };
                }
                continue;
            }
            // A call relative to a directory descriptor (remove_dir_all)
            // names a path below a directory already checked.
            let dirfd_relative = matches!(
                call,
                "openat"
                    | "unlinkat"
                    | "mkdirat"
                    | "renameat"
                    | "renameat2"
                    | "linkat"
                    | "symlinkat"
                    | "fchmodat"
            ) && !line[open + 1..].starts_with("AT_FDCWD")
                && !line[open + 1..].starts_with('"');
            for p in &args {
                let path = Path::new(p);
                let full = if path.is_absolute() {
                    path.to_path_buf()
                } else if dirfd_relative || (is_git && cwd.is_none()) {
                    continue;
                } else {
                    match &cwd {
                        Some(c) => c.join(path),
                        None => continue,
                    }
                };
                let real = resolved(&full);
                if real.starts_with(&outside) {
                    problems.push(format!("touched {} ({line})", real.display()));
                }
                let writes = match call {
                    "open" | "openat" => {
                        line.contains("O_WRONLY")
                            || line.contains("O_RDWR")
                            || line.contains("O_CREAT")
                    }
                    _ => call != "chdir",
                };
                let failed = line.contains(" = -1 ");
                if writes
                    && !failed
                    && !writable.iter().any(|d| real.starts_with(d))
                    && !["/dev/null", "/dev/tty", "/proc/"]
                        .iter()
                        .any(|ok| real.starts_with(ok))
                {
                    problems.push(format!(
                        "wrote outside the project: {} ({line})",
                        real.display()
                    ));
                }
            }
        }
    }
}

/// Files that may hold `.env`'s values: `.env`, and the export's
/// git-ignored copies of it.
fn may_hold_secrets(rel: &str) -> bool {
    rel == ".env"
        || rel == "k8s/overlays/local/secrets.env"
        || rel.starts_with("k8s/overlays/local/secret-files/")
}

fn check_secrets(w: &World, outcome: &Outcome, args: &[String], problems: &mut Vec<String>) {
    let mut stack = vec![w.project.clone(), w.cache.clone(), w.state.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let rel = p
                .strip_prefix(&w.project)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            if may_hold_secrets(&rel) {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            for m in &w.markers {
                if text.contains(m.as_str()) {
                    problems.push(format!("a value of .env is in {}", p.display()));
                }
            }
        }
    }
    // `config` prints the model with .env's values, as `docker compose
    // config` does; nothing else prints them.
    if args.first().map(String::as_str) != Some("config") {
        for m in &w.markers {
            if outcome.stdout.contains(m.as_str()) || outcome.stderr.contains(m.as_str()) {
                problems.push("a value of .env was printed".into());
            }
        }
    }
}

fn run_case(case: &Case) -> (Duration, Vec<String>) {
    let w = world();
    let args = (case.setup)(&w);
    let outcome = run_traced(&w, &args);
    let mut problems = Vec::new();
    match outcome.code {
        None => problems.push(format!("no answer in {:?}", outcome.took)),
        Some(c) if c > 3 && c != 130 => problems.push(format!("exit {c} (a crash?)")),
        _ => {}
    }
    if outcome.took > Duration::from_secs(5) {
        problems.push(format!("took {:?}", outcome.took));
    }
    if outcome.stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    let expect_said = |code: i32, needles: &[&str], problems: &mut Vec<String>| {
        if outcome.code != Some(code) {
            problems.push(format!("exit {:?}, expected {code}", outcome.code));
        }
        for n in needles {
            if !outcome.stderr.contains(n) {
                problems.push(format!("the error does not say `{n}`"));
            }
        }
    };
    match &case.expect {
        Expect::Error(needles) => expect_said(1, needles, &mut problems),
        Expect::Code(code, needles) => expect_said(*code, needles, &mut problems),
        Expect::Answer => {}
    }
    check_trace(&w, &outcome, &mut problems);
    check_secrets(&w, &outcome, &args, &mut problems);
    if w.outside.join("pwned").exists() {
        problems.push("the payload ran".into());
    }
    if std::fs::read_to_string(w.outside.join("victim"))
        .ok()
        .as_deref()
        != Some("keep me")
    {
        problems.push("a file outside the project was changed or removed".into());
    }
    if !problems.is_empty() {
        problems.push(format!("stderr:\n{}", outcome.stderr));
    }
    (outcome.took, problems)
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

/// A git catalog recorded with `commit` (a value of the cloned file).
fn git_commit(w: &World, commit: &str) {
    w.record_catalog(&format!(
        "  - source: built-in\n    digest: {DIGEST}\n  - source: git+file://{}/repo@main\n    digest: {DIGEST}\n    commit: '{commit}'\n",
        w.outside.display()
    ));
}

fn git_source(w: &World, source: &str) {
    w.record_catalog(&format!(
        "  - source: built-in\n    digest: {DIGEST}\n  - source: '{source}'\n    digest: {DIGEST}\n"
    ));
}

fn dir_source(w: &World, source: &str) {
    w.record_catalog(&format!(
        "  - source: built-in\n    digest: {DIGEST}\n  - source: '{source}'\n    digest: {DIGEST}\n"
    ));
}

fn add_file(w: &World, path: &str) {
    w.edit("brickyard.yaml", |t| {
        t.replacen("  files:\n", &format!("  files:\n  - '{path}'\n"), 1)
    });
}

/// A team catalog inside the project (`team/`), recorded, with one entry.
fn team_entry(w: &World, body: &str) {
    w.write(
        "team/services/worker.yaml",
        &format!("id: worker\ntheme: services\nname: Worker\ndescription: a worker\n{body}"),
    );
    w.write("team/templates/w.hbs", "x\n");
    dir_source(w, "team");
}

/// An undo record as brickyard writes it, for this project.
fn undo_record(w: &World, restore: &str, created: &str) {
    let project = std::fs::canonicalize(&w.project).unwrap();
    w.write(
        ".brickyard/undo/record.json",
        &format!(
            "{{\"brickyard_undo\": 1, \"project\": \"{}\", \"restore\": [{restore}], \"created\": [{created}]}}",
            project.display()
        ),
    );
}

fn sha(text: &str) -> String {
    brickyard::generate::undo::sha256_hex(text.as_bytes())
}

fn deep(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

fn cases() -> Vec<Case> {
    use Expect::*;
    vec![
        // A command runs from a cloned project.
        Case {
            class: "command",
            name: "a recorded commit that is an option, on ps",
            expect: Answer,
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["ps"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that is an option, on add",
            expect: Error(&["brickyard.yaml", "generated.catalog[1].commit"]),
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that is an option, on update",
            expect: Error(&["brickyard.yaml", "generated.catalog[1].commit"]),
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["update"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that is an option, on config",
            expect: Code(0, &[]),
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["config"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that is an option, on down",
            expect: Code(3, &[]),
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["down"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that is an option, on verify",
            expect: Error(&["generated.catalog[1].commit", "not a commit id"]),
            setup: |w| {
                git_commit(w, &format!("--upload-pack={}", w.payload()));
                argv(&["verify"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit with a short option",
            expect: Error(&["generated.catalog[1].commit"]),
            setup: |w| {
                git_commit(w, "-uecho");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a recorded commit that climbs out of the cache",
            expect: Error(&["generated.catalog[1].commit", "not a commit id"]),
            setup: |w| {
                git_commit(w, "../../outside/catalog");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "an ext:: transport",
            expect: Error(&["generated.catalog[1].source", "ext::"]),
            setup: |w| {
                git_source(
                    w,
                    &format!("git+ext::sh -c {}", w.payload().replace(' ', "% ")),
                );
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "an fd:: transport",
            expect: Error(&["generated.catalog[1].source"]),
            setup: |w| {
                git_source(w, "git+fd::0");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a URL that is an option",
            expect: Error(&["generated.catalog[1].source", "starts with `-`"]),
            setup: |w| {
                git_source(w, &format!("git+--upload-pack={}", w.payload()));
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "an ssh host that is an option",
            expect: Error(&["generated.catalog[1].source"]),
            setup: |w| {
                git_source(w, "git+ssh://-oProxyCommand=sh/x");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a ref that is an option, in the recorded source",
            expect: Error(&["generated.catalog[1].source", "not a ref name"]),
            setup: |w| {
                git_source(
                    w,
                    &format!("git+file://{}/repo@--upload-pack=x", w.outside.display()),
                );
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a ref that is an option, on the command line",
            expect: Error(&["not a ref name"]),
            setup: |w| {
                argv(&[
                    "--catalog",
                    &format!(
                        "git+file://{}/repo@--upload-pack={}",
                        w.outside.display(),
                        w.payload()
                    ),
                    "catalog",
                    "list",
                ])
            },
        },
        Case {
            class: "command",
            name: "update --ref that is an option",
            expect: Error(&["not a ref name"]),
            setup: |w| {
                git_source(w, &format!("git+file://{}/repo", w.outside.display()));
                argv(&["update", "--ref=--upload-pack=sh"])
            },
        },
        Case {
            class: "command",
            name: "an unknown scheme",
            expect: Error(&["generated.catalog[1].source", "scheme"]),
            setup: |w| {
                git_source(w, "git+ftp://example.invalid/x");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "command",
            name: "a git source that is a bare path",
            expect: Error(&["generated.catalog[1].source"]),
            setup: |w| {
                git_source(w, &format!("git+{}", w.outside.display()));
                argv(&["add", "mailpit"])
            },
        },
        // Files outside the project.
        Case {
            class: "outside",
            name: "a `..` file, on update",
            expect: Error(&["brickyard.yaml", "generated.files[0]", "climbs out"]),
            setup: |w| {
                add_file(w, "../outside/victim");
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "an absolute file, on update",
            expect: Error(&["generated.files[0]", "absolute"]),
            setup: |w| {
                add_file(w, &w.outside.join("victim").display().to_string());
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "a `..` inside a file, on remove",
            expect: Error(&["generated.files[0]"]),
            setup: |w| {
                add_file(w, "app/../../outside/victim");
                argv(&["remove", "redis"])
            },
        },
        Case {
            class: "outside",
            name: "a file in .git",
            expect: Error(&["generated.files[0]", ".git/"]),
            setup: |w| {
                add_file(w, ".git/hooks/pre-commit");
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "a file in .brickyard",
            expect: Error(&["generated.files[0]", ".brickyard/"]),
            setup: |w| {
                add_file(w, ".brickyard/undo/record.json");
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "a file listed twice",
            expect: Error(&["brickyard.yaml", "`compose.yaml` is listed twice"]),
            setup: |w| {
                add_file(w, "compose.yaml");
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "an undo record that removes a file outside",
            expect: Error(&["record.json", "climbs out"]),
            setup: |w| {
                undo_record(
                    w,
                    "",
                    &format!(
                        "{{\"path\": \"../outside/victim\", \"sha256\": \"{}\"}}",
                        sha("keep me")
                    ),
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo record that restores over a file outside",
            expect: Error(&["record.json"]),
            setup: |w| {
                w.write(".brickyard/undo/files/x", "x");
                undo_record(
                    w,
                    &format!(
                        "{{\"path\": \"/{}/victim\", \"sha256\": \"{}\"}}",
                        w.outside.display(),
                        sha("x")
                    ),
                    "",
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo record made for another directory (it came with the clone)",
            expect: Error(&["record.json", "made for", "clone"]),
            setup: |w| {
                w.write(".brickyard/undo/record.json", "{\"brickyard_undo\": 1, \"project\": \"/home/someone/myapp\", \"restore\": [], \"created\": [{\"path\": \"compose.yaml\", \"sha256\": \"00\"}]}");
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo copy that is not what was put aside",
            expect: Error(&["record.json", "not what was put aside"]),
            setup: |w| {
                w.write(".brickyard/undo/files/compose.yaml", "services: {}\n");
                undo_record(
                    w,
                    &format!(
                        "{{\"path\": \"compose.yaml\", \"sha256\": \"{}\"}}",
                        sha("other")
                    ),
                    "",
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo record that lists .env",
            expect: Error(&["record.json", ".env"]),
            setup: |w| {
                let env = w.read(".env");
                undo_record(
                    w,
                    "",
                    &format!("{{\"path\": \".env\", \"sha256\": \"{}\"}}", sha(&env)),
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo record that is not JSON",
            expect: Error(&["record.json", "not an undo record"]),
            setup: |w| {
                w.write(
                    ".brickyard/undo/record.json",
                    "created:\n- ../outside/victim\n",
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an old undo directory with .created only",
            expect: Error(&["record.json"]),
            setup: |w| {
                w.write(".brickyard/undo/.created", "../outside/victim\n");
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo directory that is a link outside",
            expect: Error(&["symbolic link"]),
            setup: |w| {
                w.link(&w.outside, ".brickyard/undo");
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "an undo copy that is a link outside",
            expect: Error(&["record.json", "symbolic link"]),
            setup: |w| {
                w.link(
                    &w.outside.join("secret.txt"),
                    ".brickyard/undo/files/README.md",
                );
                undo_record(
                    w,
                    &format!(
                        "{{\"path\": \"README.md\", \"sha256\": \"{}\"}}",
                        sha("OUTSIDE-SECRET")
                    ),
                    "",
                );
                argv(&["update", "--undo"])
            },
        },
        Case {
            class: "outside",
            name: "a generated file that is a link outside",
            expect: Answer,
            setup: |w| {
                w.link(&w.outside.join("secret.txt"), "README.md");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "outside",
            name: "a generated directory that is a link outside is never read or written through",
            expect: Answer,
            setup: |w| {
                w.link(&w.outside, "ops");
                argv(&["remove", "redis"])
            },
        },
        Case {
            class: "outside",
            name: "the base directory as a link outside",
            expect: Answer,
            setup: |w| {
                w.link(&w.outside, ".brickyard/base");
                argv(&["update"])
            },
        },
        Case {
            class: "outside",
            name: "a recorded catalog directory outside the project",
            expect: Error(&["outside the project", "--catalog ../outside/catalog"]),
            setup: |w| {
                dir_source(w, "../outside/catalog");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "outside",
            name: "an absolute recorded catalog directory",
            expect: Error(&["generated.catalog[1].source", "relative"]),
            setup: |w| {
                dir_source(w, &w.outside.join("catalog").display().to_string());
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "outside",
            name: "a recorded catalog directory that is a link outside",
            expect: Error(&["outside the project"]),
            setup: |w| {
                w.link(&w.outside.join("catalog"), "team");
                dir_source(w, "team");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "outside",
            name: "a team entry that writes a git hook",
            expect: Error(&["worker.yaml", "files.path", ".git/"]),
            setup: |w| {
                team_entry(
                    w,
                    "files: [{template: w.hbs, path: .git/hooks/post-checkout}]\n",
                );
                argv(&["add", "worker"])
            },
        },
        Case {
            class: "outside",
            name: "a team entry that writes the undo record",
            expect: Error(&["worker.yaml", "files.path", ".brickyard/"]),
            setup: |w| {
                team_entry(
                    w,
                    "files: [{template: w.hbs, path: .brickyard/undo/record.json}]\n",
                );
                argv(&["add", "worker"])
            },
        },
        Case {
            class: "outside",
            name: "a team entry that writes .env",
            expect: Error(&["worker.yaml", "files.path", "brickyard alone writes"]),
            setup: |w| {
                team_entry(w, "files: [{template: w.hbs, path: ./.env}]\n");
                argv(&["add", "worker"])
            },
        },
        Case {
            class: "outside",
            name: "a team entry that writes outside",
            expect: Error(&["worker.yaml", "files.path", "climbs out"]),
            setup: |w| {
                team_entry(w, "files: [{template: w.hbs, path: ../outside/x}]\n");
                argv(&["add", "worker"])
            },
        },
        Case {
            class: "outside",
            name: "a team template that is a link outside",
            expect: Error(&["w.hbs", "symbolic link"]),
            setup: |w| {
                team_entry(w, "");
                w.link(&w.outside.join("secret.txt"), "team/templates/w.hbs");
                argv(&["add", "mailpit"])
            },
        },
        // Secrets: never regenerated, never out of .env.
        Case {
            class: "secrets",
            name: ".env as a directory",
            expect: Error(&[".env", "keeps the secrets"]),
            setup: |w| {
                std::fs::remove_file(w.path(".env")).unwrap();
                std::fs::create_dir(w.path(".env")).unwrap();
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "secrets",
            name: ".env as a FIFO",
            expect: Error(&[".env", "FIFO"]),
            setup: |w| {
                w.fifo(".env");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "secrets",
            name: ".env as a link to nothing",
            expect: Error(&[".env", "link to nothing"]),
            setup: |w| {
                w.link(Path::new("/nonexistent/env"), ".env");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "secrets",
            name: ".env that is not UTF-8",
            expect: Error(&[".env", "UTF-8"]),
            setup: |w| {
                std::fs::write(w.path(".env"), b"A=\xff\xfe\n").unwrap();
                argv(&["update"])
            },
        },
        Case {
            class: "secrets",
            name: ".env that is a device",
            expect: Error(&[".env", "a device"]),
            setup: |w| {
                w.link(Path::new("/dev/zero"), ".env");
                argv(&["new", "--force", "--yes", "-q", "."])
            },
        },
        Case {
            class: "secrets",
            name: "a config whose content interpolates a secret, exported",
            expect: Code(0, &[]),
            setup: |w| {
                w.edit("compose.yaml", |t| {
                    t.replacen(
                        "services:\n",
                        "configs:\n  leak:\n    content: \"pw=${POSTGRES_PASSWORD}\"\nservices:\n",
                        1,
                    )
                    .replacen(
                        "    build: .\n",
                        "    build: .\n    configs: [leak]\n",
                        1,
                    )
                });
                argv(&["export", "kubernetes"])
            },
        },
        Case {
            class: "secrets",
            name: "a user that interpolates a secret, exported",
            expect: Code(0, &[]),
            setup: |w| {
                w.edit("compose.yaml", |t| {
                    t.replacen(
                        "    build: .\n",
                        "    build: .\n    user: \"${REDIS_PASSWORD}\"\n",
                        1,
                    )
                });
                argv(&["export", "kubernetes"])
            },
        },
        Case {
            class: "secrets",
            name: "a label and a hostname that interpolate a secret, exported",
            expect: Code(0, &[]),
            setup: |w| {
                w.edit("compose.yaml", |t| t.replacen("    build: .\n", "    build: .\n    hostname: \"h${REDIS_PASSWORD}\"\n    labels: {leak: \"${POSTGRES_PASSWORD}\"}\n", 1));
                argv(&["export", "kubernetes"])
            },
        },
        Case {
            class: "secrets",
            name: "add keeps every secret (the markers stay in .env only)",
            expect: Code(0, &[]),
            setup: |_| argv(&["add", "mailpit"]),
        },
        // Reads without bounds.
        Case {
            class: "bounds",
            name: "brickyard.yaml as /dev/zero, on add",
            expect: Error(&["brickyard.yaml", "a device"]),
            setup: |w| {
                w.link(Path::new("/dev/zero"), "brickyard.yaml");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "bounds",
            name: "brickyard.yaml as a FIFO, on update",
            expect: Error(&["brickyard.yaml", "FIFO"]),
            setup: |w| {
                w.fifo("brickyard.yaml");
                argv(&["update"])
            },
        },
        Case {
            class: "bounds",
            name: "brickyard.yaml of 2 MiB",
            expect: Error(&["brickyard.yaml", "bytes"]),
            setup: |w| {
                w.edit("brickyard.yaml", |t| format!("{}{t}", "#".repeat(2 << 20)));
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "bounds",
            name: "deep picks in brickyard.yaml",
            expect: Error(&["brickyard.yaml", "nested more than 1000"]),
            setup: |w| {
                w.edit("brickyard.yaml", |t| format!("ci: {}\n{t}", deep(100_000)));
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "bounds",
            name: "a deep generated: in brickyard.yaml",
            expect: Error(&["brickyard.yaml", "nested more than 1000"]),
            setup: |w| {
                w.edit("brickyard.yaml", |t| {
                    t.replacen(
                        "  files:\n",
                        &format!("  x: {}\n  files:\n", deep(100_000)),
                        1,
                    )
                });
                argv(&["update"])
            },
        },
        Case {
            class: "bounds",
            name: "compose.yaml as /dev/zero",
            expect: Error(&["compose.yaml", "a device"]),
            setup: |w| {
                w.link(Path::new("/dev/zero"), "compose.yaml");
                argv(&["config"])
            },
        },
        Case {
            class: "bounds",
            name: "compose.yaml as a FIFO",
            expect: Error(&["compose.yaml", "FIFO"]),
            setup: |w| {
                w.fifo("compose.yaml");
                argv(&["config"])
            },
        },
        Case {
            class: "bounds",
            name: "an env_file that is /dev/zero",
            expect: Error(&["a device"]),
            setup: |w| {
                w.edit("compose.yaml", |t| {
                    t.replacen(
                        "    build: .\n",
                        "    build: .\n    env_file: /dev/zero\n",
                        1,
                    )
                });
                argv(&["config"])
            },
        },
        Case {
            class: "bounds",
            name: "an env_file that is a FIFO",
            expect: Error(&["FIFO"]),
            setup: |w| {
                w.fifo("app.env");
                w.edit("compose.yaml", |t| {
                    t.replacen("    build: .\n", "    build: .\n    env_file: app.env\n", 1)
                });
                argv(&["config"])
            },
        },
        Case {
            class: "bounds",
            name: "a recorded catalog entry as /dev/zero",
            expect: Error(&["zero.yaml", "symbolic link"]),
            setup: |w| {
                team_entry(w, "");
                w.link(Path::new("/dev/zero"), "team/services/zero.yaml");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "bounds",
            name: "a recorded catalog entry as a FIFO",
            expect: Error(&["pipe"]),
            setup: |w| {
                team_entry(w, "");
                w.fifo("team/services/fifo.yaml");
                argv(&["add", "mailpit"])
            },
        },
        Case {
            class: "bounds",
            name: "a deep catalog entry",
            expect: Error(&["worker.yaml", "nested more than 1000"]),
            setup: |w| {
                team_entry(w, &format!("x: {}\n", deep(100_000)));
                argv(&["add", "worker"])
            },
        },
        Case {
            class: "bounds",
            name: "--answers as a FIFO",
            expect: Error(&["answers", "FIFO"]),
            setup: |w| {
                w.fifo("answers.yaml");
                argv(&["new", "--answers", "answers.yaml", "--yes", "fresh"])
            },
        },
        Case {
            class: "bounds",
            name: "--answers as /dev/zero",
            expect: Error(&["answers", "a device"]),
            setup: |_| argv(&["new", "--answers", "/dev/zero", "--yes", "fresh"]),
        },
        Case {
            class: "bounds",
            name: "deep --answers",
            expect: Error(&["answers", "nested more than 1000"]),
            setup: |w| {
                w.write("answers.yaml", &format!("ci: {}\n", deep(100_000)));
                argv(&["new", "--answers", "answers.yaml", "--yes", "fresh"])
            },
        },
        // Stuck stacks.
        Case {
            class: "stuck",
            name: "a malformed brickyard.yaml does not block down",
            expect: Code(3, &["no Docker engine"]),
            setup: |w| {
                w.write("brickyard.yaml", "ci: [\n");
                argv(&["down"])
            },
        },
        Case {
            class: "stuck",
            name: "a malformed brickyard.yaml does not block ps",
            expect: Code(3, &["brickyard.yaml", "by its labels"]),
            setup: |w| {
                w.write("brickyard.yaml", "generated: 7\n");
                argv(&["ps"])
            },
        },
        Case {
            class: "stuck",
            name: "a malformed brickyard.yaml does not block logs",
            expect: Code(3, &["no Docker engine"]),
            setup: |w| {
                w.write("brickyard.yaml", "{{{\n");
                argv(&["logs"])
            },
        },
        Case {
            class: "stuck",
            name: "an invalid compose.yaml does not block down",
            expect: Code(3, &["by its containers' labels"]),
            setup: |w| {
                w.edit("compose.yaml", |t| format!("{t}\nbroken: [\n"));
                argv(&["down"])
            },
        },
        Case {
            class: "stuck",
            name: "a deleted compose.yaml does not block down",
            expect: Code(3, &["acting on project myapp"]),
            setup: |w| {
                std::fs::remove_file(w.path("compose.yaml")).unwrap();
                argv(&["down"])
            },
        },
        Case {
            class: "stuck",
            name: "a deleted compose.yaml does not block ps",
            expect: Code(3, &["acting on project myapp"]),
            setup: |w| {
                std::fs::remove_file(w.path("compose.yaml")).unwrap();
                argv(&["ps"])
            },
        },
    ]
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier (strace): set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn no_cloned_project_runs_a_program_touches_outside_leaks_or_hangs() {
    let cases = cases();
    let mut failures = Vec::new();
    let mut by_class: BTreeMap<&str, usize> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, "");
    for case in &cases {
        *by_class.entry(case.class).or_default() += 1;
        let (took, problems) = run_case(case);
        if took > slowest.0 {
            slowest = (took, case.name);
        }
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}:\n  {}",
                case.class,
                case.name,
                problems.join("\n  ")
            ));
        }
    }
    // The figures the closing note reports (`--nocapture` shows them).
    println!(
        "hostile projects: {} cases {by_class:?}; slowest {:?} ({})",
        cases.len(),
        slowest.0,
        slowest.1
    );
    assert!(cases.len() >= 50, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A small deterministic generator, so a failing input is found again.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces an attacker splices in.
const SPLICES: &[&str] = &[
    "../",
    "/etc/passwd",
    "--upload-pack=x",
    "\n",
    ": ",
    "- ",
    "[",
    "{",
    "'",
    "\"",
    "\0",
    "..",
    ".git/hooks/x",
    ".brickyard/undo/",
    "sha256:",
    "commit: ",
    "source: ",
    "git+ext::sh",
    "&a ",
    "*a",
    "!!binary ",
    "~",
    "\\",
    "\u{202e}",
    "9999999999999999999999",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(3) {
            0 => {
                let s = SPLICES[rng.below(SPLICES.len())];
                bytes.splice(at..at, s.bytes());
            }
            1 if at < bytes.len() => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ if at < bytes.len() => bytes[at] = rng.next() as u8,
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn fuzzed_project_files_never_yield_a_path_outside_or_a_panic() {
    let text = std::fs::read_to_string(template().join("brickyard.yaml")).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let (mut accepted, n) = (0, 3000);
    for _ in 0..n {
        let input = mutate(&mut rng, &text);
        let t = Instant::now();
        let parsed = std::panic::catch_unwind(|| brickyard::project::state::parse(&input));
        let parsed = parsed.unwrap_or_else(|_| panic!("parse panicked on:\n{input}"));
        assert!(t.elapsed() < Duration::from_secs(1), "slow on:\n{input}");
        if let Ok(p) = parsed
            && let Some(g) = p.generated
        {
            accepted += 1;
            for f in &g.files {
                assert!(
                    brickyard::trust::path::check_recorded(f).is_ok(),
                    "{f:?} accepted from:\n{input}"
                );
            }
            for s in &g.catalog {
                if let Some(c) = &s.commit {
                    assert!(
                        brickyard::catalog::git::check_commit(c).is_ok(),
                        "{c:?} accepted"
                    );
                }
            }
        }
    }
    assert!(
        accepted > 0,
        "no mutation was accepted: the fuzzer tests nothing"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn fuzzed_undo_records_never_act_outside_or_panic() {
    let dir = tempfile::tempdir().unwrap();
    let project = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(project.join(".brickyard/undo/files")).unwrap();
    std::fs::write(project.join(".brickyard/undo/files/compose.yaml"), "a: 1\n").unwrap();
    std::fs::write(project.join("app.py"), "print()\n").unwrap();
    let valid = format!(
        "{{\"brickyard_undo\": 1, \"project\": \"{}\", \"restore\": [{{\"path\": \"compose.yaml\", \"sha256\": \"{}\"}}], \"created\": [{{\"path\": \"app.py\", \"sha256\": \"{}\"}}]}}",
        project.display(),
        sha("a: 1\n"),
        sha("print()\n")
    );
    std::fs::write(project.join(".brickyard/undo/record.json"), &valid).unwrap();
    let plan = brickyard::generate::undo::plan(&project).unwrap();
    assert_eq!(plan.remove, ["app.py"]);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut accepted = 0;
    for _ in 0..3000 {
        let input = mutate(&mut rng, &valid);
        std::fs::write(project.join(".brickyard/undo/record.json"), &input).unwrap();
        let result = std::panic::catch_unwind(|| brickyard::generate::undo::plan(&project))
            .unwrap_or_else(|_| panic!("undo panicked on:\n{input}"));
        if let Ok(plan) = result {
            accepted += 1;
            for p in plan.restore.iter().map(|r| &r.path).chain(&plan.remove) {
                assert!(
                    brickyard::generate::undo::check_path(p).is_ok(),
                    "{p:?} from:\n{input}"
                );
                assert!(!project.join(p).starts_with(project.join(".brickyard/undo")));
            }
        }
    }
    assert!(
        accepted > 0,
        "no mutation was accepted: the fuzzer tests nothing"
    );
}

/// `strace -e inject`: the Nth call of `calls` fails with EIO.
fn injected(w: &World, calls: &str, n: usize, args: &[String]) -> Option<i32> {
    Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={calls}"))
        .arg("-e")
        .arg(format!("inject={calls}:error=EIO:when={n}"))
        .arg(bin())
        .args(args)
        .current_dir(&w.project)
        .env("CI", "true")
        .env("HOME", &w.home)
        .env("BRICKYARD_CACHE_DIR", &w.cache)
        .env("BRICKYARD_STATE_DIR", &w.state)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier (strace): set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn a_failure_at_any_rename_or_mkdir_leaves_the_project_and_its_undo_as_they_were() {
    // Each command, from a project with an undo record of its own (made by
    // a first `add`), so losing the previous undo would show.
    let commands: &[&[&str]] = &[
        &["add", "mailpit"],
        &["remove", "redis"],
        &["update", "--undo"],
        &[
            "new",
            "--force",
            "--yes",
            "-q",
            "--services",
            "postgres",
            ".",
        ],
        &["export", "kubernetes"],
        &["update"],
    ];
    let mut tried = Vec::new();
    for args in commands {
        let args = argv(args);
        for calls in ["rename,renameat,renameat2", "mkdir,mkdirat"] {
            let mut n = 1;
            loop {
                let w = world();
                let first = brickyard()
                    .args(["add", "minio"])
                    .current_dir(&w.project)
                    .env("BRICKYARD_CACHE_DIR", &w.cache)
                    .output()
                    .unwrap();
                assert!(
                    first.status.success(),
                    "{}",
                    String::from_utf8_lossy(&first.stderr)
                );
                if args[0] == "export" {
                    // Over an export of its own, so k8s/ exists and changes.
                    let out = brickyard()
                        .args(["export", "kubernetes"])
                        .current_dir(&w.project)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    w.edit("compose.yaml", |t| {
                        t.replacen(
                            "      PORT: '8000'\n",
                            "      PORT: '8000'\n      EXTRA: '1'\n",
                            1,
                        )
                    });
                }
                if args[0] == "update" && args.len() == 1 {
                    // Something for update to do: the base differs from the catalog.
                    w.edit(".brickyard/base/README.md", |t| format!("{t}\nold line\n"));
                }
                let before = crate::support::snapshot(&w.project);
                let code = injected(&w, calls, n, &args);
                if code == Some(0) {
                    break;
                }
                let changed =
                    crate::support::differences(&before, &crate::support::snapshot(&w.project));
                assert!(
                    changed.is_empty(),
                    "{args:?} with call {n} of {calls} failing (exit {code:?}) changed: {changed:?}"
                );
                n += 1;
                assert!(n < 400, "{args:?}: no run got through");
            }
            tried.push(format!("{} {calls}: {} failures", args.join(" "), n - 1));
        }
    }
    println!("injected failures:\n  {}", tried.join("\n  "));
}
