//! Short syntax to long syntax, defaults, and the checks Compose makes on
//! the merged document (compose-go's `transform` and `validation`
//! packages): `"8080:80"` becomes a port mapping, `"./data:/data:ro"` a bind
//! mount, `depends_on: [db]` a mapping with conditions, and so on.

use std::net::IpAddr;

use serde_yaml::{Mapping, Value};

use super::gofmt::sprint;
use super::tree::Path;

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Mapping(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Sequence(_) => "[]interface {}",
        Value::Mapping(_) => "map[string]interface {}",
        Value::Tagged(_) => "tagged",
    }
}

type Transformer = fn(Value, &Path) -> Result<Value, String>;

const TRANSFORMERS: &[(&str, Transformer)] = &[
    ("services.*", transform_mapping_only),
    ("services.*.build.secrets.*", file_mount),
    ("services.*.build.provenance", string_or_x),
    ("services.*.build.sbom", string_or_x),
    ("services.*.build.additional_contexts", key_value),
    ("services.*.depends_on", depends_on),
    ("services.*.env_file", env_file),
    ("services.*.label_file", string_or_list),
    ("services.*.extends", extends),
    ("services.*.gpus", gpus),
    ("services.*.networks", string_slice_to_map),
    ("services.*.models", string_slice_to_map),
    ("services.*.volumes.*", volume_mount),
    ("services.*.dns", string_or_list),
    ("services.*.devices.*", device_mapping),
    ("services.*.secrets.*", file_mount),
    ("services.*.configs.*", file_mount),
    ("services.*.ports", ports),
    ("services.*.build", build),
    ("services.*.build.ssh", ssh),
    ("services.*.ulimits.*", ulimits),
    ("services.*.build.ulimits.*", ulimits),
    ("services.*.develop.watch.*.ignore", string_or_list),
    ("services.*.develop.watch.*.include", string_or_list),
    ("volumes.*", maybe_external),
    ("networks.*", maybe_external),
    ("secrets.*", maybe_external),
    ("configs.*", maybe_external),
    ("include.*", include),
];

/// The whole document in canonical (long) syntax.
pub fn canonical(doc: Mapping) -> Result<Mapping, String> {
    match transform(Value::Mapping(doc), &Path::root())? {
        Value::Mapping(m) => Ok(m),
        _ => unreachable!("a mapping stays a mapping"),
    }
}

fn transform(v: Value, path: &Path) -> Result<Value, String> {
    if let Some((_, f)) = TRANSFORMERS.iter().find(|(p, _)| path.matches(p)) {
        return f(v, path);
    }
    recurse(v, path)
}

fn recurse(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => transform_mapping(m, path).map(Value::Mapping),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| transform(i, &path.item()))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence),
        other => Ok(other),
    }
}

fn transform_mapping(m: Mapping, path: &Path) -> Result<Mapping, String> {
    m.into_iter()
        .map(|(k, v)| {
            let next = path.next(k.as_str().unwrap_or_default());
            Ok((k, transform(v, &next)?))
        })
        .collect()
}

fn transform_mapping_only(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => transform_mapping(m, path).map(Value::Mapping),
        other => Ok(other),
    }
}

fn string_or_list(v: Value, _: &Path) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::Sequence(vec![Value::String(s)]),
        other => other,
    })
}

fn string_or_x(v: Value, _: &Path) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(s),
        other => Value::String(sprint(&other)),
    })
}

fn key_value(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => Ok(Value::Mapping(m)),
        Value::Sequence(items) => {
            let mut out = Mapping::new();
            for item in items {
                let s = sprint(&item);
                let Some((k, val)) = s.split_once('=') else {
                    return Err(format!("{path}: invalid value {s}, expected key=value"));
                };
                out.insert(Value::from(k), Value::from(val));
            }
            Ok(Value::Mapping(out))
        }
        other => Err(format!("{path}: invalid type {}", type_name(&other))),
    }
}

fn string_slice_to_map(v: Value, _: &Path) -> Result<Value, String> {
    Ok(match v {
        Value::Sequence(items) => Value::Mapping(
            items
                .into_iter()
                .map(|i| (Value::String(sprint(&i)), Value::Null))
                .collect(),
        ),
        other => other,
    })
}

