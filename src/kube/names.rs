//! Kubernetes names and labels for compose names.

use serde_json::{Value, json};

use crate::compose::model::Project;

/// A DNS label (RFC 1123, what Service names must be): lowercase
/// letters, digits and `-`, starting with a letter, at most 63 long.
pub fn dns_label(s: &str) -> String {
    let mut out: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "s-");
    }
    if out.len() > 63 {
        let hash = short_hash(s);
        out.truncate(63 - hash.len() - 1);
        out = format!("{}-{hash}", out.trim_end_matches('-'));
    }
    out
}

/// Eight hex digits of a string's SHA-256: a stable, short suffix.
pub fn short_hash(s: &str) -> String {
    crate::trust::sha256_hex(s.as_bytes())[..8].to_string()
}

/// The name of something a service owns, from a path (`grafana` and
/// `/etc/grafana/provisioning` -> `grafana-etc-grafana-provisioning`).
pub fn child_name(service: &str, path: &str) -> String {
    dns_label(&format!("{service}-{}", path.trim_start_matches('/')))
}

/// A port's name: at most 15 characters, lowercase, with a letter.
pub fn port_name(port: u32, protocol: &str) -> String {
    format!("{}-{port}", protocol.to_lowercase())
}

/// What selects a service's pods.
pub fn selector(project: &Project, service: &str) -> Value {
    json!({
        "app.kubernetes.io/name": dns_label(service),
        "app.kubernetes.io/instance": dns_label(&project.name),
    })
}

/// The recommended labels (`app.kubernetes.io/*`), on every resource.
pub fn labels(project: &Project, service: &str) -> Value {
    let mut l = selector(project, service);
    l["app.kubernetes.io/part-of"] = json!(dns_label(&project.name));
    l["app.kubernetes.io/managed-by"] = json!("brickyard");
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_names_become_dns_labels() {
        assert_eq!(dns_label("woodpecker-agent"), "woodpecker-agent");
        assert_eq!(dns_label("my_db.1"), "my-db-1");
        assert_eq!(dns_label("1db"), "s-1db");
        let long = dns_label(&"x".repeat(80));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(dns_label(&"x".repeat(80)), dns_label(&"x".repeat(81)));
        assert_eq!(port_name(11211, "TCP"), "tcp-11211");
    }
}
