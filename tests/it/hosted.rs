//! Hosted services brickyard wires but cannot run here, proven against fakes
//! that speak their APIs: the PagerDuty watcher pages on a failing /health and
//! resolves when it recovers; the Python app's Scout APM agent reports each
//! request to a core agent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::new_project;

/// Serves HTTP on a free port: `answer(path)` gives status and body; every
/// request's body is recorded. Runs until the test ends.
fn fake_http(
    answer: impl Fn(usize) -> (u16, &'static str) + Send + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).to_string());
            let (status, text) = answer(n);
            let _ = write!(
                reader.into_inner(),
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn the_pagerduty_watcher_pages_once_and_resolves_with_the_same_key() {
    let (_dir, project) = new_project(&["--monitoring", "pagerduty"]);
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(env.contains("\nPAGERDUTY_ROUTING_KEY=\n"), "{env}");

    // The app fails four reads, then is healthy.
    let (app, _) = fake_http(|n| {
        if n < 4 {
            (
                503,
                r#"{"status":"failed","checks":{"database":{"status":"failed"}}}"#,
            )
        } else {
            (200, r#"{"status":"ok"}"#)
        }
    });
    let (events, sent) = fake_http(|_| (202, r#"{"status":"success"}"#));
    let beat = project.join("beat");
    let mut watcher = Command::new("python3")
        .arg(project.join("monitoring/pagerduty/watch.py"))
        .env("HEALTH_URL", format!("http://127.0.0.1:{app}/health"))
        .env(
            "PAGERDUTY_EVENTS_URL",
            format!("http://127.0.0.1:{events}/v2/enqueue"),
        )
        .env("PAGERDUTY_ROUTING_KEY", "R0UTING")
        .env("INTERVAL", "0.1")
        .env("HEARTBEAT", &beat)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while sent.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Healthy for a while more: nothing else is sent.
    std::thread::sleep(Duration::from_millis(500));
    let healthcheck = Command::new("python3")
        .arg(project.join("monitoring/pagerduty/watch.py"))
        .arg("healthcheck")
        .env("HEARTBEAT", &beat)
        .env("INTERVAL", "0.1")
        .status()
        .unwrap();
    let _ = watcher.kill();
    let _ = watcher.wait();
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let trigger: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
    let resolve: serde_json::Value = serde_json::from_str(&sent[1]).unwrap();
    let name = project.file_name().unwrap().to_str().unwrap();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], "R0UTING");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(
        trigger["payload"]["summary"],
        format!("{name}: /health failing")
    );
    assert!(
        trigger["payload"]["custom_details"]["health"]
            .as_str()
            .unwrap()
            .starts_with("503: "),
        "{trigger}"
    );
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    assert!(
        healthcheck.success(),
        "the healthcheck failed while the watcher ran"
    );
}

/// A Scout core agent on a free port: reads the agent's length-prefixed JSON
/// commands (scout_apm/core/agent/socket.py), answers each, records them.
fn fake_scout_core_agent() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let mut size = [0u8; 4];
                while stream.read_exact(&mut size).is_ok() {
                    let mut body = vec![0; u32::from_be_bytes(size) as usize];
                    if stream.read_exact(&mut body).is_err() {
                        break;
                    }
                    if let Ok(command) = serde_json::from_slice(&body) {
                        record.lock().unwrap().push(command);
                    }
                    let reply = br#"{"CoreAgentResponse":"ok"}"#;
                    let _ = stream.write_all(&(reply.len() as u32).to_be_bytes());
                    let _ = stream.write_all(reply);
                }
            });
        }
    });
    (port, seen)
}

