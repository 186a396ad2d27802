//! Merging a later file (or an `extends` child) over what came before, by
//! Compose's rules (compose-go's `override` package): mappings merge key by
//! key, lists append, `command`/`entrypoint`/`healthcheck.test` replace,
//! `environment`/`labels`/... merge as `KEY=VALUE` lists, `depends_on` and
//! `networks` merge as mappings. Then lists that are sets by nature (ports,
//! volumes by target, env by key...) keep one entry per key, the last one
//! winning in the first one's place.

use serde_yaml::{Mapping, Value};

use super::canonical::parse_volume;
use super::gofmt::sprint;
use super::tree::Path;

type Merger = fn(Value, Value, &Path) -> Result<Value, String>;

const SPECIALS: &[(&str, Merger)] = &[
    ("networks.*.ipam.config", merge_ipam_config),
    ("networks.*.labels", merge_to_sequence),
    ("volumes.*.labels", merge_to_sequence),
    ("services.*.annotations", merge_to_sequence),
    ("services.*.build", merge_build),
    ("services.*.build.args", merge_to_sequence),
    ("services.*.build.additional_contexts", merge_to_sequence),
    ("services.*.build.extra_hosts", merge_extra_hosts),
    ("services.*.build.labels", merge_to_sequence),
    ("services.*.command", replace),
    ("services.*.depends_on", merge_depends_on),
    ("services.*.deploy.labels", merge_to_sequence),
    ("services.*.dns", merge_to_sequence),
    ("services.*.dns_opt", merge_to_sequence),
    ("services.*.dns_search", merge_to_sequence),
    ("services.*.entrypoint", replace),
    ("services.*.env_file", merge_to_sequence),
    ("services.*.label_file", merge_to_sequence),
    ("services.*.environment", merge_to_sequence),
    ("services.*.extra_hosts", merge_extra_hosts),
    ("services.*.healthcheck.test", replace),
    ("services.*.labels", merge_to_sequence),
    ("services.*.volumes.*.volume.labels", merge_to_sequence),
    ("services.*.logging", merge_logging),
    ("services.*.models", merge_as_mappings),
    ("services.*.networks", merge_as_mappings),
    ("services.*.sysctls", merge_to_sequence),
    ("services.*.tmpfs", merge_to_sequence),
    ("services.*.ulimits.*", replace),
];

/// `over` merged onto `base` (both whole documents).
pub fn merge(base: Mapping, over: Mapping) -> Result<Mapping, String> {
    merge_mappings(base, over, &Path::root())
}

/// An `extends` child merged onto a copy of its parent service.
pub fn extend_service(base: Mapping, child: Mapping) -> Result<Mapping, String> {
    merge_mappings(base, child, &Path::new(&["services", "x"]))
}

fn merge_value(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    if let Some((_, merger)) = SPECIALS.iter().find(|(p, _)| path.matches(p)) {
        return merger(base, over, path);
    }
    if over.is_null() {
        return Ok(base);
    }
    match base {
        Value::Mapping(m) => match over {
            Value::Mapping(o) => merge_mappings(m, o, path).map(Value::Mapping),
            _ => Err(format!("cannot override {path}")),
        },
        Value::Sequence(mut items) => match over {
            Value::Sequence(o) => {
                items.extend(o);
                Ok(Value::Sequence(items))
            }
            _ => Err(format!("cannot override {path}")),
        },
        _ => Ok(over),
    }
}

fn merge_mappings(mut base: Mapping, over: Mapping, path: &Path) -> Result<Mapping, String> {
    for (k, v) in over {
        match base.remove(&k) {
            None => {
                base.insert(k, v);
            }
            Some(existing) => {
                let next = path.next(k.as_str().unwrap_or_default());
                let merged = merge_value(existing, v, &next)?;
                base.insert(k, merged);
            }
        }
    }
    Ok(base)
}

fn replace(_: Value, over: Value, _: &Path) -> Result<Value, String> {
    Ok(over)
}

