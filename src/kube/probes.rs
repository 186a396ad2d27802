//! A compose healthcheck -> readiness, liveness and startup probes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::secrets;
use crate::compose::model::Healthcheck;

/// A URL the check fetches from its own container, when the check is only
/// that fetch: then an HTTP probe does the same.
fn http_target(test: &[String]) -> Option<(String, u32, String)> {
    let (kind, words) = test.split_first()?;
    let tool = match kind.as_str() {
        "CMD" => words.first()?.rsplit('/').next()?.to_string(),
        _ => return None,
    };
    if !matches!(
        tool.as_str(),
        "curl" | "wget" | "node" | "python" | "python3"
    ) {
        return None;
    }
    let urls: Vec<&str> = words
        .iter()
        .flat_map(|w| w.split(['\'', '"', ' ', '(', ')']))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .collect();
    let [url] = urls.as_slice() else { return None };
    let (scheme, rest) = url.split_once("://")?;
    let (host_port, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (host_port, if scheme == "https" { 443 } else { 80 }),
    };
    matches!(host, "127.0.0.1" | "localhost" | "0.0.0.0" | "[::1]")
        .then(|| (scheme.to_uppercase(), port, path))
}

pub fn seconds(nanos: i64) -> i64 {
    ((nanos + 999_999_999) / 1_000_000_000).max(1)
}

/// Readiness, liveness and startup probes from one healthcheck, with the
/// report's note; None when the healthcheck is disabled.
pub fn probes(
    h: &Healthcheck,
    names: &BTreeMap<String, String>,
) -> Option<(Vec<(&'static str, Value)>, String)> {
    if h.disable || h.test.first().is_some_and(|t| t == "NONE") || h.test.is_empty() {
        return None;
    }
    let ns = |d: Option<crate::compose::model::Duration>, default: i64| {
        d.map(|d| d.0).unwrap_or(default * 1_000_000_000)
    };
    let interval = seconds(ns(h.interval, 30));
    let timeout = seconds(ns(h.timeout, 30));
    let retries = h.retries.unwrap_or(3).max(1);
    let start_period = h.start_period.map(|d| d.0).unwrap_or(0) / 1_000_000_000;
    let start_every = seconds(ns(h.start_interval, 5)).min(interval);
    let (action, how) = match http_target(&h.test) {
        Some((scheme, port, path)) => (
            json!({"httpGet": {"path": path, "port": port, "scheme": scheme}}),
            format!("HTTP probes (GET {path} on port {port}), as the check fetches"),
        ),
        None => (
            json!({"exec": {"command": exec_command(&h.test, names)}}),
            "exec probes running the same check".to_string(),
        ),
    };
    let with = |extra: Value| {
        let mut p = action.as_object().cloned().unwrap_or_default();
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            p.insert(k, v);
        }
        Value::Object(p)
    };
    let startup_failures = ((start_period + interval * retries) + start_every - 1) / start_every;
    let probes = vec![
        (
            "startupProbe",
            with(
                json!({"periodSeconds": start_every, "timeoutSeconds": timeout, "failureThreshold": startup_failures.max(1)}),
            ),
        ),
        (
            "readinessProbe",
            with(
                json!({"periodSeconds": interval, "timeoutSeconds": timeout, "failureThreshold": retries}),
            ),
        ),
        (
            "livenessProbe",
            with(
                json!({"periodSeconds": interval, "timeoutSeconds": timeout, "failureThreshold": retries}),
            ),
        ),
    ];
    Some((
        probes,
        format!(
            "{how}: readiness and liveness every {interval}s (timeout {timeout}s, {retries} failures), startup allows {}s; a failing liveness probe restarts the container, where Compose only marks it unhealthy",
            startup_failures * start_every
        ),
    ))
}