/// Needs scout-apm (the app's own requirement), which `.ci/run` installs
/// into the validator tier's virtual environment.
#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn the_python_app_reports_each_request_to_scout_once_its_key_is_set() {
    let (_dir, project) = new_project(&[
        "--app",
        "python",
        "--monitoring",
        "scout",
        "--services",
        "redis",
    ]);
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    assert!(env.contains("\nSCOUT_KEY=\n"), "{env}");
    let compose = std::fs::read_to_string(project.join("compose.yaml")).unwrap();
    assert!(compose.contains("SCOUT_KEY: ${SCOUT_KEY:-}"), "{compose}");

    let (agent, commands) = fake_scout_core_agent();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut app = Command::new("python3")
        .arg("main.py")
        .current_dir(project.join("app"))
        .env("PORT", port.to_string())
        .env("SCOUT_KEY", "test-org-key")
        // The core agent is the fake: nothing downloaded, nothing launched.
        .env("SCOUT_CORE_AGENT_DOWNLOAD", "false")
        .env("SCOUT_CORE_AGENT_LAUNCH", "false")
        .env(
            "SCOUT_CORE_AGENT_SOCKET_PATH",
            format!("tcp://127.0.0.1:{agent}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        answered = std::net::TcpStream::connect(("127.0.0.1", port))
            .and_then(|mut s| {
                s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
                let mut reply = String::new();
                s.read_to_string(&mut reply)?;
                Ok(reply.starts_with("HTTP/1.0 200"))
            })
            .unwrap_or(false);
        std::thread::sleep(Duration::from_millis(100));
    }
    let spans = |commands: &[serde_json::Value]| -> Vec<String> {
        commands
            .iter()
            .filter_map(|c| c.get("BatchCommand"))
            .flat_map(|b| b["commands"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["StartSpan"]["operation"].as_str().map(String::from))
            .collect()
    };
    while Instant::now() < deadline
        && !spans(&commands.lock().unwrap()).contains(&"Controller/GET /".to_string())
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = app.kill();
    let output = app.wait_with_output().unwrap();
    let commands = commands.lock().unwrap().clone();
    assert!(
        answered,
        "the app did not answer: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let name = project.file_name().unwrap().to_str().unwrap();
    let register = commands
        .iter()
        .find_map(|c| c.get("Register"))
        .unwrap_or_else(|| panic!("no Register among {commands:?}"));
    assert_eq!(register["app"], name);
    assert_eq!(register["key"], "test-org-key");
    assert!(
        spans(&commands).contains(&"Controller/GET /".to_string()),
        "no request reported: {commands:?}"
    );
}

/// Runs the generated logs setup against fakes of Elasticsearch and Kibana
/// until it says it is ready; what each fake was sent.
fn run_logs_setup(
    project: &std::path::Path,
    kibana_answer: impl Fn(usize) -> (u16, &'static str) + Send + 'static,
) -> (Vec<String>, Vec<String>) {
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    let secret = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in .env"))
            .to_string()
    };
    let (es, es_seen) = fake_http(|_| (200, "{}"));
    let (kibana, kibana_seen) = fake_http(kibana_answer);
    let ready = project.join("ready");
    let mut setup = Command::new("sh")
        .arg(project.join("monitoring/elasticsearch/setup.sh"))
        .env("ELASTICSEARCH_URL", format!("http://127.0.0.1:{es}"))
        .env("KIBANA_URL", format!("http://127.0.0.1:{kibana}"))
        .env("ELASTIC_PASSWORD", secret("ELASTIC_PASSWORD"))
        .env("KIBANA_SYSTEM_PASSWORD", secret("KIBANA_SYSTEM_PASSWORD"))
        .env("READY_FILE", &ready)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = setup.kill();
    let _ = setup.wait();
    assert!(ready.exists(), "the setup never said it was ready");
    std::fs::remove_file(&ready).unwrap();
    let es_seen = es_seen.lock().unwrap().clone();
    let kibana_seen = kibana_seen.lock().unwrap().clone();
    (es_seen, kibana_seen)
}

/// Elasticsearch and Kibana have no stand-in on these machines: the setup
/// the stack runs (kibana_system's password from .env, so Kibana can log
/// in; a data view of the shipped logs, so Discover shows them) is proven
/// against fakes of their APIs, and again after a restart, when the data
/// view is there already.
#[test]
fn the_logs_setup_lets_kibana_log_in_and_makes_the_logs_data_view() {
    let (_dir, project) = new_project(&["--monitoring", "elasticsearch-kibana"]);
    let name = project.file_name().unwrap().to_str().unwrap().to_string();
    let env = std::fs::read_to_string(project.join(".env")).unwrap();
    let kibana_password = env
        .lines()
        .find_map(|l| l.strip_prefix("KIBANA_SYSTEM_PASSWORD="))
        .unwrap()
        .to_string();
    assert!(kibana_password.len() >= 16, "{env}");

    let (es, kibana) = run_logs_setup(&project, |_| (200, r#"{"data_view":{}}"#));
    assert!(
        es.contains(&format!(r#"{{"password":"{kibana_password}"}}"#)),
        "{es:?}"
    );
    let view = kibana
        .iter()
        .find(|b| b.contains("data_view"))
        .unwrap_or_else(|| panic!("no data view made: {kibana:?}"));
    let view: serde_json::Value = serde_json::from_str(view).unwrap();
    assert_eq!(view["data_view"]["title"], format!("{name}-logs-*"));
    assert_eq!(view["data_view"]["timeFieldName"], "@timestamp");

    // A restart: Kibana has the view already, and says so.
    let (_, kibana) = run_logs_setup(&project, |n| {
        if n == 0 {
            (200, "{}")
        } else {
            (400, r#"{"message":"Duplicate data view: x-logs-*"}"#)
        }
    });
    assert_eq!(kibana.iter().filter(|b| b.contains("data_view")).count(), 1);
}
