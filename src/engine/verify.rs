//! Smoke checks: proof that each service of a running stack works, as its
//! catalog entry declares it, plus the wiring between tools (Prometheus sees
//! its targets up, Grafana has its datasource, the app reaches its services).
//! Each check is retried until it passes or its time is up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Engine, LABEL_SERVICE, exec, label};
use crate::catalog::Check;

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub service: String,
    pub check: String,
    pub ok: bool,
    pub detail: String,
    pub seconds: f64,
}

/// What a running service offers: its state and host ports by container port.
#[derive(Debug, Clone, Default)]
struct Running {
    container: String,
    state: String,
    ports: HashMap<u16, u16>,
}

pub fn describe(check: &Check) -> String {
    match check {
        Check::Http {
            name: Some(name), ..
        }
        | Check::Exec {
            name: Some(name), ..
        } => name.clone(),
        Check::Http { path, .. } => format!("GET {path}"),
        Check::Tcp { port, .. } => format!("tcp {port}"),
        Check::Exec { command, .. } => format!("exec {}", command.join(" ")),
        Check::AppHealth { .. } => "GET /health: dependencies".into(),
        Check::PrometheusTargets { .. } => "scrape targets up".into(),
        Check::GrafanaDatasource { uid, .. } => format!("datasource {uid}"),
        Check::GraphiteSeries { .. } | Check::InfluxqlSeries { .. } => {
            "dashboard series have data".into()
        }
    }
}

