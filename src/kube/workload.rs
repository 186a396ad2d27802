//! One compose service -> its Kubernetes resources: a Deployment (or a
//! StatefulSet when it keeps data in a named volume), a Service for its
//! ports, ConfigMaps for the files it mounts, and a report line for every
//! key it has.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Resource;
use super::names::{dns_label, labels, port_name, selector};
use super::report::{Outcome, Report};
use super::secrets::{self, Secret};
use crate::compose::model::{Project, Service};

/// The image the init containers that wait for a dependency run.
pub const WAIT_IMAGE: &str = "busybox:1.36.1";
/// What a claim asks for when compose says nothing of size.
pub const CLAIM_SIZE: &str = "1Gi";

/// What the translation reads: the project as `up` loads it, and the same
/// files loaded with `.env` variables as markers (None when that load
/// failed: then values are matched instead).
pub struct Input<'a> {
    pub project: &'a Project,
    pub marked: Option<&'a Project>,
    /// `.env` variable -> its value.
    pub env_values: &'a BTreeMap<String, String>,
}

/// The users that official images which start as root switch to: a pod
/// that must not run as root asks for that user from the start (each
/// image supports `--user`). From the images' Dockerfiles.
const IMAGE_USERS: [(&str, i64, i64); 6] = [
    ("postgres", 999, 999),
    ("mysql", 999, 999),
    ("redis", 999, 999),
    ("rabbitmq", 999, 999),
    ("memcached", 11211, 11211),
    ("prom/prometheus", 65534, 65534),
];

/// Everything about one service the translation needs from the others.
pub struct Context<'a> {
    pub input: &'a Input<'a>,
    pub secret: &'a mut Secret,
    pub report: &'a mut Report,
    /// Services that get a Kubernetes Service (they publish or expose a port).
    pub reachable: &'a BTreeMap<String, Vec<(u32, String)>>,
    /// Named volume -> the services that mount it.
    pub volume_users: &'a BTreeMap<String, Vec<String>>,
}