fn depends_on(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, dep) in m {
                let Value::Mapping(mut d) = dep else {
                    return Err(format!(
                        "{path}.{}: unsupported value {}",
                        sprint(&k),
                        sprint(&dep)
                    ));
                };
                if !d.contains_key("condition") {
                    d.insert("condition".into(), "service_started".into());
                }
                if !d.contains_key("required") {
                    d.insert("required".into(), Value::Bool(true));
                }
                out.insert(k, Value::Mapping(d));
            }
            Ok(Value::Mapping(out))
        }
        Value::Sequence(items) => Ok(Value::Mapping(
            items
                .into_iter()
                .map(|k| {
                    (
                        Value::String(sprint(&k)),
                        map(&[
                            ("condition", "service_started".into()),
                            ("required", Value::Bool(true)),
                        ]),
                    )
                })
                .collect(),
        )),
        other => Err(format!(
            "{path}: invalid type {} for depend_on",
            type_name(&other)
        )),
    }
}

fn env_file(v: Value, path: &Path) -> Result<Value, String> {
    let entry = |e: Value| match e {
        Value::String(s) => map(&[("path", Value::String(s)), ("required", Value::Bool(true))]),
        Value::Mapping(mut m) => {
            if !m.contains_key("required") {
                m.insert("required".into(), Value::Bool(true));
            }
            Value::Mapping(m)
        }
        _ => Value::Null,
    };
    match v {
        Value::String(s) => Ok(Value::Sequence(vec![entry(Value::String(s))])),
        Value::Sequence(items) => Ok(Value::Sequence(items.into_iter().map(entry).collect())),
        other => Err(format!(
            "{path}: invalid type {} for env_file",
            type_name(&other)
        )),
    }
}

fn extends(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => transform_mapping(m, path).map(Value::Mapping),
        Value::String(s) => Ok(map(&[("service", Value::String(s))])),
        other => Err(format!(
            "{path}: invalid type {} for extends",
            type_name(&other)
        )),
    }
}

fn include(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => Ok(Value::Mapping(m)),
        Value::String(s) => Ok(map(&[("path", Value::String(s))])),
        other => Err(format!(
            "{path}: invalid type {} for include",
            type_name(&other)
        )),
    }
}

fn gpus(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Sequence(_) => recurse(v, path),
        Value::String(_) => Ok(Value::Sequence(vec![map(&[("count", "all".into())])])),
        other => Err(format!(
            "{path}: invalid type {} for gpus",
            type_name(&other)
        )),
    }
}

fn file_mount(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => Ok(Value::Mapping(m)),
        Value::String(s) => Ok(map(&[("source", Value::String(s))])),
        other => Err(format!("{path}: unsupported type {}", type_name(&other))),
    }
}

fn build(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => transform_mapping(m, path).map(Value::Mapping),
        Value::String(s) => Ok(map(&[("context", Value::String(s))])),
        other => Err(format!(
            "{path}: invalid type {} for build",
            type_name(&other)
        )),
    }
}

fn ssh(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => Ok(Value::Mapping(m)),
        Value::Sequence(items) => {
            let mut out = Mapping::new();
            for item in items {
                let Value::String(s) = item else {
                    return Err(format!("invalid ssh key type {}", type_name(&item)));
                };
                match s.split_once('=') {
                    Some((id, p)) => out.insert(Value::from(id), Value::from(p)),
                    None if s == "default" => out.insert(Value::from(s), Value::Null),
                    None => return Err(format!("invalid ssh key {s:?}")),
                };
            }
            Ok(Value::Mapping(out))
        }
        other => Err(format!(
            "{path}: invalid type {} for ssh",
            type_name(&other)
        )),
    }
}

fn ulimits(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(_) => Ok(v),
        Value::Number(ref n) if !n.is_f64() => Ok(v),
        other => Err(format!(
            "{path}: invalid type {} for ulimits",
            type_name(&other)
        )),
    }
}

fn device_mapping(v: Value, _: &Path) -> Result<Value, String> {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            let (src, dst, perm) = match parts.as_slice() {
                [src] => (*src, *src, "rwm"),
                [src, dst] => (*src, *dst, "rwm"),
                [src, dst, perm] => (*src, *dst, *perm),
                _ => {
                    return Err(format!(
                        "confusing device mapping, please use long syntax: {s}"
                    ));
                }
            };
            let dst = if dst.is_empty() { src } else { dst };
            Ok(map(&[
                ("source", Value::from(src)),
                ("target", Value::from(dst)),
                ("permissions", Value::from(perm)),
            ]))
        }
        other => Ok(other),
    }
}

