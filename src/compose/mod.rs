//! compose.yaml on disk -> the stack model the engine boots.
//!
//! The file is the truth: a user's own services, ports and edits are read as
//! they are. Parsing is lenient about shape (short and long syntax of ports,
//! volumes, depends_on, environment, build, healthcheck) and strict about
//! meaning: a key the engine does not act on is named in a warning.

pub mod graph;
pub mod interpolate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml::Value;

use interpolate::{InterpolateError, Vars};

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("no compose file at {path}; run `brickyard new` first, or pass -C DIR / -f FILE")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {source}")]
    Yaml {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("{path}: {source}")]
    Interpolate {
        path: PathBuf,
        source: InterpolateError,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Project {
    pub name: String,
    /// The project directory (where the compose file is).
    pub dir: PathBuf,
    pub file: PathBuf,
    pub services: BTreeMap<String, Service>,
    /// Named volumes, by their name in the file.
    pub volumes: BTreeSet<String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Service {
    pub image: Option<String>,
    pub build: Option<Build>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    pub volumes: Vec<Mount>,
    pub depends_on: BTreeMap<String, Condition>,
    pub healthcheck: Option<Healthcheck>,
    pub user: Option<String>,
    pub init: bool,
    pub working_dir: Option<String>,
    pub restart: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_grace_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Build {
    pub context: PathBuf,
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Port {
    pub host_ip: String,
    /// None: the engine picks a free port.
    pub host: Option<u16>,
    pub container: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum MountKind {
    Volume,
    Bind,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mount {
    pub kind: MountKind,
    /// Volume name as in the file, or an absolute host path.
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

impl Condition {
    pub fn label(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Healthcheck {
    /// `["NONE"]` when disabled, as Docker spells it.
    pub test: Vec<String>,
    pub interval_ns: Option<i64>,
    pub timeout_ns: Option<i64>,
    pub retries: Option<i64>,
    pub start_period_ns: Option<i64>,
}

impl Healthcheck {
    pub fn disabled(&self) -> bool {
        self.test.first().is_some_and(|t| t == "NONE")
    }
}

impl Service {
    /// Whether `up` waits for a health status (a healthcheck here or in the image).
    pub fn declares_health(&self) -> bool {
        self.healthcheck.as_ref().is_some_and(|h| !h.disabled())
    }
}

/// Reads and interpolates `file` (relative to `dir`), with `.env` from `dir`.
pub fn load(dir: &Path, file: &Path) -> Result<Project, ComposeError> {
    let dir = std::path::absolute(dir).map_err(|source| ComposeError::Read {
        path: dir.into(),
        source,
    })?;
    let path = dir.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ComposeError::Missing { path });
        }
        Err(source) => return Err(ComposeError::Read { path, source }),
    };
    let vars = Vars::load(&dir).map_err(|source| ComposeError::Read {
        path: dir.join(".env"),
        source,
    })?;
    parse(&text, &dir, &path, &vars)
}

pub fn parse(text: &str, dir: &Path, path: &Path, vars: &Vars) -> Result<Project, ComposeError> {
    let raw: Value = serde_yaml::from_str(text).map_err(|source| ComposeError::Yaml {
        path: path.into(),
        source,
    })?;
    let doc = interpolate_value(raw, vars).map_err(|source| ComposeError::Interpolate {
        path: path.into(),
        source,
    })?;
    let invalid = |message: String| ComposeError::Invalid {
        path: path.into(),
        message,
    };
    let mut warnings = Vec::new();
    for name in vars.unset.borrow().iter() {
        warnings.push(format!(
            "variable {name} is not set (in the environment or .env); using an empty string"
        ));
    }
    let top = doc
        .as_mapping()
        .ok_or_else(|| invalid("the top level must be a mapping".into()))?;
    for key in top.keys().filter_map(Value::as_str) {
        if !["name", "services", "volumes", "networks", "version"].contains(&key)
            && !key.starts_with("x-")
        {
            warnings.push(format!(
                "top-level `{key}` is not supported by brickyard and was ignored"
            ));
        }
    }
    let name = top
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| vars.get("COMPOSE_PROJECT_NAME").map(String::from))
        .unwrap_or_else(|| {
            crate::plan::suggest_project_name(
                &dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        });
    crate::plan::check_project_name(&name).map_err(|e| invalid(e.to_string()))?;
    if let Some(networks) = top.get("networks").and_then(Value::as_mapping)
        && networks.keys().any(|k| k.as_str() != Some("default"))
    {
        warnings.push(
            "custom networks are not supported: every service joins the project's default network"
                .into(),
        );
    }

    let mut volumes: BTreeSet<String> = top
        .get("volumes")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let mut services = BTreeMap::new();
    let Some(raw_services) = top.get("services").and_then(Value::as_mapping) else {
        return Err(invalid("no `services` in the file".into()));
    };
    for (key, value) in raw_services {
        let svc_name = key
            .as_str()
            .ok_or_else(|| invalid("a service name must be a string".into()))?;
        let svc = parse_service(svc_name, value, dir, &mut warnings)
            .map_err(|m| invalid(format!("service `{svc_name}`: {m}")))?;
        for m in &svc.volumes {
            if m.kind == MountKind::Volume && !volumes.contains(&m.source) {
                warnings.push(format!(
                    "service `{svc_name}` uses volume `{}`, which the top-level `volumes` does not declare; creating it anyway",
                    m.source
                ));
                volumes.insert(m.source.clone());
            }
        }
        services.insert(svc_name.to_string(), svc);
    }
    for (name, svc) in &services {
        for dep in svc.depends_on.keys() {
            if !services.contains_key(dep) {
                return Err(invalid(format!(
                    "service `{name}` depends on `{dep}`, which is not a service in the file"
                )));
            }
        }
    }
    graph::order(&services).map_err(|e| invalid(e.to_string()))?;
    Ok(Project {
        name,
        dir: dir.into(),
        file: path.into(),
        services,
        volumes,
        warnings,
    })
}

fn interpolate_value(v: Value, vars: &Vars) -> Result<Value, InterpolateError> {
    Ok(match v {
        Value::String(s) => Value::String(interpolate::interpolate(&s, vars)?),
        Value::Sequence(seq) => Value::Sequence(
            seq.into_iter()
                .map(|x| interpolate_value(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(map) => Value::Mapping(
            map.into_iter()
                .map(|(k, x)| Ok((k, interpolate_value(x, vars)?)))
                .collect::<Result<_, InterpolateError>>()?,
        ),
        other => other,
    })
}

const SUPPORTED: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "volumes",
    "depends_on",
    "healthcheck",
    "user",
    "working_dir",
    "restart",
    "labels",
    "stop_grace_period",
    "init",
    "expose",
    "networks",
];

fn parse_service(
    name: &str,
    v: &Value,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<Service, String> {
    let map = v.as_mapping().ok_or("must be a mapping")?;
    for key in map.keys().filter_map(Value::as_str) {
        if !SUPPORTED.contains(&key) && !key.starts_with("x-") {
            warnings.push(format!(
                "service `{name}`: `{key}` is not supported by brickyard and was ignored"
            ));
        }
    }
    let get = |k: &str| map.get(k).filter(|v| !v.is_null());
    let mut svc = Service {
        image: get("image").map(scalar).transpose()?,
        user: get("user").map(scalar).transpose()?,
        working_dir: get("working_dir").map(scalar).transpose()?,
        restart: get("restart").map(scalar).transpose()?,
        init: get("init").and_then(Value::as_bool).unwrap_or(false),
        command: get("command").map(|v| command(v, "command")).transpose()?,
        entrypoint: get("entrypoint")
            .map(|v| command(v, "entrypoint"))
            .transpose()?,
        environment: get("environment")
            .map(|v| key_values(v, "environment"))
            .transpose()?
            .unwrap_or_default(),
        labels: get("labels")
            .map(|v| key_values(v, "labels"))
            .transpose()?
            .unwrap_or_default(),
        stop_grace_seconds: get("stop_grace_period")
            .map(|v| duration_ns(v, "stop_grace_period"))
            .transpose()?
            .map(|ns| ns / 1_000_000_000),
        ..Service::default()
    };
    if let Some(b) = get("build") {
        svc.build = Some(build(b, dir)?);
    }
    if svc.image.is_none() && svc.build.is_none() {
        return Err("needs an `image` or a `build`".into());
    }
    for p in get("ports")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        svc.ports.extend(port(p)?);
    }
    for m in get("volumes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        svc.volumes.push(mount(m, dir)?);
    }
    if let Some(d) = get("depends_on") {
        svc.depends_on = depends_on(d)?;
    }
    if let Some(h) = get("healthcheck") {
        svc.healthcheck = Some(healthcheck(h)?);
    }
    Ok(svc)
}

fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("expected a string, got {}", kind(v))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A string is split like a shell would; a list is taken as it is.
fn command(v: &Value, field: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => shell_words::split(s).map_err(|e| format!("`{field}`: {e}")),
        Value::Sequence(items) => items.iter().map(scalar).collect(),
        _ => Err(format!("`{field}` must be a string or a list")),
    }
}

/// `KEY: value` mapping or `KEY=value` list. A bare `KEY` takes the value
/// from the environment, as compose does.
fn key_values(v: &Value, field: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    match v {
        Value::Mapping(m) => {
            for (k, x) in m {
                let k = scalar(k)?;
                let x = if x.is_null() {
                    std::env::var(&k).unwrap_or_default()
                } else {
                    scalar(x).map_err(|e| format!("`{field}.{k}`: {e}"))?
                };
                out.insert(k, x);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                let s = scalar(item)?;
                match s.split_once('=') {
                    Some((k, x)) => out.insert(k.to_string(), x.to_string()),
                    None => out.insert(s.clone(), std::env::var(&s).unwrap_or_default()),
                };
            }
        }
        _ => return Err(format!("`{field}` must be a mapping or a list")),
    }
    Ok(out)
}

fn build(v: &Value, dir: &Path) -> Result<Build, String> {
    let (context, dockerfile, args, target) = match v {
        Value::String(s) => (s.clone(), "Dockerfile".to_string(), BTreeMap::new(), None),
        Value::Mapping(m) => (
            m.get("context")
                .map(scalar)
                .transpose()?
                .unwrap_or_else(|| ".".into()),
            m.get("dockerfile")
                .map(scalar)
                .transpose()?
                .unwrap_or_else(|| "Dockerfile".into()),
            m.get("args")
                .map(|a| key_values(a, "build.args"))
                .transpose()?
                .unwrap_or_default(),
            m.get("target").map(scalar).transpose()?,
        ),
        _ => return Err("`build` must be a path or a mapping".into()),
    };
    if context.contains("://") || context.starts_with("git@") {
        return Err(format!(
            "`build.context` `{context}` is remote; brickyard builds local directories"
        ));
    }
    Ok(Build {
        context: dir.join(context),
        dockerfile,
        args,
        target,
    })
}

/// Short syntax `[ip:][host[-range]:]container[/proto]` or the long mapping.
fn port(v: &Value) -> Result<Vec<Port>, String> {
    if let Value::Mapping(m) = v {
        let container = m
            .get("target")
            .map(scalar)
            .transpose()?
            .ok_or("a long-syntax port needs `target`")?;
        let host = m.get("published").map(scalar).transpose()?;
        return Ok(vec![Port {
            host_ip: m
                .get("host_ip")
                .map(scalar)
                .transpose()?
                .unwrap_or_else(|| "0.0.0.0".into()),
            host: host.map(|h| parse_port(&h)).transpose()?,
            container: parse_port(&container)?,
            protocol: m
                .get("protocol")
                .map(scalar)
                .transpose()?
                .unwrap_or_else(|| "tcp".into()),
        }]);
    }
    let s = scalar(v)?;
    let (spec, protocol) = s.split_once('/').unwrap_or((&s, "tcp"));
    // An IPv6 host address is bracketed: [::1]:8000:80
    let (host_ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, r) = r
            .split_once("]:")
            .ok_or_else(|| format!("port `{s}`: unclosed `[`"))?;
        (Some(ip.to_string()), r.to_string())
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            3 => (
                Some(parts[0].to_string()),
                format!("{}:{}", parts[1], parts[2]),
            ),
            _ => (None, spec.to_string()),
        }
    };
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (Some(h.to_string()).filter(|h| !h.is_empty()), c.to_string()),
        None => (None, rest),
    };
    let range = |s: &str| -> Result<Vec<u16>, String> {
        match s.split_once('-') {
            Some((a, b)) => Ok((parse_port(a)?..=parse_port(b)?).collect()),
            None => Ok(vec![parse_port(s)?]),
        }
    };
    let containers = range(&container)?;
    let hosts = host.as_deref().map(range).transpose()?;
    if let Some(h) = &hosts
        && h.len() != containers.len()
    {
        return Err(format!(
            "port `{s}`: host and container ranges differ in length"
        ));
    }
    Ok(containers
        .iter()
        .enumerate()
        .map(|(i, c)| Port {
            host_ip: host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
            host: hosts.as_ref().map(|h| h[i]),
            container: *c,
            protocol: protocol.to_string(),
        })
        .collect())
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a port number"))
}

fn is_path(s: &str) -> bool {
    s.starts_with('.') || s.starts_with('/') || s.starts_with('~')
}

fn resolve_host_path(s: &str, dir: &Path) -> String {
    let p = if let Some(rest) = s.strip_prefix("~/") {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(rest)
    } else {
        dir.join(s)
    };
    // Lexically normalise ./ and ../ so the engine gets a clean absolute path.
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

/// Short syntax `source:target[:ro]`, or the long mapping.
fn mount(v: &Value, dir: &Path) -> Result<Mount, String> {
    if let Value::Mapping(m) = v {
        let kind = m
            .get("type")
            .map(scalar)
            .transpose()?
            .unwrap_or_else(|| "volume".into());
        let source = m.get("source").map(scalar).transpose()?.unwrap_or_default();
        let target = m
            .get("target")
            .map(scalar)
            .transpose()?
            .ok_or("a long-syntax volume needs `target`")?;
        let read_only = m.get("read_only").and_then(Value::as_bool).unwrap_or(false);
        return match kind.as_str() {
            "bind" => Ok(Mount {
                kind: MountKind::Bind,
                source: resolve_host_path(&source, dir),
                target,
                read_only,
            }),
            "volume" if !source.is_empty() => Ok(Mount {
                kind: MountKind::Volume,
                source,
                target,
                read_only,
            }),
            "volume" => Err(format!(
                "an anonymous volume at `{target}` is not supported; give it a name"
            )),
            other => Err(format!("volume type `{other}` is not supported")),
        };
    }
    let s = scalar(v)?;
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => {
            return Err(format!(
                "an anonymous volume at `{t}` is not supported; give it a name (`data:{t}`)"
            ));
        }
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => return Err(format!("volume `{s}` has too many `:`")),
    };
    let read_only = mode.split(',').any(|m| m == "ro");
    Ok(if is_path(source) {
        Mount {
            kind: MountKind::Bind,
            source: resolve_host_path(source, dir),
            target: target.into(),
            read_only,
        }
    } else {
        Mount {
            kind: MountKind::Volume,
            source: source.into(),
            target: target.into(),
            read_only,
        }
    })
}

fn depends_on(v: &Value) -> Result<BTreeMap<String, Condition>, String> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .map(|i| Ok((scalar(i)?, Condition::Started)))
            .collect(),
        Value::Mapping(m) => m
            .iter()
            .map(|(k, x)| {
                let cond = x.get("condition").map(scalar).transpose()?;
                let cond = match cond.as_deref() {
                    None | Some("service_started") => Condition::Started,
                    Some("service_healthy") => Condition::Healthy,
                    Some("service_completed_successfully") => Condition::CompletedSuccessfully,
                    Some(other) => return Err(format!("unknown depends_on condition `{other}`")),
                };
                Ok((scalar(k)?, cond))
            })
            .collect(),
        _ => Err("`depends_on` must be a list or a mapping".into()),
    }
}

fn healthcheck(v: &Value) -> Result<Healthcheck, String> {
    let m = v.as_mapping().ok_or("`healthcheck` must be a mapping")?;
    let disabled = m.get("disable").and_then(Value::as_bool).unwrap_or(false);
    let test = match m.get("test") {
        _ if disabled => vec!["NONE".to_string()],
        Some(Value::String(s)) => vec!["CMD-SHELL".to_string(), s.clone()],
        Some(Value::Sequence(items)) => items.iter().map(scalar).collect::<Result<_, _>>()?,
        Some(_) => return Err("`healthcheck.test` must be a string or a list".into()),
        None => return Err("`healthcheck` needs a `test` (or `disable: true`)".into()),
    };
    let dur = |k: &str| {
        m.get(k)
            .map(|v| duration_ns(v, &format!("healthcheck.{k}")))
            .transpose()
    };
    Ok(Healthcheck {
        test,
        interval_ns: dur("interval")?,
        timeout_ns: dur("timeout")?,
        retries: m.get("retries").and_then(Value::as_i64),
        start_period_ns: dur("start_period")?,
    })
}

/// Go-style durations as compose writes them: `1m30s`, `500ms`, `10s`, `2h`.
pub fn duration_ns(v: &Value, field: &str) -> Result<i64, String> {
    let s = scalar(v)?;
    let bad = || format!("`{field}`: `{s}` is not a duration (e.g. 10s, 1m30s, 500ms)");
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n * 1_000_000_000);
    }
    let mut total = 0f64;
    let mut rest = s.as_str();
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Project, ComposeError> {
        let vars = Vars::new([("PW".to_string(), "secret".to_string())].into());
        parse(
            text,
            Path::new("/p/shop"),
            Path::new("/p/shop/compose.yaml"),
            &vars,
        )
    }

    #[test]
    fn short_and_long_syntax() {
        let p = parse_str(
            r#"
services:
  web:
    build: {context: ./web, dockerfile: Containerfile, args: [A=1]}
    command: python -m http.server "8000"
    environment: ["PW=${PW}", PLAIN=x]
    ports: ["127.0.0.1:8000:80", "9000", "7000-7001:7000-7001/udp", {target: 53, published: "5353", protocol: udp}]
    volumes: ["data:/data:ro", "./conf:/etc/conf", {type: bind, source: ../shared, target: /s}]
    depends_on: {db: {condition: service_healthy}, init: {condition: service_completed_successfully}}
    healthcheck: {test: "curl -f localhost", interval: 1m30s, timeout: 500ms, retries: 3}
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: "${PW:?set it}"}
    healthcheck: {disable: true}
  init:
    image: busybox:1
    depends_on: [db]
volumes:
  data:
"#,
        )
        .unwrap();
        assert_eq!(p.name, "shop");
        let web = &p.services["web"];
        let b = web.build.as_ref().unwrap();
        assert_eq!(
            (b.context.as_path(), b.dockerfile.as_str()),
            (Path::new("/p/shop/./web"), "Containerfile")
        );
        assert_eq!(b.args["A"], "1");
        assert_eq!(
            web.command.as_deref().unwrap(),
            ["python", "-m", "http.server", "8000"]
        );
        assert_eq!(web.environment["PW"], "secret");
        assert_eq!(web.ports.len(), 5);
        assert_eq!(
            (
                web.ports[0].host_ip.as_str(),
                web.ports[0].host,
                web.ports[0].container
            ),
            ("127.0.0.1", Some(8000), 80)
        );
        assert_eq!((web.ports[1].host, web.ports[1].container), (None, 9000));
        assert_eq!(
            (web.ports[3].host, web.ports[3].protocol.as_str()),
            (Some(7001), "udp")
        );
        assert_eq!(web.ports[4].host, Some(5353));
        assert_eq!(
            web.volumes[0],
            Mount {
                kind: MountKind::Volume,
                source: "data".into(),
                target: "/data".into(),
                read_only: true
            }
        );
        assert_eq!(web.volumes[1].source, "/p/shop/conf");
        assert_eq!(web.volumes[2].source, "/p/shared");
        assert_eq!(web.depends_on["db"], Condition::Healthy);
        assert_eq!(web.depends_on["init"], Condition::CompletedSuccessfully);
        let hc = web.healthcheck.as_ref().unwrap();
        assert_eq!(hc.test, ["CMD-SHELL", "curl -f localhost"]);
        assert_eq!(
            (hc.interval_ns, hc.timeout_ns),
            (Some(90_000_000_000), Some(500_000_000))
        );
        assert!(p.services["db"].healthcheck.as_ref().unwrap().disabled());
        assert!(!p.services["db"].declares_health());
        assert_eq!(p.services["init"].depends_on["db"], Condition::Started);
    }

    #[test]
    fn unsupported_keys_are_named() {
        let p = parse_str("services:\n  a:\n    image: x:1\n    deploy: {replicas: 2}\n    cap_add: [NET_ADMIN]\nsecrets: {}\n").unwrap();
        let w = p.warnings.join("\n");
        assert!(w.contains("service `a`: `deploy` is not supported"), "{w}");
        assert!(w.contains("`cap_add`"), "{w}");
        assert!(w.contains("top-level `secrets`"), "{w}");
    }

    #[test]
    fn bad_input_is_named() {
        let err = parse_str("services:\n  a:\n    image: x:1\n    depends_on: [b]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("service `a` depends on `b`"), "{err}");
        let err = parse_str("services:\n  a:\n    environment: {X: 1}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs an `image` or a `build`"), "{err}");
        let err = parse_str("services:\n  a:\n    image: x:1\n    environment: {X: \"${MISSING:?please set MISSING}\"}\n").unwrap_err().to_string();
        assert!(err.contains("please set MISSING"), "{err}");
        let err = parse_str("services:\n  a:\n    image: x\n    ports: [\"80:abc\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`abc` is not a port number"), "{err}");
    }

    #[test]
    fn durations() {
        let d = |s: &str| duration_ns(&Value::String(s.into()), "f");
        assert_eq!(d("10s"), Ok(10_000_000_000));
        assert_eq!(d("1m30s"), Ok(90_000_000_000));
        assert_eq!(d("250ms"), Ok(250_000_000));
        assert!(d("ten").is_err());
    }
}