pub fn translate(ctx: &mut Context, name: &str, svc: &Service) -> Vec<Resource> {
    let marked = ctx.input.marked.and_then(|p| p.services.get(name));
    let mut handled: BTreeSet<&'static str> = BTreeSet::new();
    let mut out = Vec::new();
    let k8s = dns_label(name);
    if k8s != name {
        ctx.report.add(
            name,
            "name",
            Outcome::Approximated,
            format!("resources are named `{k8s}` (Kubernetes names allow only a-z, 0-9 and -): other services must use that name"),
        );
    }

    // Environment first: args and probes refer to the names it defines.
    let env = env_sources(ctx, name, svc, marked);
    let command = marked_list(
        ctx.input,
        svc.command.as_ref(),
        marked.and_then(|m| m.command.as_ref()),
    );
    let entrypoint = marked_list(
        ctx.input,
        svc.entrypoint.as_ref(),
        marked.and_then(|m| m.entrypoint.as_ref()),
    );
    let health = marked
        .and_then(|m| m.healthcheck.clone())
        .or_else(|| svc.healthcheck.clone())
        .map(|mut h| {
            if marked.is_none() {
                h.test = h.test.iter().map(|t| mark_values(ctx.input, t)).collect();
            }
            h
        });
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for s in command.iter().flatten().chain(entrypoint.iter().flatten()) {
        extra.extend(secrets::vars_in(s));
    }
    if let Some(h) = &health {
        h.test
            .iter()
            .for_each(|t| extra.extend(secrets::vars_in(t)));
    }
    let (env_list, names) = env_entries(ctx, name, &env, &extra);
    if !svc.environment.is_empty() || !env.is_empty() {
        let from_secret = env_list
            .iter()
            .filter(|e| e.get("valueFrom").is_some())
            .count();
        ctx.report.add(
            name,
            "environment",
            Outcome::Translated,
            format!(
                "container env ({} {}; {from_secret} read from Secret `{}`, whose values come from .env)",
                env_list.len(),
                if env_list.len() == 1 { "entry" } else { "entries" },
                ctx.secret.name
            ),
        );
    }
    handled.insert("environment");

    let mut container = serde_json::Map::new();
    container.insert("name".into(), json!(k8s));
    let (image, pull) = image_of(ctx, name, svc);
    container.insert("image".into(), json!(image));
    container.insert("imagePullPolicy".into(), json!(pull));
    handled.extend(["image", "build", "pull_policy"]);
    // Compose's entrypoint is Kubernetes' command; its command, the args.
    for (words, field, key) in [
        (&entrypoint, "command", "entrypoint"),
        (&command, "args", "command"),
    ] {
        if let Some(words) = words {
            let expanded: Vec<String> = words
                .iter()
                .map(|s| secrets::k8s_expansion(s, &names))
                .collect();
            container.insert(field.into(), json!(expanded));
            ctx.report.add(
                name,
                key,
                Outcome::Translated,
                format!("container `{field}` (a secret as a `$(VAR)` reference)"),
            );
            handled.insert(key);
        }
    }
    if !env_list.is_empty() {
        container.insert("env".into(), Value::Array(env_list));
    }
    if !svc.working_dir.is_empty() {
        container.insert("workingDir".into(), json!(svc.working_dir));
        ctx.report.add(
            name,
            "working_dir",
            Outcome::Translated,
            "container `workingDir`",
        );
        handled.insert("working_dir");
    }
    if svc.tty {
        container.insert("tty".into(), json!(true));
        ctx.report
            .add(name, "tty", Outcome::Translated, "container `tty`");
        handled.insert("tty");
    }
    if svc.stdin_open {
        container.insert("stdin".into(), json!(true));
        ctx.report
            .add(name, "stdin_open", Outcome::Translated, "container `stdin`");
        handled.insert("stdin_open");
    }

    // Ports: the container's, and a Service for the others to reach it.
    let ports = ctx.reachable.get(name).cloned().unwrap_or_default();
    if !ports.is_empty() {
        container.insert(
            "ports".into(),
            json!(ports
                .iter()
                .map(|(p, proto)| json!({"name": port_name(*p, proto), "containerPort": p, "protocol": proto}))
                .collect::<Vec<_>>()),
        );
        out.push(service_resource(ctx.input.project, name, &ports));
    }
    for p in &svc.ports {
        let local = if p.published.is_empty() {
            p.target.to_string()
        } else {
            p.published.clone()
        };
        let outcome = if p.host_ip.is_empty() || p.host_ip == "127.0.0.1" {
            Outcome::Translated
        } else {
            Outcome::Approximated
        };
        ctx.report.add(
            name,
            "ports",
            outcome,
            format!(
                "Service `{k8s}` port {} (ClusterIP); from this machine: `kubectl port-forward svc/{k8s} {local}:{}` (binds 127.0.0.1), or the nodeport component",
                p.target, p.target
            ),
        );
    }
    handled.insert("ports");
    if !svc.expose.is_empty() {
        ctx.report.add(
            name,
            "expose",
            Outcome::Translated,
            format!("Service `{k8s}` ports"),
        );
        handled.insert("expose");
    }

    // Probes from the healthcheck.
    if let Some(h) = &health {
        match super::probes::probes(h, &names) {
            Some((probes, how)) => {
                for (k, v) in probes {
                    container.insert(k.into(), v);
                }
                ctx.report
                    .add(name, "healthcheck", Outcome::Approximated, how);
            }
            None => ctx.report.add(
                name,
                "healthcheck",
                Outcome::Translated,
                "disabled: no probes (the pod is ready once it runs)",
            ),
        }
        handled.insert("healthcheck");
    }

    // Volumes: claims, ConfigMaps, emptyDirs.
    let mounts = super::volumes::volumes(ctx, name, svc, &mut out);
    handled.extend(["volumes", "configs", "tmpfs"]);
    if !mounts.mounts.is_empty() {
        container.insert("volumeMounts".into(), Value::Array(mounts.mounts));
    }

    container.insert("resources".into(), resources(ctx, name, svc, &mut handled));
    let (pod_security, container_security) = security(ctx, name, svc, &image, &mut handled);
    container.insert("securityContext".into(), container_security);

    let mut pod = serde_json::Map::new();
    pod.insert("automountServiceAccountToken".into(), json!(false));
    pod.insert("securityContext".into(), pod_security);
    if svc.init == Some(true) {
        // The pod's pause process becomes PID 1: it reaps orphans, and the
        // program gets the default handling of SIGTERM, as under an init.
        pod.insert("shareProcessNamespace".into(), json!(true));
        ctx.report.add(
            name,
            "init",
            Outcome::Approximated,
            "`shareProcessNamespace: true`: the pod's pause process is PID 1 and reaps orphans, so the program is not PID 1 (as under an init); the pod's containers see each other's processes",
        );
        handled.insert("init");
    } else if svc.init == Some(false) {
        ctx.report.add(
            name,
            "init",
            Outcome::Translated,
            "no init process: the program is PID 1, as in a pod by default",
        );
        handled.insert("init");
    }
    let init = wait_containers(ctx, name, svc);
    handled.insert("depends_on");
    if !init.is_empty() {
        pod.insert("initContainers".into(), Value::Array(init));
    }
    pod.insert("containers".into(), json!([Value::Object(container)]));
    if !mounts.volumes.is_empty() {
        pod.insert("volumes".into(), Value::Array(mounts.volumes));
    }
    if !svc.hostname.is_empty() {
        pod.insert("hostname".into(), json!(dns_label(&svc.hostname)));
        ctx.report
            .add(name, "hostname", Outcome::Translated, "pod `hostname`");
        handled.insert("hostname");
    }
    if !svc.extra_hosts.0.is_empty() {
        let aliases: Vec<Value> = svc
            .extra_hosts
            .0
            .iter()
            .flat_map(|(host, ips)| {
                ips.iter()
                    .map(move |ip| json!({"ip": ip, "hostnames": [host]}))
            })
            .collect();
        pod.insert("hostAliases".into(), Value::Array(aliases));
        ctx.report.add(
            name,
            "extra_hosts",
            Outcome::Translated,
            "pod `hostAliases`",
        );
        handled.insert("extra_hosts");
    }
    if let Some(grace) = svc.stop_grace_period {
        pod.insert(
            "terminationGracePeriodSeconds".into(),
            json!(super::probes::seconds(grace.0)),
        );
        ctx.report.add(
            name,
            "stop_grace_period",
            Outcome::Translated,
            "pod `terminationGracePeriodSeconds`",
        );
        handled.insert("stop_grace_period");
    }
    restart(ctx, name, svc, &mut handled);

    let replicas = svc
        .deploy
        .as_ref()
        .and_then(|d| d.replicas)
        .or(svc.scale)
        .unwrap_or(1);
    if svc.scale.is_some() {
        ctx.report.add(
            name,
            "scale",
            Outcome::Translated,
            format!("`replicas: {replicas}`"),
        );
        handled.insert("scale");
    }
    let mut template_meta = json!({"labels": labels(ctx.input.project, name)});
    let annotations: BTreeMap<&String, &String> =
        svc.labels.iter().chain(svc.annotations.iter()).collect();
    if !annotations.is_empty() {
        template_meta["annotations"] = json!(annotations);
    }
    if !svc.labels.is_empty() {
        ctx.report.add(name, "labels", Outcome::Approximated, "pod annotations: a container label has no Kubernetes place, and label values are restricted there");
        handled.insert("labels");
    }
    if !svc.annotations.is_empty() {
        ctx.report
            .add(name, "annotations", Outcome::Translated, "pod annotations");
        handled.insert("annotations");
    }
    let mut spec = serde_json::Map::new();
    spec.insert("replicas".into(), json!(replicas));
    spec.insert(
        "selector".into(),
        json!({"matchLabels": selector(ctx.input.project, name)}),
    );
    let kind = if mounts.claims.is_empty() {
        "Deployment"
    } else {
        "StatefulSet"
    };
    if kind == "StatefulSet" {
        spec.insert("serviceName".into(), json!(k8s));
    }
    spec.insert(
        "template".into(),
        json!({"metadata": template_meta, "spec": Value::Object(pod)}),
    );
    if kind == "StatefulSet" {
        spec.insert("volumeClaimTemplates".into(), Value::Array(mounts.claims));
    }
    out.push(Resource::new(
        json!({
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": k8s, "labels": labels(ctx.input.project, name)},
            "spec": Value::Object(spec),
        }),
        name,
    ));

    deploy_lines(ctx, name, svc, &mut handled);
    if marked.is_some_and(|m| !m.env_files.is_empty()) {
        ctx.report.add(
            name,
            "env_file",
            Outcome::Translated,
            format!("its variables are keys of Secret `{}`", ctx.secret.name),
        );
        handled.insert("env_file");
    }
    the_rest(ctx, name, svc, &handled);
    out
}

