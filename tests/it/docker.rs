//! `brickyard up / down / ps / logs` against a real Docker engine.
//! Opt-in with BRICKYARD_DOCKER_TESTS=1 (`.ci/run` sets it and starts
//! dockerd). When it is on and no daemon answers, every test here fails.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::support::{brickyard, stderr_of, switch};

pub(crate) const IMAGE: &str = "brickyard-test/busybox:1";

/// The Docker tier is on (the tests here are ignored otherwise): the daemon
/// and the test image must be there, or the test fails.
pub(crate) fn docker_tier() {
    assert!(
        switch("BRICKYARD_DOCKER_TESTS"),
        "built with the Docker tier on but BRICKYARD_DOCKER_TESTS is not set now"
    );
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(prepare)
        .as_ref()
        .map_err(|e| e.clone())
        .expect("docker tier is on but not usable");
}

pub(crate) fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// Whether the engine under test is Podman (DOCKER_HOST names its socket).
pub(crate) fn on_podman() -> bool {
    stdout(&docker(&[
        "version",
        "--format",
        "{{json .Server.Components}}",
    ]))
    .to_ascii_lowercase()
    .contains("podman")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A busybox-static root filesystem as an image (.ci/busybox-image.sh).
pub(crate) fn prepare() -> Result<(), String> {
    let info = docker(&["info", "--format", "{{.ServerVersion}}"]);
    if !info.status.success() {
        return Err(format!(
            "no Docker daemon answers: {}",
            String::from_utf8_lossy(&info.stderr)
        ));
    }
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/busybox-image.sh"))
        .arg(IMAGE)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "cannot make {IMAGE}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A free port on 127.0.0.1 right now, never one this test run gave out before.
pub(crate) fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free ports: each is held until all are chosen, so the OS
/// cannot hand the same one out twice (it did: "host port 40773 is given to
/// both app:8000 and postgres:5432"). Nor twice in one test run: a port
/// released here and given to one test's stack was once given to another
/// test running beside it before that stack had bound it ("port 39745 for
/// service mailpit is taken by container by-mon-rust-graph-couchdb-1").
pub(crate) fn free_ports<const N: usize>() -> [u16; N] {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    // Ports given before are held too while choosing, so the OS moves on.
    let (mut held, mut passed) = (Vec::new(), Vec::new());
    while held.len() < N {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if given.contains(&port) {
            passed.push(listener);
        } else {
            given.push(port);
            held.push(listener);
        }
    }
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// A compose project in a temporary directory, taken down (with volumes) when dropped.
pub(crate) struct Stack {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) name: String,
}

impl Stack {
    /// The project `name` living at `root` (made by brickyard, e.g.), with
    /// anything an earlier run left of it removed now and when dropped.
    pub(crate) fn at(root: PathBuf, name: &str) -> Stack {
        let stack = Stack {
            _dir: tempfile::tempdir().unwrap(),
            root,
            name: name.to_string(),
        };
        stack.cleanup();
        stack
    }

    pub(crate) fn new(name: &str, compose: &str) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("compose.yaml"), compose).unwrap();
        let stack = Stack {
            _dir: dir,
            root,
            name: name.to_string(),
        };
        stack.cleanup();
        stack
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        brickyard()
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn up(&self) -> Output {
        self.run(&["up", "--timeout", "120"])
    }

    pub(crate) fn container_id(&self, service: &str) -> String {
        stdout(&docker(&[
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{}-{service}-1", self.name),
        ]))
    }

    pub(crate) fn ids(&self) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        stdout(&out).lines().map(String::from).collect()
    }

    pub(crate) fn cleanup(&self) {
        for id in self.ids() {
            docker(&["rm", "-f", &id]);
        }
        let nets = docker(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        for n in stdout(&nets).lines() {
            docker(&["network", "rm", n]);
        }
        docker(&["network", "rm", &format!("{}_default", self.name)]);
        let vols = docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        for v in stdout(&vols).lines() {
            docker(&["volume", "rm", "-f", v]);
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.cleanup();
    }
}

pub(crate) fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr_of(out)
    );
}

/// An HTTP service on busybox with a healthcheck.
pub(crate) fn web(port: u16, extra: &str) -> String {
    format!(
        r#"    image: {IMAGE}
    command: [httpd, -f, -p, "80", -h, /www]
    ports: ["127.0.0.1:{port}:80"]
    healthcheck: {{test: [CMD, wget, -q, -O, /dev/null, "http://127.0.0.1/"], interval: 1s, timeout: 2s, retries: 10}}
{extra}"#
    )
}

pub(crate) fn started_at(stack: &Stack, service: &str) -> String {
    stdout(&docker(&[
        "inspect",
        "--format",
        "{{.State.StartedAt}}",
        &format!("{}-{service}-1", stack.name),
    ]))
}

/// When the service's first passing health check ended.
pub(crate) fn first_healthy(stack: &Stack, service: &str) -> String {
    let out = docker(&[
        "inspect",
        "--format",
        "{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End}}\n{{end}}{{end}}",
        &format!("{}-{service}-1", stack.name),
    ]);
    stdout(&out).lines().next().unwrap_or_default().to_string()
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn four_services_come_up_in_dependency_order_all_healthy() {
    docker_tier();
    let [p1, p2] = free_ports();
    let compose = format!(
        "services:\n  db:\n{}  cache:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  api:\n{}    depends_on:\n      db: {{condition: service_healthy}}\n      cache: {{condition: service_started}}\n  web:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on:\n      api: {{condition: service_healthy}}\n",
        web(p1, ""),
        web(p2, "")
    );
    let stack = Stack::new("by-order", &compose);
    let out = stack.up();
    ok(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!("http://127.0.0.1:{p1}"))
            && table.contains(&format!("http://127.0.0.1:{p2}")),
        "{table}"
    );
    for svc in ["db", "cache", "api", "web"] {
        let state = stdout(&docker(&[
            "inspect",
            "--format",
            "{{.State.Status}}",
            &format!("by-order-{svc}-1"),
        ]));
        assert_eq!(state, "running", "{svc}");
    }
    // RFC 3339 timestamps of one clock compare as strings.
    assert!(
        first_healthy(&stack, "db") <= started_at(&stack, "api"),
        "api started before db was healthy"
    );
    assert!(started_at(&stack, "cache") <= started_at(&stack, "api"));
    assert!(
        first_healthy(&stack, "api") <= started_at(&stack, "web"),
        "web started before api was healthy"
    );
    let body = http_get(p1, "/");
    assert!(body.contains("ok"), "{body}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_service_that_exits_fails_up_naming_it_with_its_logs() {
    docker_tier();
    let stack = Stack::new(
        "by-crash",
        &format!(
            "services:\n  fine:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  crash:\n    image: {IMAGE}\n    command: [sh, -c, \"echo boom-marker-42; exit 3\"]\n"
        ),
    );
    let out = stack.up();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("service crash exited with code 3"), "{err}");
    assert!(err.contains("boom-marker-42"), "{err}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn an_unhealthy_service_fails_up_with_its_health_output() {
    docker_tier();
    let stack = Stack::new(
        "by-sick",
        &format!(
            "services:\n  sick:\n    image: {IMAGE}\n    command: [sh, -c, \"echo starting-sick; sleep 3600\"]\n    healthcheck: {{test: [CMD-SHELL, \"echo probe-said-no; exit 1\"], interval: 1s, retries: 2}}\n"
        ),
    );
    let out = stack.up();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("service sick is unhealthy"), "{err}");
    assert!(err.contains("probe-said-no"), "{err}");
    assert!(err.contains("starting-sick"), "{err}");
}