fn maybe_external(v: Value, path: &Path) -> Result<Value, String> {
    let Value::Mapping(m) = v else {
        return Ok(v);
    };
    let mut resource = transform_mapping(m, path)?;
    if let Some(Value::Mapping(external)) = resource.get("external").cloned() {
        resource.insert("external".into(), Value::Bool(true));
        if let Some(extname) = external.get("name") {
            match resource.get("name") {
                Some(name) if name != extname => {
                    return Err(format!(
                        "{path}: name and external.name conflict; only use name"
                    ));
                }
                Some(_) => {}
                None => {
                    resource.insert("name".into(), extname.clone());
                }
            }
        }
    }
    Ok(Value::Mapping(resource))
}

fn ports(v: Value, path: &Path) -> Result<Value, String> {
    let Value::Sequence(entries) = v else {
        return Err(format!("{path}: invalid type {} for port", type_name(&v)));
    };
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            Value::Mapping(m) => out.push(Value::Mapping(m)),
            Value::String(_) | Value::Number(_) => {
                for p in parse_port_config(&sprint(&entry))? {
                    out.push(p);
                }
            }
            other => {
                return Err(format!(
                    "{path}: invalid type {} for port",
                    type_name(&other)
                ));
            }
        }
    }
    Ok(Value::Sequence(out))
}

/// `[ip:][host[-range]:]container[-range][/proto]` -> long-syntax mappings,
/// ordered as Compose orders them (by `port/proto` as text).
pub fn parse_port_config(spec: &str) -> Result<Vec<Value>, String> {
    let mut mappings = parse_port_spec(spec)?;
    mappings.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(mappings
        .into_iter()
        .map(|(_, ip, host, target, proto)| {
            let mut m = Mapping::new();
            m.insert("mode".into(), "ingress".into());
            if !ip.is_empty() {
                m.insert("host_ip".into(), ip.into());
            }
            m.insert("target".into(), Value::from(target));
            if !host.is_empty() {
                m.insert("published".into(), host.into());
            }
            m.insert("protocol".into(), proto.into());
            Value::Mapping(m)
        })
        .collect())
}

/// go-connections' `ParsePortSpec`: (sort key, host ip, host port, container port, protocol).
type PortMapping = (String, String, String, u64, String);

fn parse_port_spec(raw: &str) -> Result<Vec<PortMapping>, String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (mut ip, host, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (proto, container) = split_proto(container);
    if let Some(inner) = ip.strip_prefix('[') {
        ip = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("invalid IP address {ip}"))?
            .to_string();
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        port_range(container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        port_range(host).map_err(|_| format!("invalid hostPort: {host}"))?
    };
    if !host.is_empty() && (end - start) != (host_end - host_start) && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    let proto = proto.to_ascii_lowercase();
    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let target = start + i;
        let mut host_port = if host.is_empty() {
            String::new()
        } else {
            (host_start + i).to_string()
        };
        // One container port and a host range: the range is where to allocate.
        if start == end && host_start != host_end {
            host_port = format!("{host_port}-{host_end}");
        }
        out.push((
            format!("{target}/{proto}"),
            ip.clone(),
            host_port,
            target,
            proto.clone(),
        ));
    }
    Ok(out)
}

fn split_proto(raw: &str) -> (&str, &str) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return ("", "");
    }
    if parts.len() == 1 || parts[1].is_empty() {
        return ("tcp", parts[0]);
    }
    (parts[1], parts[0])
}

fn port_range(s: &str) -> Result<(u64, u64), ()> {
    let one = |p: &str| p.parse::<u16>().map(u64::from).map_err(|_| ());
    match s.split_once('-') {
        None => one(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b.split('-').next().unwrap_or(""))?);
            if b < a { Err(()) } else { Ok((a, b)) }
        }
    }
}

/// A volume in short syntax, as compose-go's `format.ParseVolume` reads it.
#[derive(Debug, Default, PartialEq)]
pub struct ShortVolume {
    pub kind: &'static str,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub nocopy: bool,
    pub propagation: String,
    pub selinux: String,
}

