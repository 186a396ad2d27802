//! The engine against a real daemon, as people run it: beside `docker
//! compose`, in a terminal, two at once, interrupted, with the daemon going
//! away, with files a person broke. Each test here was first run against the
//! engine before the observe/reconcile/execute rewrite and failed there
//! (`BRICKYARD_TEST_BIN` points the tests at another build).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::docker::{
    IMAGE, Stack, docker, docker_tier, free_port, free_ports, ok, on_podman, stdout,
};
use crate::support::{Pane, bin, brickyard, failed, stderr_of};

fn ids(stack: &Stack) -> Vec<String> {
    let out = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={}", stack.name),
        "--format",
        "{{.Names}} {{.ID}}",
    ]);
    let mut v: Vec<String> = stdout(&out).lines().map(String::from).collect();
    v.sort();
    v
}

fn compose(stack: &Stack, args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .arg("compose")
        .args(args)
        .current_dir(&stack.root)
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .expect("docker compose runs")
}

fn labels(kind: &str, name: &str) -> String {
    stdout(&docker(&[
        kind,
        "inspect",
        "--format",
        "{{json .Labels}}",
        name,
    ]))
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn brickyard_and_docker_compose_take_turns_without_recreating_anything() {
    docker_tier();
    let [p1, p2] = free_ports();
    let stack = Stack::new(
        "by-interop",
        &format!(
            r#"services:
  web:
    image: {IMAGE}
    command: [httpd, -f, -p, "80", -h, /www]
    ports: ["127.0.0.1:{p1}:80", "{p2}:81"]
    environment: {{A: "1", FROM_SHELL: }}
    env_file: [web.env]
    label_file: ./web.labels
    networks: [front, back]
    volumes: ["data:/data", "./conf:/conf:ro", "/anonymous"]
    secrets: [pw, token]
    configs: [{{source: greeting, target: /etc/greeting}}]
    healthcheck: {{test: [CMD, "true"], interval: 2s}}
    depends_on: {{db: {{condition: service_healthy}}, job: {{condition: service_completed_successfully}}}}
  app:
    build: ./app
    command: [sleep, "3600"]
    scale: 2
  db:
    image: {IMAGE}
    command: [sleep, "3600"]
    networks: [back]
    healthcheck: {{test: [CMD, "true"], interval: 2s}}
    ulimits: {{nofile: {{soft: 100, hard: 200}}, nproc: 4096}}
  side:
    image: {IMAGE}
    command: [sleep, "3600"]
    network_mode: service:db
  job:
    image: {IMAGE}
    command: [sh, -c, "sleep 1"]
volumes: {{data: {{}}}}
networks: {{front: {{}}, back: {{internal: true}}}}
secrets: {{pw: {{file: ./pw.txt}}, token: {{environment: TOKEN}}}}
configs: {{greeting: {{content: "hello ${{WHO}}"}}}}
"#
        ),
    );
    stack.write("web.env", "FROM_FILE=1\n");
    stack.write("web.labels", "team=core\n");
    stack.write("pw.txt", "hunter2\n");
    stack.write(".env", "WHO=world\nTOKEN=t0k\n");
    stack.write("conf/app.conf", "x\n");
    stack.write(
        "app/Dockerfile",
        &format!("FROM {IMAGE}\nRUN echo built > /built\n"),
    );

    // brickyard first, then docker compose: nothing recreated.
    ok(&stack.up());
    let first = ids(&stack);
    assert_eq!(first.len(), 6, "{first:?}");
    assert_eq!(
        stdout(&docker(&[
            "exec",
            "by-interop-web-1",
            "cat",
            "/etc/greeting",
            "/run/secrets/token"
        ])),
        "hello worldt0k"
    );
    // Not on Podman (4.3): there docker compose recreates every container
    // on every `up`, its own too (Podman names a container's networks where
    // Docker gives their ids), and without systemd it waits for ever on
    // `service_healthy` (Podman runs health checks from systemd timers).
    let podman = on_podman();
    if !podman {
        let theirs = compose(&stack, &["up", "-d"]);
        ok(&theirs);
        let said = stderr_of(&theirs);
        assert!(
            !said.contains("Recreate"),
            "docker compose recreated:\n{said}"
        );
        assert_eq!(ids(&stack), first, "docker compose replaced containers");
    }
    // ... and brickyard again: nothing recreated either.
    let again = stack.up();
    ok(&again);
    assert!(
        !stderr_of(&again).contains("recreating"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(ids(&stack), first, "brickyard replaced containers");

    // Networks and volumes carry Compose's labels.
    for (kind, name, key) in [
        ("network", "by-interop_front", "com.docker.compose.network"),
        ("volume", "by-interop_data", "com.docker.compose.volume"),
    ] {
        let l = labels(kind, name);
        for k in [
            key,
            "com.docker.compose.project",
            "com.docker.compose.version",
            "com.docker.compose.config-hash",
        ] {
            assert!(l.contains(k), "{name} lacks {k}: {l}");
        }
    }

    if podman {
        // `side` shares db's namespace: Podman refuses to remove db first.
        ok(&stack.run(&["down", "-v"]));
        assert!(ids(&stack).is_empty());
        return;
    }
    // The other way round: docker compose makes it, brickyard keeps it.
    ok(&compose(&stack, &["down", "-v"]));
    ok(&compose(&stack, &["up", "-d", "--wait"]));
    let theirs = ids(&stack);
    let ours = stack.up();
    ok(&ours);
    assert!(
        !stderr_of(&ours).contains("recreating"),
        "{}",
        stderr_of(&ours)
    );
    assert_eq!(ids(&stack), theirs);
    // An edit is picked up by both in the same way: only that service.
    stack.write("web.env", "FROM_FILE=2\n");
    let edited = stack.up();
    ok(&edited);
    let now = ids(&stack);
    let changed: Vec<&String> = now.iter().filter(|i| !theirs.contains(i)).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("by-interop-web-1 "), "{changed:?}");
    let theirs = compose(&stack, &["up", "-d"]);
    assert!(
        !stderr_of(&theirs).contains("Recreate"),
        "{}",
        stderr_of(&theirs)
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_one_shot_job_of_any_length_completes_before_what_needs_it() {
    docker_tier();
    let stack = Stack::new(
        "by-job",
        &format!(
            "services:\n  migrate:\n    image: {IMAGE}\n    command: [sh, -c, \"sleep 3; echo migrated\"]\n  app:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on:\n      migrate: {{condition: service_completed_successfully}}\n"
        ),
    );
    let out = stack.up();
    ok(&out);
    let finished = stdout(&docker(&[
        "inspect",
        "--format",
        "{{.State.FinishedAt}}",
        "by-job-migrate-1",
    ]));
    let app_started = stdout(&docker(&[
        "inspect",
        "--format",
        "{{.State.StartedAt}}",
        "by-job-app-1",
    ]));
    assert!(
        app_started > finished,
        "app started {app_started}, before the job finished {finished}"
    );
    assert!(
        stderr_of(&out).contains("migrate: completed"),
        "{}",
        stderr_of(&out)
    );
}

/// Runs a command in a pseudo-terminal (`script`), as a person's shell does.
fn in_terminal(dir: &Path, args: &str, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new("script")
        .args(["-qefc", &format!("{} {args}", bin().display()), "/dev/null"])
        .current_dir(dir)
        .env_remove("CI")
        .env("TERM", "xterm")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status.code(), out, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (None, out, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn in_a_terminal_a_crash_fails_fast_too() {
    docker_tier();
    let stack = Stack::new(
        "by-tty-crash",
        &format!(
            "services:\n  crash:\n    image: {IMAGE}\n    command: [sh, -c, \"echo bad config; exit 3\"]\n"
        ),
    );
    let (code, out, took) = in_terminal(&stack.root, "up --timeout 60", Duration::from_secs(50));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(15), "took {took:?}:\n{out}");
    assert!(out.contains("service crash exited with code 3"), "{out}");
    assert!(out.contains("bad config"), "{out}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_healthcheck_whose_command_is_missing_fails_at_once() {
    docker_tier();
    let stack = Stack::new(
        "by-no-probe",
        &format!(
            "services:\n  web:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    healthcheck:\n      test: [CMD, /usr/bin/not-there]\n      interval: 30s\n      retries: 3\n"
        ),
    );
    let started = Instant::now();
    let err = failed(stack.run(&["up", "--timeout", "120"]));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("healthcheck cannot run"), "{err}");
    assert!(err.contains("not-there"), "{err}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn dockerignore_exceptions_under_an_excluded_directory_are_sent() {
    docker_tier();
    let stack = Stack::new(
        "by-ignore-exc",
        "services:\n  app:\n    build: .\n    command: [sleep, \"3600\"]\n",
    );
    stack.write(
        "Dockerfile",
        &format!("FROM {IMAGE}\nCOPY node_modules/ /nm/\n"),
    );
    stack.write(".dockerignore", "node_modules\n!node_modules/keep.js\n");
    stack.write("node_modules/keep.js", "kept\n");
    stack.write("node_modules/drop.js", "dropped\n");
    // Built here, not found from an earlier run.
    docker(&["rmi", "-f", "by-ignore-exc-app"]);
    ok(&stack.up());
    assert_eq!(
        stdout(&docker(&["run", "--rm", "by-ignore-exc-app", "ls", "/nm"])),
        "keep.js"
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn up_and_ps_agree_on_health_right_after_up() {
    docker_tier();
    // The engine's first scheduled check is a minute away; `up` probes now.
    let stack = Stack::new(
        "by-agree",
        &format!(
            "services:\n  web:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    healthcheck: {{test: [CMD, \"true\"], interval: 60s}}\n"
        ),
    );
    let up = stack.up();
    ok(&up);
    let table = String::from_utf8_lossy(&up.stdout).to_string();
    let ps = stack.run(&["ps"]);
    ok(&ps);
    let ps = String::from_utf8_lossy(&ps.stdout).to_string();
    let health = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("web "))
            .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
    };
    assert_eq!(health(&table).as_deref(), Some("healthy"), "{table}");
    assert_eq!(
        health(&ps),
        health(&table),
        "up said:\n{table}\nps says:\n{ps}"
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn two_ups_at_once_leave_one_network_and_a_stack_down_removes() {
    docker_tier();
    let stack = Stack::new(
        "by-race",
        &format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  b:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n"
        ),
    );
    let spawn = || {
        Command::new(bin())
            .arg("-C")
            .arg(&stack.root)
            .args(["up", "--timeout", "120"])
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn(), spawn());
    let (one, two) = (
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    );
    ok(&one);
    ok(&two);
    let nets = stdout(&docker(&[
        "network",
        "ls",
        "--filter",
        "name=by-race_default",
        "--format",
        "{{.Name}}",
    ]));
    assert_eq!(nets.lines().count(), 1, "{nets}");
    assert_eq!(ids(&stack).len(), 2);
    ok(&stack.run(&["down"]));
    assert!(ids(&stack).is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn down_works_from_labels_when_the_file_is_broken_gone_or_moved() {
    docker_tier();
    let yaml = format!("services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n");
    // Broken.
    let stack = Stack::new("by-broken", &yaml);
    ok(&stack.up());
    stack.write("compose.yaml", "services: [this is: not compose\n");
    let out = stack.run(&["down"]);
    ok(&out);
    assert!(
        stderr_of(&out).contains("acting on project by-broken by its containers' labels"),
        "{}",
        stderr_of(&out)
    );
    assert!(ids(&stack).is_empty());
    // Gone.
    stack.write("compose.yaml", &yaml);
    ok(&stack.up());
    std::fs::remove_file(stack.root.join("compose.yaml")).unwrap();
    ok(&stack.run(&["down"]));
    assert!(ids(&stack).is_empty());
    // Moved: the directory has another name now.
    stack.write("compose.yaml", &yaml);
    ok(&stack.up());
    let moved = stack.root.with_file_name("renamed-dir");
    std::fs::rename(&stack.root, &moved).unwrap();
    let out = brickyard()
        .arg("-C")
        .arg(&moved)
        .args(["down", "-p", "by-broken"])
        .output()
        .unwrap();
    ok(&out);
    std::fs::rename(&moved, &stack.root).unwrap();
    assert!(ids(&stack).is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn an_interrupted_down_says_what_is_left_and_a_second_finishes() {
    docker_tier();
    // `sleep` as PID 1 ignores SIGTERM: each stop waits the grace period.
    let stack = Stack::new(
        "by-slow-down",
        &format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    stop_grace_period: 10s\n"
        ),
    );
    ok(&stack.up());
    let child = Command::new(bin())
        .arg("-C")
        .arg(&stack.root)
        .arg("down")
        .env("CI", "true")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("partly down") || err.contains("already gone"),
        "{err}"
    );
    if err.contains("partly down") {
        assert!(err.contains("run `brickyard down` again"), "{err}");
    }
    ok(&stack.run(&["down"]));
    assert!(ids(&stack).is_empty());
    let nets = stdout(&docker(&[
        "network",
        "ls",
        "--filter",
        "label=com.docker.compose.project=by-slow-down",
        "-q",
    ]));
    assert!(nets.is_empty(), "{nets}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn ports_clash_inside_the_project_whatever_the_host_ips() {
    docker_tier();
    let port = free_port();
    let stack = Stack::new(
        "by-clash",
        &format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    ports: [\"127.0.0.1:{port}:80\"]\n  b:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    ports: [\"{port}:81\"]\n"
        ),
    );
    let err = failed(stack.run(&["up"]));
    assert!(
        err.contains(&format!("port {port} is published by both a and b")),
        "{err}"
    );
    assert!(ids(&stack).is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_service_that_cannot_be_created_leaves_nothing_behind() {
    docker_tier();
    let stack = Stack::new(
        "by-uncreatable",
        &format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  b:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on: [a]\n    cap_add: [NOT_A_CAPABILITY]\n  c:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on: [b]\n"
        ),
    );
    let err = failed(stack.run(&["up"]));
    assert!(
        err.contains("cannot create container by-uncreatable-b-1 for service b"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(ids(&stack).is_empty(), "{:?}", ids(&stack));
    // A bad name is caught before anything is made at all.
    stack.write(
        "compose.yaml",
        &format!("services:\n  a:\n    image: {IMAGE}\n    container_name: \"bad name!\"\n"),
    );
    let err = failed(stack.run(&["up"]));
    assert!(err.contains("is not one Docker accepts"), "{err}");
    assert!(ids(&stack).is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_stalled_build_is_stopped_by_the_timeout() {
    docker_tier();
    let stack = Stack::new("by-stall", "services:\n  app:\n    build: .\n");
    stack.write("Dockerfile", &format!("FROM {IMAGE}\nRUN sleep 300\n"));
    docker(&["rmi", "-f", "by-stall-app"]);
    let started = Instant::now();
    let err = failed(stack.run(&["up", "--timeout", "8"]));
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("made no progress for 8 s"), "{err}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn build_output_in_a_pipe_has_no_colour_codes() {
    docker_tier();
    let stack = Stack::new("by-colour", "services:\n  app:\n    build: .\n");
    docker(&["rmi", "-f", "by-colour-app"]);
    stack.write(
        "Dockerfile",
        &format!("FROM {IMAGE}\nRUN printf '\\033[1;31mred alert\\033[0m\\n' && exit 1\n"),
    );
    let out = stack.run(&["up"]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr_of(&out)
    );
    assert!(all.contains("red alert"), "{all}");
    assert!(!all.contains('\u{1b}'), "escape codes in: {all:?}");
}

/// A unix-socket relay to the daemon that the test can cut, to lose the
/// daemon in the middle of a command.
struct Relay {
    path: std::path::PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _dir: tempfile::TempDir,
}

impl Relay {
    fn start() -> Relay {
        use std::os::unix::net::{UnixListener, UnixStream};
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        // The engine under test: Docker's socket, or the one DOCKER_HOST names.
        let engine = std::env::var("DOCKER_HOST")
            .ok()
            .and_then(|h| h.strip_prefix("unix://").map(String::from))
            .unwrap_or_else(|| "/var/run/docker.sock".into());
        std::thread::spawn(move || {
            let mut conns: Vec<(UnixStream, UnixStream)> = Vec::new();
            loop {
                if flag.load(Ordering::SeqCst) {
                    for (a, b) in &conns {
                        let _ = a.shutdown(std::net::Shutdown::Both);
                        let _ = b.shutdown(std::net::Shutdown::Both);
                    }
                    return;
                }
                if let Ok((client, _)) = listener.accept() {
                    client.set_nonblocking(false).unwrap();
                    let daemon = UnixStream::connect(&engine).unwrap();
                    for (mut from, mut to) in [
                        (client.try_clone().unwrap(), daemon.try_clone().unwrap()),
                        (daemon.try_clone().unwrap(), client.try_clone().unwrap()),
                    ] {
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 16384];
                            while let Ok(n) = from.read(&mut buf) {
                                if n == 0 || to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                            let _ = to.shutdown(std::net::Shutdown::Write);
                        });
                    }
                    conns.push((client, daemon));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Relay {
            path,
            stop,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn cut(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn losing_the_daemon_mid_up_is_the_no_daemon_error() {
    docker_tier();
    let stack = Stack::new(
        "by-lost",
        &format!(
            "services:\n  slow:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    healthcheck: {{test: [CMD, \"false\"], interval: 1s, retries: 1000}}\n"
        ),
    );
    let relay = Relay::start();
    let child = Command::new(bin())
        .arg("-C")
        .arg(&stack.root)
        .args(["up", "--timeout", "120"])
        .env("CI", "true")
        .env("DOCKER_HOST", relay.host())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    relay.cut();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "hung for {:?}",
        started.elapsed()
    );
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("no Docker engine answered at"), "{err}");
}

/// Runs `up` in a real terminal (a tmux pane), presses Ctrl-C once `ready`
/// of the services run, and returns what the screen shows afterwards.
fn ctrl_c_in_tmux(stack: &Stack, ready: usize) -> String {
    let pane = Pane::start(
        "by",
        &format!(
            "cd {} && env -u CI TERM=xterm DOCKER_HOST={} {} up --timeout 120",
            stack.root.display(),
            // A tmux server started earlier does not pass this one on.
            std::env::var("DOCKER_HOST").unwrap_or_default(),
            bin().display()
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let running = stdout(&docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", stack.name),
        ]));
        if running.lines().count() >= ready {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(800));
    pane.keys(&["C-c"]);
    pane.wait_for("EXIT=");
    // Let a leftover progress line draw over the screen if it would.
    std::thread::sleep(Duration::from_millis(600));
    pane.screen()
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn ctrl_c_lists_every_running_service() {
    docker_tier();
    let stack = Stack::new(
        "by-ctrl-c",
        &format!(
            "services:\n  one:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  two:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  waits:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    healthcheck: {{test: [CMD, \"false\"], interval: 1s, retries: 1000}}\n"
        ),
    );
    // In CI mode (plain lines) ...
    let child = Command::new(bin())
        .arg("-C")
        .arg(&stack.root)
        .args(["up", "--timeout", "120"])
        .env("CI", "true")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("Running now:"))
        .unwrap_or_default();
    for s in ["one", "two", "waits"] {
        assert!(line.contains(s), "{s} missing from: {err}");
    }
    // ... and on a real screen, where progress lines are drawn and redrawn.
    // From nothing, so that three running containers mean that this `up`
    // made them and is waiting.
    ok(&stack.run(&["down"]));
    let screen = ctrl_c_in_tmux(&stack, 3);
    assert!(screen.contains("EXIT=130"), "{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains("Running now:"))
        .unwrap_or_default();
    for s in ["one", "two", "waits"] {
        assert!(line.contains(s), "{s} missing from the screen:\n{screen}");
    }
    // No progress line is left spinning over (or instead of) the summary.
    let spinner = |c: char| ('\u{2800}'..='\u{28ff}').contains(&c);
    assert!(
        !screen.chars().any(spinner),
        "a stale progress line:\n{screen}"
    );
    assert!(screen.contains("interrupted"), "{screen}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn hooks_run_and_dependents_that_ask_restart_with_their_dependency() {
    docker_tier();
    let yaml = |version: &str| {
        format!(
            "services:\n  db:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    environment: {{V: \"{version}\"}}\n  app:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on: {{db: {{condition: service_started, restart: true}}}}\n    post_start:\n      - command: [sh, -c, \"echo started >> /tmp/hook.log\"]\n  other:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on: [db]\n"
        )
    };
    let stack = Stack::new("by-hooks", &yaml("1"));
    ok(&stack.up());
    let app = stack.container_id("app");
    let other = stack.container_id("other");
    let started = |c: &str| stdout(&docker(&["inspect", "--format", "{{.State.StartedAt}}", c]));
    let (app_before, other_before) = (started("by-hooks-app-1"), started("by-hooks-other-1"));
    assert_eq!(
        stdout(&docker(&["exec", "by-hooks-app-1", "cat", "/tmp/hook.log"])),
        "started"
    );
    stack.write("compose.yaml", &yaml("2"));
    ok(&stack.up());
    // The same app container, started again after db; `other` untouched.
    assert_eq!(stack.container_id("app"), app);
    assert_ne!(started("by-hooks-app-1"), app_before);
    assert_eq!(stack.container_id("other"), other);
    assert_eq!(started("by-hooks-other-1"), other_before);
    assert_eq!(
        stdout(&docker(&["exec", "by-hooks-app-1", "cat", "/tmp/hook.log"])),
        "started\nstarted"
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn builds_go_through_buildkit_with_cache_mounts_stages_and_secrets() {
    docker_tier();
    // Values no earlier run used: a daemon that kept the layers of a
    // previous run would otherwise answer from its cache.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let compose = |bust: u32| {
        format!(
            "services:\n  app:\n    build:\n      context: .\n      args: {{BUST: \"{run}-{bust}\"}}\n      secrets: [token]\n    command: [sleep, \"3600\"]\nsecrets:\n  token:\n    environment: BY_BUILDKIT_TOKEN\n"
        )
    };
    let stack = Stack::new("by-buildkit", &compose(1));
    // Only in .env: the secret's value reaches the build all the same.
    stack.write(".env", "BY_BUILDKIT_TOKEN=from-dotenv\n");
    stack.write(
        "Dockerfile",
        &format!(
            "FROM {IMAGE} AS counted\nARG BUST\nRUN --mount=type=cache,target=/by-buildkit-cache sh -c 'echo $BUST >> /by-buildkit-cache/runs; wc -l < /by-buildkit-cache/runs > /runs'\nFROM {IMAGE} AS other\nRUN echo other > /other\nFROM {IMAGE}\nCOPY --from=counted /runs /runs\nCOPY --from=other /other /other\nRUN --mount=type=secret,id=token,required=true cp /run/secrets/token /token\n"
        ),
    );
    let read = |path: &str| stdout(&docker(&["exec", "by-buildkit-app-1", "cat", path]));
    if on_podman() {
        // Podman builds with Buildah through its Docker API, which takes no
        // build secrets: brickyard says so, and the build that needs one
        // fails naming it.
        let out = stack.up();
        assert!(!out.status.success());
        let err = stderr_of(&out);
        assert!(err.contains("`build.secrets` needs BuildKit"), "{err}");
        assert!(err.contains("no secret with id token"), "{err}");
        return;
    }
    ok(&stack.up());
    assert_eq!(read("/token"), "from-dotenv");
    assert_eq!(read("/other"), "other");
    let first: u32 = read("/runs").parse().unwrap();
    // A new argument reruns the step: the cache mount still holds the
    // first run's line.
    stack.write("compose.yaml", &compose(2));
    ok(&stack.run(&["up", "--build", "--timeout", "120"]));
    let second: u32 = read("/runs").parse().unwrap();
    assert_eq!(second, first + 1);
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn docker_buildkit_0_builds_with_the_legacy_builder() {
    docker_tier();
    let stack = Stack::new(
        "by-legacy-build",
        "services:\n  app:\n    build: .\n    command: [sleep, \"3600\"]\n",
    );
    stack.write(
        "Dockerfile",
        &format!("FROM {IMAGE}\nRUN echo legacy > /built\n"),
    );
    let legacy = |args: &[&str]| {
        brickyard()
            .env("DOCKER_BUILDKIT", "0")
            .arg("-C")
            .arg(&stack.root)
            .args(args)
            .output()
            .unwrap()
    };
    // --build: an image left by an earlier run must not stand in for it.
    ok(&legacy(&["up", "--build", "--timeout", "120"]));
    assert_eq!(
        stdout(&docker(&["exec", "by-legacy-build-app-1", "cat", "/built"])),
        "legacy"
    );
    if on_podman() {
        return; // Buildah reads BuildKit's Dockerfile syntax: nothing to refuse.
    }
    // What only BuildKit reads fails there, and says so.
    stack.write(
        "Dockerfile",
        &format!("FROM {IMAGE}\nRUN --mount=type=cache,target=/c echo x\n"),
    );
    let out = legacy(&["up", "--build", "--timeout", "120"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("requires BuildKit"), "{err}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn urls_take_their_scheme_from_the_catalog() {
    docker_tier();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("by-schemes");
    ok(&brickyard()
        .arg("new")
        .arg(&root)
        .args(["--yes", "--services", "mailpit"])
        .output()
        .unwrap());
    // The person swaps the images for something of their own; the service
    // is still the catalog's mailpit, whose 1025 is SMTP.
    let [web, smtp] = free_ports();
    std::fs::write(
        root.join("compose.yaml"),
        format!(
            "services:\n  mailpit:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    ports: [\"127.0.0.1:{web}:8025\", \"127.0.0.1:{smtp}:1025\"]\n"
        ),
    )
    .unwrap();
    let cleanup = || {
        brickyard()
            .arg("-C")
            .arg(&root)
            .arg("down")
            .output()
            .unwrap();
    };
    let up = brickyard()
        .arg("-C")
        .arg(&root)
        .args(["up", "--timeout", "60"])
        .output()
        .unwrap();
    let ps = brickyard().arg("-C").arg(&root).arg("ps").output().unwrap();
    cleanup();
    for out in [&up, &ps] {
        ok(out);
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(
            table.contains(&format!("smtp://127.0.0.1:{smtp}")),
            "{table}"
        );
        assert!(
            table.contains(&format!("http://127.0.0.1:{web}")),
            "{table}"
        );
    }
}
