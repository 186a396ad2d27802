//! A running stack: what is there (ps), what it says (logs), and taking it
//! away (down). Everything is found by the project label, never by name or
//! by the compose file, so `down` works when the file is broken or gone.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListNetworksOptions, ListVolumesOptions, LogsOptions, RemoveContainerOptions,
    RemoveVolumeOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::observe::{ObservedContainer, from_summary};
use super::{Engine, EngineError, LABEL_PROJECT, LABEL_SERVICE, api, exec, label, wait};

/// Stops running containers, all at once: SIGTERM (or the service's
/// `stop_signal`), then SIGKILL after the container's own grace period
/// (`stop_grace_period`, else Docker's 10 s).
pub async fn stop(engine: &Engine, containers: &[ObservedContainer]) -> Result<(), EngineError> {
    let jobs = containers
        .iter()
        .filter(|c| c.running())
        .map(|c| async move {
            match engine
                .docker
                .stop_container(&c.id, None::<StopContainerOptions>)
                .await
            {
                Err(e) if !gone(&e) => Err(api(format!("cannot stop container {}", c.name))(e)),
                _ => Ok(()),
            }
        });
    for r in futures_util::future::join_all(jobs).await {
        r?;
    }
    Ok(())
}

/// Stops and removes containers, all at once. A container already gone is
/// not an error.
pub async fn remove(engine: &Engine, containers: &[ObservedContainer]) -> Result<(), EngineError> {
    stop(engine, containers).await?;
    // In rounds: Podman will not remove a container whose namespace another
    // one shares (`network_mode: service:db`) while that one exists, so
    // what it refuses goes after the rest (Docker removes all at once).
    let mut left: Vec<&ObservedContainer> = containers.iter().collect();
    while !left.is_empty() {
        let jobs = left.iter().map(|c| async move {
            let r = engine
                .docker
                .remove_container(
                    &c.id,
                    Some(RemoveContainerOptions {
                        force: true,
                        v: false,
                        ..Default::default()
                    }),
                )
                .await;
            (*c, r)
        });
        let mut refused = Vec::new();
        let mut error = None;
        for (c, r) in futures_util::future::join_all(jobs).await {
            match r {
                Err(e) if has_dependents(&e) => refused.push((c, e)),
                Err(e) if !gone(&e) => {
                    error = Some(api(format!("cannot remove container {}", c.name))(e))
                }
                _ => {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        if refused.len() == left.len() {
            let (c, e) = refused.remove(0);
            return Err(api(format!("cannot remove container {}", c.name))(e));
        }
        left = refused.into_iter().map(|(c, _)| c).collect();
    }
    Ok(())
}

/// Podman's refusal to remove a container another one depends on.
fn has_dependents(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { message, .. } if message.contains("has dependent containers"))
}

/// 404 (already gone), 409 "removal already in progress", 304 (already stopped).
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

impl DownReport {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }
}

/// Containers, then networks, then (when asked) volumes of the project.
pub async fn down(
    engine: &Engine,
    project: &str,
    volumes: bool,
) -> Result<DownReport, EngineError> {
    let mut report = DownReport::default();
    let containers: Vec<ObservedContainer> = engine
        .project_containers(project)
        .await?
        .iter()
        .map(from_summary)
        .collect();
    remove(engine, &containers).await?;
    report.containers = containers.iter().map(|c| c.name.clone()).collect();

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
        let id = net.id.unwrap_or_else(|| name.clone());
        match engine.docker.remove_network(&id).await {
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
            remove_volume(engine, &vol.name).await?;
            report.volumes.push(vol.name);
        }
    }
    Ok(report)
}

/// Removes a volume; one already gone is not an error.
async fn remove_volume(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine
        .docker
        .remove_volume(name, Some(RemoveVolumeOptions { force: false }))
        .await
    {
        Err(e) if !gone(&e) => Err(api(format!("cannot remove volume {name}"))(e)),
        _ => Ok(()),
    }
}

/// Takes away what a project no longer has: the containers of `services`
/// (stopped first) and then `volumes` (full names). Returns the containers
/// and the volumes that were there.
pub async fn retire(
    engine: &Engine,
    project: &str,
    services: &[String],
    volumes: &[String],
) -> Result<(Vec<String>, Vec<String>), EngineError> {
    let containers: Vec<ObservedContainer> = engine
        .project_containers(project)
        .await?
        .iter()
        .map(from_summary)
        .filter(|c| services.contains(&c.service))
        .collect();
    remove(engine, &containers).await?;
    let mut removed = Vec::new();
    for name in volumes {
        if engine.docker.inspect_volume(name).await.is_ok() {
            remove_volume(engine, name).await?;
            removed.push(name.clone());
        }
    }
    Ok((containers.into_iter().map(|c| c.name).collect(), removed))
}