/// A port another project's container claims is skipped by `new` even
/// while that container is stopped and nothing listens on the port.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn new_skips_ports_other_projects_claim_while_stopped() {
    docker_tier();
    let other = Stack::new("claims-8000", "services: {}\n");
    ok(&docker(&[
        "create",
        "--label",
        "com.docker.compose.project=claims-8000",
        "-p",
        "127.0.0.1:8000:80",
        IMAGE,
    ]));
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("claimant");
    let out = brickyard()
        .arg("new")
        .arg(&project)
        .args(["--yes", "--services", "none", "--monitoring", "none"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let answers = std::fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(answers.contains("app:8000: 80"), "{answers}");
    assert!(!answers.contains("app:8000: 8000\n"), "{answers}");
    drop(other);
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_taken_port_is_reported_before_anything_is_created() {
    docker_tier();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let stack = Stack::new(
        "by-port",
        &format!(
            "services:\n  other:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n  web:\n{}",
            web(port, "")
        ),
    );
    let out = stack.up();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "port {port} for service web is taken by a program outside Docker"
        )),
        "{err}"
    );
    assert!(stack.ids().is_empty(), "a container was created");
    assert!(
        !docker(&["network", "inspect", "by-port_default"])
            .status
            .success(),
        "the network was created"
    );
    drop(holder);

    // Held by another project's container: that container is named.
    let port2 = free_port();
    let first = Stack::new(
        "by-port-a",
        &format!("services:\n  web:\n{}", web(port2, "")),
    );
    ok(&first.up());
    let second = Stack::new(
        "by-port-b",
        &format!("services:\n  web:\n{}", web(port2, "")),
    );
    let err = stderr_of(&second.up());
    assert!(
        err.contains(&format!(
            "port {port2} for service web is taken by container by-port-a-web-1 (project by-port-a)"
        )),
        "{err}"
    );
    assert!(second.ids().is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn up_twice_recreates_nothing_and_an_edit_recreates_only_that_service() {
    docker_tier();
    let compose = |value: &str| {
        format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    environment: {{GREETING: {value}}}\n  b:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on: [a]\n"
        )
    };
    let stack = Stack::new("by-idem", &compose("hello"));
    ok(&stack.up());
    let (a1, b1) = (stack.container_id("a"), stack.container_id("b"));
    let again = stack.up();
    ok(&again);
    assert!(
        stderr_of(&again).contains("nothing changed"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(
        (stack.container_id("a"), stack.container_id("b")),
        (a1.clone(), b1.clone())
    );

    stack.write("compose.yaml", &compose("changed"));
    ok(&stack.up());
    assert_ne!(
        stack.container_id("a"),
        a1,
        "the edited service was not recreated"
    );
    assert_eq!(
        stack.container_id("b"),
        b1,
        "an unchanged service was recreated"
    );
    let env = stdout(&docker(&[
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        "by-idem-a-1",
    ]));
    assert!(env.contains("GREETING=changed"), "{env}");

    // A service removed from the file is reported and removed.
    stack.write("compose.yaml", &format!("services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    environment: {{GREETING: changed}}\n"));
    let out = stack.up();
    ok(&out);
    assert!(
        stderr_of(&out).contains("removing by-idem-b-1 (service b is no longer in"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(stack.ids().len(), 1);
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn down_removes_the_project_and_touches_nothing_else() {
    docker_tier();
    let stranger = "by-down-stranger";
    docker(&["rm", "-f", stranger]);
    ok(&docker(&[
        "run", "-d", "--name", stranger, IMAGE, "sleep", "3600",
    ]));
    let stack = Stack::new(
        "by-down",
        &format!(
            "services:\n  a:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    volumes: [\"data:/data\"]\nvolumes:\n  data:\n"
        ),
    );
    ok(&stack.up());
    let volumes = || {
        stdout(&docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "label=com.docker.compose.project=by-down",
        ]))
    };
    assert_eq!(volumes(), "by-down_data");

    ok(&stack.run(&["down"]));
    assert!(stack.ids().is_empty());
    assert!(
        !docker(&["network", "inspect", "by-down_default"])
            .status
            .success()
    );
    assert_eq!(
        volumes(),
        "by-down_data",
        "volumes are kept without --volumes"
    );

    ok(&stack.run(&["down", "--volumes"]));
    assert_eq!(volumes(), "");
    let again = stack.run(&["down", "--volumes"]);
    ok(&again);
    assert!(stderr_of(&again).contains("nothing to remove"));
    let state = stdout(&docker(&[
        "inspect",
        "--format",
        "{{.State.Status}}",
        stranger,
    ]));
    assert_eq!(
        state, "running",
        "down touched a container outside the project"
    );
    docker(&["rm", "-f", stranger]);
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn docker_compose_sees_and_removes_what_brickyard_started() {
    docker_tier();
    let port = free_port();
    let stack = Stack::new(
        "by-interop",
        &format!(
            "services:\n  web:\n{}  idle:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n",
            web(port, "")
        ),
    );
    ok(&stack.up());
    let ps = Command::new("docker")
        .args(["compose", "ps", "--format", "{{.Service}} {{.State}}"])
        .current_dir(&stack.root)
        .output()
        .unwrap();
    ok(&ps);
    let listed = stdout(&ps);
    assert!(
        listed.contains("web running") && listed.contains("idle running"),
        "{listed}"
    );
    let logs = Command::new("docker")
        .args(["compose", "logs", "web"])
        .current_dir(&stack.root)
        .output()
        .unwrap();
    ok(&logs);
    ok(&Command::new("docker")
        .args(["compose", "down"])
        .current_dir(&stack.root)
        .output()
        .unwrap());
    assert!(
        stack.ids().is_empty(),
        "docker compose down left containers"
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn ps_and_logs_show_the_stack() {
    docker_tier();
    let port = free_port();
    let stack = Stack::new(
        "by-ps",
        &format!(
            "services:\n  web:\n{}  talker:\n    image: {IMAGE}\n    command: [sh, -c, \"echo line-one; echo line-two; sleep 3600\"]\n",
            web(port, "")
        ),
    );
    let up = stack.up();
    ok(&up);
    let table = String::from_utf8_lossy(&up.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("web") && l.contains("healthy")),
        "{table}"
    );
    // `up` ran the healthcheck itself; the engine's status follows within an interval.
    let mut web_row = serde_json::Value::Null;
    for _ in 0..20 {
        let ps = stack.run(&["ps", "--json"]);
        ok(&ps);
        let rows: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
        web_row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == "web")
            .unwrap()
            .clone();
        if web_row["health"] == "healthy" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(web_row["health"], "healthy");
    assert_eq!(web_row["urls"][0], format!("http://127.0.0.1:{port}"));
    let logs = stack.run(&["logs", "talker", "--tail", "1"]);
    ok(&logs);
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(
        text.contains("talker | line-two") && !text.contains("line-one"),
        "{text}"
    );
    let err = stderr_of(&stack.run(&["logs", "nope"]));
    assert!(err.contains("service `nope` has no container"), "{err}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn an_image_that_cannot_be_pulled_says_how_to_provide_it() {
    docker_tier();
    let stack = Stack::new(
        "by-pull",
        "services:\n  ghost:\n    image: brickyard-test/not-anywhere:9.9\n",
    );
    let out = stack.up();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("cannot pull image brickyard-test/not-anywhere:9.9"),
        "{err}"
    );
    assert!(
        err.contains("docker load") && err.contains("docker tag"),
        "{err}"
    );
    assert!(stack.ids().is_empty());
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_build_honours_dockerignore() {
    docker_tier();
    let stack = Stack::new(
        "by-build",
        "services:\n  app:\n    build: .\n    command: [sh, -c, \"ls /ctx; sleep 3600\"]\n",
    );
    stack.write("Dockerfile", &format!("FROM {IMAGE}\nCOPY . /ctx\n"));
    stack.write(".dockerignore", "secret.txt\nlogs/\n");
    stack.write("kept.txt", "k");
    stack.write("secret.txt", "s");
    stack.write("logs/x.log", "l");
    ok(&stack.up());
    let image = stdout(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        "by-build-app",
    ]));
    assert!(
        !image.is_empty(),
        "the built image is not named <project>-<service>"
    );
    let logs = stdout(&stack.run(&["logs", "app"]));
    assert!(logs.contains("kept.txt"), "{logs}");
    assert!(
        !logs.contains("secret.txt") && !logs.contains("logs"),
        "{logs}"
    );
    docker(&["rmi", "-f", "by-build-app"]);
}

/// Tags the offline stand-ins under every image a compose file (and its Dockerfiles) uses.
pub(crate) fn stand_ins(compose: &std::path::Path) {
    let shared = std::env::var("BRICKYARD_SHARED")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared").into());
    ok(&Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/stand-ins.sh"))
        .arg(compose)
        .env("BRICKYARD_SHARED", shared)
        .output()
        .unwrap());
}

/// A generated project, its images provided by the offline stand-ins and
/// its app built from the generated Dockerfile, comes up healthy, and
/// `up --verify` shows the app using its database and cache for real; the
/// PagerDuty watcher (no routing key: it logs only) reads its health. With
/// Buildbot as its CI (the Python project), a forced build runs the app's
/// tests on the worker and passes.
fn generated_project_boots(app: &str, ci: &str, monitoring: &str) {
    let (dir, _) = crate::support::scratch();
    let name = format!("by-gen-{app}");
    let project = dir.path().join(&name);
    let ports: [u16; 5] = free_ports();
    let answers = format!(
        "ci: {ci}\nvcs: github\nconfig-mgmt: none\nmonitoring: {monitoring}\ncontainers: compose\napp: {app}\nservices: [postgres, redis]\nmocks: none\ntests: []\nchat: []\nmachine: []\nports:\n  app:8000: {}\n  postgres:5432: {}\n  redis:6379: {}\n{}{}",
        ports[0],
        ports[1],
        ports[2],
        if ci == "buildbot" {
            format!("  buildbot:8010: {}\n", ports[3])
        } else {
            String::new()
        },
        if monitoring == "nagios" {
            format!("  nagios:80: {}\n", ports[4])
        } else {
            String::new()
        }
    );
    std::fs::write(dir.path().join("answers.yaml"), &answers).unwrap();
    ok(&brickyard()
        .arg("new")
        .arg(&project)
        .arg("--answers")
        .arg(dir.path().join("answers.yaml"))
        .output()
        .unwrap());
    let stack = Stack::at(project.clone(), &name);
    stand_ins(&project.join("compose.yaml"));
    let out = stack.run(&["up", "--verify", "--timeout", "300"]);
    ok(&out);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("database ok (SELECT 1 -> 1)"), "{report}");
    assert!(report.contains("cache ok"), "{report}");
    if monitoring == "pagerduty" {
        assert!(
            report.contains("the watcher reads the app's health"),
            "{report}"
        );
    }
    if monitoring == "nagios" {
        nagios_sees_a_service_go_down(&stack, &name);
    }
    if ci == "buildbot" {
        assert!(
            report.contains("the worker is connected to the master"),
            "{report}"
        );
        buildbot_build_passes(&format!("{name}-buildbot-1"));
    }
    assert!(report.contains("checks passed"), "{report}");
    docker(&[
        "rmi",
        "-f",
        &format!("{name}-app"),
        &format!("{name}-buildbot-worker"),
    ]);
}

/// Nagios checked the app and every port (verify said so); with Redis
/// stopped, its own check turns CRITICAL and verify fails naming it.
fn nagios_sees_a_service_go_down(stack: &Stack, name: &str) {
    let report = String::from_utf8_lossy(&stack.run(&["verify"]).stdout).into_owned();
    assert!(
        report.contains("Nagios checked every service since it started, all OK"),
        "{report}"
    );
    assert!(report.contains("4 checks OK"), "{report}");
    ok(&docker(&["stop", &format!("{name}-redis-1")]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    loop {
        let out = stack.run(&["verify", "--check-timeout", "5"]);
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        if said.contains("redis port 6379: CRITICAL") {
            assert!(!out.status.success());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Nagios never saw Redis stop:\n{said}"
        );
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
    ok(&docker(&["start", &format!("{name}-redis-1")]));
}

/// Forces the `test` builder through Buildbot's API (as ci/buildbot/force.sh
/// does) and waits for the build: it must finish with SUCCESS (results 0).
fn buildbot_build_passes(master: &str) {
    let api = |args: &[&str]| -> serde_json::Value {
        let mut cmd = vec!["exec", master, "curl", "-fsS"];
        cmd.extend_from_slice(args);
        let out = docker(&cmd);
        ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    api(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"jsonrpc": "2.0", "id": 1, "method": "force", "params": {"builderid": "1"}}"#,
        "http://127.0.0.1:8010/api/v2/forceschedulers/force",
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let builds = api(&["http://127.0.0.1:8010/api/v2/builds?builderid=1"]);
        if let Some(build) = builds["builds"].as_array().and_then(|b| b.first())
            && build["complete"] == true
        {
            let steps = api(&[&format!(
                "http://127.0.0.1:8010/api/v2/builds/{}/steps",
                build["buildid"]
            )]);
            assert_eq!(build["results"], 0, "the build failed: {steps}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no finished build in 300 s: {builds}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_generated_python_project_boots_and_its_app_uses_its_services() {
    docker_tier();
    generated_project_boots("python", "buildbot", "pagerduty");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_generated_node_project_boots_and_its_app_uses_its_services() {
    docker_tier();
    generated_project_boots("node", "github-actions", "nagios");
}

/// A project of `app` with the services the app proves by a round-trip of
/// their own (Memcached, RabbitMQ, Beanstalkd, Mailpit, MinIO) and `monitoring`, on
/// free ports.
fn monitored_project(dir: &std::path::Path, app: &str, monitoring: &str) -> (PathBuf, String) {
    let name = format!("by-mon-{app}-{}", &monitoring[..5]);
    let [
        app_port,
        memcached,
        store,
        grafana,
        mail_ui,
        smtp,
        s3,
        s3_console,
        amqp,
        amqp_ui,
        jobs,
        mock_port,
        bot_port,
        couch,
    ] = free_ports();
    // Each app meets both mocks: WireMock beside Graphite, Canned beside
    // InfluxDB; and Hubot, beside Graphite.
    let (mocks, chat, mut ports) = match monitoring {
        "graphite-statsd" => (
            "wiremock",
            "[hubot]",
            vec![
                ("graphite:80", store),
                ("mocks:8080", mock_port),
                ("chatbot:8080", bot_port),
            ],
        ),
        _ => (
            "canned",
            "[]",
            vec![("influxdb:8086", store), ("mocks:3000", mock_port)],
        ),
    };
    ports.extend([
        ("app:8000", app_port),
        ("couchdb:5984", couch),
        ("memcached:11211", memcached),
        ("grafana:3000", grafana),
        ("mailpit:8025", mail_ui),
        ("mailpit:1025", smtp),
        ("minio:9000", s3),
        ("minio:9001", s3_console),
        ("rabbitmq:5672", amqp),
        ("rabbitmq:15672", amqp_ui),
        ("beanstalkd:11300", jobs),
    ]);
    let project = stack_project(
        dir,
        &name,
        &format!(
            "app: {app}\nservices: [memcached, rabbitmq, beanstalkd, mailpit, minio, couchdb]\n\
             monitoring: {monitoring}\nmocks: {mocks}\nchat: {chat}\n"
        ),
        &ports,
    );
    docker(&[
        "rmi",
        "-f",
        &format!("{name}-app"),
        &format!("{name}-mocks"),
        &format!("{name}-chatbot"),
    ]);
    (project, name)
}

/// Boots a project from its generated Dockerfile on the stand-ins (Graphite
/// with StatsD, InfluxDB, Memcached, RabbitMQ and Beanstalkd are real there; Grafana is not;
/// Mailpit, MinIO and CouchDB are .ci/fakes, MinIO's checking each signature with
/// botocore): `up --verify` shows /health proving each round-trip, the
/// mail arriving and the dashboard's series holding data. Gives the report.
fn boot_verified((project, name): (PathBuf, String)) -> String {
    let stack = Stack::at(project, &name);
    let out = stack.run(&["up", "--verify", "--timeout", "600"]);
    docker(&[
        "rmi",
        "-f",
        &format!("{name}-app"),
        &format!("{name}-mocks"),
        &format!("{name}-chatbot"),
    ]);
    ok(&out);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    for proof in [
        "mocks ok (GET /example/status -> ok)",
        "documents ok (wrote, read and deleted a document in app)",
        "memcached ok (set/get round-trip)",
        "queue ok (published a message and got it back)",
        "jobs ok (put, peeked and deleted job ",
        "storage ok (put/get round-trip on s3://app/brickyard-health.txt)",
        "mail ok (",
        "the app's mail arrived",
        "dashboard series have data",
    ] {
        assert!(report.contains(proof), "no `{proof}` in {report}");
    }
    report
}

/// Both monitoring stores for one app. Both projects are made before
/// either is built: a build cache shared between projects once shipped
/// the first project's (newer) binary in the second's image.
fn app_feeds_both_stores(app: &str) {
    let (dir, _) = crate::support::scratch();
    let graphite = monitored_project(dir.path(), app, "graphite-statsd");
    let influxdb = monitored_project(dir.path(), app, "influxdb-grafana");
    let report = boot_verified(graphite);
    assert!(
        report.contains("statsd ok (sent app.uptime; StatsD health: up)"),
        "{report}"
    );
    // WireMock's own journal holds the app's call; Hubot, asked, asked the app.
    assert!(report.contains("the app called the mock"), "{report}");
    assert!(
        report.contains("the bot reports the app's health"),
        "{report}"
    );
    let report = boot_verified(influxdb);
    assert!(report.contains("influxdb ok (wrote "), "{report}");
    assert!(report.contains("last uptime read back"), "{report}");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_python_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("python");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_node_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("node");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_go_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("go");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_rust_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("rust");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_ruby_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("ruby");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_java_app_feeds_its_monitoring_and_uses_each_service() {
    docker_tier();
    app_feeds_both_stores("java");
}

/// `brickyard new` of the project `name` in `dir` with a local stack, the
/// given picks (app, services, monitoring, mocks and chat, as answers-file
/// YAML) and host ports, no CI, VCS, config management, tests or machine;
/// its stand-in images tagged.
fn stack_project(dir: &std::path::Path, name: &str, picks: &str, ports: &[(&str, u16)]) -> PathBuf {
    let project = dir.join(name);
    let answers = dir.join(format!("{name}.yaml"));
    let ports: String = ports
        .iter()
        .map(|(service, host)| format!("  {service}: {host}\n"))
        .collect();
    // Themes `picks` leaves out are `none`.
    let defaults: String = [
        ("ci", "none"),
        ("vcs", "none"),
        ("config-mgmt", "none"),
        ("containers", "compose"),
        ("tests", "[]"),
        ("machine", "[]"),
    ]
    .iter()
    .filter(|(theme, _)| !picks.lines().any(|l| l.starts_with(&format!("{theme}:"))))
    .map(|(theme, pick)| format!("{theme}: {pick}\n"))
    .collect();
    std::fs::write(&answers, format!("{defaults}{picks}ports:\n{ports}")).unwrap();
    ok(&brickyard()
        .arg("new")
        .arg(&project)
        .arg("--answers")
        .arg(&answers)
        .output()
        .unwrap());
    stand_ins(&project.join("compose.yaml"));
    project
}

/// A static site boots on the nginx stand-in as nginx's own user; it
/// serves the page with its security headers, /health, and /metrics that
/// Prometheus scrapes (its target up) for the dashboard's series.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn a_static_site_boots_as_nginx_and_prometheus_scrapes_it() {
    docker_tier();
    let (dir, _) = crate::support::scratch();
    let name = "by-static";
    let [app, prometheus, grafana] = free_ports();
    let project = stack_project(
        dir.path(),
        name,
        "app: static\nservices: []\nmonitoring: prometheus-grafana\nmocks: none\nchat: []\n",
        &[
            ("app:8000", app),
            ("prometheus:9090", prometheus),
            ("grafana:3000", grafana),
        ],
    );
    let stack = Stack::at(project, name);
    let out = stack.run(&["up", "--verify", "--timeout", "300"]);
    docker(&["rmi", "-f", &format!("{name}-app")]);
    ok(&out);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    for proof in [
        "all 7 checks passed",
        "no dependencies",
        "app up, prometheus up",
    ] {
        assert!(report.contains(proof), "no `{proof}` in {report}");
    }
    let page = http_get(app, "/");
    assert!(page.contains(&format!("<h1>{name}</h1>")), "{page}");
    assert!(page.contains("X-Content-Type-Options: nosniff"), "{page}");
    let metrics = http_get(app, "/metrics");
    assert!(metrics.contains("nginx_connections_active "), "{metrics}");
    let user = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.Config.User}}",
        &format!("{name}-app-1"),
    ]));
    assert_eq!(user.trim(), "101:101");
}

/// Ganglia, built from Debian's packages by the generated Dockerfile: gmetad
/// holds the app's /metrics (sent through gmetric as host "app") beside the
/// container's own, and the page draws both.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn ganglia_graphs_the_apps_metrics() {
    docker_tier();
    let (dir, _) = crate::support::scratch();
    let name = "by-ganglia";
    let [app, ganglia] = free_ports();
    let project = stack_project(
        dir.path(),
        name,
        "app: python\nservices: []\nmonitoring: ganglia\nmocks: none\nchat: []\n",
        &[("app:8000", app), ("ganglia:8080", ganglia)],
    );
    let stack = Stack::at(project, name);
    let out = stack.run(&["up", "--verify", "--timeout", "600"]);
    docker(&[
        "rmi",
        "-f",
        &format!("{name}-app"),
        &format!("{name}-ganglia"),
    ]);
    ok(&out);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        report.contains("the app's metrics reached Ganglia")
            && report.contains("app_process_uptime_seconds"),
        "{report}"
    );
    // The request counters follow the app's first requests; graphs.sh draws
    // every 30 s: the graph is on the page within a minute and a half.
    // gmond's host: localhost (it hears itself on 127.0.0.1).
    let graph_of = |metric: &str| format!("<img src=\"localhost/{metric}.png\"");
    let mut page = String::new();
    for _ in 0..90 {
        page = http_get(ganglia, "/");
        if page.contains(&graph_of("app_http_requests_total_health_200")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    for metric in [
        "app_http_requests_total_health_200",
        "app_process_uptime_seconds",
        "load_one",
    ] {
        assert!(
            page.contains(&graph_of(metric)),
            "no graph of {metric}: {page}"
        );
    }
    let graph = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", ganglia)).unwrap();
        write!(
            s,
            "GET /localhost/app_http_requests_total_health_200.png HTTP/1.0\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        out
    };
    let head = String::from_utf8_lossy(&graph[..200.min(graph.len())]).to_string();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: image/png")
            && graph.windows(4).any(|w| w == b"\x89PNG"),
        "{head}"
    );
    let logs = docker(&["logs", &format!("{name}-ganglia-1")]);
    let logs = format!("{}{}", stdout(&logs), stderr_of(&logs));
    assert!(
        !logs.contains("Incorrect format"),
        "gmond complained: {logs}"
    );
}

/// Elasticsearch, Kibana and Fluent Bit have no stand-in here; what is
/// brickyard's own is proven: the generated compose.yaml sends every other
/// service's log lines through Docker's fluentd driver to Fluent Bit's
/// published port, tagged with the container's name. A fake Fluent Bit
/// listens there; the four log services wait in a profile of a
/// compose.override.yaml, as a person would park them.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn every_service_ships_its_logs_to_fluent_bit() {
    use std::io::Read;
    docker_tier();
    let (dir, _) = crate::support::scratch();
    let name = "by-logs";
    let [app, redis, elasticsearch, kibana, forward] = free_ports();
    let project = stack_project(
        dir.path(),
        name,
        "app: python\nservices: [redis]\nmonitoring: elasticsearch-kibana\nmocks: none\nchat: []\n",
        &[
            ("app:8000", app),
            ("redis:6379", redis),
            ("elasticsearch:9200", elasticsearch),
            ("kibana:5601", kibana),
            ("fluent-bit:24224", forward),
        ],
    );
    std::fs::write(
        project.join("compose.override.yaml"),
        "services:\n  elasticsearch: {profiles: [logs]}\n  kibana: {profiles: [logs]}\n\
         \x20 logs-setup: {profiles: [logs]}\n  fluent-bit: {profiles: [logs]}\n",
    )
    .unwrap();
    // The fake Fluent Bit: Fluentd's forward protocol is MessagePack, whose
    // strings travel as they are, so the tag and the line show in the bytes.
    let listener = std::net::TcpListener::bind(("127.0.0.1", forward)).unwrap();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let sink = sink.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    let stack = Stack::at(project, name);
    let out = stack.run(&["up", "--timeout", "300"]);
    docker(&["rmi", "-f", &format!("{name}-app")]);
    ok(&out);
    let shipped = |needle: &str| {
        let bytes = received.lock().unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(shipped(&format!("{name}-app-1")) && shipped(&format!("{name}-redis-1")))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let bytes = String::from_utf8_lossy(&received.lock().unwrap()).to_string();
    for tag in [format!("{name}-app-1"), format!("{name}-redis-1")] {
        assert!(shipped(&tag), "no lines tagged {tag}: {bytes}");
    }
    assert!(shipped(&format!("{name} listening on :8000")), "{bytes}");
    // Docker keeps a copy (dual logging): `brickyard logs` still reads them.
    let logs = stack.run(&["logs", "app"]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("listening on :8000"),
        "{}",
        stderr_of(&logs)
    );
}

/// The local Jenkins has no stand-in (no Debian package; its plugins come
/// from updates.jenkins.io): a fake controller plays its HTTP endpoints
/// (tests/fixtures/fake-jenkins) and its agent.jar. The rest is real: the
/// generated agent image is built on the app's toolchain, connect.sh takes
/// the node's secret from the controller's JNLP file and starts agent.jar
/// as Jenkins' must be started (over WebSocket, the secret from a file, the
/// admin's password out of its environment), both health checks and
/// `verify` pass, and the Jenkinsfile's steps run on the agent as its own
/// user: the app's tests from a checkout of the committed project, and the
/// image build through the Docker socket, whose group it joined.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_local_jenkins_agent_connects_and_runs_the_jenkinsfile_as_its_own_user() {
    docker_tier();
    let (dir, _) = crate::support::scratch();
    let name = "by-jenkins";
    let [app, jenkins] = free_ports();
    let project = stack_project(
        dir.path(),
        name,
        "ci: jenkins\napp: python\nservices: []\nmonitoring: none\nmocks: none\nchat: []\n",
        &[("app:8000", app), ("jenkins:8080", jenkins)],
    );
    // The fake controller: agent.jar compiled here, the project's ready.sh.
    let fixtures = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fake-jenkins"
    ));
    let fake = project.join("fake");
    std::fs::create_dir(&fake).unwrap();
    for f in ["controller.py", "Dockerfile"] {
        std::fs::copy(fixtures.join(f), fake.join(f)).unwrap();
    }
    std::fs::copy(project.join("ci/jenkins/ready.sh"), fake.join("ready.sh")).unwrap();
    let classes = dir.path().join("classes");
    for cmd in [
        Command::new("javac")
            .args(["--release", "17", "-d"])
            .arg(&classes)
            .arg(fixtures.join("FakeAgent.java")),
        Command::new("jar")
            .args(["--create", "--main-class", "FakeAgent", "--file"])
            .arg(fake.join("agent.jar"))
            .arg("-C")
            .arg(&classes)
            .arg("."),
    ] {
        ok(&cmd.output().unwrap());
    }
    std::fs::write(
        project.join("compose.override.yaml"),
        format!("services:\n  jenkins:\n    build: fake\n    command: [python3, /fake/controller.py, {name}]\n"),
    )
    .unwrap();
    // Jenkins builds what is committed, as the project's README says.
    let git = |args: &[&str]| {
        ok(&Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&project)
            .output()
            .unwrap())
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "Start"]);

    let stack = Stack::at(project.clone(), name);
    let out = stack.run(&["up", "--profile", "ci", "--verify", "--timeout", "600"]);
    let state = docker(&[
        "exec",
        &format!("{name}-jenkins-1"),
        "sh",
        "-c",
        "curl -sS -u \"admin:$JENKINS_ADMIN_PASSWORD\" http://127.0.0.1:8080/fake/state",
    ]);
    let images = [
        format!("{name}-app"),
        format!("{name}-jenkins"),
        format!("{name}-jenkins-agent"),
        format!("{name}:1"),
    ];
    let cleanup = || {
        stack.cleanup();
        let mut args = vec!["rmi", "-f"];
        args.extend(images.iter().map(String::as_str));
        docker(&args);
    };
    if !out.status.success() {
        cleanup();
        panic!(
            "{}\nthe fake controller saw: {}",
            stderr_of(&out),
            stdout(&state)
        );
    }
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    for proof in [
        "the agent is online",
        "the admin logs in and the pipeline exists",
    ] {
        assert!(report.contains(proof), "no `{proof}` in {report}");
    }
    assert!(report.contains("checks passed"), "{report}");

    // The agent's user and groups: its own uid, and the socket's group
    // that `new` wrote into .env.
    let agent = format!("{name}-jenkins-agent-1");
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    let gid = env
        .lines()
        .find_map(|l| l.strip_prefix("DOCKER_GID="))
        .expect("DOCKER_GID in .env")
        .to_string();
    let ids = stdout(&docker(&["exec", &agent, "id"]));
    assert!(ids.starts_with("uid=10001(jenkins)"), "{ids}");
    assert!(
        ids.contains(&format!(",{gid}")) || ids.contains(&format!("={gid}")),
        "no group {gid}: {ids}"
    );

    // The Jenkinsfile's steps, as Jenkins runs them on this agent: a
    // checkout of the committed project, the Test stage in app/, then the
    // Image stage at the root.
    let jenkinsfile = std::fs::read_to_string(project.join("Jenkinsfile")).unwrap();
    let steps: Vec<&str> = jenkinsfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("sh '")?.strip_suffix('\''))
        .collect();
    assert_eq!(steps.len(), 2, "the Test and Image steps: {steps:?}");
    let script = format!(
        "set -e; ws=$HOME/agent/workspace/{name}_main; git clone -q file:///project $ws; \
         cd $ws/app; {}; cd $ws; BUILD_NUMBER=1; {}",
        steps[0], steps[1]
    );
    let build = docker(&["exec", &agent, "sh", "-c", &script]);
    let built = docker(&["image", "inspect", &format!("{name}:1")]);
    cleanup();
    assert!(
        build.status.success(),
        "the Jenkinsfile's steps failed on the agent:\n{}\n{}",
        stdout(&build),
        stderr_of(&build)
    );
    assert!(built.status.success(), "no image {name}:1");
    let output = format!("{}{}", stdout(&build), stderr_of(&build));
    assert!(
        output.contains("OK"),
        "the app's tests did not run: {output}"
    );
}

