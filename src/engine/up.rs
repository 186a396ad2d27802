//! `up`: preflight, images, network and volumes, then every service created
//! and started as soon as what it depends on is ready, and a wait until all
//! are healthy (or running, when they have no healthcheck).

use std::collections::{BTreeMap, HashMap};
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerStateStatusEnum, HealthStatusEnum, NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{CreateContainerOptions, ListContainersOptions};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use super::*;
use crate::compose::{Condition, Project, Service};
use crate::ui::{Bars, Line, Ui};

pub struct UpOptions {
    /// Wait until every service is healthy (or running without a healthcheck).
    pub wait: bool,
    pub timeout: Duration,
    /// Build images even when they exist.
    pub build: bool,
}

/// What happened to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Recreated,
    Started,
    Unchanged,
}

#[derive(Debug, Default)]
pub struct UpReport {
    pub actions: BTreeMap<String, Action>,
    /// How each service was found ready: healthy, running, completed.
    pub readiness: BTreeMap<String, &'static str>,
    pub orphans_removed: Vec<String>,
    /// Seconds from the start of `up` until each service was ready.
    pub ready_after: BTreeMap<String, f64>,
    /// Seconds spent building and pulling images.
    pub images_secs: f64,
}

/// Why `up` stopped short; carries what a person needs to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UpFailure {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    Started,
    /// Healthy, or running when there is no healthcheck.
    Ready,
    Completed,
    Failed(String),
}

fn satisfies(state: &State, cond: Condition) -> bool {
    match cond {
        Condition::Started => matches!(state, State::Started | State::Ready | State::Completed),
        Condition::Healthy => matches!(state, State::Ready),
        Condition::CompletedSuccessfully => matches!(state, State::Completed),
    }
}

pub async fn up(
    engine: &Engine,
    ui: &Ui,
    project: &Project,
    opts: &UpOptions,
) -> anyhow::Result<UpReport> {
    let started = Instant::now();
    for w in &project.warnings {
        ui.warn(w);
    }
    let existing: HashMap<String, ContainerSummary> = engine
        .project_containers(&project.name)
        .await?
        .into_iter()
        .filter(|c| label(c, LABEL_ONEOFF) != Some("True"))
        .filter_map(|c| label(&c, LABEL_SERVICE).map(String::from).map(|s| (s, c)))
        .collect();

    preflight_ports(engine, project, &existing).await?;

    let bars = ui.bars();
    let images_started = Instant::now();
    let image_ids = images::ensure(engine, ui, &bars, project, opts.build).await?;
    let images_secs = images_started.elapsed().as_secs_f64();
    ensure_network(engine, project).await?;
    ensure_volumes(engine, project).await?;

    let mut report = UpReport {
        images_secs,
        ..UpReport::default()
    };
    let orphans: Vec<ContainerSummary> = existing
        .iter()
        .filter(|(s, _)| !project.services.contains_key(*s))
        .map(|(_, c)| c.clone())
        .collect();
    if !orphans.is_empty() {
        for c in &orphans {
            ui.status(format!(
                "removing {} (service {} is no longer in {})",
                stack::display_name(c),
                label(c, LABEL_SERVICE).unwrap_or("?"),
                project.file.display()
            ));
        }
        stack::remove_containers(engine, &orphans).await?;
        report.orphans_removed = orphans.iter().map(stack::display_name).collect();
    }

    // A service waits for health when asked to, or when a dependent needs it.
    let needed: HashMap<&str, bool> = project
        .services
        .keys()
        .map(|name| {
            let by_dependent = project.services.values().any(|s| {
                s.depends_on
                    .get(name)
                    .is_some_and(|c| *c != Condition::Started)
            });
            (name.as_str(), opts.wait || by_dependent)
        })
        .collect();

    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for name in project.services.keys() {
        let (tx, rx) = watch::channel(State::Pending);
        senders.insert(name.clone(), tx);
        receivers.insert(name.clone(), rx);
    }
    let lines: HashMap<String, Line> = project
        .services
        .keys()
        .map(|n| (n.clone(), bars.spinner(n)))
        .collect();

    let mut tasks = FuturesUnordered::new();
    for (name, svc) in &project.services {
        let ctx = ServiceRun {
            engine,
            ui,
            bars: &bars,
            project,
            name,
            svc,
            image_id: image_ids.get(name).cloned().unwrap_or_default(),
            existing: existing.get(name),
            tx: senders.remove(name).expect("one sender per service"),
            deps: svc
                .depends_on
                .iter()
                .map(|(d, c)| (d.clone(), *c, receivers[d].clone()))
                .collect(),
            wait_ready: needed[name.as_str()],
            line: lines[name].clone(),
            started,
        };
        tasks.push(async move {
            let name = ctx.name.clone();
            (name, ctx.run().await)
        });
    }

    let run_all = async {
        while let Some((name, result)) = tasks.next().await {
            match result {
                Ok((action, ready)) => {
                    report.actions.insert(name.clone(), action);
                    if let Some((how, t)) = ready {
                        report.readiness.insert(name.clone(), how);
                        report.ready_after.insert(name, t);
                    }
                }
                Err(failure) => return Err(failure),
            }
        }
        Ok(())
    };
    let outcome = tokio::time::timeout(opts.timeout, run_all).await;
    for line in lines.values() {
        line.clear();
    }
    match outcome {
        Ok(Ok(())) => Ok(report),
        Ok(Err(failure)) => Err(anyhow::Error::new(failure)),
        Err(_) => {
            let waiting: Vec<String> = receivers
                .iter()
                .filter(|(_, rx)| !matches!(*rx.borrow(), State::Ready | State::Completed))
                .map(|(n, rx)| format!("{n} ({})", describe_state(&rx.borrow())))
                .collect();
            Err(anyhow::Error::new(UpFailure {
                message: format!(
                    "gave up after {} s waiting for: {}\n  see `brickyard logs {}`; raise the limit with --timeout",
                    opts.timeout.as_secs(),
                    waiting.join(", "),
                    waiting
                        .first()
                        .map(|w| w.split(' ').next().unwrap_or(""))
                        .unwrap_or("")
                ),
            }))
        }
    }
}