/// A value of the service's environment: text (with markers where `.env`
/// values go), or a key of the Secret (a variable of an `env_file`).
enum EnvSource {
    Text(String),
    SecretKey(String),
}

/// Where the marked load is missing, `.env` values long enough not to be
/// found by chance are replaced by their markers.
fn mark_values(input: &Input, s: &str) -> String {
    let mut out = s.to_string();
    for (var, value) in input.env_values {
        if value.len() >= 8 {
            out = out.replace(value.as_str(), &secrets::marker(var));
        }
    }
    out
}

fn marked_list(
    input: &Input,
    real: Option<&Vec<String>>,
    marked: Option<&Vec<String>>,
) -> Option<Vec<String>> {
    match (input.marked, marked) {
        (Some(_), m) => m.cloned(),
        (None, _) => real.map(|v| v.iter().map(|s| mark_values(input, s)).collect()),
    }
}

fn env_sources(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    marked: Option<&Service>,
) -> BTreeMap<String, EnvSource> {
    let mut out = BTreeMap::new();
    let Some(marked) = marked else {
        for (k, v) in &svc.environment {
            if let Some(v) = v {
                out.insert(k.clone(), EnvSource::Text(mark_values(ctx.input, v)));
            }
        }
        return out;
    };
    let project_env = &ctx.input.marked.expect("marked is Some").environment;
    let files = env_file_names(marked);
    for (k, v) in &marked.environment {
        let value = match v {
            Some(v) => Some(EnvSource::Text(v.clone())),
            // A bare name: the project's environment (a marker when .env set it).
            None => project_env
                .get(k)
                .map(|v| EnvSource::Text(v.clone()))
                .or_else(|| files.contains(k).then(|| file_secret(ctx, name, svc, k))),
        };
        if let Some(v) = value {
            out.insert(k.clone(), v);
        }
    }
    for k in &files {
        if !out.contains_key(k) {
            let v = file_secret(ctx, name, svc, k);
            out.insert(k.clone(), v);
        }
    }
    out
}