/// A GET over a plain TCP socket (no HTTP client dependency for a test).
pub(crate) fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Needs no daemon: it proves the message when there is none.
#[test]
fn no_daemon_gives_one_clear_line_and_its_own_exit_code() {
    let stack_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        stack_dir.path().join("compose.yaml"),
        format!("services:\n  a:\n    image: {IMAGE}\n"),
    )
    .unwrap();
    let out = brickyard()
        .arg("-C")
        .arg(stack_dir.path())
        .arg("up")
        .env("DOCKER_HOST", "unix:///nonexistent/brickyard.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_of(&out);
    assert!(
        err.contains("no Docker engine answered at unix:///nonexistent/brickyard.sock"),
        "{err}"
    );
    assert!(err.contains("DOCKER_HOST"), "{err}");
}

#[test]
fn a_missing_compose_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr_of(
        &brickyard()
            .arg("-C")
            .arg(dir.path())
            .arg("up")
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("no compose file in") && err.contains("brickyard new"),
        "{err}"
    );
}

/// Tags the stand-ins under the demo preset's image names.
fn seed_demo_images(scratch: &std::path::Path) {
    let probe = scratch.join("seed-probe");
    ok(&brickyard()
        .args(["new", "--preset", "demo", "-q"])
        .arg(&probe)
        .output()
        .unwrap());
    stand_ins(&probe.join("compose.yaml"));
}