fn describe_state(s: &State) -> &'static str {
    match s {
        State::Pending => "waiting for its dependencies",
        State::Started => "started, not healthy yet",
        State::Ready => "ready",
        State::Completed => "completed",
        State::Failed(_) => "failed",
    }
}

/// Every published host port must be free, or held by this project's own
/// container for the same service (which `up` keeps or replaces). Nothing is
/// created when one is taken.
async fn preflight_ports(
    engine: &Engine,
    project: &Project,
    existing: &HashMap<String, ContainerSummary>,
) -> Result<(), UpFailure> {
    let mut seen: HashMap<(String, u16, String), String> = HashMap::new();
    let mut problems = Vec::new();
    for (name, svc) in &project.services {
        for port in &svc.ports {
            let Some(host) = port.host else { continue };
            if let Some(other) = seen.insert(
                (port.host_ip.clone(), host, port.protocol.clone()),
                name.clone(),
            ) {
                problems.push(format!(
                    "port {host} is published by both {other} and {name} in {}",
                    project.file.display()
                ));
                continue;
            }
            let ours = existing.get(name).is_some_and(|c| {
                c.ports
                    .iter()
                    .flatten()
                    .any(|p| p.public_port == Some(host))
            });
            if ours || port_is_free(&port.host_ip, host, &port.protocol) {
                continue;
            }
            let holder = container_on_port(engine, host).await;
            problems.push(match holder {
                Some(c) => format!(
                    "port {host} for service {name} is taken by container {c}; stop it, or change the port in {}",
                    project.file.display()
                ),
                None => format!(
                    "port {host} for service {name} is taken by a program outside Docker (`ss -ltnp 'sport = :{host}'` shows which); stop it, or change the port in {}",
                    project.file.display()
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(UpFailure {
            message: format!("nothing was started:\n  {}", problems.join("\n  ")),
        })
    }
}

pub fn port_is_free(ip: &str, port: u16, protocol: &str) -> bool {
    let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
    match protocol {
        "udp" => UdpSocket::bind((ip, port)).is_ok(),
        _ => TcpListener::bind((ip, port)).is_ok(),
    }
}

async fn container_on_port(engine: &Engine, port: u16) -> Option<String> {
    let running = engine
        .docker
        .list_containers(Some(ListContainersOptions::default()))
        .await
        .ok()?;
    running
        .iter()
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

async fn ensure_network(engine: &Engine, project: &Project) -> Result<(), EngineError> {
    let name = network_name(&project.name);
    if engine.docker.inspect_network(&name, None).await.is_ok() {
        return Ok(());
    }
    let labels = HashMap::from([
        (LABEL_PROJECT.to_string(), project.name.clone()),
        (LABEL_NETWORK.to_string(), "default".to_string()),
        (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
    ]);
    match engine
        .docker
        .create_network(NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(labels),
            ..Default::default()
        })
        .await
    {
        // Another `up` may have made it meanwhile.
        Err(_) if engine.docker.inspect_network(&name, None).await.is_ok() => Ok(()),
        other => other
            .map(|_| ())
            .map_err(api(format!("cannot create network {name}"))),
    }
}

async fn ensure_volumes(engine: &Engine, project: &Project) -> Result<(), EngineError> {
    for vol in &project.volumes {
        let name = volume_name(&project.name, vol);
        if engine.docker.inspect_volume(&name).await.is_ok() {
            continue;
        }
        let labels = HashMap::from([
            (LABEL_PROJECT.to_string(), project.name.clone()),
            (LABEL_VOLUME.to_string(), vol.clone()),
            (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
        ]);
        engine
            .docker
            .create_volume(VolumeCreateRequest {
                name: Some(name.clone()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(api(format!("cannot create volume {name}")))?;
    }
    Ok(())
}

/// How long a service without a healthcheck must stay running to count as up.
const SETTLE: Duration = Duration::from_secs(1);

struct ServiceRun<'a> {
    engine: &'a Engine,
    ui: &'a Ui,
    bars: &'a Bars,
    project: &'a Project,
    name: &'a String,
    svc: &'a Service,
    image_id: String,
    existing: Option<&'a ContainerSummary>,
    tx: watch::Sender<State>,
    deps: Vec<(String, Condition, watch::Receiver<State>)>,
    wait_ready: bool,
    line: Line,
    started: Instant,
}

impl ServiceRun<'_> {
    fn say(&self, msg: &str) {
        self.line.set_message(msg);
        if !self.bars.is_live() {
            self.ui.status(format!("{}: {msg}", self.name));
        }
    }

    fn fail(&self, message: String) -> UpFailure {
        let _ = self.tx.send(State::Failed(message.clone()));
        UpFailure { message }
    }

    async fn run(self) -> Result<(Action, Option<(&'static str, f64)>), UpFailure> {
        // 1. What it depends on.
        for (dep, cond, rx) in &self.deps {
            let mut rx = rx.clone();
            self.say(&format!("waiting for {dep} ({})", cond.label()));
            loop {
                let state = rx.borrow_and_update().clone();
                if satisfies(&state, *cond) {
                    break;
                }
                if let State::Failed(_) = state {
                    return Err(self.fail(format!(
                        "{} was not started: its dependency {dep} failed",
                        self.name
                    )));
                }
                if rx.changed().await.is_err() {
                    return Err(self.fail(format!(
                        "{} was not started: {dep} stopped reporting",
                        self.name
                    )));
                }
            }
        }

        // 2. The container: keep, start, create or recreate.
        let hash = container::config_hash(self.project, self.name, self.svc, &self.image_id);
        let cname = container_name(&self.project.name, self.name);
        let action = match self.existing {
            Some(c) if label(c, LABEL_HASH) == Some(hash.as_str()) => {
                if c.state.as_ref().map(|s| s.to_string()).as_deref() == Some("running") {
                    Action::Unchanged
                } else {
                    self.start(&cname).await?;
                    Action::Started
                }
            }
            Some(c) => {
                self.say("recreating (its configuration changed)");
                stack::remove_containers(self.engine, std::slice::from_ref(c))
                    .await
                    .map_err(|e| self.fail(e.to_string()))?;
                self.create(&cname, &hash).await?;
                self.start(&cname).await?;
                Action::Recreated
            }
            None => {
                self.say("creating");
                self.create(&cname, &hash).await?;
                self.start(&cname).await?;
                Action::Created
            }
        };
        let _ = self.tx.send(State::Started);
        if !self.wait_ready {
            self.line.finish("started");
            return Ok((action, None));
        }

        // 3. Healthy (or running, or exited 0 for a one-shot job).
        let ready = self
            .wait_ready_or_fail(&cname, action == Action::Unchanged)
            .await?;
        let secs = self.started.elapsed().as_secs_f64();
        self.line.finish(format!("{ready} ({secs:.1}s)"));
        if !self.bars.is_live() {
            self.ui
                .status(format!("{}: {ready} after {secs:.1}s", self.name));
        }
        Ok((action, Some((ready, secs))))
    }

    async fn start(&self, cname: &str) -> Result<(), UpFailure> {
        self.say("starting");
        self.engine
            .docker
            .start_container(cname, None)
            .await
            .map_err(|e| self.fail(format!("cannot start {cname}: {}", describe(&e))))
    }

    async fn create(&self, cname: &str, hash: &str) -> Result<(), UpFailure> {
        let body = container::body(self.project, self.name, self.svc, hash, &self.image_id);
        self.engine
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(cname.to_string()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .map(|_| ())
            .map_err(|e| {
                self.fail(format!(
                    "cannot create container {cname} for service {}: {}",
                    self.name,
                    describe(&e)
                ))
            })
    }

    async fn wait_ready_or_fail(
        &self,
        cname: &str,
        already_running: bool,
    ) -> Result<&'static str, UpFailure> {
        // The last line of output under the spinner while it starts.
        let follower = self.bars.is_live().then(|| {
            let line = self.line.clone();
            let mut logs = self.engine.docker.logs(
                cname,
                Some(bollard::query_parameters::LogsOptions {
                    follow: true,
                    stdout: true,
                    stderr: true,
                    tail: "1".into(),
                    ..Default::default()
                }),
            );
            async move {
                while let Some(Ok(chunk)) = logs.next().await {
                    let text = String::from_utf8_lossy(&chunk.into_bytes())
                        .trim()
                        .to_string();
                    if !text.is_empty() {
                        line.set_message(text);
                    }
                }
            }
        });
        let poll = async {
            let mut delay = Duration::from_millis(50);
            let mut last_probe: Option<Instant> = None;
            let mut running_since: Option<Instant> = None;
            loop {
                let info = self
                    .engine
                    .docker
                    .inspect_container(cname, None)
                    .await
                    .map_err(|e| self.fail(format!("cannot inspect {cname}: {}", describe(&e))))?;
                let state = info.state.unwrap_or_default();
                let health = state.health.as_ref().and_then(|h| h.status);
                let exit = state.exit_code.unwrap_or(0);
                match (state.status, health) {
                    (Some(ContainerStateStatusEnum::RUNNING), Some(HealthStatusEnum::HEALTHY)) => {
                        let _ = self.tx.send(State::Ready);
                        return Ok("healthy");
                    }
                    (
                        Some(ContainerStateStatusEnum::RUNNING),
                        None | Some(HealthStatusEnum::NONE) | Some(HealthStatusEnum::EMPTY),
                    ) => {
                        // No healthcheck: "up" means it stays running, not that it
                        // was running the instant before it crashed on bad config.
                        let since = *running_since.get_or_insert_with(Instant::now);
                        if already_running || since.elapsed() >= SETTLE {
                            let _ = self.tx.send(State::Ready);
                            return Ok("running");
                        }
                    }
                    (
                        Some(ContainerStateStatusEnum::RUNNING),
                        Some(HealthStatusEnum::UNHEALTHY),
                    ) => {
                        let checks = state
                            .health
                            .and_then(|h| h.log)
                            .unwrap_or_default()
                            .iter()
                            .rev()
                            .take(3)
                            .map(|r| {
                                // The last lines say what went wrong; a traceback's head does not.
                                let out = r.output.clone().unwrap_or_default();
                                let lines: Vec<&str> = out.trim().lines().collect();
                                let tail = lines[lines.len().saturating_sub(3)..].join("\n      ");
                                format!("    exit {}: {tail}", r.exit_code.unwrap_or(-1))
                            })
                            .collect::<Vec<_>>()
                            .join("\n");
                        return Err(self
                            .failure_with_logs(cname, "is unhealthy", Some(checks))
                            .await);
                    }
                    (Some(ContainerStateStatusEnum::EXITED), _) if exit == 0 => {
                        let _ = self.tx.send(State::Completed);
                        return Ok("completed");
                    }
                    (
                        Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD),
                        _,
                    ) => {
                        return Err(self
                            .failure_with_logs(cname, &format!("exited with code {exit}"), None)
                            .await);
                    }
                    (Some(ContainerStateStatusEnum::RESTARTING), _) => {
                        return Err(self
                            .failure_with_logs(
                                cname,
                                &format!("keeps restarting (last exit code {exit})"),
                                None,
                            )
                            .await);
                    }
                    (Some(ContainerStateStatusEnum::RUNNING), Some(HealthStatusEnum::STARTING)) => {
                        // Run the service's own healthcheck now rather than wait for the
                        // engine's first scheduled one (an interval away): the same test,
                        // so the same meaning of "healthy", minus the idle wait.
                        let test = info
                            .config
                            .as_ref()
                            .and_then(|c| c.healthcheck.as_ref())
                            .and_then(|h| h.test.clone());
                        let due =
                            last_probe.is_none_or(|t| t.elapsed() >= Duration::from_millis(200));
                        if let (Some(cmd), true) =
                            (test.as_deref().and_then(exec::healthcheck_command), due)
                        {
                            last_probe = Some(Instant::now());
                            if let Ok((0, _)) =
                                exec::run(self.engine, cname, &cmd, Duration::from_secs(10)).await
                            {
                                let _ = self.tx.send(State::Ready);
                                return Ok("healthy");
                            }
                        }
                    }
                    _ => {}
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(250));
            }
        };
        match follower {
            Some(f) => {
                tokio::select! {
                    r = poll => r,
                    _ = f => std::future::pending().await,
                }
            }
            None => poll.await,
        }
    }

    async fn failure_with_logs(
        &self,
        cname: &str,
        what: &str,
        checks: Option<String>,
    ) -> UpFailure {
        let logs = stack::last_lines(self.engine, cname, 20).await;
        let mut message = format!("service {} {what}", self.name);
        if let Some(checks) = checks.filter(|c| !c.is_empty()) {
            message.push_str(&format!("\n  its last health checks:\n{checks}"));
        }
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
        message.push_str(&format!("\n  the rest of the stack is still there: `brickyard ps`, `brickyard logs {}`, `brickyard down`", self.name));
        self.fail(message)
    }
}
