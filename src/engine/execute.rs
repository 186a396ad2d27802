//! `up`: carry out the plan `reconcile` made.
//!
//! 1. preflight: names and published ports, before anything is touched;
//! 2. images (a build or pull with no progress for `--timeout` stops);
//! 3. networks and volumes; orphans and extra replicas removed;
//! 4. every new container created (a replacement under a temporary name),
//!    and if any cannot be, the ones just made are removed again, so the
//!    running stack is as it was;
//! 5. replaced containers swapped for their successors;
//! 6. each service started as soon as what it depends on is ready,
//!    independent ones in parallel, then waited for as the plan says.
//!    The first failure ends `up` with what the failed service said.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, RenameContainerOptions,
    StartContainerOptions, UploadToContainerOptions,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use super::create::{self, CreateInput, CreateSpec, InjectedFile};
use super::events::{Event, Reporter, ResourceKind, ResourceStatus, ServiceStatus};
use super::images::{self, BuildPolicy};
use super::observe::{self, ObservedContainer};
use super::ports::port_is_free;
use super::reconcile::{
    self, Action, Condition, NetworkStep, Plan, Recreate, ServicePlan, VolumeStep, Wait,
};
use super::wait::{self, Failure, Snapshot, Verdict};
use super::*;
use crate::compose::{Project, Service};

#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Wait until every service is ready, not only what dependents need.
    pub wait: bool,
    /// The longest wait for readiness, and for progress of a build or pull.
    pub timeout: Duration,
    pub build: BuildPolicy,
    pub recreate: Recreate,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            wait: true,
            timeout: Duration::from_secs(180),
            build: BuildPolicy::Missing,
            recreate: Recreate::Diverged,
        }
    }
}

/// What `up` did, per service.
#[derive(Debug, Default, Clone)]
pub struct UpReport {
    /// created, recreated, started, unchanged (the strongest per service).
    pub actions: BTreeMap<String, &'static str>,
    /// How each service was found ready, and seconds from the start of `up`.
    pub ready: BTreeMap<String, (&'static str, f64)>,
    pub orphans_removed: Vec<String>,
    pub images_secs: f64,
}

impl UpReport {
    pub fn changed(&self) -> usize {
        self.actions.values().filter(|a| **a != "unchanged").count() + self.orphans_removed.len()
    }
}

/// Why `up` stopped short; carries what a person needs to fix it.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Failed(String),
    /// Host ports something else holds: the stack's own files are fine, the
    /// machine is not (a caller that chose the ports may choose again).
    #[error("{message}")]
    PortsTaken { ports: Vec<u16>, message: String },
}

