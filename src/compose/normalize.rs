//! The last steps before the typed model (compose-go's `Normalize` and
//! `ResolveEnvironment`): every service joins `default` unless it says
//! otherwise, `links`/`network_mode: service:x`/`volumes_from` become
//! dependencies, bare `environment` names are filled from the environment,
//! and top-level resources get their real names (`<project>_<key>`).

use serde_yaml::{Mapping, Value};

use super::canonical::clean_path;
use super::model::Mapping as Env;

fn dependency(restart: bool) -> Value {
    Value::Mapping(Mapping::from_iter([
        ("condition".into(), "service_started".into()),
        ("restart".into(), Value::Bool(restart)),
        ("required".into(), Value::Bool(true)),
    ]))
}

/// `environment: [NAME]` entries get `NAME=value` when the environment has one.
pub fn resolve_environment(doc: &mut Mapping, env: &Env) {
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Some(Value::Sequence(list)) = svc.get_mut("environment") {
                let resolved: Vec<Value> = list
                    .iter()
                    .filter_map(|e| e.as_str())
                    .map(|name| match env.get(name) {
                        Some(v) if !name.contains('=') => format!("{name}={v}").into(),
                        _ => name.into(),
                    })
                    .collect();
                *list = resolved;
            }
        }
    }
    for (kind, key) in [("secrets", "x-#value"), ("configs", "content")] {
        if let Some(Value::Mapping(resources)) = doc.get_mut(kind) {
            for (_, r) in resources.iter_mut() {
                let Some(name) = r.get("environment").and_then(Value::as_str) else {
                    continue;
                };
                if let (Some(found), Value::Mapping(m)) = (env.get(name).cloned(), r) {
                    m.insert(key.into(), found.into());
                }
            }
        }
    }
}

/// Fills `names` from `lookup`; keeps unresolved ones only if `keep_empty`.
fn resolve(v: &Value, lookup: &dyn Fn(&str) -> Option<String>, keep_empty: bool) -> Value {
    match v {
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .filter_map(|i| match i.as_str() {
                    Some(s) if !s.contains('=') => match lookup(s) {
                        Some(val) => Some(format!("{s}={val}").into()),
                        None if keep_empty => Some(s.into()),
                        None => None,
                    },
                    _ => Some(i.clone()),
                })
                .collect(),
        ),
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .filter_map(|(k, val)| {
                    if !val.is_null() {
                        return Some((k.clone(), val.clone()));
                    }
                    match lookup(k.as_str().unwrap_or_default()) {
                        Some(found) => Some((k.clone(), found.into())),
                        None if keep_empty => Some((k.clone(), Value::Null)),
                        None => None,
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn normalize(doc: &mut Mapping, env: &Env) {
    normalize_networks(doc);
    let lookup = |k: &str| env.get(k).cloned();
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            let Value::Mapping(service) = svc else {
                continue;
            };
            if service.get("pull_policy").and_then(Value::as_str) == Some("if_not_present") {
                service.insert("pull_policy".into(), "missing".into());
            }
            if let Some(Value::Mapping(build)) = service.get_mut("build") {
                if build.get("context").is_none_or(Value::is_null) {
                    build.insert("context".into(), ".".into());
                }
                if build.get("dockerfile").is_none_or(Value::is_null)
                    && build.get("dockerfile_inline").is_none_or(Value::is_null)
                {
                    build.insert("dockerfile".into(), "Dockerfile".into());
                }
                if let Some(args) = build.get("args") {
                    let resolved = resolve(args, &lookup, false);
                    build.insert("args".into(), resolved);
                }
            }
            if let Some(e) = service.get("environment") {
                let resolved = resolve(e, &lookup, true);
                service.insert("environment".into(), resolved);
            }
            let mut depends_on = match service.get("depends_on") {
                Some(Value::Mapping(d)) => d.clone(),
                _ => Mapping::new(),
            };
            if let Some(Value::Sequence(links)) = service.get("links") {
                for link in links.iter().filter_map(Value::as_str) {
                    let name = match link.split(':').collect::<Vec<_>>().as_slice() {
                        [name, _] => name.to_string(),
                        _ => link.to_string(),
                    };
                    if !depends_on.contains_key(name.as_str()) {
                        depends_on.insert(name.into(), dependency(true));
                    }
                }
            }
            for namespace in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
                if let Some(shared) = service
                    .get(namespace)
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("service:"))
                    && !depends_on.contains_key(shared)
                {
                    depends_on.insert(shared.into(), dependency(true));
                }
            }
            if let Some(Value::Sequence(volumes)) = service.get_mut("volumes") {
                for vol in volumes.iter_mut() {
                    if let Value::Mapping(m) = vol
                        && let Some(target) = m.get("target").and_then(Value::as_str)
                    {
                        let cleaned = clean_path(target);
                        m.insert("target".into(), cleaned.into());
                    }
                }
            }
            if let Some(Value::Sequence(from)) = service.get("volumes_from") {
                for v in from.iter().filter_map(Value::as_str) {
                    if v.starts_with("container:") {
                        continue;
                    }
                    let name = v.split(':').next().unwrap_or(v);
                    if !depends_on.contains_key(name) {
                        let mut d = dependency(false);
                        if let Value::Mapping(m) = &mut d {
                            m.insert("restart".into(), Value::Bool(false));
                        }
                        depends_on.insert(name.into(), d);
                    }
                }
            }
            if !depends_on.is_empty() {
                service.insert("depends_on".into(), Value::Mapping(depends_on));
            }
        }
    }
    set_name_from_key(doc);
}