/// Runs every check at once; each gets `limit` to pass.
pub async fn run(
    engine: &Engine,
    project: &str,
    checks: &[Check],
    secrets: &HashMap<String, String>,
    limit: Duration,
) -> Result<Vec<CheckResult>, super::EngineError> {
    let running: HashMap<String, Running> = engine
        .project_containers(project)
        .await?
        .into_iter()
        .filter_map(|c| {
            let service = label(&c, LABEL_SERVICE)?.to_string();
            let ports = c
                .ports
                .iter()
                .flatten()
                .filter_map(|p| Some((p.private_port, p.public_port?)))
                .collect();
            Some((
                service,
                Running {
                    container: c.id.clone().unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    ports,
                },
            ))
        })
        .collect();
    let jobs = checks.iter().map(|check| {
        let target = running.get(check.service()).cloned();
        async move {
            let started = Instant::now();
            let mut last;
            loop {
                last = match &target {
                    None => Err(format!(
                        "service {} has no container; is the stack up?",
                        check.service()
                    )),
                    Some(t) if t.state != "running" => {
                        Err(format!("service {} is {}", check.service(), t.state))
                    }
                    Some(t) => attempt(engine, check, t, secrets).await,
                };
                // A stopped or missing container will not come back by waiting.
                let hopeless = target.as_ref().is_none_or(|t| t.state != "running");
                if last.is_ok() || hopeless || started.elapsed() >= limit {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let (ok, detail) = match last {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            CheckResult {
                service: check.service().to_string(),
                check: describe(check),
                ok,
                detail,
                seconds: started.elapsed().as_secs_f64(),
            }
        }
    });
    Ok(futures_util::future::join_all(jobs).await)
}

fn host_port(t: &Running, service: &str, port: u16) -> Result<u16, String> {
    t.ports
        .get(&port)
        .copied()
        .ok_or_else(|| format!("service {service} does not publish port {port}"))
}

async fn attempt(
    engine: &Engine,
    check: &Check,
    t: &Running,
    secrets: &HashMap<String, String>,
) -> Result<String, String> {
    match check {
        Check::Http {
            service,
            port,
            path,
            status,
            contains,
            ..
        } => {
            let (code, body) = get(host_port(t, service, *port)?, path, None).await?;
            if code != *status {
                return Err(format!("GET {path} answered {code}, expected {status}"));
            }
            if let Some(needle) = contains
                && !body.contains(needle.as_str())
            {
                return Err(format!("GET {path} answered {code} without `{needle}`"));
            }
            Ok(format!("{code}"))
        }
        Check::Tcp { service, port } => {
            let host = host_port(t, service, *port)?;
            tokio::time::timeout(
                Duration::from_secs(3),
                tokio::net::TcpStream::connect(("127.0.0.1", host)),
            )
            .await
            .map_err(|_| format!("127.0.0.1:{host} did not answer"))?
            .map_err(|e| format!("127.0.0.1:{host}: {e}"))?;
            Ok(format!("127.0.0.1:{host} accepts connections"))
        }
        Check::Exec { command, .. } => {
            let (code, out) =
                exec::run(engine, &t.container, command, Duration::from_secs(10)).await?;
            let out = out.trim().lines().last().unwrap_or("").to_string();
            if code == 0 {
                Ok(if out.is_empty() { "exit 0".into() } else { out })
            } else {
                Err(format!(
                    "exit {code}{}",
                    if out.is_empty() {
                        String::new()
                    } else {
                        format!(": {out}")
                    }
                ))
            }
        }
        Check::AppHealth { service, port } => {
            let (code, body) = get(host_port(t, service, *port)?, "/health", None).await?;
            let report: serde_json::Value = serde_json::from_str(&body)
                .map_err(|_| format!("/health answered {code} with no JSON report"))?;
            let deps = report["checks"].as_object().cloned().unwrap_or_default();
            let mut parts = Vec::new();
            let mut failed = false;
            for (name, c) in &deps {
                let status = c["status"].as_str().unwrap_or("?");
                failed |= status != "ok";
                parts.push(format!(
                    "{name} {status} ({})",
                    c["detail"].as_str().unwrap_or("")
                ));
            }
            let summary = if parts.is_empty() {
                "no dependencies".to_string()
            } else {
                parts.join("; ")
            };
            if code == 200 && !failed {
                Ok(summary)
            } else {
                Err(format!("/health {code}: {summary}"))
            }
        }
        Check::PrometheusTargets { service, port } => {
            let (code, body) = get(host_port(t, service, *port)?, "/api/v1/targets", None).await?;
            let v: serde_json::Value = serde_json::from_str(&body)
                .map_err(|_| format!("/api/v1/targets answered {code} with no JSON"))?;
            let targets = v["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if targets.is_empty() {
                return Err("Prometheus has no scrape targets yet".into());
            }
            let mut parts = Vec::new();
            let mut down = false;
            for target in &targets {
                let job = target["labels"]["job"].as_str().unwrap_or("?");
                let health = target["health"].as_str().unwrap_or("?");
                down |= health != "up";
                let err = target["lastError"].as_str().filter(|e| !e.is_empty());
                parts.push(match err {
                    Some(e) if health != "up" => format!("{job} {health}: {e}"),
                    _ => format!("{job} {health}"),
                });
            }
            if down {
                Err(parts.join(", "))
            } else {
                Ok(parts.join(", "))
            }
        }
        Check::GrafanaDatasource {
            service,
            port,
            uid,
            password_env,
        } => {
            let password = secrets
                .get(password_env)
                .ok_or_else(|| format!("{password_env} is not in .env"))?;
            let path = format!("/api/datasources/uid/{uid}");
            let (code, body) = get(
                host_port(t, service, *port)?,
                &path,
                Some(&basic("admin", password)),
            )
            .await?;
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            match (code, v["name"].as_str()) {
                (200, Some(name)) => Ok(format!("{name} ({})", v["type"].as_str().unwrap_or("?"))),
                _ => Err(format!(
                    "GET {path} answered {code}: the provisioned datasource is missing"
                )),
            }
        }
        Check::GraphiteSeries {
            service,
            port,
            targets,
        } => {
            let port = host_port(t, service, *port)?;
            every_series_has_data(targets, |target| async move {
                let path = format!(
                    "/render?format=json&from=-15min&target={}",
                    super::compat::encode(&target)
                );
                let (code, body) = get(port, &path, None).await?;
                let v: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|_| format!("/render answered {code} with no JSON"))?;
                Ok(v.as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s["datapoints"].as_array().cloned().unwrap_or_default())
                    .filter(|d| !d[0].is_null())
                    .count())
            })
            .await
        }
        Check::InfluxqlSeries {
            service,
            port,
            database,
            token_env,
            queries,
        } => {
            let token = secrets
                .get(token_env)
                .ok_or_else(|| format!("{token_env} is not in .env"))?;
            let auth = format!("Token {token}");
            let port = host_port(t, service, *port)?;
            every_series_has_data(queries, |q| {
                let auth = auth.clone();
                async move {
                    let path = format!(
                        "/query?db={}&q={}",
                        super::compat::encode(database),
                        super::compat::encode(&q)
                    );
                    let (code, body) = get(port, &path, Some(&auth)).await?;
                    let v: serde_json::Value = serde_json::from_str(&body)
                        .map_err(|_| format!("/query answered {code} with no JSON"))?;
                    if let Some(e) = v["results"][0]["error"].as_str().or(v["error"].as_str()) {
                        return Err(format!("`{q}`: {e}"));
                    }
                    Ok(v["results"][0]["series"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| s["values"].as_array().map_or(0, |v| v.len()))
                        .sum())
                }
            })
            .await
        }
    }
}

/// HTTP basic credentials as an `Authorization` value.
fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// Each of `queries` (one per dashboard panel) must return at least one
/// value; `run` gives one query's values, or why it could not.
async fn every_series_has_data<F, Fut>(queries: &[String], run: F) -> Result<String, String>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<usize, String>>,
{
    let mut found = Vec::new();
    for q in queries {
        match run(q.clone()).await? {
            0 => return Err(format!("no data yet for `{q}`")),
            n => found.push(n),
        }
    }
    Ok(format!(
        "{} series with data ({} values)",
        found.len(),
        found.iter().sum::<usize>()
    ))
}

/// A GET on 127.0.0.1 over HTTP/1.0 (so no chunked replies): (status, body).
async fn get(port: u16, path: &str, auth: Option<&str>) -> Result<(u16, String), String> {
    let work = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
        let mut req = format!(
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json, */*\r\n"
        );
        if let Some(auth) = auth {
            req.push_str(&format!("Authorization: {auth}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.take(4 << 20)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no HTTP status line")?;
        Ok((code, body.to_string()))
    };
    tokio::time::timeout(Duration::from_secs(5), work)
        .await
        .map_err(|_| format!("127.0.0.1:{port} did not answer {path} in 5 s"))?
}