/// What is left of a project: container names, and networks (for a
/// message after an interrupted `down`).
pub async fn leftovers(engine: &Engine, project: &str) -> Vec<String> {
    let mut left: Vec<String> = engine
        .project_containers(project)
        .await
        .unwrap_or_default()
        .iter()
        .map(|c| format!("container {}", display_name(c)))
        .collect();
    if let Ok(nets) = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
    {
        left.extend(
            nets.into_iter()
                .map(|n| format!("network {}", n.name.unwrap_or_default())),
        );
    }
    left
}

#[derive(Debug, Serialize, Clone)]
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

/// How a URL to a container port starts, by (service, container port): the
/// catalog knows for its tools (mailpit's 1025 is smtp); `fallback_scheme`
/// guesses the rest.
pub type Schemes = HashMap<(String, u16), String>;

fn scheme(schemes: &Schemes, service: &str, port: u16) -> String {
    schemes
        .get(&(service.to_string(), port))
        .cloned()
        .unwrap_or_else(|| fallback_scheme(port).into())
}

/// What usually answers on a container port, for ports the catalog does not
/// describe (a service the person added): the well-known ones only.
pub fn fallback_scheme(container_port: u16) -> &'static str {
    match container_port {
        5432 => "postgres",
        3306 => "mysql",
        6379 => "redis",
        5672 => "amqp",
        11211 => "memcached",
        25 | 465 | 587 => "smtp",
        22 | 2222 => "ssh",
        _ => "http",
    }
}

/// The project's containers with state, health and URLs. A container whose
/// engine-side health is still `starting` gets its own healthcheck run
/// once: the engine's first scheduled check may be an interval away, and
/// `ps` says what is true now (as `up`, which probes the same way).
pub async fn ps(
    engine: &Engine,
    project: &str,
    schemes: &Schemes,
) -> Result<Vec<ServiceStatus>, EngineError> {
    ps_knowing(engine, project, schemes, &BTreeSet::new()).await
}

/// `ps` right after `up`, which has just proven these services healthy:
/// their checks are not run a second time.
pub async fn ps_knowing(
    engine: &Engine,
    project: &str,
    schemes: &Schemes,
    proven_healthy: &BTreeSet<String>,
) -> Result<Vec<ServiceStatus>, EngineError> {
    let containers = engine.project_containers(project).await?;
    let mut rows = Vec::new();
    for c in &containers {
        let status = c.status.clone().unwrap_or_default();
        let service = label(c, LABEL_SERVICE).unwrap_or("?").to_string();
        let mut health = if status.contains("(healthy)") {
            "healthy"
        } else if status.contains("(unhealthy)") {
            "unhealthy"
        } else if status.contains("health: starting") {
            "starting"
        } else {
            "none"
        }
        .to_string();
        // Podman's list does not say health in the status text.
        if engine.podman
            && let Some(id) = &c.id
            && let Ok(info) = engine.inspect(id).await
        {
            health = wait::Snapshot::from_inspect(&info)
                .health
                .unwrap_or_else(|| "none".into());
        }
        let mut urls: Vec<String> = c
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                let public = p.public_port?;
                let ip = match p.ip.as_deref() {
                    Some("0.0.0.0") | Some("::") | Some("") | None => "127.0.0.1",
                    Some(ip) if ip.contains(':') => {
                        return Some(format!(
                            "{}://[{ip}]:{public}",
                            scheme(schemes, &service, p.private_port)
                        ));
                    }
                    Some(ip) => ip,
                };
                Some(format!(
                    "{}://{ip}:{public}",
                    scheme(schemes, &service, p.private_port)
                ))
            })
            .collect();
        urls.sort();
        urls.dedup();
        rows.push(ServiceStatus {
            service,
            container: display_name(c),
            state: c.state.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            health,
            urls,
            status,
        });
    }
    // Those still `starting` get their healthcheck run now, all at once.
    let probes = containers
        .iter()
        .zip(rows.iter())
        .map(|(c, row)| async move {
            match (&c.id, row.health.as_str()) {
                (_, "starting") if proven_healthy.contains(&row.service) => Some("healthy".into()),
                (Some(id), "starting") => probe_now(engine, id).await,
                _ => None,
            }
        });
    let probed = futures_util::future::join_all(probes).await;
    for (row, health) in rows.iter_mut().zip(probed) {
        if let Some(h) = health {
            row.health = h;
        }
    }
    rows.sort_by(|a, b| {
        a.service
            .cmp(&b.service)
            .then(a.container.cmp(&b.container))
    });
    Ok(rows)
}

/// Runs a starting container's healthcheck once: `healthy` if it passes.
async fn probe_now(engine: &Engine, id: &str) -> Option<String> {
    let info = engine.inspect(id).await.ok()?;
    let snap = wait::Snapshot::from_inspect(&info);
    let cmd = exec::healthcheck_command(snap.test.as_deref()?)?;
    match exec::run(engine, id, &cmd, Duration::from_secs(5)).await {
        Ok((0, _)) => Some("healthy".into()),
        _ => None,
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
                super::images::strip_ansi(&String::from_utf8_lossy(&chunk.into_bytes()))
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