pub fn parse_volume(spec: &str) -> Result<ShortVolume, String> {
    let mut v = ShortVolume::default();
    match spec.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => {
            v.target = spec.to_string();
            v.kind = "volume";
            return Ok(v);
        }
        _ => {}
    }
    let mut buffer: Vec<char> = Vec::new();
    // Colons inside `${...}` (an uninterpolated default) do not separate.
    let mut in_var = 0;
    let chars = spec.char_indices().map(Some).chain([None]);
    for item in chars {
        if let Some((i, ch)) = item {
            if ch == '$' && spec.as_bytes().get(i + 1) == Some(&b'{') {
                in_var += 1;
                buffer.push(ch);
                continue;
            }
            if ch == '}' && in_var > 0 {
                in_var -= 1;
                buffer.push(ch);
                continue;
            }
        }
        let c = item.map(|(_, ch)| ch);
        let windows_drive = c == Some(':') && buffer.len() == 1 && buffer[0].is_alphabetic();
        if windows_drive {
            buffer.push(':');
        } else if (c == Some(':') || c.is_none()) && in_var == 0 {
            if let Err(e) = populate(c.is_none(), &buffer, &mut v) {
                return Err(format!("invalid spec: {spec}: {e}"));
            }
            buffer.clear();
        } else if let Some(ch) = c {
            buffer.push(ch);
        }
    }
    v.kind = if is_file_path(&v.source) {
        "bind"
    } else {
        "volume"
    };
    Ok(v)
}

fn populate(end: bool, buffer: &[char], v: &mut ShortVolume) -> Result<(), String> {
    let s: String = buffer.iter().collect();
    if buffer.is_empty() {
        return Err("empty section between colons".into());
    }
    if v.source.is_empty() && end {
        v.target = s;
        return Ok(());
    }
    if v.source.is_empty() {
        v.source = s;
        return Ok(());
    }
    if v.target.is_empty() {
        v.target = s;
        return Ok(());
    }
    if !end {
        return Err("too many colons".into());
    }
    for option in s.split(',') {
        match option {
            "ro" => v.read_only = true,
            "rw" => v.read_only = false,
            "nocopy" => v.nocopy = true,
            "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                v.propagation = option.into()
            }
            "z" | "Z" => v.selinux = option.into(),
            _ => {}
        }
    }
    Ok(())
}

fn is_file_path(source: &str) -> bool {
    if source.is_empty() {
        return false;
    }
    if source.starts_with(['.', '/', '~']) || source.starts_with(r"\\") {
        return true;
    }
    let mut chars = source.chars();
    matches!((chars.next(), chars.next()), (Some(c), Some(':')) if c.is_alphabetic())
}

fn volume_mount(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => Ok(Value::Mapping(m)),
        Value::String(s) => {
            let vol = parse_volume(&s)?;
            let mut m = Mapping::new();
            m.insert("type".into(), vol.kind.into());
            if !vol.source.is_empty() {
                m.insert("source".into(), vol.source.clone().into());
            }
            m.insert("target".into(), clean_path(&vol.target).into());
            if vol.read_only {
                m.insert("read_only".into(), Value::Bool(true));
            }
            if vol.kind == "bind" {
                let mut bind = Mapping::new();
                if !vol.selinux.is_empty() {
                    bind.insert("selinux".into(), vol.selinux.into());
                }
                if !vol.propagation.is_empty() {
                    bind.insert("propagation".into(), vol.propagation.into());
                }
                bind.insert("create_host_path".into(), Value::Bool(true));
                m.insert("bind".into(), Value::Mapping(bind));
                if vol.nocopy {
                    let volume = Mapping::from_iter([("nocopy".into(), Value::Bool(true))]);
                    m.insert("volume".into(), Value::Mapping(volume));
                }
            } else {
                let mut volume = Mapping::new();
                if vol.nocopy {
                    volume.insert("nocopy".into(), Value::Bool(true));
                }
                m.insert("volume".into(), Value::Mapping(volume));
                // Bind options on a named volume are kept, as Compose keeps them.
                if !vol.selinux.is_empty() || !vol.propagation.is_empty() {
                    let mut bind = Mapping::new();
                    if !vol.selinux.is_empty() {
                        bind.insert("selinux".into(), vol.selinux.into());
                    }
                    if !vol.propagation.is_empty() {
                        bind.insert("propagation".into(), vol.propagation.into());
                    }
                    m.insert("bind".into(), Value::Mapping(bind));
                }
            }
            Ok(Value::Mapping(m))
        }
        other => Err(format!(
            "{path}: invalid type {} for service volume mount",
            type_name(&other)
        )),
    }
}

/// Go's `path.Clean`: lexical, `/`-separated.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

type Defaulter = fn(Value, &Path) -> Result<Value, String>;

