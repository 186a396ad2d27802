//! CI results reach the chat: the generated ci/notify.sh, run with a CI's
//! own variables, posts what that chat's incoming webhook takes, to a fake
//! webhook that records it. Needs only `sh` and one of curl, wget, python3.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use crate::support::new_project;

/// Runs `sh ci/notify.sh STATUS` in `project` with `env`, against a webhook
/// that answers 200 once; gives the request's body (None: nothing posted)
/// and what the script printed.
fn notify(
    project: &Path,
    status: &str,
    env: &[(&str, &str)],
    secret: Option<&str>,
) -> (Option<String>, String) {
    let hook = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hooks/xyz",
        hook.local_addr().unwrap().port()
    );
    let server = std::thread::spawn(move || {
        hook.set_nonblocking(false).unwrap();
        let (stream, _) = hook.accept().ok()?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        let mut stream = reader.into_inner();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .ok()?;
        Some(String::from_utf8(body).unwrap())
    });
    let mut cmd = Command::new("sh");
    cmd.args(["ci/notify.sh", status])
        .current_dir(project)
        .env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap());
    if let Some(name) = secret {
        cmd.env(name, &url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if secret.is_none() {
        // Nothing to wait for: unblock the listener.
        let _ = std::net::TcpStream::connect(
            url.trim_start_matches("http://").split('/').next().unwrap(),
        );
    }
    (server.join().unwrap().filter(|b| !b.is_empty()), said)
}

fn project_with(chat: &str, ci: &str, vcs: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    new_project(&["--chat", chat, "--ci", ci, "--vcs", vcs])
}

const GITHUB: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "true"),
    ("GITHUB_REPOSITORY", "acme/shop"),
    ("GITHUB_REF_NAME", "main"),
    ("GITHUB_SHA", "0123456789abcdef0123"),
    ("GITHUB_SERVER_URL", "https://github.com"),
    ("GITHUB_RUN_ID", "42"),
];

#[test]
fn each_chat_gets_the_result_in_its_own_markup() {
    for (chat, secret, expected) in [
        (
            "slack",
            "SLACK_WEBHOOK_URL",
            r#"{"text": "<https://github.com/acme/shop/actions/runs/42|acme/shop main@01234567>: *FAILED*"}"#,
        ),
        (
            "google-chat",
            "GOOGLE_CHAT_WEBHOOK_URL",
            r#"{"text": "<https://github.com/acme/shop/actions/runs/42|acme/shop main@01234567>: *FAILED*"}"#,
        ),
        (
            "mattermost",
            "MATTERMOST_WEBHOOK_URL",
            r#"{"username": "CI", "text": "[acme/shop main@01234567](https://github.com/acme/shop/actions/runs/42): **FAILED**"}"#,
        ),
    ] {
        let (_dir, project) = project_with(chat, "github-actions", "github");
        let (body, said) = notify(&project, "failure", GITHUB, Some(secret));
        assert_eq!(body.as_deref(), Some(expected), "{chat}: {said}");
        let workflow = std::fs::read_to_string(project.join(".github/workflows/ci.yml")).unwrap();
        assert!(
            workflow.contains(&format!("{secret}: ${{{{ secrets.{secret} }}}}")),
            "{chat}: the workflow does not hand the script its secret:\n{workflow}"
        );
    }
}

/// Another CI's variables give the same message, with that CI's link; a
/// name with a quote in it stays valid JSON.
#[test]
fn gitlab_variables_and_awkward_names_make_valid_json() {
    let (_dir, project) = project_with("slack", "gitlab-ci", "gitlab");
    let (body, said) = notify(
        &project,
        "success",
        &[
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_PATH", "acme/\"odd\\shop"),
            ("CI_COMMIT_REF_NAME", "feature/x"),
            ("CI_COMMIT_SHA", "abcdef0123456789"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example/acme/shop/-/pipelines/7",
            ),
        ],
        Some("SLACK_WEBHOOK_URL"),
    );
    let body = body.unwrap_or_else(|| panic!("nothing posted: {said}"));
    let json: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(
        json["text"],
        "<https://gitlab.example/acme/shop/-/pipelines/7|acme/\"odd\\shop feature/x@abcdef01>: *passed*"
    );
}

/// A fork's build has no secret: the script says so and does not fail it.
#[test]
fn without_the_secret_nothing_is_posted_and_the_build_goes_on() {
    let (_dir, project) = project_with("mattermost", "github-actions", "github");
    let (body, said) = notify(&project, "success", GITHUB, None);
    assert_eq!(body, None);
    assert!(
        said.contains("MATTERMOST_WEBHOOK_URL is not set; no message sent to Mattermost"),
        "{said}"
    );
}
