//! Running a command inside a container: a service's own healthcheck, run
//! as soon as it starts, and the catalog's `exec` smoke checks.

use std::time::Duration;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures_util::StreamExt;

use super::{Engine, describe};

/// The command of a Docker healthcheck test (`CMD ...`, `CMD-SHELL ...`),
/// or None when there is none to run (`NONE`, empty).
pub fn healthcheck_command(test: &[String]) -> Option<Vec<String>> {
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
        }
        _ => None,
    }
}

/// Runs `cmd` in the container; returns its exit code and output.
pub async fn run(
    engine: &Engine,
    container: &str,
    cmd: &[String],
    limit: Duration,
) -> Result<(i64, String), String> {
    run_as(engine, container, cmd, &As::default(), limit).await
}

/// Who and where a command runs as (a service hook's `user`, ...).
#[derive(Debug, Default, Clone)]
pub struct As {
    pub user: Option<String>,
    pub privileged: bool,
    pub working_dir: Option<String>,
    pub env: Vec<String>,
}

pub async fn run_as(
    engine: &Engine,
    container: &str,
    cmd: &[String],
    who: &As,
    limit: Duration,
) -> Result<(i64, String), String> {
    let work = async {
        let exec = engine
            .docker
            .create_exec(
                container,
                ExecConfig {
                    cmd: Some(cmd.to_vec()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    user: who.user.clone(),
                    privileged: who.privileged.then_some(true),
                    working_dir: who.working_dir.clone(),
                    env: (!who.env.is_empty()).then(|| who.env.clone()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| describe(&e))?;
        let mut text = String::new();
        if let StartExecResults::Attached { mut output, .. } = engine
            .docker
            .start_exec(&exec.id, Some(StartExecOptions::default()))
            .await
            .map_err(|e| describe(&e))?
        {
            while let Some(Ok(chunk)) = output.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
        }
        let code = engine
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| describe(&e))?
            .exit_code
            .unwrap_or(-1);
        Ok((code, text))
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| format!("no answer in {} s", limit.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::healthcheck_command;

    #[test]
    fn healthcheck_tests_become_commands() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            healthcheck_command(&s(&["CMD", "pg_isready", "-q"])),
            Some(s(&["pg_isready", "-q"]))
        );
        assert_eq!(
            healthcheck_command(&s(&["CMD-SHELL", "curl -f x || exit 1"])),
            Some(s(&["/bin/sh", "-c", "curl -f x || exit 1"]))
        );
        assert_eq!(healthcheck_command(&s(&["NONE"])), None);
        assert_eq!(healthcheck_command(&[]), None);
    }
}