fn demo_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr_of(out)
        )
    })
}

/// `brickyard demo` end to end: every check passes, Prometheus sees the app;
/// a second demo beside it gets its own name and ports; stopping the
/// database makes `verify` fail the app's /health and the database check.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn demo_boots_proves_itself_and_fails_when_the_database_stops() {
    docker_tier();
    let scratch = tempfile::tempdir().unwrap();
    seed_demo_images(scratch.path());
    let first_dir = scratch.path().join("shop");
    let first = Stack::at(first_dir.clone(), "shop");

    let out = brickyard()
        .args(["demo", "--json", "--dir"])
        .arg(&first_dir)
        .output()
        .unwrap();
    let report = demo_json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report:#}\n{}",
        stderr_of(&out)
    );
    assert_eq!(report["passed"], true, "{report:#}");
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.len() >= 8, "{report:#}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{report:#}");
    let targets = checks
        .iter()
        .find(|c| c["check"] == "scrape targets up")
        .expect("a Prometheus targets check");
    assert!(
        targets["detail"].as_str().unwrap().contains("app up"),
        "{targets}"
    );
    let app = checks
        .iter()
        .find(|c| c["service"] == "app" && c["check"] == "GET /health: dependencies")
        .unwrap();
    assert!(
        app["detail"].as_str().unwrap().contains("database ok")
            && app["detail"].as_str().unwrap().contains("cache ok"),
        "{app}"
    );
    for key in [
        "images_secs",
        "start_to_healthy_secs",
        "checks_secs",
        "total_secs",
    ] {
        assert!(report["timings"][key].is_number(), "timings lack {key}");
    }

    // A second demo while the first runs: its own project and ports.
    let out = brickyard().args(["demo", "--json"]).output().unwrap();
    let second = demo_json(&out);
    let second_stack = Stack {
        _dir: tempfile::tempdir().unwrap(),
        root: PathBuf::from(second["dir"].as_str().unwrap()),
        name: second["project"].as_str().unwrap().to_string(),
    };
    assert_eq!(out.status.code(), Some(0), "{second:#}");
    assert_ne!(second["project"], report["project"]);
    let urls = |r: &serde_json::Value| -> Vec<String> {
        r["services"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| {
                s["urls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u.as_str().unwrap().to_string())
            })
            .collect()
    };
    let (a, b) = (urls(&report), urls(&second));
    assert!(
        a.iter().all(|u| !b.contains(u)),
        "the demos share a port: {a:?} {b:?}"
    );
    drop(second_stack);

    // Stop the database: verify names the app's /health and the database check.
    ok(&docker(&["stop", "shop-postgres-1"]));
    let out = brickyard()
        .arg("-C")
        .arg(&first_dir)
        .args(["verify", "--json", "--check-timeout", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let failed = demo_json(&out);
    let bad: Vec<(String, String)> = failed["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["service"].as_str().unwrap().to_string(),
                c["check"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        bad.iter().any(|(s, c)| s == "app" && c.contains("/health")),
        "{bad:?}"
    );
    assert!(bad.iter().any(|(s, _)| s == "postgres"), "{bad:?}");
    assert!(
        !bad.iter().any(|(s, _)| s == "redis"),
        "a healthy service was reported failed: {bad:?}"
    );
    // The plain report says it too.
    let plain = first.run(&["verify", "--check-timeout", "2"]);
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(
        text.contains("FAILED") && text.contains("database failed"),
        "{text}"
    );
    assert!(text.contains("checks failed"), "{text}");
}

/// `remove` keeps a removed service's data unless `--volumes`: then its
/// container and volume go at once, and nothing else is touched.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn remove_keeps_data_unless_volumes_and_then_deletes_only_that_service() {
    docker_tier();
    let scratch = tempfile::tempdir().unwrap();
    seed_demo_images(scratch.path());
    let stack = Stack::at(scratch.path().join("shrink"), "shrink");
    ok(&brickyard()
        .args(["new", "--preset", "demo", "-q"])
        .arg(&stack.root)
        .output()
        .unwrap());
    ok(&stack.run(&["up", "--timeout", "300"]));
    let volumes = || -> Vec<String> {
        stdout(&docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "label=com.docker.compose.project=shrink",
        ]))
        .lines()
        .map(String::from)
        .collect()
    };
    assert!(volumes().contains(&"shrink_redis-data".to_string()));

    let out = stack.run(&["remove", "redis"]);
    ok(&out);
    assert!(
        stderr_of(&out).contains("kept the data: volume(s) shrink_redis-data"),
        "{}",
        stderr_of(&out)
    );
    assert!(volumes().contains(&"shrink_redis-data".to_string()));

    let out = stack.run(&["remove", "postgres", "--volumes"]);
    ok(&out);
    let err = stderr_of(&out);
    assert!(
        err.contains("removed container(s) shrink-postgres-1"),
        "{err}"
    );
    assert!(
        err.contains("deleted volume(s) shrink_postgres-data"),
        "{err}"
    );
    let left = volumes();
    assert!(
        !left.contains(&"shrink_postgres-data".to_string()),
        "{left:?}"
    );
    for kept in [
        "shrink_redis-data",
        "shrink_grafana-data",
        "shrink_prometheus-data",
    ] {
        assert!(
            left.contains(&kept.to_string()),
            "{kept} went too: {left:?}"
        );
    }
    // The rest of the stack still comes up from the changed files.
    ok(&stack.run(&["up", "--timeout", "300"]));
    let running = stdout(&docker(&["ps", "--format", "{{.Names}}"]));
    assert!(
        !running.contains("shrink-postgres-1") && !running.contains("shrink-redis-1"),
        "{running}"
    );
    assert!(running.contains("shrink-app-1"), "{running}");
}