fn merge_logging(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    let (Value::Mapping(b), Value::Mapping(o)) = (base, over.clone()) else {
        return Ok(over);
    };
    match (b.get("driver"), o.get("driver")) {
        (Some(x), Some(y)) if x != y => Ok(Value::Mapping(o)),
        _ => merge_mappings(b, o, path).map(Value::Mapping),
    }
}

fn as_build(v: Value) -> Mapping {
    match v {
        Value::String(s) => Mapping::from_iter([(Value::from("context"), Value::String(s))]),
        Value::Mapping(m) => m,
        _ => Mapping::new(),
    }
}

fn merge_build(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    merge_mappings(as_build(base), as_build(over), path).map(Value::Mapping)
}

fn depends_on_default() -> Value {
    Value::Mapping(Mapping::from_iter([
        (Value::from("condition"), Value::from("service_started")),
        (Value::from("required"), Value::Bool(true)),
    ]))
}

fn merge_depends_on(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    let default = depends_on_default();
    merge_mappings(
        into_mapping(base, Some(&default)),
        into_mapping(over, Some(&default)),
        path,
    )
    .map(Value::Mapping)
}

fn merge_as_mappings(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    merge_mappings(into_mapping(base, None), into_mapping(over, None), path).map(Value::Mapping)
}

fn merge_extra_hosts(base: Value, over: Value, _: &Path) -> Result<Value, String> {
    let mut right = into_sequence(base);
    let left = into_sequence(over);
    let fresh: Vec<Value> = left.into_iter().filter(|v| !right.contains(v)).collect();
    right.extend(fresh);
    Ok(Value::Sequence(right))
}

fn merge_to_sequence(base: Value, over: Value, _: &Path) -> Result<Value, String> {
    let mut right = into_sequence(base);
    right.extend(into_sequence(over));
    Ok(Value::Sequence(right))
}

/// A mapping as a sorted `KEY=VALUE` list (a key alone when its value is null).
fn into_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Mapping(m) => {
            let mut seq: Vec<String> = Vec::new();
            for (k, val) in m {
                let k = sprint(&k);
                match val {
                    Value::Null => seq.push(k),
                    Value::Sequence(items) => {
                        seq.extend(items.iter().map(|i| format!("{k}={}", sprint(i))))
                    }
                    other => seq.push(format!("{k}={}", sprint(&other))),
                }
            }
            seq.sort();
            seq.into_iter().map(Value::String).collect()
        }
        Value::Sequence(items) => items,
        Value::String(s) => vec![Value::String(s)],
        _ => Vec::new(),
    }
}

fn into_mapping(v: Value, default: Option<&Value>) -> Mapping {
    match v {
        Value::Mapping(m) => m,
        Value::Sequence(items) => items
            .into_iter()
            .map(|k| (k, default.cloned().unwrap_or(Value::Null)))
            .collect(),
        _ => Mapping::new(),
    }
}

fn merge_ipam_config(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    let (Value::Sequence(configs), Value::Sequence(overrides)) = (base, over) else {
        return Err(format!("{path}: unexpected type"));
    };
    let subnet = |m: &Mapping| m.get("subnet").cloned();
    let mut out: Vec<Mapping> = Vec::new();
    for original in configs {
        let right = into_mapping(original, None);
        for o in &overrides {
            let left = into_mapping(o.clone(), None);
            if subnet(&left) != subnet(&right) && !out.iter().any(|a| subnet(a) == subnet(&left)) {
                out.push(left);
                continue;
            }
            let merged = merge_mappings(right.clone(), left, path)?;
            match out.iter().position(|a| subnet(a) == subnet(&merged)) {
                Some(i) => out[i] = merged,
                None => out.push(merged),
            }
        }
    }
    Ok(Value::Sequence(
        out.into_iter().map(Value::Mapping).collect(),
    ))
}

type Indexer = fn(&Value, &Path) -> Result<String, String>;