/// The probe's command. Exec probes expand no `$(VAR)`, so a check that
/// needs a secret reads it from the environment through a shell.
fn exec_command(test: &[String], names: &BTreeMap<String, String>) -> Vec<String> {
    let Some((kind, words)) = test.split_first() else {
        return Vec::new();
    };
    if kind == "CMD-SHELL" {
        return vec![
            "/bin/sh".into(),
            "-c".into(),
            secrets::shell_expansion(&words.join(" "), names),
        ];
    }
    if words.iter().all(|w| secrets::vars_in(w).is_empty()) {
        return words.to_vec();
    }
    let line: Vec<String> = words
        .iter()
        .map(|w| {
            if secrets::vars_in(w).is_empty() {
                shell_words::quote(w).into_owned()
            } else {
                let escaped: String = secrets::pieces(w)
                    .into_iter()
                    .map(|p| match p {
                        secrets::Piece::Text(t) => t
                            .chars()
                            .flat_map(|c| {
                                let escape = matches!(c, '\\' | '"' | '$' | '`');
                                escape.then_some('\\').into_iter().chain([c])
                            })
                            .collect(),
                        secrets::Piece::Var(v) => {
                            format!("${{{}}}", names.get(v).map(String::as_str).unwrap_or(v))
                        }
                    })
                    .collect();
                format!("\"{escaped}\"")
            }
        })
        .collect();
    vec!["/bin/sh".into(), "-c".into(), line.join(" ")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_check_that_only_fetches_a_local_url_is_an_http_probe() {
        let curl = words(&["CMD", "curl", "-fsS", "http://127.0.0.1:3000/api/healthz"]);
        assert_eq!(
            http_target(&curl),
            Some(("HTTP".into(), 3000, "/api/healthz".into()))
        );
        let node = words(&[
            "CMD",
            "node",
            "-e",
            "fetch('http://localhost:8080/health').then(r=>process.exit(r.ok?0:1))",
        ]);
        assert_eq!(
            http_target(&node),
            Some(("HTTP".into(), 8080, "/health".into()))
        );
        // A shell line may do more than fetch (a grep of the body): exec.
        let shell = words(&["CMD-SHELL", "curl -f http://localhost/ | grep ok"]);
        assert_eq!(http_target(&shell), None);
        // Another host is not the container's own.
        let other = words(&["CMD", "curl", "http://db:5432/"]);
        assert_eq!(http_target(&other), None);
        assert_eq!(http_target(&words(&["CMD", "pg_isready"])), None);
    }

    #[test]
    fn a_secret_in_an_exec_check_is_read_from_the_environment_by_a_shell() {
        let names = BTreeMap::from([("PW".to_string(), "REDIS_PASSWORD".to_string())]);
        let test = words(&["CMD", "redis-cli", "-a", &secrets::marker("PW"), "ping"]);
        assert_eq!(
            exec_command(&test, &names),
            ["/bin/sh", "-c", r#"redis-cli -a "${REDIS_PASSWORD}" ping"#]
        );
        let plain = words(&["CMD", "pg_isready", "-U", "app"]);
        assert_eq!(exec_command(&plain, &names), ["pg_isready", "-U", "app"]);
    }

    #[test]
    fn startup_allows_the_start_period_and_every_retry() {
        let s = 1_000_000_000;
        let h = Healthcheck {
            test: words(&["CMD", "true"]),
            interval: Some(crate::compose::model::Duration(10 * s)),
            retries: Some(3),
            start_period: Some(crate::compose::model::Duration(60 * s)),
            ..Default::default()
        };
        let (made, _) = probes(&h, &BTreeMap::new()).unwrap();
        let startup = &made.iter().find(|(k, _)| *k == "startupProbe").unwrap().1;
        // (60 s + 3 x 10 s) / every 5 s.
        assert_eq!(startup["failureThreshold"], 18);
        assert_eq!(startup["periodSeconds"], 5);
        let disabled = Healthcheck { disable: true, ..h };
        assert!(probes(&disabled, &BTreeMap::new()).is_none());
    }
}
