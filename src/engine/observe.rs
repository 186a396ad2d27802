//! What runs now: the project's containers (found by label, never by name),
//! and the networks and volumes the project names. Plain data, so that
//! `reconcile` can be tested without a daemon.

use std::collections::BTreeMap;

use bollard::models::ContainerSummary;

use super::*;
use crate::compose::Project;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    /// `com.docker.compose.config-hash`
    pub hash: String,
    /// `com.docker.compose.image`: the image id it was made from.
    pub image: String,
    /// running, exited, created, restarting, paused, dead
    pub state: String,
    /// Unix seconds.
    pub created: i64,
    /// The ids of the networks it is attached to.
    pub network_ids: Vec<String>,
    /// The names of the volumes mounted in it.
    pub volume_names: Vec<String>,
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedNetwork {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedVolume {
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    /// By real (daemon) name.
    pub networks: BTreeMap<String, ObservedNetwork>,
    /// By real (daemon) name.
    pub volumes: BTreeMap<String, ObservedVolume>,
}

impl Observed {
    /// The service's containers, not one-off ones, lowest number first.
    pub fn of_service(&self, service: &str) -> Vec<&ObservedContainer> {
        let mut v: Vec<&ObservedContainer> = self
            .containers
            .iter()
            .filter(|c| c.service == service && !c.oneoff)
            .collect();
        v.sort_by_key(|c| (c.number, c.created));
        v
    }
}

pub fn from_summary(c: &ContainerSummary) -> ObservedContainer {
    let get = |k: &str| label(c, k).unwrap_or_default().to_string();
    ObservedContainer {
        id: c.id.clone().unwrap_or_default(),
        name: stack::display_name(c),
        service: get(LABEL_SERVICE),
        number: get(LABEL_NUMBER).parse().unwrap_or(0),
        oneoff: get(LABEL_ONEOFF) == "True",
        hash: get(LABEL_HASH),
        image: get(LABEL_IMAGE),
        state: c.state.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        created: c.created.unwrap_or(0),
        network_ids: c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .map(|n| n.values().filter_map(|e| e.network_id.clone()).collect())
            .unwrap_or_default(),
        volume_names: c
            .mounts
            .iter()
            .flatten()
            .filter(|m| m.typ.as_ref().map(|t| t.to_string()).as_deref() == Some("volume"))
            .filter_map(|m| m.name.clone())
            .collect(),
    }
}

/// Reads the project's containers, and the networks and volumes it names.
pub async fn observe(engine: &Engine, project: &Project) -> Result<Observed, EngineError> {
    let mut containers: Vec<ObservedContainer> = engine
        .project_containers(&project.name)
        .await?
        .iter()
        .map(from_summary)
        .collect();
    let mut networks = BTreeMap::new();
    for net in project.networks.values() {
        match engine.docker.inspect_network(&net.name, None).await {
            Ok(n)
                if n.name.as_deref() == Some(net.name.as_str())
                    || n.id.as_deref() == Some(net.name.as_str()) =>
            {
                networks.insert(
                    net.name.clone(),
                    ObservedNetwork {
                        id: n.id.unwrap_or_default(),
                        labels: n.labels.unwrap_or_default().into_iter().collect(),
                    },
                );
            }
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(api(format!("cannot inspect network {}", net.name))(e)),
        }
    }
    // Podman's container list names a network where Docker gives its id.
    for c in &mut containers {
        for id in &mut c.network_ids {
            if let Some(n) = networks.get(id.as_str()) {
                *id = n.id.clone();
            }
        }
    }
    let mut volumes = BTreeMap::new();
    for vol in project.volumes.values() {
        match engine.docker.inspect_volume(&vol.name).await {
            Ok(v) => {
                volumes.insert(
                    vol.name.clone(),
                    ObservedVolume {
                        labels: v.labels.into_iter().collect(),
                    },
                );
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(api(format!("cannot inspect volume {}", vol.name))(e)),
        }
    }
    Ok(Observed {
        containers,
        networks,
        volumes,
    })
}