/// An `env_file` variable goes to the Secret with the value `up` would give it.
fn file_secret(ctx: &mut Context, name: &str, svc: &Service, k: &str) -> EnvSource {
    let value = svc
        .environment
        .get(k)
        .cloned()
        .flatten()
        .unwrap_or_default();
    EnvSource::SecretKey(ctx.secret.key(name, k, &value))
}

/// The variables the service's env files set (values unread here: the
/// real load has them).
fn env_file_names(svc: &Service) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in &svc.env_files {
        if let Ok(text) =
            crate::trust::fs::read_text(std::path::Path::new(&f.path), crate::trust::fs::limit::ENV)
        {
            let mut vars = BTreeMap::new();
            if crate::compose::dotenv::parse_into(&text, &mut vars, &|_, _| None).is_ok() {
                out.extend(vars.into_keys());
            }
        }
    }
    out
}

/// The container's env list: every Secret reference first (so `$(NAME)`
/// in a later value can use it), then the rest, each in name order.
/// Returns the list and, for each `.env` variable, the env name holding it.
fn env_entries(
    ctx: &mut Context,
    service: &str,
    env: &BTreeMap<String, EnvSource>,
    extra: &BTreeSet<String>,
) -> (Vec<Value>, BTreeMap<String, String>) {
    let secret_ref = |name: &str, key: &str, secret: &str| json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}});
    let secret_name = ctx.secret.name.clone();
    let mut first = Vec::new();
    let mut rest = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut wanted: BTreeSet<String> = extra.clone();
    for (k, v) in env {
        match v {
            EnvSource::SecretKey(key) => first.push(secret_ref(k, key, &secret_name)),
            EnvSource::Text(t) => match secrets::only_var(t) {
                Some(var) => {
                    let value = ctx.input.env_values.get(var).cloned().unwrap_or_default();
                    let key = ctx.secret.key(service, var, &value);
                    first.push(secret_ref(k, &key, &secret_name));
                    names.entry(var.to_string()).or_insert_with(|| k.clone());
                }
                None => wanted.extend(secrets::vars_in(t)),
            },
        }
    }
    for var in wanted {
        if names.contains_key(&var) {
            continue;
        }
        let helper = if env.contains_key(&var) {
            format!("BRICKYARD_{var}")
        } else {
            var.clone()
        };
        let value = ctx.input.env_values.get(&var).cloned().unwrap_or_default();
        let key = ctx.secret.key(service, &var, &value);
        first.push(secret_ref(&helper, &key, &secret_name));
        names.insert(var, helper);
    }
    for (k, v) in env {
        if let EnvSource::Text(t) = v
            && secrets::only_var(t).is_none()
        {
            rest.push(json!({"name": k, "value": secrets::k8s_expansion(t, &names)}));
        }
    }
    first.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    first.extend(rest);
    (first, names)
}

