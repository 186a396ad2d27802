//! When a container counts as ready, and when it has failed: one rule set,
//! applied to what the daemon reports. Pure, so every case is tested
//! without a daemon; `execute` polls and probes.

use std::time::Duration;

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};

use super::reconcile::Wait;

/// How long a service without a healthcheck must stay running to count as
/// up: a container that crashes on bad config is not "up" the instant
/// before it exits.
pub const SETTLE: Duration = Duration::from_secs(1);

/// What matters of an inspected container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// running, exited, created, restarting, dead, paused
    pub status: String,
    /// starting, healthy, unhealthy; None without a healthcheck.
    pub health: Option<String>,
    pub exit_code: i64,
    /// The healthcheck test the container runs (its own or its image's).
    pub test: Option<Vec<String>>,
    /// Exit codes and output of its last health checks, newest last.
    pub health_log: Vec<(i64, String)>,
}

impl Snapshot {
    pub fn from_inspect(info: &ContainerInspectResponse) -> Snapshot {
        let state = info.state.clone().unwrap_or_default();
        let health = state
            .health
            .as_ref()
            .and_then(|h| h.status)
            .and_then(|s| match s {
                HealthStatusEnum::STARTING => Some("starting"),
                HealthStatusEnum::HEALTHY => Some("healthy"),
                HealthStatusEnum::UNHEALTHY => Some("unhealthy"),
                _ => None,
            })
            .map(String::from);
        let status = match state.status {
            Some(ContainerStateStatusEnum::RUNNING) => "running",
            Some(ContainerStateStatusEnum::EXITED) => "exited",
            Some(ContainerStateStatusEnum::CREATED) => "created",
            Some(ContainerStateStatusEnum::RESTARTING) => "restarting",
            Some(ContainerStateStatusEnum::DEAD) => "dead",
            Some(ContainerStateStatusEnum::PAUSED) => "paused",
            Some(ContainerStateStatusEnum::REMOVING) => "removing",
            _ => "",
        }
        .to_string();
        Snapshot {
            status,
            health,
            exit_code: state.exit_code.unwrap_or(0),
            test: info
                .config
                .as_ref()
                .and_then(|c| c.healthcheck.as_ref())
                .and_then(|h| h.test.clone())
                .filter(|t| !t.is_empty() && t[0] != "NONE"),
            health_log: state
                .health
                .and_then(|h| h.log)
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.exit_code.unwrap_or(-1), r.output.unwrap_or_default()))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    NotYet,
    /// Ready the way the wait asked: `started`, `healthy`, `running`.
    Ready(&'static str),
    /// Exited 0.
    Completed,
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Exited(i64),
    Restarting(i64),
    Dead,
    Unhealthy,
    /// A healthy dependency was asked for, and it has no healthcheck.
    NoHealthcheck,
    /// Healthy was asked for and it exited, even with 0.
    ExitedWhileHealthyWanted(i64),
}

/// The verdict for one look at the container. `running_for` is how long
/// this `up` has seen it running; `was_running` says it ran before `up`.
pub fn assess(s: &Snapshot, wait: Wait, running_for: Duration, was_running: bool) -> Verdict {
    match s.status.as_str() {
        "exited" => match (wait, s.exit_code) {
            (Wait::Healthy, code) => Verdict::Failed(Failure::ExitedWhileHealthyWanted(code)),
            (_, 0) => Verdict::Completed,
            (_, code) => Verdict::Failed(Failure::Exited(code)),
        },
        "dead" => Verdict::Failed(Failure::Dead),
        "restarting" => Verdict::Failed(Failure::Restarting(s.exit_code)),
        "running" => match wait {
            Wait::Started => Verdict::Ready("started"),
            Wait::Completed => Verdict::NotYet,
            Wait::Healthy | Wait::Ready => match s.health.as_deref() {
                Some("healthy") => Verdict::Ready("healthy"),
                Some("unhealthy") => Verdict::Failed(Failure::Unhealthy),
                Some(_) => Verdict::NotYet,
                None if wait == Wait::Healthy => Verdict::Failed(Failure::NoHealthcheck),
                None if was_running || running_for >= SETTLE => Verdict::Ready("running"),
                None => Verdict::NotYet,
            },
        },
        _ => Verdict::NotYet,
    }
}

/// Whether a probe's result means the check can never pass: the command is
/// not in the image (126/127 with the runtime's or the shell's message).
pub fn probe_cannot_run(code: i64, output: &str) -> bool {
    let o = output.to_ascii_lowercase();
    (code == 126 || code == 127 || code == -1)
        && (o.contains("not found")
            || o.contains("no such file")
            || o.contains("executable file not found")
            || o.contains("permission denied"))
}

/// The last few health-check results, for a message.
pub fn describe_checks(s: &Snapshot) -> String {
    s.health_log
        .iter()
        .rev()
        .take(3)
        .map(|(code, out)| {
            let lines: Vec<&str> = out.trim().lines().collect();
            let tail = lines[lines.len().saturating_sub(3)..].join("\n      ");
            format!("    exit {code}: {tail}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(status: &str, health: Option<&str>, code: i64) -> Snapshot {
        Snapshot {
            status: status.into(),
            health: health.map(String::from),
            exit_code: code,
            ..Default::default()
        }
    }

    const NOW: Duration = Duration::ZERO;
    const LATER: Duration = Duration::from_secs(2);

    #[test]
    fn the_rules() {
        use Failure::*;
        use Verdict::*;
        let cases: &[(Snapshot, Wait, Duration, bool, Verdict)] = &[
            (
                snap("running", None, 0),
                Wait::Started,
                NOW,
                false,
                Ready("started"),
            ),
            (snap("created", None, 0), Wait::Started, NOW, false, NotYet),
            (snap("running", None, 0), Wait::Ready, NOW, false, NotYet),
            (
                snap("running", None, 0),
                Wait::Ready,
                LATER,
                false,
                Ready("running"),
            ),
            (
                snap("running", None, 0),
                Wait::Ready,
                NOW,
                true,
                Ready("running"),
            ),
            (
                snap("running", Some("starting"), 0),
                Wait::Ready,
                LATER,
                false,
                NotYet,
            ),
            (
                snap("running", Some("healthy"), 0),
                Wait::Ready,
                NOW,
                false,
                Ready("healthy"),
            ),
            (
                snap("running", Some("unhealthy"), 0),
                Wait::Ready,
                NOW,
                false,
                Failed(Unhealthy),
            ),
            (
                snap("running", None, 0),
                Wait::Healthy,
                LATER,
                false,
                Failed(NoHealthcheck),
            ),
            // A one-shot job of any length: running is not done.
            (
                snap("running", None, 0),
                Wait::Completed,
                Duration::from_secs(60),
                false,
                NotYet,
            ),
            (
                snap("exited", None, 0),
                Wait::Completed,
                NOW,
                false,
                Completed,
            ),
            (
                snap("exited", None, 3),
                Wait::Completed,
                NOW,
                false,
                Failed(Exited(3)),
            ),
            (snap("exited", None, 0), Wait::Ready, NOW, false, Completed),
            (
                snap("exited", None, 1),
                Wait::Ready,
                NOW,
                false,
                Failed(Exited(1)),
            ),
            (
                snap("exited", None, 0),
                Wait::Healthy,
                NOW,
                false,
                Failed(ExitedWhileHealthyWanted(0)),
            ),
            (
                snap("restarting", None, 2),
                Wait::Ready,
                NOW,
                false,
                Failed(Restarting(2)),
            ),
            (
                snap("dead", None, 0),
                Wait::Started,
                NOW,
                false,
                Failed(Dead),
            ),
        ];
        for (s, wait, t, was, want) in cases {
            assert_eq!(
                &assess(s, *wait, *t, *was),
                want,
                "{s:?} {wait:?} {t:?} {was}"
            );
        }
    }

    #[test]
    fn a_missing_probe_binary_is_recognized() {
        assert!(probe_cannot_run(127, "/bin/sh: 1: curl: not found"));
        assert!(probe_cannot_run(
            126,
            "OCI runtime exec failed: exec failed: container_linux.go: exec: \"pg_isready\": executable file not found in $PATH: unknown"
        ));
        assert!(!probe_cannot_run(1, "connection refused"));
        assert!(!probe_cannot_run(127, "curl: (7) Failed to connect"));
    }
}