/// The host port in an engine's refusal to bind one (Docker: "Bind for
/// 127.0.0.1:5432 failed: port is already allocated"; Podman: "listen tcp4
/// 127.0.0.1:5432: bind: address already in use").
pub fn refused_port(message: &str) -> Option<u16> {
    if !(message.contains("port is already allocated")
        || message.contains("address already in use"))
    {
        return None;
    }
    let end = message
        .find(" failed: port is already allocated")
        .or_else(|| message.find(": bind: address already in use"))?;
    let digits: String = message[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

impl From<String> for UpError {
    fn from(s: String) -> Self {
        UpError::Failed(s)
    }
}

/// The state each service's task publishes for its dependents.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    Started,
    Ready(&'static str),
    Completed,
    Failed,
}

fn satisfies(state: &State, cond: Condition) -> bool {
    match cond {
        Condition::Started => matches!(state, State::Started | State::Ready(_) | State::Completed),
        Condition::Healthy => *state == State::Ready("healthy"),
        Condition::Completed => *state == State::Completed,
    }
}

pub async fn up(
    engine: &Engine,
    project: &Project,
    opts: &UpOptions,
    reporter: &dyn Reporter,
) -> Result<UpReport, UpError> {
    let started = Instant::now();
    let _lock = lock::acquire(&project.name, opts.timeout, || {
        reporter.event(Event::Warning(format!(
            "another brickyard command is working on project {}; waiting for it",
            project.name
        )))
    })
    .await?;
    preflight_names(project)?;
    for w in super::unsupported::warnings(project, engine.api, engine.buildkit) {
        reporter.event(Event::Warning(w));
    }
    let before = observe::observe(engine, project).await?;
    preflight_ports(engine, project, &before.containers).await?;

    let images_started = Instant::now();
    let image_ids = images::ensure(engine, reporter, project, opts.build, opts.timeout).await?;
    let images_secs = images_started.elapsed().as_secs_f64();

    let observed = observe::observe(engine, project).await?;
    let plan = reconcile::reconcile(
        project,
        &observed,
        &image_ids,
        &reconcile::Options {
            recreate: opts.recreate,
            wait: opts.wait,
        },
    )?;
    for w in &plan.warnings {
        reporter.event(Event::Warning(w.clone()));
    }
    let mut report = UpReport {
        images_secs,
        ..Default::default()
    };
    let network_ids = apply_networks(engine, project, &plan, reporter).await?;
    apply_volumes(engine, project, &plan, reporter).await?;

    for c in &plan.orphans {
        reporter.event(Event::Resource {
            kind: ResourceKind::Container,
            name: c.name.clone(),
            status: ResourceStatus::Orphaned {
                service: c.service.clone(),
            },
        });
    }
    stack::remove(engine, &plan.orphans).await?;
    report.orphans_removed = plan.orphans.iter().map(|c| c.name.clone()).collect();
    let extra: Vec<ObservedContainer> = plan
        .services
        .iter()
        .flat_map(|s| s.actions.iter())
        .filter_map(|a| match a {
            Action::Remove(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    stack::remove(engine, &extra).await?;

    let ids = create_all(engine, project, &plan, &image_ids, &network_ids, reporter).await?;
    swap_replaced(engine, project, &plan, &ids, reporter).await?;

    for sp in &plan.services {
        let strongest = sp
            .actions
            .iter()
            .map(|a| match a {
                Action::Create { .. } => "created",
                Action::Recreate { .. } => "recreated",
                Action::Start(_) | Action::Restart(_) => "started",
                _ => "unchanged",
            })
            .min_by_key(|a| {
                ["created", "recreated", "started", "unchanged"]
                    .iter()
                    .position(|x| x == a)
            })
            .unwrap_or("unchanged");
        report.actions.insert(sp.service.clone(), strongest);
    }

    let ready = tokio::time::timeout(
        opts.timeout,
        start_all(engine, project, &plan, &ids, reporter, started),
    )
    .await;
    match ready {
        Ok(result) => {
            report.ready = result?;
            Ok(report)
        }
        Err(_) => Err(UpError::Failed(format!(
            "gave up after {} s waiting for the stack to be ready\n  see `brickyard ps` and `brickyard logs`; raise the limit with --timeout",
            opts.timeout.as_secs()
        ))),
    }
}

/// Container names Docker accepts, and no two services with the same one.
fn preflight_names(project: &Project) -> Result<(), UpError> {
    let valid = |n: &str| {
        let mut chars = n.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && n.len() >= 2
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (name, svc) in &project.services {
        for n in 1..=svc.scale().max(1) as u32 {
            let cname = create::container_name(&project.name, svc, n);
            if !valid(&cname) {
                return Err(UpError::Failed(format!(
                    "nothing was started: service {name}'s container name {cname:?} is not one Docker accepts (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"
                )));
            }
            if let Some(other) = seen.insert(cname.clone(), name.clone())
                && other != *name
            {
                return Err(UpError::Failed(format!(
                    "nothing was started: services {other} and {name} both want the container name {cname:?}"
                )));
            }
        }
        if !svc.restart.is_empty() {
            let cond = svc.restart.split(':').next().unwrap_or_default();
            if !["no", "always", "on-failure", "unless-stopped"].contains(&cond) {
                return Err(UpError::Failed(format!(
                    "nothing was started: service {name}: restart policy {:?} is not one of no, always, on-failure[:N], unless-stopped",
                    svc.restart
                )));
            }
        }
    }
    Ok(())
}

/// Whether two host addresses overlap ("" and the any-addresses cover all).
fn overlaps(a: &str, b: &str) -> bool {
    let any = |ip: &str| ip.is_empty() || ip == "0.0.0.0" || ip == "::";
    any(a) || any(b) || a == b
}

fn host_ports(published: &str) -> Vec<u16> {
    match published.split_once('-') {
        // A range for one container port is where Docker picks one: no fixed port.
        Some(_) => Vec::new(),
        None => published.parse().ok().into_iter().collect(),
    }
}

/// Every fixed published port must be free on the host (or held by this
/// project's own container of the same service), and no two services of
/// the project may publish the same one. Nothing is created otherwise.
async fn preflight_ports(
    engine: &Engine,
    project: &Project,
    existing: &[ObservedContainer],
) -> Result<(), UpError> {
    let mut taken: Vec<(String, String, u16, String)> = Vec::new(); // service, ip, port, proto
    let mut problems = Vec::new();
    let mut held_elsewhere = Vec::new();
    let ours = holders(engine, &project.name).await;
    for (name, svc) in &project.services {
        if svc.scale() == 0 {
            continue;
        }
        for port in &svc.ports {
            for host in host_ports(&port.published) {
                if svc.scale() > 1 {
                    problems.push(format!(
                        "service {name} publishes port {host} and is scaled to {}: only one container can have it; publish a range (`{host}-{}:{}`) or drop the host port",
                        svc.scale(),
                        host as i64 + svc.scale() - 1,
                        port.target
                    ));
                    continue;
                }
                if let Some((other, ..)) = taken.iter().find(|(_, ip, p, proto)| {
                    *p == host && *proto == port.protocol && overlaps(ip, &port.host_ip)
                }) {
                    problems.push(format!(
                        "port {host} is published by both {other} and {name} in {}; give one of them another port",
                        files(project)
                    ));
                    continue;
                }
                taken.push((
                    name.clone(),
                    port.host_ip.clone(),
                    host,
                    port.protocol.clone(),
                ));
                let own = ours.get(&host).is_some_and(|s| s == name)
                    || existing.iter().any(|c| c.service == *name && !c.running());
                if own || port_is_free(&port.host_ip, host, &port.protocol) {
                    continue;
                }
                let holder = container_on_port(engine, host).await;
                held_elsewhere.push(host);
                problems.push(match holder {
                    Some(c) => format!(
                        "port {host} for service {name} is taken by container {c}; stop it, or change the port in {}",
                        files(project)
                    ),
                    None => format!(
                        "port {host} for service {name} is taken by a program outside Docker (`ss -ltnp 'sport = :{host}'` shows which); stop it, or change the port in {}",
                        files(project)
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let message = format!("nothing was started:\n  {}", problems.join("\n  "));
        Err(if held_elsewhere.len() == problems.len() {
            UpError::PortsTaken {
                ports: held_elsewhere,
                message,
            }
        } else {
            UpError::Failed(message)
        })
    }
}

fn files(project: &Project) -> String {
    project
        .compose_files
        .iter()
        .map(|f| {
            crate::compose::paths::display_relative(f, &project.working_dir)
                .display()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Host ports held by the project's running containers, by service.
async fn holders(engine: &Engine, project: &str) -> HashMap<u16, String> {
    let mut out = HashMap::new();
    if let Ok(cs) = engine.project_containers(project).await {
        for c in cs {
            let service = label(&c, LABEL_SERVICE).unwrap_or_default().to_string();
            for p in c.ports.iter().flatten() {
                if let Some(public) = p.public_port {
                    out.insert(public, service.clone());
                }
            }
        }
    }
    out
}

/// A container's healthcheck interval (30 s unless set, as in Docker).
fn health_interval(info: &bollard::models::ContainerInspectResponse) -> Duration {
    info.config
        .as_ref()
        .and_then(|c| c.healthcheck.as_ref())
        .and_then(|h| h.interval)
        .filter(|&ns| ns > 0)
        .map_or(Duration::from_secs(30), |ns| {
            Duration::from_nanos(ns as u64)
        })
}

async fn container_on_port(engine: &Engine, port: u16) -> Option<String> {
    let containers = engine.list(HashMap::new()).await.ok()?;
    containers
        .iter()
        .filter(|c| c.state.as_ref().is_some_and(|s| s.to_string() == "running"))
        .find(|c| {
            c.ports
                .iter()
                .flatten()
                .any(|p| p.public_port == Some(port))
        })
        .map(|c| {
            let name = stack::display_name(c);
            match label(c, LABEL_PROJECT) {
                Some(p) => format!("{name} (project {p})"),
                None => name,
            }
        })
}

/// Networks as planned; returns each network key's id.
async fn apply_networks(
    engine: &Engine,
    project: &Project,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<BTreeMap<String, String>, UpError> {
    let mut ids = BTreeMap::new();
    for step in &plan.networks {
        match step {
            NetworkStep::Keep { key, id, .. } | NetworkStep::External { key, id, .. } => {
                ids.insert(key.clone(), id.clone());
            }
            NetworkStep::Create { key, name } | NetworkStep::Recreate { key, name, .. } => {
                if let NetworkStep::Recreate { id, .. } = step {
                    // Its configuration changed: what is attached goes first.
                    let attached: Vec<ObservedContainer> = observe::observe(engine, project)
                        .await?
                        .containers
                        .into_iter()
                        .filter(|c| c.network_ids.contains(id))
                        .collect();
                    stack::remove(engine, &attached).await?;
                    engine
                        .docker
                        .remove_network(id)
                        .await
                        .map_err(api(format!("cannot remove network {name} to recreate it")))?;
                }
                let net = &project.networks[key];
                let mut labels: HashMap<String, String> = net.labels.clone().into_iter().collect();
                labels.extend([
                    (LABEL_NETWORK.to_string(), key.clone()),
                    (LABEL_PROJECT.to_string(), project.name.clone()),
                    (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
                    (LABEL_HASH.to_string(), reconcile::network_hash(net)),
                ]);
                let ipam =
                    (!net.ipam.driver.is_empty() || !net.ipam.config.is_empty()).then(|| {
                        bollard::models::Ipam {
                            driver: (!net.ipam.driver.is_empty()).then(|| net.ipam.driver.clone()),
                            config: Some(
                                net.ipam
                                    .config
                                    .iter()
                                    .map(|p| bollard::models::IpamConfig {
                                        subnet: (!p.subnet.is_empty()).then(|| p.subnet.clone()),
                                        ip_range: (!p.ip_range.is_empty())
                                            .then(|| p.ip_range.clone()),
                                        gateway: (!p.gateway.is_empty()).then(|| p.gateway.clone()),
                                        auxiliary_addresses: (!p.auxiliary_addresses.is_empty())
                                            .then(|| {
                                                p.auxiliary_addresses.clone().into_iter().collect()
                                            }),
                                    })
                                    .collect(),
                            ),
                            options: None,
                        }
                    });
                let request = NetworkCreateRequest {
                    name: name.clone(),
                    driver: Some(if net.driver.is_empty() {
                        "bridge".into()
                    } else {
                        net.driver.clone()
                    }),
                    internal: net.internal.then_some(true),
                    attachable: net.attachable.then_some(true),
                    ipam,
                    options: (!net.driver_opts.is_empty())
                        .then(|| net.driver_opts.clone().into_iter().collect()),
                    labels: Some(labels),
                    enable_ipv6: net.enable_ipv6,
                    enable_ipv4: net.enable_ipv4,
                    ..Default::default()
                };
                let id = match engine.docker.create_network(request).await {
                    Ok(r) => r.id,
                    // Another process may have made it meanwhile: use that one.
                    Err(e) if !is_connection_error(&e) => {
                        match engine.docker.inspect_network(name, None).await {
                            Ok(n) => n.id.unwrap_or_default(),
                            Err(_) => {
                                return Err(api(format!("cannot create network {name}"))(e).into());
                            }
                        }
                    }
                    Err(e) => return Err(api(format!("cannot create network {name}"))(e).into()),
                };
                reporter.event(Event::Resource {
                    kind: ResourceKind::Network,
                    name: name.clone(),
                    status: ResourceStatus::Created,
                });
                ids.insert(key.clone(), id);
            }
        }
    }
    Ok(ids)
}

async fn apply_volumes(
    engine: &Engine,
    project: &Project,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<(), UpError> {
    for step in &plan.volumes {
        let VolumeStep::Create { key, name } = step else {
            continue;
        };
        let vol = &project.volumes[key];
        let mut labels: HashMap<String, String> = vol.labels.clone().into_iter().collect();
        labels.extend([
            (LABEL_VOLUME.to_string(), key.clone()),
            (LABEL_PROJECT.to_string(), project.name.clone()),
            (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
            (LABEL_HASH.to_string(), reconcile::volume_hash(vol)),
        ]);
        engine
            .docker
            .create_volume(VolumeCreateRequest {
                name: Some(name.clone()),
                driver: (!vol.driver.is_empty()).then(|| vol.driver.clone()),
                driver_opts: (!vol.driver_opts.is_empty())
                    .then(|| vol.driver_opts.clone().into_iter().collect()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(api(format!("cannot create volume {name}")))?;
        reporter.event(Event::Resource {
            kind: ResourceKind::Volume,
            name: name.clone(),
            status: ResourceStatus::Created,
        });
    }
    Ok(())
}

/// The containers of each service once `create_all` is done: id and name,
/// and which need starting.
#[derive(Debug, Default)]
struct Containers {
    by_service: BTreeMap<String, Vec<Made>>,
}

#[derive(Debug, Clone)]
struct Made {
    id: String,
    /// The final name (a replacement has a temporary one until swapped).
    name: String,
    temp_name: Option<String>,
    replaces: Option<ObservedContainer>,
    needs_start: bool,
    /// Running now, to be stopped before its dependency is replaced.
    restart: bool,
    was_running: bool,
    files: Vec<InjectedFile>,
}

async fn create_all(
    engine: &Engine,
    project: &Project,
    plan: &Plan,
    image_ids: &BTreeMap<String, String>,
    _network_ids: &BTreeMap<String, String>,
    reporter: &dyn Reporter,
) -> Result<Containers, UpError> {
    let mut made = Containers::default();
    let mut fresh: Vec<String> = Vec::new();
    let result = async {
        for sp in &plan.services {
            let svc = &project.services[&sp.service];
            let mut list = Vec::new();
            for action in &sp.actions {
                match action {
                    Action::Keep(c) | Action::Start(c) | Action::Restart(c) => list.push(Made {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        temp_name: None,
                        replaces: None,
                        needs_start: !matches!(action, Action::Keep(_)),
                        restart: matches!(action, Action::Restart(_)),
                        was_running: c.running() && !matches!(action, Action::Restart(_)),
                        files: Vec::new(),
                    }),
                    Action::Remove(_) => {}
                    Action::Create { number }
                    | Action::Recreate {
                        old: ObservedContainer { number, .. },
                        ..
                    } => {
                        let (old, status) = match action {
                            Action::Recreate { old, reason } => {
                                (Some(old.clone()), ServiceStatus::Recreating(reason.clone()))
                            }
                            _ => (None, ServiceStatus::Creating),
                        };
                        let name = create::container_name(&project.name, svc, *number);
                        reporter.event(Event::Service {
                            service: sp.service.clone(),
                            container: name.clone(),
                            status,
                        });
                        let inherited = match &old {
                            Some(o) => inherited_volumes(engine, o).await,
                            None => BTreeMap::new(),
                        };
                        let resolved = resolve(svc, &made);
                        let spec = create::spec(&CreateInput {
                            project,
                            service: &resolved,
                            number: *number,
                            name: name.clone(),
                            image_id: image_ids.get(&sp.service).cloned().unwrap_or_default(),
                            links: links(project, svc, *number, &made),
                            api: engine.api,
                            replaces: old.as_ref().map(|_| format!("{}-{number}", svc.name)),
                            inherited,
                        })
                        .map_err(UpError::Failed)?;
                        let temp = old
                            .as_ref()
                            .map(|o| format!("{}_{name}", &o.id[..o.id.len().min(12)]));
                        let id = create_one(
                            engine,
                            &sp.service,
                            temp.as_deref().unwrap_or(&name),
                            &spec,
                        )
                        .await?;
                        fresh.push(id.clone());
                        list.push(Made {
                            id,
                            name,
                            temp_name: temp,
                            replaces: old,
                            needs_start: true,
                            restart: false,
                            was_running: false,
                            files: spec.files,
                        });
                    }
                }
            }
            made.by_service.insert(sp.service.clone(), list);
        }
        Ok::<(), UpError>(())
    }
    .await;
    if let Err(e) = result {
        // Leave the stack as it was: nothing half-made stays behind.
        for id in &fresh {
            let _ = engine
                .docker
                .remove_container(
                    id,
                    Some(RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    }),
                )
                .await;
        }
        return Err(match e {
            UpError::Failed(m) if !fresh.is_empty() || !m.starts_with("nothing") => {
                UpError::Failed(format!(
                    "{m}\n  nothing was changed: the containers made for this `up` were removed again"
                ))
            }
            other => other,
        });
    }
    Ok(made)
}

/// The service with `service:x` references pointing at x's container now.
fn resolve(svc: &Service, made: &Containers) -> Service {
    reconcile::resolve_references(svc, &|dep| {
        let mut list = made.by_service.get(dep)?.clone();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list.first().map(|m| m.id.clone())
    })
}

/// Compose's legacy `links`: `<container>:<alias>` for each linked service.
fn links(project: &Project, svc: &Service, number: u32, made: &Containers) -> Vec<String> {
    let mut out = Vec::new();
    for raw in &svc.links {
        let mut parts = raw.splitn(2, ':');
        let target = parts.next().unwrap_or_default();
        let alias = parts.next().unwrap_or(target);
        for m in made.by_service.get(target).into_iter().flatten() {
            out.push(format!("{}:{alias}", m.name));
            out.push(format!("{}:{target}-{number}", m.name));
            out.push(format!("{}:{}-{target}-{number}", m.name, project.name));
        }
    }
    for raw in &svc.external_links {
        let mut parts = raw.splitn(2, ':');
        let target = parts.next().unwrap_or_default();
        let alias = parts.next().unwrap_or(target);
        out.push(format!("{target}:{alias}"));
    }
    out
}

/// The replaced container's anonymous volumes, by mount point, so their data
/// carries over (Compose does the same).
async fn inherited_volumes(engine: &Engine, old: &ObservedContainer) -> BTreeMap<String, String> {
    let Ok(info) = engine.inspect(&old.id).await else {
        return BTreeMap::new();
    };
    let named: BTreeSet<String> = BTreeSet::new();
    info.mounts
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.typ.as_ref().map(|t| t.to_string()).as_deref() == Some("volume"))
        .filter_map(|m| {
            let name = m.name?;
            // Anonymous volumes have a 64-hex name and no compose label of their own.
            let anonymous = name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit());
            (anonymous && !named.contains(&name)).then(|| (m.destination.unwrap_or_default(), name))
        })
        .collect()
}

async fn create_one(
    engine: &Engine,
    service: &str,
    name: &str,
    spec: &CreateSpec,
) -> Result<String, UpError> {
    let response = engine
        .docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.to_string()),
                platform: spec.platform.clone().unwrap_or_default(),
            }),
            spec.body.clone(),
        )
        .await
        .map_err(|e| -> UpError {
            if is_connection_error(&e) {
                api("cannot create a container")(e).into()
            } else {
                UpError::Failed(format!(
                    "cannot create container {name} for service {service}: {}",
                    describe(&e)
                ))
            }
        })?;
    for (network, endpoint) in &spec.later_networks {
        engine
            .docker
            .connect_network(
                network,
                NetworkConnectRequest {
                    container: response.id.clone(),
                    endpoint_config: Some(endpoint.clone()),
                },
            )
            .await
            .map_err(|e| {
                UpError::Failed(format!(
                    "cannot connect container {name} of service {service} to network {network}: {}",
                    describe(&e)
                ))
            })?;
    }
    Ok(response.id)
}

/// Stops what is restarted with a dependency, stops and removes what is
/// replaced (running its `pre_stop` hooks first), and gives successors their
/// names.
async fn swap_replaced(
    engine: &Engine,
    project: &Project,
    plan: &Plan,
    made: &Containers,
    reporter: &dyn Reporter,
) -> Result<(), UpError> {
    for sp in &plan.services {
        for m in made.by_service.get(&sp.service).into_iter().flatten() {
            if m.restart {
                hooks(
                    engine,
                    &project.services[&sp.service],
                    &m.id,
                    Hook::PreStop,
                    reporter,
                )
                .await;
                let old = ObservedContainer {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    state: "running".into(),
                    ..Default::default()
                };
                stack::stop(engine, std::slice::from_ref(&old)).await?;
            }
        }
    }
    for sp in &plan.services {
        for m in made.by_service.get(&sp.service).into_iter().flatten() {
            let (Some(old), Some(temp)) = (&m.replaces, &m.temp_name) else {
                continue;
            };
            if old.running() {
                hooks(
                    engine,
                    &project.services[&sp.service],
                    &old.id,
                    Hook::PreStop,
                    reporter,
                )
                .await;
            }
            stack::remove(engine, std::slice::from_ref(old)).await?;
            engine
                .docker
                .rename_container(
                    temp,
                    RenameContainerOptions {
                        name: m.name.clone(),
                    },
                )
                .await
                .map_err(api(format!("cannot rename {temp} to {}", m.name)))?;
        }
    }
    Ok(())
}

type Ready = BTreeMap<String, (&'static str, f64)>;

async fn start_all(
    engine: &Engine,
    project: &Project,
    plan: &Plan,
    made: &Containers,
    reporter: &dyn Reporter,
    started: Instant,
) -> Result<Ready, UpError> {
    // Senders live here until every task is done, so a finished service's
    // last state stays readable (a one-shot job's `completed`).
    let mut senders: HashMap<String, Arc<watch::Sender<State>>> = HashMap::new();
    let mut receivers: HashMap<String, watch::Receiver<State>> = HashMap::new();
    for sp in &plan.services {
        let (tx, rx) = watch::channel(State::Pending);
        senders.insert(sp.service.clone(), Arc::new(tx));
        receivers.insert(sp.service.clone(), rx);
    }
    let ready: Arc<Mutex<Ready>> = Arc::default();
    let mut tasks = FuturesUnordered::new();
    for sp in &plan.services {
        let run = ServiceRun {
            engine,
            project,
            plan: sp,
            containers: made
                .by_service
                .get(&sp.service)
                .cloned()
                .unwrap_or_default(),
            tx: senders[&sp.service].clone(),
            deps: sp
                .needs
                .iter()
                .filter_map(|n| receivers.get(&n.service).map(|rx| (n.clone(), rx.clone())))
                .collect(),
            reporter,
            started,
            ready: ready.clone(),
        };
        tasks.push(async move { run.run().await });
    }
    while let Some(result) = tasks.next().await {
        result?;
    }
    drop(senders);
    Ok(std::mem::take(&mut *ready.lock().expect("not poisoned")))
}

struct ServiceRun<'a> {
    engine: &'a Engine,
    project: &'a Project,
    plan: &'a ServicePlan,
    containers: Vec<Made>,
    tx: Arc<watch::Sender<State>>,
    deps: Vec<(reconcile::Need, watch::Receiver<State>)>,
    reporter: &'a dyn Reporter,
    started: Instant,
    ready: Arc<Mutex<Ready>>,
}

impl ServiceRun<'_> {
    fn say(&self, container: &str, status: ServiceStatus) {
        self.reporter.event(Event::Service {
            service: self.plan.service.clone(),
            container: container.to_string(),
            status,
        });
    }

    fn fail(&self, container: &str, message: String) -> UpError {
        let _ = self.tx.send(State::Failed);
        self.say(container, ServiceStatus::Failed(first_line(&message)));
        UpError::Failed(message)
    }

    async fn run(self) -> Result<(), UpError> {
        let name = &self.plan.service;
        let first = self
            .containers
            .first()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        // Dependencies gate starting: a service whose containers all run
        // already, unchanged, waits for nothing but its own readiness (a
        // no-op `up` checks every service at once, not level by level).
        let starts = self.containers.is_empty() || self.containers.iter().any(|m| m.needs_start);
        let deps = if starts { &self.deps[..] } else { &[] };
        for (need, rx) in deps {
            let mut rx = rx.clone();
            self.say(
                &first,
                ServiceStatus::Waiting {
                    dependency: need.service.clone(),
                    condition: need.condition.label().into(),
                },
            );
            loop {
                let state = rx.borrow_and_update().clone();
                if satisfies(&state, need.condition) {
                    break;
                }
                let unmet = match (&state, need.condition) {
                    (State::Failed, _) => Some(format!("its dependency {} failed", need.service)),
                    (State::Ready("running"), Condition::Healthy) => Some(format!(
                        "it depends on {} being healthy, and {} has no healthcheck (add one, or use condition: service_started)",
                        need.service, need.service
                    )),
                    (State::Ready(_), Condition::Completed) => Some(format!(
                        "it depends on {} completing, and {} keeps running",
                        need.service, need.service
                    )),
                    _ => None,
                };
                if let Some(why) = unmet {
                    if need.required {
                        return Err(self.fail(&first, format!("{name} was not started: {why}")));
                    }
                    self.reporter.event(Event::Warning(format!(
                        "{name}: optional dependency {}: {why}; starting anyway",
                        need.service
                    )));
                    break;
                }
                if rx.changed().await.is_err() {
                    return Err(self.fail(
                        &first,
                        format!(
                            "{name} was not started: {} ended without reporting",
                            need.service
                        ),
                    ));
                }
            }
        }
        if self.containers.is_empty() {
            let _ = self.tx.send(State::Started);
            return Ok(());
        }
        for m in &self.containers {
            if !m.needs_start {
                continue;
            }
            for f in &m.files {
                inject(self.engine, &m.id, f)
                    .await
                    .map_err(|e| self.fail(&m.name, e))?;
            }
            self.say(&m.name, ServiceStatus::Starting);
            self.engine
                .docker
                .start_container(&m.id, None::<StartContainerOptions>)
                .await
                .map_err(|e| -> UpError {
                    if is_connection_error(&e) {
                        return api("cannot start a container")(e).into();
                    }
                    let message = format!("cannot start {}: {}", m.name, describe(&e));
                    match refused_port(&message) {
                        Some(port) => {
                            self.fail(&m.name, message.clone());
                            UpError::PortsTaken {
                                ports: vec![port],
                                message,
                            }
                        }
                        None => self.fail(&m.name, message),
                    }
                })?;
        }
        for m in self.containers.iter().filter(|m| m.needs_start) {
            let svc = &self.project.services[&self.plan.service];
            if let Err(why) = run_post_start(self.engine, svc, &m.id).await {
                return Err(self.fail(&m.name, why));
            }
        }
        let _ = self.tx.send(State::Started);
        let mut how = "started";
        for m in &self.containers {
            how = self.wait_one(m).await?;
        }
        let after = self.started.elapsed().as_secs_f64();
        self.say(
            &first,
            ServiceStatus::Ready {
                how,
                after_secs: after,
            },
        );
        self.ready
            .lock()
            .expect("not poisoned")
            .insert(name.clone(), (how, after));
        Ok(())
    }

    /// Polls (and probes) one container until the plan's wait is met. On a
    /// terminal its last line of output is shown meanwhile; the output
    /// ending (a container that exits) never holds up the verdict.
    async fn wait_one(&self, m: &Made) -> Result<&'static str, UpError> {
        if !self.reporter.wants_output() {
            return self.poll(m).await;
        }
        let follower = async {
            let mut logs = self.engine.docker.logs(
                &m.id,
                Some(LogsOptions {
                    follow: true,
                    stdout: true,
                    stderr: true,
                    tail: "1".into(),
                    ..Default::default()
                }),
            );
            while let Some(Ok(chunk)) = logs.next().await {
                let text = images::strip_ansi(String::from_utf8_lossy(&chunk.into_bytes()).trim());
                if let Some(line) = text.lines().last().filter(|l| !l.is_empty()) {
                    self.say(&m.name, ServiceStatus::Output(line.to_string()));
                }
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            r = self.poll(m) => r,
            _ = follower => unreachable!("the follower never ends"),
        }
    }

    async fn poll(&self, m: &Made) -> Result<&'static str, UpError> {
        let mut delay = Duration::from_millis(50);
        let mut last_probe: Option<Instant> = None;
        let mut running_since: Option<Instant> = None;
        let mut engine_check: Option<Instant> = None;
        loop {
            let info = self.engine.inspect(&m.id).await.map_err(|e| -> UpError {
                if is_connection_error(&e) {
                    return api("cannot inspect a container")(e).into();
                }
                self.fail(
                    &m.name,
                    format!("cannot inspect {}: {}", m.name, describe(&e)),
                )
            })?;
            let snap = Snapshot::from_inspect(&info);
            if snap.status == "running" {
                running_since.get_or_insert_with(Instant::now);
            }
            let running_for = running_since.map_or(Duration::ZERO, |t| t.elapsed());
            // Podman without systemd never runs the check itself: run it at
            // its interval, so `retries` and `unhealthy` mean what they do
            // on Docker.
            if self.engine.podman && snap.health.as_deref() == Some("starting") {
                let every = health_interval(&info);
                let since = engine_check.or(running_since).unwrap_or_else(Instant::now);
                if since.elapsed() >= every {
                    engine_check = Some(Instant::now());
                    let _ = compat::run_healthcheck(&self.engine.host, &m.id).await;
                }
            }
            match wait::assess(&snap, self.plan.wait, running_for, m.was_running) {
                Verdict::Ready(how) => {
                    let _ = self.tx.send(State::Ready(how));
                    return Ok(how);
                }
                Verdict::Completed => {
                    let _ = self.tx.send(State::Completed);
                    return Ok("completed");
                }
                Verdict::Failed(f) => return Err(self.failure(m, f, &snap).await),
                Verdict::NotYet => {}
            }
            // Starting with a healthcheck: run it now rather than wait for the
            // engine's first scheduled check (same test, same meaning).
            if snap.status == "running"
                && snap.health.as_deref() == Some("starting")
                && matches!(self.plan.wait, Wait::Ready | Wait::Healthy)
                && last_probe.is_none_or(|t| t.elapsed() >= Duration::from_millis(200))
                && let Some(cmd) = snap.test.as_deref().and_then(exec::healthcheck_command)
            {
                last_probe = Some(Instant::now());
                match exec::run(self.engine, &m.id, &cmd, Duration::from_secs(10)).await {
                    Ok((0, _)) => {
                        let _ = self.tx.send(State::Ready("healthy"));
                        return Ok("healthy");
                    }
                    Ok((code, out)) if wait::probe_cannot_run(code, &out) => {
                        return Err(self.fail(&m.name, format!(
                            "service {}'s healthcheck cannot run in its container (exit {code}): {}\n  the command is not in the image; fix `healthcheck.test` in {}",
                            self.plan.service,
                            out.trim(),
                            files(self.project)
                        )));
                    }
                    _ => {}
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(250));
        }
    }

    async fn failure(&self, m: &Made, f: Failure, snap: &Snapshot) -> UpError {
        let service = &self.plan.service;
        let what = match f {
            Failure::Exited(code) => format!("exited with code {code}"),
            Failure::Restarting(code) => format!("keeps restarting (last exit code {code})"),
            Failure::Dead => "is dead (the engine could not run it)".into(),
            Failure::Unhealthy => "is unhealthy".into(),
            Failure::NoHealthcheck => "has no healthcheck, and a service depends on it being healthy (add one, or use condition: service_started)".into(),
            Failure::ExitedWhileHealthyWanted(code) => format!(
                "exited with code {code}, and a service depends on it being healthy"
            ),
        };
        let mut message = format!("service {service} {what}");
        if f == Failure::Unhealthy {
            let checks = wait::describe_checks(snap);
            if !checks.is_empty() {
                message.push_str(&format!("\n  its last health checks:\n{checks}"));
            }
        }
        let logs = stack::last_lines(self.engine, &m.id, 20).await;
        if logs.is_empty() {
            message.push_str("\n  it wrote no logs");
        } else {
            message.push_str(&format!(
                "\n  its last log lines:\n{}",
                logs.iter()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        message.push_str(&format!(
            "\n  the rest of the stack is still there: `brickyard ps`, `brickyard logs {service}`, `brickyard down`"
        ));
        self.fail(&m.name, message)
    }
}

#[derive(Clone, Copy)]
enum Hook {
    PreStop,
}

/// A service's `post_start` hooks, in order, in the container it just
/// started; one that fails fails the service, as in Compose.
async fn run_post_start(engine: &Engine, svc: &Service, id: &str) -> Result<(), String> {
    for hook in &svc.post_start {
        let (code, out) = run_hook(engine, hook, id).await?;
        if code != 0 {
            return Err(format!(
                "service {}'s post_start hook {:?} exited with code {code}: {}",
                svc.name,
                hook.command.clone().unwrap_or_default().join(" "),
                out.trim()
            ));
        }
    }
    Ok(())
}

/// `pre_stop` hooks before a container is stopped; a failure is reported
/// and the stop goes on (the container is going away either way).
async fn hooks(engine: &Engine, svc: &Service, id: &str, which: Hook, reporter: &dyn Reporter) {
    let list = match which {
        Hook::PreStop => &svc.pre_stop,
    };
    for hook in list {
        match run_hook(engine, hook, id).await {
            Ok((0, _)) => {}
            Ok((code, out)) => reporter.event(Event::Warning(format!(
                "service {}'s pre_stop hook exited with code {code}: {}",
                svc.name,
                out.trim()
            ))),
            Err(e) => reporter.event(Event::Warning(format!(
                "service {}'s pre_stop hook could not run: {e}",
                svc.name
            ))),
        }
    }
}

async fn run_hook(
    engine: &Engine,
    hook: &crate::compose::model::ServiceHook,
    id: &str,
) -> Result<(i64, String), String> {
    let who = exec::As {
        user: (!hook.user.is_empty()).then(|| hook.user.clone()),
        privileged: hook.privileged,
        working_dir: (!hook.working_dir.is_empty()).then(|| hook.working_dir.clone()),
        env: hook
            .environment
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect(),
    };
    let cmd = hook.command.clone().unwrap_or_default();
    exec::run_as(engine, id, &cmd, &who, Duration::from_secs(60)).await
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Writes a secret's or config's content into the container (before start).
async fn inject(engine: &Engine, id: &str, f: &InjectedFile) -> Result<(), String> {
    let mut header = tar::Header::new_gnu();
    header.set_size(f.content.len() as u64);
    header.set_mode(f.mode as u32);
    header.set_uid(f.uid.unwrap_or(0));
    header.set_gid(f.gid.unwrap_or(0));
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_data(
            &mut header,
            f.target.trim_start_matches('/'),
            f.content.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    let tar = builder.into_inner().map_err(|e| e.to_string())?;
    engine
        .docker
        .upload_to_container(
            id,
            Some(UploadToContainerOptions {
                path: "/".into(),
                copy_uidgid: (f.uid.is_some() || f.gid.is_some()).then(|| "1".into()),
                ..Default::default()
            }),
            bollard::body_full(tar.into()),
        )
        .await
        .map_err(|e| {
            format!(
                "cannot write {} into the container: {}",
                f.target,
                describe(&e)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::refused_port;

    #[test]
    fn the_port_an_engine_refused_is_read_from_its_message() {
        let docker = "cannot start demo-2-postgres-1: driver failed programming external connectivity on endpoint demo-2-postgres-1 (113de2): Bind for 127.0.0.1:5432 failed: port is already allocated";
        assert_eq!(refused_port(docker), Some(5432));
        let podman = "cannot start x-redis-1: rootlessport listen tcp 127.0.0.1:6379: bind: address already in use";
        assert_eq!(refused_port(podman), Some(6379));
        assert_eq!(refused_port("cannot start x: no such image"), None);
    }
}