fn image_of(ctx: &mut Context, name: &str, svc: &Service) -> (String, &'static str) {
    let built = svc.build.is_some();
    let image = if !svc.image.is_empty() {
        svc.image.clone()
    } else {
        // What Compose tags a built image.
        format!("{}-{}", ctx.input.project.name, name)
    };
    if built {
        ctx.report.add(
            name,
            "build",
            Outcome::Approximated,
            format!("a cluster does not build: `brickyard up` (or `docker compose build`) builds `{image}`; load it (`kind load docker-image {image}`) or push it and set the image in the overlay"),
        );
    }
    if !svc.image.is_empty() {
        ctx.report
            .add(name, "image", Outcome::Translated, "container `image`");
    }
    let pull = match svc.pull_policy.as_str() {
        "always" => "Always",
        "never" => "Never",
        _ => "IfNotPresent",
    };
    if !svc.pull_policy.is_empty() {
        ctx.report.add(
            name,
            "pull_policy",
            Outcome::Translated,
            format!("`imagePullPolicy: {pull}`"),
        );
    }
    (image, pull)
}

fn service_resource(project: &Project, name: &str, ports: &[(u32, String)]) -> Resource {
    Resource::new(
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": dns_label(name), "labels": labels(project, name)},
            "spec": {
                "type": "ClusterIP",
                "selector": selector(project, name),
                "ports": ports.iter().map(|(p, proto)| json!({
                    "name": port_name(*p, proto),
                    "port": p,
                    "targetPort": p,
                    "protocol": proto,
                })).collect::<Vec<_>>(),
            },
        }),
        name,
    )
}

/// The container ports a service answers on, for its Service: published
/// ports and `expose`, each once.
pub fn reachable_ports(svc: &Service) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut add = |port: u32, proto: &str| {
        let proto = if proto.eq_ignore_ascii_case("udp") {
            "UDP"
        } else {
            "TCP"
        }
        .to_string();
        if port > 0 && !out.contains(&(port, proto.clone())) {
            out.push((port, proto));
        }
    };
    for p in &svc.ports {
        add(p.target, &p.protocol);
    }
    for e in &svc.expose {
        let (ports, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<u32>(), hi.parse::<u32>()) {
            (lo..=hi.min(lo + 100)).for_each(|p| add(p, proto));
        }
    }
    out
}

