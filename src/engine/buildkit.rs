//! Builds through BuildKit, the engine's own builder, when it has one: cache
//! mounts (`RUN --mount=type=cache`), parallel stages, build secrets and SSH
//! forwarding. Two ways in, both through bollard:
//! - `/build` with `version=2` and a session: the usual path, with BuildKit's
//!   progress streamed back, rendered here as `docker build --progress=plain`
//!   renders it;
//! - the `/grpc` Solve call, for builds that need secrets or SSH, which only
//!   that path can serve. It reports no steps while it runs; its error names
//!   the step that failed.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use bollard::grpc::build::{
    ImageBuildFrontendOptions, ImageBuildHostIp, ImageBuildLoadInput, ImageBuildNetworkMode,
    SecretSource,
};
use bollard::moby::buildkit::v1::StatusResponse;

use crate::compose::Project;
use crate::compose::model::Build;

/// Whether builds on this engine go through BuildKit: a Linux Docker
/// Engine (API 1.39, 18.09, or later), unless `DOCKER_BUILDKIT=0` asks for
/// the legacy builder as it does for `docker build`. Podman builds with
/// Buildah behind the legacy API.
pub fn available(podman: bool, os: &str, api: super::ApiVersion) -> bool {
    let opted_out = std::env::var("DOCKER_BUILDKIT")
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "0" | "false"));
    !podman && os == "linux" && api.at_least(1, 39) && !opted_out
}

/// A session id as BuildKit's clients make them: 25 base-36 characters.
pub fn session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    let mut n = u128::from_le_bytes(bytes);
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..25)
        .map(|_| {
            let d = digits[(n % 36) as usize] as char;
            n /= 36;
            d
        })
        .collect()
}

/// BuildKit's progress as plain lines: `#3 [2/4] RUN make`, the step's
/// output as `#3 ...`, then `#3 DONE 1.2s`, `#3 CACHED` or `#3 ERROR: ...`.
/// The `[internal]` steps (loading the Dockerfile, the context) are left
/// out unless they fail.
#[derive(Default)]
pub struct Progress {
    numbers: HashMap<String, usize>,
    internal: HashSet<String>,
    started: HashSet<String>,
    finished: HashSet<String>,
}

impl Progress {
    fn number(&mut self, digest: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self.numbers.entry(digest.to_string()).or_insert(next)
    }

    pub fn lines(&mut self, status: &StatusResponse) -> Vec<String> {
        let mut out = Vec::new();
        for v in &status.vertexes {
            let n = self.number(&v.digest);
            if v.name.starts_with("[internal]") {
                self.internal.insert(v.digest.clone());
            }
            let shown = !self.internal.contains(&v.digest) || !v.error.is_empty();
            if v.started.is_some() && self.started.insert(v.digest.clone()) && shown {
                out.push(format!("#{n} {}", v.name));
            }
            let ended = v.completed.is_some() || !v.error.is_empty() || v.cached;
            if ended && self.finished.insert(v.digest.clone()) && shown {
                out.push(if !v.error.is_empty() {
                    format!("#{n} ERROR: {}", v.error)
                } else if v.cached {
                    format!("#{n} CACHED")
                } else {
                    format!("#{n} DONE{}", elapsed(v))
                });
            }
        }
        for log in &status.logs {
            if self.internal.contains(&log.vertex) {
                continue;
            }
            let n = self.number(&log.vertex);
            let text = String::from_utf8_lossy(&log.msg);
            for line in super::images::strip_ansi(&text).lines() {
                if !line.trim().is_empty() {
                    out.push(format!("#{n} {line}"));
                }
            }
        }
        for w in &status.warnings {
            out.push(format!("WARNING: {}", String::from_utf8_lossy(&w.short)));
        }
        out
    }
}

fn elapsed(v: &bollard::moby::buildkit::v1::Vertex) -> String {
    match (&v.started, &v.completed) {
        (Some(a), Some(b)) => {
            let secs = (b.seconds - a.seconds) as f64 + f64::from(b.nanos - a.nanos) / 1e9;
            format!(" {secs:.1}s")
        }
        _ => String::new(),
    }
}

/// A build's secrets as BuildKit takes them, by the id the Dockerfile uses
/// (`target`, else the secret's name), as Compose passes them. A value
/// that comes from `.env` rather than the process environment goes through
/// a private temporary file, kept in `keep` until the build is over.
pub fn secrets(
    project: &Project,
    build: &Build,
    keep: &mut Vec<tempfile::NamedTempFile>,
) -> Result<Vec<(String, SecretSource)>, String> {
    let mut out = Vec::new();
    for s in &build.secrets {
        let id = if s.target.is_empty() {
            s.source.clone()
        } else {
            s.target.clone()
        };
        let Some(def) = project.secrets.get(&s.source) else {
            return Err(format!(
                "build secret {} is not defined under `secrets`",
                s.source
            ));
        };
        let source = if !def.file.is_empty() {
            SecretSource::File(PathBuf::from(&def.file))
        } else if !def.environment.is_empty() {
            if std::env::var_os(&def.environment).is_some() {
                SecretSource::Env(def.environment.clone())
            } else {
                let value = project.environment.get(&def.environment).ok_or_else(|| {
                    format!(
                        "build secret {}: variable {} is not set",
                        s.source, def.environment
                    )
                })?;
                let mut file = tempfile::NamedTempFile::new()
                    .map_err(|e| format!("cannot hold build secret {}: {e}", s.source))?;
                std::io::Write::write_all(&mut file, value.as_bytes())
                    .map_err(|e| format!("cannot hold build secret {}: {e}", s.source))?;
                let path = file.path().to_path_buf();
                keep.push(file);
                SecretSource::File(path)
            }
        } else {
            return Err(format!(
                "build secret {}: only file and environment secrets can be passed to a build",
                s.source
            ));
        };
        out.push((id, source));
    }
    Ok(out)
}

