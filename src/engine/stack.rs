//! A running stack: what is there (ps), what it says (logs), and taking it
//! away (down). Everything is found by the project label, never by name, so
//! nothing outside the project is touched.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListNetworksOptions, ListVolumesOptions, LogsOptions, RemoveContainerOptions,
    RemoveVolumeOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::{Engine, EngineError, LABEL_PROJECT, LABEL_SERVICE, api, label};

/// Stops (SIGTERM, then SIGKILL after the grace period) and removes
/// containers, all at once. A container already gone is not an error.
pub async fn remove_containers(
    engine: &Engine,
    containers: &[ContainerSummary],
) -> Result<(), EngineError> {
    let jobs = containers.iter().map(|c| async move {
        let id = c.id.clone().unwrap_or_default();
        let name = display_name(c);
        if c.state.as_ref().map(|s| s.to_string()).as_deref() == Some("running") {
            let stop = engine
                .docker
                .stop_container(
                    &id,
                    Some(StopContainerOptions {
                        t: Some(10),
                        ..Default::default()
                    }),
                )
                .await;
            if let Err(e) = stop
                && !gone(&e)
            {
                return Err(api(format!("cannot stop container {name}"))(e));
            }
        }
        match engine
            .docker
            .remove_container(
                &id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: false,
                    ..Default::default()
                }),
            )
            .await
        {
            Err(e) if !gone(&e) => Err(api(format!("cannot remove container {name}"))(e)),
            _ => Ok(()),
        }
    });
    for r in futures_util::future::join_all(jobs).await {
        r?;
    }
    Ok(())
}

/// 404 (already gone) and 409 "removal already in progress" are fine for down.
fn gone(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409 | 304,
            ..
        }
    )
}

pub fn display_name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_else(|| c.id.clone().unwrap_or_default())
}

fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_PROJECT}={project}")],
    )])
}

#[derive(Debug, Default)]
pub struct DownReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Volumes left in place (down without --volumes).
    pub kept_volumes: usize,
}

pub async fn down(
    engine: &Engine,
    project: &str,
    volumes: bool,
) -> Result<DownReport, EngineError> {
    let mut report = DownReport::default();
    let containers = engine.project_containers(project).await?;
    remove_containers(engine, &containers).await?;
    report.containers = containers.iter().map(display_name).collect();

    let networks = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .map_err(api(format!(
            "cannot list the networks of project {project}"
        )))?;
    for net in networks {
        let name = net.name.unwrap_or_default();
        match engine.docker.remove_network(&name).await {
            Err(e) if !gone(&e) => return Err(api(format!("cannot remove network {name}"))(e)),
            _ => report.networks.push(name),
        }
    }
    let list = engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .map_err(api(format!("cannot list the volumes of project {project}")))?;
    let found = list.volumes.unwrap_or_default();
    if !volumes {
        report.kept_volumes = found.len();
    } else {
        for vol in found {
            match engine
                .docker
                .remove_volume(&vol.name, Some(RemoveVolumeOptions { force: false }))
                .await
            {
                Err(e) if !gone(&e) => {
                    return Err(api(format!("cannot remove volume {}", vol.name))(e));
                }
                _ => report.volumes.push(vol.name),
            }
        }
    }
    Ok(report)
}

#[derive(Debug, Serialize)]
pub struct ServiceStatus {
    pub service: String,
    pub container: String,
    pub state: String,
    /// healthy, unhealthy, starting, or none (no healthcheck).
    pub health: String,
    pub urls: Vec<String>,
    /// What Docker says, e.g. "Up 3 minutes (healthy)".
    pub status: String,
}

pub async fn ps(engine: &Engine, project: &str) -> Result<Vec<ServiceStatus>, EngineError> {
    let mut rows: Vec<ServiceStatus> = engine
        .project_containers(project)
        .await?
        .iter()
        .map(|c| {
            let status = c.status.clone().unwrap_or_default();
            let health = if status.contains("(healthy)") {
                "healthy"
            } else if status.contains("(unhealthy)") {
                "unhealthy"
            } else if status.contains("health: starting") {
                "starting"
            } else {
                "none"
            };
            let mut urls: Vec<String> = c
                .ports
                .iter()
                .flatten()
                .filter_map(|p| {
                    let public = p.public_port?;
                    let ip = match p.ip.as_deref() {
                        Some("0.0.0.0") | Some("::") | None => "127.0.0.1",
                        Some(ip) => ip,
                    };
                    Some(format!("{}://{ip}:{public}", scheme_for(p.private_port)))
                })
                .collect();
            urls.sort();
            urls.dedup();
            ServiceStatus {
                service: label(c, LABEL_SERVICE).unwrap_or("?").to_string(),
                container: display_name(c),
                state: c.state.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                health: health.to_string(),
                urls,
                status,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(rows)
}

/// What usually answers on a container port, for a URL a person can use.
pub fn scheme_for(container_port: u16) -> &'static str {
    match container_port {
        5432 => "postgres",
        3306 => "mysql",
        6379 => "redis",
        5672 => "amqp",
        11211 => "memcached",
        22 | 2222 => "ssh",
        _ => "http",
    }
}

/// The last `n` lines a container wrote (stdout and stderr).
pub async fn last_lines(engine: &Engine, container: &str, n: usize) -> Vec<String> {
    let mut stream = engine.docker.logs(
        container,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            tail: n.to_string(),
            ..Default::default()
        }),
    );
    let mut out = Vec::new();
    let read = async {
        while let Some(Ok(chunk)) = stream.next().await {
            out.extend(
                String::from_utf8_lossy(&chunk.into_bytes())
                    .lines()
                    .map(String::from),
            );
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    let start = out.len().saturating_sub(n);
    out.split_off(start)
}

/// Streams the logs of the given containers as `service | line`, following
/// if asked, until they end (or Ctrl-C).
pub async fn logs(
    engine: &Engine,
    containers: &[(String, String)],
    follow: bool,
    tail: Option<u64>,
    mut out: impl FnMut(&str, &str),
) -> Result<(), EngineError> {
    let width = containers.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let streams = containers.iter().map(|(service, id)| {
        let service = service.clone();
        engine
            .docker
            .logs(
                id,
                Some(LogsOptions {
                    follow,
                    stdout: true,
                    stderr: true,
                    tail: tail.map_or("all".to_string(), |n| n.to_string()),
                    ..Default::default()
                }),
            )
            .map(move |item| (service.clone(), item))
            .boxed()
    });
    let mut merged = futures_util::stream::select_all(streams);
    let mut partial: HashMap<String, String> = HashMap::new();
    while let Some((service, item)) = merged.next().await {
        let chunk = item.map_err(api(format!("cannot read the logs of {service}")))?;
        let buf = partial.entry(service.clone()).or_default();
        buf.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        while let Some(pos) = buf.find('\n') {
            let line: String = buf.drain(..=pos).collect();
            out(
                &format!("{service:<width$}"),
                line.trim_end_matches(['\n', '\r']),
            );
        }
    }
    for (service, rest) in partial {
        if !rest.is_empty() {
            out(&format!("{service:<width$}"), &rest);
        }
    }
    Ok(())
}