fn normalize_networks(doc: &mut Mapping) {
    let mut uses_default = false;
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            let Value::Mapping(service) = svc else {
                continue;
            };
            if service.contains_key("provider") || service.contains_key("network_mode") {
                continue;
            }
            match service.get("networks") {
                Some(Value::Mapping(n)) if !n.is_empty() => {
                    if n.contains_key("default") {
                        uses_default = true;
                    }
                }
                _ => {
                    service.insert(
                        "networks".into(),
                        Value::Mapping(Mapping::from_iter([("default".into(), Value::Null)])),
                    );
                    uses_default = true;
                }
            }
        }
    }
    let mut networks = match doc.get("networks") {
        Some(Value::Mapping(n)) => n.clone(),
        _ => Mapping::new(),
    };
    if uses_default && !networks.contains_key("default") {
        networks.insert("default".into(), Value::Null);
    }
    if !networks.is_empty() {
        doc.insert("networks".into(), Value::Mapping(networks));
    }
}

fn set_name_from_key(doc: &mut Mapping) {
    let project = doc
        .get("name")
        .map(super::gofmt::sprint)
        .unwrap_or_default();
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(Value::Mapping(top)) = doc.get_mut(kind) else {
            continue;
        };
        for (key, r) in top.iter_mut() {
            let mut resource = match r {
                Value::Mapping(m) => m.clone(),
                _ => Mapping::new(),
            };
            if resource.get("name").is_none_or(Value::is_null) {
                let key = key.as_str().unwrap_or_default();
                let external = resource
                    .get("external")
                    .is_some_and(|x| matches!(x, Value::Bool(true)) || x.as_str() == Some("true"));
                let name = if external {
                    key.to_string()
                } else {
                    format!("{project}_{key}")
                };
                resource.insert("name".into(), name.into());
            }
            *r = Value::Mapping(resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_links_and_names() {
        let mut doc: Mapping = serde_yaml::from_str(
            "name: shop\nservices:\n  web:\n    links: ['db:database']\n    environment: {HOME: null, UNSET: null, SET: x}\n    volumes: [{type: volume, source: v, target: /data/}]\n  db:\n    network_mode: host\n  side:\n    network_mode: service:web\n    volumes_from: [db]\nvolumes:\n  v:\n  ext: {external: true}\n",
        )
        .unwrap();
        let env: Env = [("HOME".to_string(), "/home/me".to_string())].into();
        normalize(&mut doc, &env);
        let v = Value::Mapping(doc);
        let web = &v["services"]["web"];
        assert!(web["networks"]["default"].is_null());
        assert!(v["services"]["db"].get("networks").is_none());
        assert_eq!(web["depends_on"]["db"]["restart"], Value::Bool(true));
        assert_eq!(web["environment"]["HOME"], Value::from("/home/me"));
        assert!(web["environment"]["UNSET"].is_null());
        assert_eq!(web["volumes"][0]["target"], Value::from("/data"));
        assert_eq!(
            v["services"]["side"]["depends_on"]["web"]["condition"],
            Value::from("service_started")
        );
        assert_eq!(
            v["services"]["side"]["depends_on"]["db"]["restart"],
            Value::Bool(false)
        );
        assert_eq!(v["volumes"]["v"]["name"], Value::from("shop_v"));
        assert_eq!(v["volumes"]["ext"]["name"], Value::from("ext"));
        assert_eq!(
            v["networks"]["default"]["name"],
            Value::from("shop_default")
        );
    }
}