const UNIQUE: &[(&str, Indexer)] = &[
    ("networks.*.labels", key_value_index),
    ("networks.*.ipam.options", key_value_index),
    ("services.*.annotations", key_value_index),
    ("services.*.build.args", key_value_index),
    ("services.*.build.additional_contexts", key_value_index),
    ("services.*.build.platform", key_value_index),
    ("services.*.build.tags", key_value_index),
    ("services.*.build.labels", key_value_index),
    ("services.*.cap_add", key_value_index),
    ("services.*.cap_drop", key_value_index),
    ("services.*.configs", config_index),
    ("services.*.deploy.labels", key_value_index),
    ("services.*.dns", key_value_index),
    ("services.*.dns_opt", key_value_index),
    ("services.*.dns_search", key_value_index),
    ("services.*.environment", key_value_index),
    ("services.*.env_file", env_file_index),
    ("services.*.expose", expose_index),
    ("services.*.labels", key_value_index),
    ("services.*.links", key_value_index),
    ("services.*.networks.*.aliases", key_value_index),
    ("services.*.networks.*.link_local_ips", key_value_index),
    ("services.*.ports", port_index),
    ("services.*.profiles", key_value_index),
    ("services.*.secrets", secret_index),
    ("services.*.sysctls", key_value_index),
    ("services.*.tmpfs", key_value_index),
    ("services.*.volumes", volume_index),
    ("services.*.devices", device_index),
];

/// One entry per key in the lists that are sets (see the module comment).
pub fn enforce_unicity(doc: Mapping) -> Result<Mapping, String> {
    doc.into_iter()
        .map(|(k, v)| {
            let path = Path::root().next(k.as_str().unwrap_or_default());
            Ok((k, unique(v, &path)?))
        })
        .collect()
}

fn unique(v: Value, path: &Path) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, item)| {
                let next = path.next(k.as_str().unwrap_or_default());
                Ok((k, unique(item, &next)?))
            })
            .collect::<Result<Mapping, String>>()
            .map(Value::Mapping),
        Value::Sequence(items) => {
            let Some((_, indexer)) = UNIQUE.iter().find(|(p, _)| path.matches(p)) else {
                return Ok(Value::Sequence(items));
            };
            let mut out: Vec<Value> = Vec::new();
            let mut keys: Vec<String> = Vec::new();
            for (i, entry) in items.into_iter().enumerate() {
                let key = indexer(&entry, &path.next(&format!("[{i}]")))?;
                match keys.iter().position(|k| *k == key) {
                    Some(j) => out[j] = entry,
                    None => {
                        keys.push(key);
                        out.push(entry);
                    }
                }
            }
            Ok(Value::Sequence(out))
        }
        other => Ok(other),
    }
}

fn key_value_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.split_once('=').map_or(s.as_str(), |(k, _)| k).to_string()),
        _ => Err(format!("{p}: unexpected type")),
    }
}

fn volume_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Mapping(m) => match m.get("target") {
            Some(Value::String(t)) => Ok(t.clone()),
            _ => Err(format!("service volume {p} is missing a mount target")),
        },
        Value::String(s) => Ok(parse_volume(s)?.target),
        _ => Ok(String::new()),
    }
}

fn device_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Mapping(m) => match m.get("target") {
            Some(Value::String(t)) => Ok(t.clone()),
            _ => Err(format!("service device {p} is missing a mount target")),
        },
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            Ok(parts.get(1).unwrap_or(&parts[0]).to_string())
        }
        _ => Ok(String::new()),
    }
}

fn expose_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if !n.is_f64() => Ok(n.to_string()),
        _ => Err(format!("{p}: unsupported expose value {}", sprint(v))),
    }
}

fn mount_index(v: &Value, p: &Path, default: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(format!("{default}/{s}")),
        Value::Mapping(m) => match m.get("target") {
            Some(t) => Ok(sprint(t)),
            None => Ok(format!(
                "{default}/{}",
                m.get("source").map(sprint).unwrap_or_default()
            )),
        },
        _ => Err(format!("{p}: unsupported expose value {}", sprint(v))),
    }
}

