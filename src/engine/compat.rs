//! Where Podman's Docker-compatible API answers differently from Docker's.
//!
//! - A container that has exited is `stopped` in Podman's `State` (Docker
//!   says `exited`), which bollard's state enums do not accept. Those calls
//!   are made again here, read as plain JSON, the state named as Docker
//!   names it, then typed as usual.
//! - Podman runs healthchecks from systemd timers; without systemd (most
//!   containers and CI machines) they never run and a container stays
//!   `starting` for ever. `run_healthcheck` asks Podman to run one now
//!   (its libpod API), which counts towards `retries` as a timer's would.

use bollard::models::{ContainerInspectResponse, ContainerSummary};
use serde_json::Value;

/// Whether bollard refused an answer for a state name it does not know.
pub fn is_unknown_state(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::JsonDataError { message, .. } if message.contains("unknown variant `stopped`"))
        || e.to_string().contains("unknown variant `stopped`")
}

pub async fn inspect(
    host: &str,
    api: super::ApiVersion,
    id: &str,
) -> Result<ContainerInspectResponse, bollard::errors::Error> {
    let mut v = get(host, &format!("/v{api}/containers/{}/json", encode(id))).await?;
    if let Some(state) = v.get_mut("State") {
        docker_state(state, "Status");
    }
    typed(v)
}

/// `GET /containers/json?all=1&filters=...`.
pub async fn list(
    host: &str,
    api: super::ApiVersion,
    filters: &std::collections::HashMap<String, Vec<String>>,
) -> Result<Vec<ContainerSummary>, bollard::errors::Error> {
    let filters = serde_json::to_string(filters).map_err(io)?;
    let mut v = get(
        host,
        &format!("/v{api}/containers/json?all=1&filters={}", encode(&filters)),
    )
    .await?;
    if let Some(items) = v.as_array_mut() {
        items.iter_mut().for_each(|c| docker_state(c, "State"));
    }
    typed(v)
}

/// Runs a container's healthcheck once, as its timer would, so Podman
/// records the result (health status, failing streak, log).
pub async fn run_healthcheck(host: &str, id: &str) -> Result<(), bollard::errors::Error> {
    get(
        host,
        &format!("/v4.0.0/libpod/containers/{}/healthcheck", encode(id)),
    )
    .await
    .map(drop)
}

fn docker_state(obj: &mut Value, key: &str) {
    if let Some(s) = obj.get_mut(key)
        && s == "stopped"
    {
        *s = Value::from("exited");
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, bollard::errors::Error> {
    serde_json::from_value(v).map_err(io)
}

fn io(e: impl std::fmt::Display) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: std::io::Error::other(e.to_string()),
    }
}

/// Percent-encodes what is not unreserved in a URL (RFC 3986).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.0 GET over the engine's socket: the answer ends where the
/// connection does, so no chunked body to decode.
async fn get(host: &str, path: &str) -> Result<Value, bollard::errors::Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut raw = Vec::new();
    if let Some(socket) = host.strip_prefix("unix://") {
        let mut s = tokio::net::UnixStream::connect(socket).await?;
        s.write_all(request.as_bytes()).await?;
        s.read_to_end(&mut raw).await?;
    } else {
        let addr = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
            .unwrap_or(host);
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(request.as_bytes()).await?;
        s.read_to_end(&mut raw).await?;
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io("the engine's answer has no body"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if status != 200 {
        return Err(bollard::errors::Error::DockerResponseServerError {
            status_code: status,
            message: body.trim().to_string(),
        });
    }
    serde_json::from_str(body).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_stopped_is_dockers_exited() {
        let mut v = serde_json::json!({"Status": "stopped"});
        docker_state(&mut v, "Status");
        assert_eq!(v["Status"], "exited");
        let mut running = serde_json::json!({"State": "running"});
        docker_state(&mut running, "State");
        assert_eq!(running["State"], "running");
    }

    #[test]
    fn filters_are_encoded() {
        assert_eq!(
            encode(r#"{"label":["a=b"]}"#),
            "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D"
        );
    }
}