/// What a Solve call needs beyond the context: the options Compose sets
/// for a build, in BuildKit's own terms.
pub struct SolveRequest<'a> {
    pub build: &'a Build,
    pub dockerfile: &'a str,
    pub labels: &'a HashMap<String, String>,
    pub secrets: Vec<(String, SecretSource)>,
    pub platform: Option<&'a str>,
}

/// Builds `image` through the `/grpc` Solve call (secrets, SSH).
pub async fn solve(
    docker: &bollard::Docker,
    image: &str,
    request: SolveRequest<'_>,
    context: Vec<u8>,
) -> Result<(), String> {
    use bollard::grpc::driver::Build as _;
    let b = request.build;
    let mut fe = ImageBuildFrontendOptions::builder()
        .dockerfile(std::path::Path::new(request.dockerfile))
        .pull(b.pull)
        .nocache(b.no_cache);
    if !b.target.is_empty() {
        fe = fe.target(&b.target);
    }
    for (k, v) in &b.args {
        if let Some(v) = v {
            fe = fe.buildarg(k, v);
        }
    }
    for (k, v) in request.labels {
        fe = fe.label(k, v);
    }
    for (id, source) in &request.secrets {
        fe = fe.set_secret(id, source);
    }
    if !b.ssh.is_empty() {
        fe = fe.enable_ssh(true);
    }
    if b.shm_size.0 > 0 {
        fe = fe.shmsize(b.shm_size.0 as u64);
    }
    match b.network.as_str() {
        "" | "default" | "bridge" => {}
        "host" => fe = fe.force_network_mode(&ImageBuildNetworkMode::Host),
        "none" => fe = fe.force_network_mode(&ImageBuildNetworkMode::None),
        other => {
            fe = fe.force_network_mode(&ImageBuildNetworkMode::Container(
                other.trim_start_matches("container:").to_string(),
            ))
        }
    }
    for (host, ips) in &b.extra_hosts.0 {
        for ip in ips {
            if let Ok(ip) = ip.parse() {
                fe = fe.extrahost(&ImageBuildHostIp {
                    host: host.clone(),
                    ip,
                });
            }
        }
    }
    if let Some(p) = request.platform {
        let mut parts = p.split('/');
        if let (Some(os), Some(arch)) = (parts.next(), parts.next()) {
            fe = fe.platforms(&bollard::grpc::build::ImageBuildPlatform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: parts.next().map(String::from),
            });
        }
    }
    let driver = bollard::grpc::driver::moby::Moby::new(docker);
    driver
        .docker_build(
            image,
            fe.build(),
            ImageBuildLoadInput::Upload(context.into()),
            None,
            None,
        )
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex, VertexLog};

    /// A vertex started (and maybe completed) at these seconds. The
    /// timestamp type is not re-exported by bollard: fill in a default one.
    fn vertex(digest: &str, name: &str, started: i64, completed: Option<i64>) -> Vertex {
        let mut v = Vertex {
            digest: digest.into(),
            name: name.into(),
            started: Some(Default::default()),
            ..Default::default()
        };
        v.started.as_mut().unwrap().seconds = started;
        if let Some(c) = completed {
            v.completed = Some(Default::default());
            v.completed.as_mut().unwrap().seconds = c;
        }
        v
    }

    #[test]
    fn progress_reads_like_plain_docker_build() {
        let mut p = Progress::default();
        let internal = vertex(
            "a",
            "[internal] load build definition from Dockerfile",
            1,
            Some(1),
        );
        let run = vertex("b", "[2/2] RUN make", 1, None);
        let first = p.lines(&StatusResponse {
            vertexes: vec![internal, run.clone()],
            logs: vec![VertexLog {
                vertex: "b".into(),
                msg: b"\x1b[32mcompiling\x1b[0m\nlinking\n".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(first, ["#2 [2/2] RUN make", "#2 compiling", "#2 linking"]);
        let done = p.lines(&StatusResponse {
            vertexes: vec![vertex("b", "[2/2] RUN make", 1, Some(3))],
            ..Default::default()
        });
        assert_eq!(done, ["#2 DONE 2.0s"]);
    }

    #[test]
    fn session_ids_look_like_buildkit_ones() {
        let (a, b) = (session_id(), session_id());
        assert_eq!(a.len(), 25);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