fn cpu(cpus: f32) -> String {
    format!("{}m", ((cpus * 1000.0).round() as i64).max(1))
}

fn memory(bytes: i64) -> String {
    const MI: i64 = 1024 * 1024;
    if bytes % MI == 0 {
        format!("{}Mi", bytes / MI)
    } else {
        bytes.to_string()
    }
}

/// Requests and limits: what compose says, else a default the report names.
fn resources(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    handled: &mut BTreeSet<&'static str>,
) -> Value {
    let limits = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.clone())
        .unwrap_or_default();
    let reservations = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.clone())
        .unwrap_or_default();
    let limit_cpu = if limits.cpus.0 > 0.0 {
        limits.cpus.0
    } else {
        svc.cpus.0
    };
    let limit_mem = if limits.memory.0 > 0 {
        limits.memory.0
    } else {
        svc.mem_limit.0
    };
    let req_cpu = reservations.cpus.0;
    let req_mem = if reservations.memory.0 > 0 {
        reservations.memory.0
    } else {
        svc.mem_reservation.0
    };
    for (key, set) in [
        ("cpus", svc.cpus.0 > 0.0),
        ("mem_limit", svc.mem_limit.0 > 0),
        ("mem_reservation", svc.mem_reservation.0 > 0),
    ] {
        if set {
            ctx.report
                .add(name, key, Outcome::Translated, "container `resources`");
            handled.insert(key);
        }
    }
    let limit_mem_s = if limit_mem > 0 {
        memory(limit_mem)
    } else {
        "512Mi".into()
    };
    let req_mem_s = if req_mem > 0 {
        memory(req_mem)
    } else if limit_mem > 0 {
        memory(limit_mem.min(128 * 1024 * 1024))
    } else {
        "128Mi".into()
    };
    let mut limits_v = json!({"memory": limit_mem_s});
    if limit_cpu > 0.0 {
        limits_v["cpu"] = json!(cpu(limit_cpu));
    } else {
        limits_v["cpu"] = json!("1");
    }
    let requests = json!({"cpu": if req_cpu > 0.0 { cpu(req_cpu) } else { "50m".into() }, "memory": req_mem_s});
    if limit_cpu <= 0.0 && limit_mem <= 0 && req_mem <= 0 {
        ctx.report.note(name, "resources: compose sets none, so requests 50m CPU / 128Mi and limits 1 CPU / 512Mi (tune them in the overlay)");
    }
    json!({"requests": requests, "limits": limits_v})
}