/// Three demos started at the same moment all come up: each chose free
/// ports, and one that lost a port to another between choosing and binding
/// chooses again (before, two of three failed "port is already allocated").
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn demos_started_at_the_same_moment_all_come_up() {
    docker_tier();
    let scratch = tempfile::tempdir().unwrap();
    seed_demo_images(scratch.path());
    let stacks: Vec<Stack> = ["race-a", "race-b", "race-c"]
        .iter()
        .map(|name| Stack::at(scratch.path().join(name), name))
        .collect();
    let children: Vec<_> = stacks
        .iter()
        .map(|s| {
            Command::new(crate::support::bin())
                .env("CI", "true")
                .args(["demo", "--json", "--dir"])
                .arg(&s.root)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let report = demo_json(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{report:#}\n{}",
            stderr_of(&out)
        );
        assert_eq!(report["passed"], true, "{report:#}");
        for svc in report["services"].as_array().unwrap() {
            for url in svc["urls"].as_array().unwrap() {
                let url = url.as_str().unwrap().to_string();
                assert!(!seen.contains(&url), "two demos share {url}");
                seen.push(url);
            }
        }
    }
}

/// A container from a stand-in image, removed when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        docker(&["rm", "-f", &self.0]);
    }
}

/// A process on the host, killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Go and Rust apps have no base image here (no Go or Rust stand-in),
/// so they are built with the machine's toolchains and run on the host
/// against real PostgreSQL and Redis containers: /health must show a
/// SCRAM login and SELECT 1, and a Redis round-trip with its password.
fn host_built_app_uses_real_services(app: &str) {
    let (dir, _) = crate::support::scratch();
    let project = dir.path().join(format!("by-host-{app}"));
    ok(&brickyard()
        .args(["new", "--preset", "demo", "--app", app, "-q"])
        .arg(&project)
        .output()
        .unwrap());
    stand_ins(&project.join("compose.yaml"));
    let env =
        brickyard::compose::dotenv::parse(&std::fs::read_to_string(project.join(".env")).unwrap())
            .unwrap();
    let [pg_port, redis_port, app_port] = free_ports();
    let pg = Container(format!("by-host-{app}-postgres"));
    let redis = Container(format!("by-host-{app}-redis"));
    docker(&["rm", "-f", &pg.0, &redis.0]);
    ok(&docker(&[
        "run",
        "-d",
        "--name",
        &pg.0,
        "-e",
        "POSTGRES_USER=app",
        "-e",
        "POSTGRES_DB=app",
        "-e",
        &format!("POSTGRES_PASSWORD={}", env["POSTGRES_PASSWORD"]),
        "-p",
        &format!("127.0.0.1:{pg_port}:5432"),
        "postgres:16.4-bookworm",
    ]));
    ok(&docker(&[
        "run",
        "-d",
        "--name",
        &redis.0,
        "-p",
        &format!("127.0.0.1:{redis_port}:6379"),
        "redis:7.4.1-bookworm",
        "redis-server",
        "--requirepass",
        &env["REDIS_PASSWORD"],
    ]));
    let app_dir = project.join("app");
    let binary = match app {
        "go" => {
            ok(&Command::new("go")
                .args(["build", "-o", "server", "."])
                .env("GOCACHE", dir.path().join("gocache"))
                .current_dir(&app_dir)
                .output()
                .unwrap());
            app_dir.join("server")
        }
        _ => {
            let target = dir.path().join("target");
            ok(&Command::new("cargo")
                .args(["build", "--quiet"])
                .env("CARGO_TARGET_DIR", &target)
                .current_dir(&app_dir)
                .output()
                .unwrap());
            target.join("debug/server")
        }
    };
    for _ in 0..60 {
        if docker(&[
            "exec",
            &pg.0,
            "pg_isready",
            "-h",
            "127.0.0.1",
            "-U",
            "app",
            "-d",
            "app",
        ])
        .status
        .success()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let _server = Child(
        Command::new(&binary)
            .env("PORT", app_port.to_string())
            .env(
                "DATABASE_URL",
                format!(
                    "postgres://app:{}@127.0.0.1:{pg_port}/app",
                    env["POSTGRES_PASSWORD"]
                ),
            )
            .env(
                "REDIS_URL",
                format!(
                    "redis://:{}@127.0.0.1:{redis_port}/0",
                    env["REDIS_PASSWORD"]
                ),
            )
            .spawn()
            .unwrap(),
    );
    let mut health = String::new();
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if std::net::TcpStream::connect(("127.0.0.1", app_port)).is_ok() {
            health = http_get(app_port, "/health");
            if health.contains("SELECT 1 -> 1") && health.contains(" 200 ") {
                break;
            }
        }
    }
    assert!(health.contains("SELECT 1 -> 1"), "{app}: {health}");
    assert!(
        health.contains("\"cache\":{\"") && health.contains(" 200 "),
        "{app}: {health}"
    );
    assert!(
        !health.contains(&env["POSTGRES_PASSWORD"]),
        "{app} printed the password: {health}"
    );
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_go_app_logs_in_to_postgres_and_redis_for_real() {
    docker_tier();
    host_built_app_uses_real_services("go");
}

#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_rust_app_logs_in_to_postgres_and_redis_for_real() {
    docker_tier();
    host_built_app_uses_real_services("rust");
}

/// MySQL's smoke check logs in as the app's user and queries: it passes
/// on a stack that works, and names no refused access beside "ok" (a bare
/// `mysqladmin ping` did, since it answers "alive" even when refused).
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn mysql_is_proven_by_a_query_as_the_apps_user() {
    docker_tier();
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::at(dir.path().join("mysqlcheck"), "mysqlcheck");
    ok(&brickyard()
        .arg("new")
        .arg(&stack.root)
        .args([
            "--yes",
            "--app",
            "python",
            "--services",
            "mysql",
            "--monitoring",
            "none",
            "-q",
        ])
        .output()
        .unwrap());
    stand_ins(&stack.root.join("compose.yaml"));
    let out = stack.run(&["up", "--verify", "--timeout", "300"]);
    ok(&out);
    let report = stdout(&out);
    assert!(report.contains("query as the app's user"), "{report}");
    assert!(report.contains("app@% can query app"), "{report}");
    assert!(!report.contains("Access denied"), "{report}");
    assert!(report.contains("mysql ok"), "{report}");
    docker(&["rmi", "-f", "mysqlcheck-app"]);
}