const DEFAULTS: &[(&str, Defaulter)] = &[
    ("services.*.build", default_build_context),
    ("services.*.secrets.*", default_secret_target),
    ("services.*.ports.*", default_port),
    (
        "services.*.deploy.resources.reservations.devices.*",
        default_device_count,
    ),
    ("services.*.gpus.*", default_device_count),
];

/// Compose's default values, on the merged document.
pub fn set_defaults(doc: Mapping) -> Result<Mapping, String> {
    match defaults(Value::Mapping(doc), &Path::root())? {
        Value::Mapping(m) => Ok(m),
        _ => unreachable!("a mapping stays a mapping"),
    }
}

fn defaults(v: Value, path: &Path) -> Result<Value, String> {
    if let Some((_, f)) = DEFAULTS.iter().find(|(p, _)| path.matches(p)) {
        return f(v, path);
    }
    match v {
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, item)| {
                let next = path.next(k.as_str().unwrap_or_default());
                Ok((k, defaults(item, &next)?))
            })
            .collect::<Result<Mapping, String>>()
            .map(Value::Mapping),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| defaults(i, &path.item()))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence),
        other => Ok(other),
    }
}

fn default_build_context(v: Value, _: &Path) -> Result<Value, String> {
    Ok(match v {
        Value::Mapping(mut m) => {
            if !m.contains_key("context") {
                m.insert("context".into(), ".".into());
            }
            Value::Mapping(m)
        }
        other => other,
    })
}

fn default_secret_target(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(mut m) => {
            if !m.contains_key("target") {
                let source = m.get("source").map(sprint).unwrap_or_default();
                m.insert("target".into(), format!("/run/secrets/{source}").into());
            }
            Ok(Value::Mapping(m))
        }
        other => Err(format!("{path}: unsupported type {}", type_name(&other))),
    }
}

fn default_port(v: Value, _: &Path) -> Result<Value, String> {
    Ok(match v {
        Value::Mapping(mut m) => {
            if !m.contains_key("protocol") {
                m.insert("protocol".into(), "tcp".into());
            }
            if !m.contains_key("mode") {
                m.insert("mode".into(), "ingress".into());
            }
            Value::Mapping(m)
        }
        other => other,
    })
}

fn default_device_count(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(mut m) => {
            if !m.contains_key("count") && !m.contains_key("device_ids") {
                m.insert("count".into(), "all".into());
            }
            Ok(Value::Mapping(m))
        }
        other => Err(format!(
            "{path}: invalid type {} for device request",
            type_name(&other)
        )),
    }
}

/// The checks of compose-go's `validation` package.
pub fn validate(doc: &Mapping) -> Result<(), String> {
    check(&Value::Mapping(doc.clone()), &Path::root())
}