fn config_index(v: &Value, p: &Path) -> Result<String, String> {
    mount_index(v, p, "")
}

fn secret_index(v: &Value, p: &Path) -> Result<String, String> {
    mount_index(v, p, "/run/secrets")
}

/// The key of a port entry, as compose-go prints it (Go's `%s`/`%d` of a
/// value of the wrong type prints its type, which keeps such entries apart).
fn port_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        Value::Mapping(m) => {
            let Some(target) = m.get("target") else {
                return Err(format!("service ports {p} is missing a target port"));
            };
            let typed = |v: Option<&Value>, as_number: bool| match v {
                None => "%!(<nil>)".to_string(),
                Some(Value::String(s)) if !as_number => s.clone(),
                Some(Value::Number(n)) if as_number => n.to_string(),
                Some(other) => format!("%!({})", sprint(other)),
            };
            let host = m
                .get("host_ip")
                .map(sprint)
                .unwrap_or_else(|| "0.0.0.0".into());
            let protocol = m
                .get("protocol")
                .map(sprint)
                .unwrap_or_else(|| "tcp".into());
            Ok(format!(
                "{host}:{}:{}/{protocol}",
                typed(m.get("published"), false),
                typed(Some(target), true)
            ))
        }
        _ => Ok(String::new()),
    }
}

fn env_file_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Mapping(m) => match m.get("path") {
            Some(path) => Ok(sprint(path)),
            None => Err(format!("environment path attribute {p} is missing")),
        },
        _ => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Mapping {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn merged(a: &str, b: &str) -> Value {
        Value::Mapping(enforce_unicity(merge(doc(a), doc(b)).unwrap()).unwrap())
    }

    #[test]
    fn environment_merges_by_key_and_command_replaces() {
        let m = merged(
            "services:\n  web:\n    environment: {A: '1', B: '2'}\n    command: [a, b]\n    ports: ['80:80']\n",
            "services:\n  web:\n    environment: [B=3, C]\n    command: [c]\n    ports: ['80:80', '443:443']\n",
        );
        let web = &m["services"]["web"];
        assert_eq!(
            web["environment"],
            serde_yaml::from_str::<Value>("[A=1, B=3, C]").unwrap()
        );
        assert_eq!(
            web["command"],
            serde_yaml::from_str::<Value>("[c]").unwrap()
        );
        assert_eq!(
            web["ports"],
            serde_yaml::from_str::<Value>("['80:80', '443:443']").unwrap()
        );
    }

    #[test]
    fn depends_on_and_networks_merge_as_mappings() {
        let m = merged(
            "services:\n  web:\n    depends_on: [db]\n    networks: [front]\n",
            "services:\n  web:\n    depends_on: {cache: {condition: service_healthy}}\n    networks: {back: {aliases: [w]}}\n",
        );
        let web = &m["services"]["web"];
        assert_eq!(
            web["depends_on"]["db"]["condition"],
            Value::from("service_started")
        );
        assert_eq!(
            web["depends_on"]["cache"]["condition"],
            Value::from("service_healthy")
        );
        assert!(web["networks"]["front"].is_null());
        assert_eq!(web["networks"]["back"]["aliases"][0], Value::from("w"));
    }

    #[test]
    fn volumes_are_unique_by_target() {
        let m = merged(
            "services:\n  web:\n    volumes: ['old:/data', './x:/x']\n",
            "services:\n  web:\n    volumes: ['new:/data']\n",
        );
        assert_eq!(
            m["services"]["web"]["volumes"],
            serde_yaml::from_str::<Value>("['new:/data', './x:/x']").unwrap()
        );
    }

    #[test]
    fn a_scalar_cannot_override_a_mapping() {
        let err = merge(
            doc("services:\n  web:\n    deploy: {replicas: 1}\n"),
            doc("services:\n  web:\n    deploy: 3\n"),
        )
        .unwrap_err();
        assert_eq!(err, "cannot override services.web.deploy");
    }
}
