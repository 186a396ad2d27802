//! The checks of the Compose specification's schema that the typed model
//! (`decode.rs`) does not make by itself: where an empty value (`null`) is
//! allowed, and which lists must not repeat an entry. Compose validates
//! each merged file against the schema; these are the rules it enforces that
//! a real file trips over (a key left empty, `depends_on: [db, db]`).

use serde_yaml::{Mapping, Value};

use super::tree::Path;

/// Lists whose entries must be unique (the schema's `uniqueItems`).
const UNIQUE: &[&str] = &[
    "services.*.annotations",
    "services.*.build.args",
    "services.*.build.ssh",
    "services.*.build.labels",
    "services.*.build.additional_contexts",
    "services.*.build.extra_hosts",
    "services.*.cap_add",
    "services.*.cap_drop",
    "services.*.depends_on",
    "services.*.deploy.labels",
    "services.*.device_cgroup_rules",
    "services.*.dns",
    "services.*.dns_opt",
    "services.*.dns_search",
    "services.*.environment",
    "services.*.expose",
    "services.*.external_links",
    "services.*.extra_hosts",
    "services.*.group_add",
    "services.*.labels",
    "services.*.links",
    "services.*.models",
    "services.*.networks",
    "services.*.networks.*.aliases",
    "services.*.networks.*.link_local_ips",
    "services.*.ports",
    "services.*.profiles",
    "services.*.security_opt",
    "services.*.sysctls",
    "services.*.tmpfs",
    "services.*.volumes",
    "services.*.volumes_from",
    "networks.*.labels",
    "volumes.*.labels",
    "secrets.*.labels",
    "configs.*.labels",
];

/// Service keys that may be left empty.
const NULLABLE: &[&str] = &["command", "entrypoint", "deploy", "develop", "pid"];

pub fn validate(doc: &Mapping) -> Result<(), String> {
    for key in [
        "services", "networks", "volumes", "secrets", "configs", "models",
    ] {
        match doc.get(key) {
            None | Some(Value::Mapping(_)) => {}
            Some(_) => return Err(format!("{key} must be a mapping")),
        }
    }
    if let Some(Value::Mapping(services)) = doc.get("services") {
        for (name, svc) in services {
            let name = name.as_str().unwrap_or_default();
            let Value::Mapping(svc) = svc else {
                return Err(format!("services.{name} must be a mapping"));
            };
            for (k, v) in svc {
                let k = k.as_str().unwrap_or_default();
                if v.is_null() && !NULLABLE.contains(&k) && !k.starts_with("x-") {
                    return Err(format!(
                        "services.{name}.{k} is empty; give it a value or remove the key"
                    ));
                }
            }
        }
    }
    unique(&Value::Mapping(doc.clone()), &Path::root())
}

fn unique(v: &Value, path: &Path) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            for (k, item) in m {
                unique(item, &path.next(k.as_str().unwrap_or_default()))?;
            }
        }
        Value::Sequence(items) => {
            if UNIQUE.iter().any(|p| path.matches(p)) {
                for (i, a) in items.iter().enumerate() {
                    if let Some(j) = items[i + 1..].iter().position(|b| b == a) {
                        return Err(format!("{path} items at {i} and {} are equal", i + 1 + j));
                    }
                }
            }
            for item in items {
                unique(item, &path.item())?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Result<(), String> {
        validate(&serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn repeated_entries_and_empty_keys() {
        assert_eq!(
            check("services:\n  a:\n    image: x\n    depends_on: [b, b]\n").unwrap_err(),
            "services.a.depends_on items at 0 and 1 are equal"
        );
        assert!(check("services:\n  a:\n    image: x\n    labels: [a=1, a=2]\n").is_ok());
        assert!(
            check("services:\n  a:\n    image: x\n    healthcheck:\n")
                .unwrap_err()
                .contains("healthcheck is empty")
        );
        assert!(check("services:\n  a:\n    image: x\n    command:\n    deploy:\n").is_ok());
        assert_eq!(
            check("services:\n  a:\nnetworks:\n").unwrap_err(),
            "networks must be a mapping"
        );
        assert_eq!(
            check("services:\n  a:\n").unwrap_err(),
            "services.a must be a mapping"
        );
    }
}
