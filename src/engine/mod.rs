//! The Docker engine, through its API (bollard). No shelling out to `docker`.
//!
//! `up` is observe -> reconcile -> execute: `observe.rs` reads what runs,
//! `reconcile.rs` decides what to do (pure, table-tested), `execute.rs`
//! does it and reports `events.rs`; the command layer renders the events.
//! Resources are named and labelled as Docker Compose does, so
//! `docker compose` and `brickyard` see, keep and manage the same stack.

pub mod buildkit;
pub mod compat;
pub mod context;
pub mod create;
pub mod events;
pub mod exec;
pub mod execute;
pub mod images;
pub mod lock;
pub mod observe;
pub mod ports;
pub mod reconcile;
pub mod stack;
pub mod unsupported;
pub mod verify;
pub mod wait;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptions;

pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_NUMBER: &str = "com.docker.compose.container-number";
pub const LABEL_ONEOFF: &str = "com.docker.compose.oneoff";
pub const LABEL_HASH: &str = "com.docker.compose.config-hash";
pub const LABEL_VERSION: &str = "com.docker.compose.version";
pub const LABEL_WORKDIR: &str = "com.docker.compose.project.working_dir";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_NETWORK: &str = "com.docker.compose.network";
pub const LABEL_VOLUME: &str = "com.docker.compose.volume";
pub const LABEL_DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const LABEL_IMAGE: &str = "com.docker.compose.image";
pub const LABEL_REPLACE: &str = "com.docker.compose.replace";
/// The Compose version the labels follow (what `docker compose` reads).
pub const COMPOSE_VERSION: &str = "2.40.3";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "no Docker engine answered at {host}: {cause}\n  start it (`sudo systemctl start docker`, or `dockerd &`), or point DOCKER_HOST at one (a Podman socket works too)"
    )]
    NoDaemon { host: String, cause: String },
    #[error("{0}")]
    Api(String),
}

/// A Docker API version, as negotiated with the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32, pub u32);

impl ApiVersion {
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= ApiVersion(major, minor)
    }

    fn parse(s: &str) -> ApiVersion {
        let mut parts = s.split('.').map(|p| p.parse().unwrap_or(0));
        ApiVersion(parts.next().unwrap_or(1), parts.next().unwrap_or(0))
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Whether an error means the daemon itself is gone (not that it refused).
pub fn is_connection_error(e: &bollard::errors::Error) -> bool {
    use bollard::errors::Error::*;
    match e {
        DockerResponseServerError { .. } | DockerStreamError { .. } | JsonSerdeError { .. } => {
            false
        }
        IOError { .. }
        | HyperResponseError { .. }
        | HyperLegacyError { .. }
        | HttpClientError { .. }
        | SocketNotFoundError(_)
        | RequestTimeoutError => true,
        other => {
            let s = other.to_string().to_ascii_lowercase();
            s.contains("connection") || s.contains("broken pipe") || s.contains("hyper")
        }
    }
}

/// The daemon's own message where there is one, not bollard's wrapper.
pub fn describe(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The host brickyard talks to, for the daemon-lost message.
static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the operation and the subject, as testcontainers does; a lost
/// daemon is the same error (and exit code) as no daemon at all.
pub fn api(what: impl std::fmt::Display) -> impl FnOnce(bollard::errors::Error) -> EngineError {
    move |e| {
        if is_connection_error(&e) {
            EngineError::NoDaemon {
                host: HOST.get().cloned().unwrap_or_else(candidate_host),
                cause: format!("the connection was lost ({what}: {})", describe(&e)),
            }
        } else {
            EngineError::Api(format!("{what}: {}", describe(&e)))
        }
    }
}

pub struct Engine {
    pub docker: Docker,
    pub host: String,
    pub api: ApiVersion,
    /// Podman's Docker-compatible API (it differs in a few places).
    pub podman: bool,
    /// Builds go through BuildKit (else the legacy builder).
    pub buildkit: bool,
}

/// Where to connect: DOCKER_HOST, else the Docker socket, else a Podman socket.
pub fn candidate_host() -> String {
    if let Ok(h) = std::env::var("DOCKER_HOST")
        && !h.is_empty()
    {
        return h;
    }
    let docker = "/var/run/docker.sock";
    if std::path::Path::new(docker).exists() {
        return format!("unix://{docker}");
    }
    let podman = [
        std::env::var("XDG_RUNTIME_DIR")
            .map(|d| format!("{d}/podman/podman.sock"))
            .ok(),
        Some("/run/podman/podman.sock".to_string()),
    ];
    for p in podman.into_iter().flatten() {
        if std::path::Path::new(&p).exists() {
            return format!("unix://{p}");
        }
    }
    format!("unix://{docker}")
}

impl Engine {
    /// Connects and pings (negotiating the API version) before anything else.
    pub async fn connect() -> Result<Engine, EngineError> {
        let host = candidate_host();
        let _ = HOST.set(host.clone());
        let no_daemon = |cause: String| EngineError::NoDaemon {
            host: host.clone(),
            cause,
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| no_daemon(e.to_string()))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| no_daemon("no answer in 10 s".into()))?
            .map_err(|e| no_daemon(describe(&e)))?;
        let version = tokio::time::timeout(Duration::from_secs(10), docker.version())
            .await
            .map_err(|_| no_daemon("no answer in 10 s".into()))?
            .map_err(|e| no_daemon(describe(&e)))?;
        let v = docker.client_version();
        let negotiated = format!("{}.{}", v.major_version, v.minor_version);
        let podman = version
            .components
            .iter()
            .flatten()
            .any(|c| c.name.to_ascii_lowercase().contains("podman"));
        let api = ApiVersion::parse(&negotiated);
        let os = version.os.as_deref().unwrap_or("linux");
        Ok(Engine {
            docker,
            host,
            api,
            podman,
            buildkit: buildkit::available(podman, os, api),
        })
    }

    /// `inspect_container`, also on Podman (see `compat`).
    pub async fn inspect(
        &self,
        id: &str,
    ) -> Result<bollard::models::ContainerInspectResponse, bollard::errors::Error> {
        match self.docker.inspect_container(id, None).await {
            Err(e) if compat::is_unknown_state(&e) => {
                compat::inspect(&self.host, self.api, id).await
            }
            other => other,
        }
    }

    /// Containers matching `filters` (all of them with none), running or
    /// not, also on Podman (see `compat`).
    pub async fn list(
        &self,
        filters: HashMap<String, Vec<String>>,
    ) -> Result<Vec<ContainerSummary>, bollard::errors::Error> {
        let result = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters.clone()),
                ..Default::default()
            }))
            .await;
        match result {
            Err(e) if compat::is_unknown_state(&e) => {
                compat::list(&self.host, self.api, &filters).await
            }
            other => other,
        }
    }

    /// Every container of the project, running or not, by its labels.
    /// Host ports the engine's containers claim (see `ports::claimed`).
    pub async fn claimed_ports(&self) -> std::collections::BTreeSet<u16> {
        ports::claimed(&self.docker).await
    }

    pub async fn project_containers(
        &self,
        project: &str,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_PROJECT}={project}")],
        )]);
        self.list(filters).await.map_err(api(format!(
            "cannot list the containers of project {project}"
        )))
    }
}

pub fn built_image_name(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

pub fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}