/// Never root, never more privilege: the image's user where compose or
/// brickyard knows it, `runAsNonRoot` always.
fn security(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    image: &str,
    handled: &mut BTreeSet<&'static str>,
) -> (Value, Value) {
    let mut pod = json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    let numeric = |s: &str| s.parse::<i64>().ok();
    let (uid, gid) = match svc.user.split_once(':') {
        Some((u, g)) => (numeric(u), numeric(g)),
        None => (numeric(&svc.user), None),
    };
    let repo = image.rsplit_once(':').map(|(r, _)| r).unwrap_or(image);
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    let known = IMAGE_USERS.iter().find(|(r, _, _)| *r == repo);
    match (uid, known) {
        (Some(0), _) => {
            ctx.report.add(name, "user", Outcome::Approximated, "compose runs it as root; the pod refuses root (`runAsNonRoot`): give it a user, or relax that in the overlay");
        }
        (Some(u), _) => {
            pod["runAsUser"] = json!(u);
            pod["runAsGroup"] = json!(gid.unwrap_or(u));
            pod["fsGroup"] = json!(gid.unwrap_or(u));
            ctx.report.add(
                name,
                "user",
                Outcome::Translated,
                "pod `runAsUser`/`runAsGroup` (and `fsGroup`, so its volumes are writable)",
            );
        }
        (None, Some((_, u, g))) => {
            pod["runAsUser"] = json!(u);
            pod["runAsGroup"] = json!(g);
            pod["fsGroup"] = json!(g);
            let note = format!(
                "runs as {u}:{g}, the image's own unprivileged user, since the pod refuses root"
            );
            if svc.user.is_empty() {
                ctx.report.note(name, format!("user: {note}"));
            } else {
                ctx.report.add(
                    name,
                    "user",
                    Outcome::Approximated,
                    format!("user `{}` {note}", svc.user),
                );
            }
        }
        (None, None) if !svc.user.is_empty() => {
            ctx.report.add(name, "user", Outcome::Approximated, format!("user `{}` is a name; Kubernetes takes a number: `runAsNonRoot` keeps the pod off root, set runAsUser in the overlay", svc.user));
        }
        (None, None) => {}
    }
    handled.insert("user");
    let mut caps = json!({"drop": ["ALL"]});
    if !svc.cap_add.is_empty() {
        caps["add"] = json!(svc.cap_add);
        ctx.report.add(
            name,
            "cap_add",
            Outcome::Translated,
            "container capabilities `add` (after dropping ALL)",
        );
        handled.insert("cap_add");
    }
    if !svc.cap_drop.is_empty() {
        ctx.report.add(
            name,
            "cap_drop",
            Outcome::Translated,
            "every capability is dropped",
        );
        handled.insert("cap_drop");
    }
    let mut container = json!({"allowPrivilegeEscalation": false, "capabilities": caps});
    if svc.read_only {
        container["readOnlyRootFilesystem"] = json!(true);
        ctx.report.add(
            name,
            "read_only",
            Outcome::Translated,
            "`readOnlyRootFilesystem`",
        );
        handled.insert("read_only");
    }
    (pod, container)
}