fn check(v: &Value, path: &Path) -> Result<(), String> {
    if path.matches("volumes.*") {
        return check_external(v, path);
    }
    if path.matches("configs.*") {
        return check_file_object(v, path, &["file", "environment", "content"]);
    }
    if path.matches("secrets.*") {
        return check_file_object(v, path, &["file", "environment"]);
    }
    if path.matches("services.*.ports.*") {
        if let Some(ip) = v.get("host_ip") {
            let ip = sprint(ip);
            if ip.parse::<IpAddr>().is_err() {
                return Err(format!("{path}: invalid ip address: {ip}"));
            }
        }
        return Ok(());
    }
    if path.matches("services.*.develop.watch.*.path") {
        if v.as_str().is_none_or(str::is_empty) {
            return Err(format!("{path}: value can't be blank"));
        }
        return Ok(());
    }
    if path.matches("services.*.deploy.resources.reservations.devices.*")
        || path.matches("services.*.gpus.*")
    {
        if v.get("count").is_some() && v.get("device_ids").is_some() {
            return Err(format!(
                r#"{path}: "count" and "device_ids" attributes are exclusive"#
            ));
        }
        return Ok(());
    }
    match v {
        Value::Mapping(m) => {
            for (k, item) in m {
                check(item, &path.next(k.as_str().unwrap_or_default()))?;
            }
        }
        Value::Sequence(items) => {
            for item in items {
                check(item, &path.item())?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_external(v: &Value, path: &Path) -> Result<(), String> {
    let Value::Mapping(m) = v else {
        return if v.is_null() {
            Ok(())
        } else {
            Err(format!("expected volume, got {}", sprint(v)))
        };
    };
    if m.get("external").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    for k in m.keys().filter_map(Value::as_str) {
        if k != "name" && k != "external" && !k.starts_with("x-") {
            return Err(format!(
                r#"{path}: conflicting parameters "external" and "{k}" specified"#
            ));
        }
    }
    Ok(())
}

fn check_file_object(v: &Value, path: &Path, keys: &[&str]) -> Result<(), String> {
    let empty = Mapping::new();
    let m = v.as_mapping().unwrap_or(&empty);
    let count = keys.iter().filter(|k| m.contains_key(**k)).count();
    if count > 1 {
        return Err(format!(
            "{path}: {} attributes are mutually exclusive",
            keys.join("|")
        ));
    }
    if count == 0 && !m.contains_key("driver") && !m.contains_key("external") {
        return Err(format!("{path}: one of {} must be set", keys.join("|")));
    }
    Ok(())
}

/// Empty entries of `dns` are dropped (compose-go's `OmitEmpty`).
pub fn omit_empty(mut doc: Mapping) -> Mapping {
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Some(Value::Sequence(dns)) = svc.get_mut("dns") {
                dns.retain(|e| !(e.is_null() || e.as_str() == Some("")));
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(yaml: &str) -> Value {
        Value::Mapping(canonical(serde_yaml::from_str(yaml).unwrap()).unwrap())
    }

    #[test]
    fn ports_in_short_syntax() {
        let v = canon(
            "services:\n  a:\n    ports: ['998-1001:998-1001', '[::1]:8080:80', '127.0.0.1:5000-5010:5000', 9090, '53:53/udp']\n",
        );
        let ports = v["services"]["a"]["ports"].as_sequence().unwrap();
        let targets: Vec<u64> = ports
            .iter()
            .map(|p| p["target"].as_u64().unwrap())
            .collect();
        // Ordered as text, as Compose does: "1000/tcp" < "998/tcp".
        assert_eq!(targets, [1000, 1001, 998, 999, 80, 5000, 9090, 53]);
        assert_eq!(ports[4]["host_ip"], Value::from("::1"));
        assert_eq!(ports[5]["published"], Value::from("5000-5010"));
        assert!(ports[6].get("published").is_none());
        assert_eq!(ports[7]["protocol"], Value::from("udp"));
    }

    #[test]
    fn bad_ports_are_named() {
        for (spec, want) in [
            ("80:abc", "invalid containerPort: abc"),
            ("1.2.3:80:80", "invalid IP address: 1.2.3"),
            ("8000-8001:80-82", "invalid ranges"),
            ("80/icmp", "invalid proto: icmp"),
        ] {
            let err = parse_port_config(spec).unwrap_err();
            assert!(err.contains(want), "{spec}: {err}");
        }
    }

    #[test]
    fn volumes_in_short_syntax() {
        let v = parse_volume("./data:/data:ro,z").unwrap();
        assert_eq!(
            (
                v.kind,
                v.source.as_str(),
                v.target.as_str(),
                v.read_only,
                v.selinux.as_str()
            ),
            ("bind", "./data", "/data", true, "z")
        );
        let v = parse_volume("cache:/var/cache:nocopy").unwrap();
        assert_eq!((v.kind, v.nocopy), ("volume", true));
        let v = parse_volume("/anon").unwrap();
        assert_eq!(
            (v.kind, v.source.as_str(), v.target.as_str()),
            ("volume", "", "/anon")
        );
        let v = parse_volume("${DATA:-./d}:/d").unwrap();
        assert_eq!(v.source, "${DATA:-./d}");
        assert!(
            parse_volume("vol:/t:ro:x")
                .unwrap_err()
                .contains("too many colons")
        );
        // One letter and a colon is a Windows drive, as Compose reads it.
        assert_eq!(parse_volume("a:/data").unwrap().target, "a:/data");
        assert!(parse_volume("ab::c").unwrap_err().contains("empty section"));
        let v = parse_volume("C:\\data:/data").unwrap();
        assert_eq!((v.kind, v.source.as_str()), ("bind", "C:\\data"));
    }

    #[test]
    fn clean_paths() {
        for (p, want) in [
            ("/a/b/../c/", "/a/c"),
            ("/", "/"),
            ("a/./b", "a/b"),
            ("../x", "../x"),
            ("/..", "/"),
        ] {
            assert_eq!(clean_path(p), want, "{p}");
        }
    }

    #[test]
    fn external_name_is_moved_up() {
        let v = canon("volumes:\n  data:\n    external:\n      name: real\n");
        assert_eq!(v["volumes"]["data"]["external"], Value::Bool(true));
        assert_eq!(v["volumes"]["data"]["name"], Value::from("real"));
    }
}
