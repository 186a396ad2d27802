//! The Docker engine, through its API (bollard). No shelling out to `docker`.
//!
//! Resources are named and labelled as Docker Compose does, so
//! `docker compose ps/logs/down` see the stack brickyard started.

pub mod container;
pub mod context;
pub mod exec;
pub mod images;
pub mod stack;
pub mod up;
pub mod verify;

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

/// Names the operation and the subject, as testcontainers does.
pub fn api(what: impl std::fmt::Display) -> impl FnOnce(bollard::errors::Error) -> EngineError {
    move |e| EngineError::Api(format!("{what}: {}", describe(&e)))
}

/// The daemon's own message where there is one, not bollard's wrapper.
pub fn describe(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

pub struct Engine {
    pub docker: Docker,
    pub host: String,
}

/// Where to connect: DOCKER_HOST, else the Docker socket, else a Podman socket.
fn candidate_host() -> String {
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
        let no_daemon = |cause: String| EngineError::NoDaemon {
            host: host.clone(),
            cause,
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| no_daemon(e.to_string()))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| no_daemon("no answer in 10 s".into()))?
            .map_err(|e| no_daemon(describe(&e)))?;
        docker.ping().await.map_err(|e| no_daemon(describe(&e)))?;
        Ok(Engine { docker, host })
    }

    /// Every container of the project, running or not, by its labels.
    pub async fn project_containers(
        &self,
        project: &str,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_PROJECT}={project}")],
        )]);
        self.docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(api(format!(
                "cannot list the containers of project {project}"
            )))
    }
}

/// Compose's names.
pub fn container_name(project: &str, service: &str) -> String {
    format!("{project}-{service}-1")
}
pub fn network_name(project: &str) -> String {
    format!("{project}_default")
}
pub fn volume_name(project: &str, volume: &str) -> String {
    format!("{project}_{volume}")
}
pub fn built_image_name(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

pub fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}