/// An init container per dependency that waits until its Service answers:
/// a Service sends traffic only to ready pods, so for `service_healthy`
/// this waits for the dependency's readiness probe, its healthcheck.
fn wait_containers(ctx: &mut Context, name: &str, svc: &Service) -> Vec<Value> {
    let mut out = Vec::new();
    for (dep, d) in &svc.depends_on {
        let key = format!("depends_on.{dep}");
        let condition = if d.condition.is_empty() {
            "service_started"
        } else {
            d.condition.as_str()
        };
        if condition == "service_completed_successfully" {
            ctx.report.add(name, &key, Outcome::NotTranslated, format!("Kubernetes cannot wait for another pod to finish: run `{dep}` as a Job before applying"));
            continue;
        }
        let Some((port, _)) = ctx.reachable.get(dep).and_then(|p| p.first()) else {
            ctx.report.add(
                name,
                &key,
                Outcome::NotTranslated,
                format!("`{dep}` has no port, so no Service to wait for: start order is not kept"),
            );
            continue;
        };
        let host = dns_label(dep);
        out.push(json!({
            "name": format!("wait-for-{host}"),
            "image": WAIT_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", wait_script(&host, *port)],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
            "securityContext": {"runAsUser": 65534, "runAsGroup": 65534, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
        }));
        let (outcome, how) = match condition {
            "service_healthy" => (
                Outcome::Translated,
                "until its Service has a ready pod (its healthcheck, as readiness)".to_string(),
            ),
            _ => (
                Outcome::Approximated,
                format!("until its Service has a ready pod: stricter than `{condition}`"),
            ),
        };
        ctx.report.add(
            name,
            &key,
            outcome,
            format!("init container `wait-for-{host}` waits {how} on port {port}"),
        );
    }
    out
}

/// Waits until `host:port` takes a connection. `nc` with stdin closed
/// connects and leaves, in every BusyBox (`-z` is missing from some).
pub fn wait_script(host: &str, port: u32) -> String {
    format!(
        "until nc -w 2 {host} {port} </dev/null >/dev/null 2>&1; do echo waiting for {host}:{port}; sleep 2; done; echo {host}:{port} answers"
    )
}

fn restart(ctx: &mut Context, name: &str, svc: &Service, handled: &mut BTreeSet<&'static str>) {
    if svc.restart.is_empty() {
        return;
    }
    let (outcome, note) = match svc.restart.as_str() {
        "always" | "unless-stopped" => (Outcome::Translated, "its pods restart always".to_string()),
        other => (
            Outcome::Approximated,
            format!("`{other}`: its pods restart always; run it as a Job to run it once"),
        ),
    };
    ctx.report.add(name, "restart", outcome, note);
    handled.insert("restart");
}

fn deploy_lines(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    handled: &mut BTreeSet<&'static str>,
) {
    let Some(deploy) = &svc.deploy else { return };
    handled.insert("deploy");
    let Ok(serde_yaml::Value::Mapping(m)) = serde_yaml::to_value(deploy) else {
        return;
    };
    for k in m.keys().filter_map(|k| k.as_str()) {
        let (outcome, note) = match k {
            "replicas" => (Outcome::Translated, "`replicas`"),
            "resources" => (Outcome::Translated, "container `resources`"),
            "labels" => (
                Outcome::NotTranslated,
                "labels of the Swarm service: Kubernetes has no such object",
            ),
            "restart_policy" => (Outcome::Approximated, "its pods restart always"),
            "update_config" | "rollback_config" => (
                Outcome::NotTranslated,
                "set the Deployment's `strategy` in the overlay",
            ),
            "placement" => (
                Outcome::NotTranslated,
                "set `nodeSelector` or affinity in the overlay",
            ),
            "mode" => (
                Outcome::NotTranslated,
                "a DaemonSet is not written; set `replicas` instead",
            ),
            _ => (
                Outcome::NotTranslated,
                "a Swarm setting with no Kubernetes counterpart brickyard writes",
            ),
        };
        ctx.report.add(name, &format!("deploy.{k}"), outcome, note);
    }
}

/// Every key not handled above gets its line: nothing is dropped silently.
fn the_rest(ctx: &mut Context, name: &str, svc: &Service, handled: &BTreeSet<&'static str>) {
    let Ok(serde_yaml::Value::Mapping(m)) = serde_yaml::to_value(svc) else {
        return;
    };
    for (k, v) in &m {
        let Some(k) = k.as_str() else { continue };
        if handled.contains(k) || k == "name" || v.is_null() {
            continue;
        }
        let (outcome, note): (Outcome, String) = match k {
            "container_name" => (Outcome::NotTranslated, "pods are named by their controller; the Service name is how others reach it".into()),
            "networks" => (Outcome::Approximated, "one cluster network: services find each other by Service name, as on the compose network".into()),
            "links" | "external_links" => (Outcome::Approximated, "Services are found by name".into()),
            "init" => (Outcome::NotTranslated, "Kubernetes has no init option: the image's entrypoint is PID 1 (put tini in the image)".into()),
            "logging" => (Outcome::NotTranslated, "the cluster's log collection reads each container's stdout".into()),
            "develop" => (Outcome::NotTranslated, "watch and sync are for the local loop (`brickyard up`)".into()),
            "profiles" => (Outcome::Translated, "exported because its profile was active (`--profile`)".into()),
            "privileged" => (Outcome::NotTranslated, "refused: the pod runs without privilege".into()),
            "platform" => (Outcome::NotTranslated, "set a `kubernetes.io/arch` nodeSelector in the overlay".into()),
            "stop_signal" => (Outcome::NotTranslated, "Kubernetes sends SIGTERM; make the image's STOPSIGNAL the one it needs".into()),
            "env_file" => (Outcome::Translated, format!("its variables are keys of Secret `{}`", ctx.secret.name)),
            "secrets" | "configs" | "volumes" => continue,
            k if k.starts_with("x-") => (Outcome::NotTranslated, "an extension field: for tools, not the container".into()),
            _ => (Outcome::NotTranslated, "no Kubernetes counterpart that brickyard writes".into()),
        };
        ctx.report.add(name, k, outcome, note);
    }
}
