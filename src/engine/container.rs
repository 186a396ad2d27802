//! What a service's container is made of: the create request, with
//! Compose's names and labels, and the hash that says whether it changed.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkingConfig, PortBinding,
    RestartPolicy, RestartPolicyNameEnum,
};
use sha2::{Digest, Sha256};

use super::*;
use crate::compose::{MountKind, Project, Service};

/// A digest of everything that decides how the container is made, so an
/// unchanged service is left alone and a changed one is recreated.
pub fn config_hash(project: &Project, name: &str, svc: &Service, image_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(svc).expect("service serializes"));
    h.update(image_id.as_bytes());
    h.update(project.name.as_bytes());
    h.update(name.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn body(
    project: &Project,
    name: &str,
    svc: &Service,
    hash: &str,
    image_id: &str,
) -> ContainerCreateBody {
    let network = network_name(&project.name);
    let cname = container_name(&project.name, name);
    let mut labels: HashMap<String, String> = svc.labels.clone().into_iter().collect();
    let depends: Vec<String> = svc
        .depends_on
        .iter()
        .map(|(d, c)| format!("{d}:{}:false", c.label()))
        .collect();
    labels.extend([
        (LABEL_PROJECT.to_string(), project.name.clone()),
        (LABEL_SERVICE.to_string(), name.to_string()),
        (LABEL_NUMBER.to_string(), "1".to_string()),
        (LABEL_ONEOFF.to_string(), "False".to_string()),
        (LABEL_HASH.to_string(), hash.to_string()),
        (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
        (LABEL_WORKDIR.to_string(), project.dir.display().to_string()),
        (
            LABEL_CONFIG_FILES.to_string(),
            project.file.display().to_string(),
        ),
        (LABEL_DEPENDS_ON.to_string(), depends.join(",")),
        (LABEL_IMAGE.to_string(), image_id.to_string()),
    ]);
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &svc.ports {
        let key = format!("{}/{}", p.container, p.protocol);
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(p.host_ip.clone()),
                host_port: Some(p.host.map(|h| h.to_string()).unwrap_or_default()),
            });
    }
    let binds: Vec<String> = svc
        .volumes
        .iter()
        .map(|m| {
            let source = match m.kind {
                MountKind::Volume => volume_name(&project.name, &m.source),
                MountKind::Bind => m.source.clone(),
            };
            format!(
                "{source}:{}{}",
                m.target,
                if m.read_only { ":ro" } else { "" }
            )
        })
        .collect();
    let restart = svc.restart.as_deref().map(|r| {
        let name = match r.split(':').next().unwrap_or("no") {
            "always" => RestartPolicyNameEnum::ALWAYS,
            "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
            "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
            _ => RestartPolicyNameEnum::NO,
        };
        RestartPolicy {
            name: Some(name),
            maximum_retry_count: r.split(':').nth(1).and_then(|n| n.parse().ok()),
        }
    });
    ContainerCreateBody {
        image: Some(images::image_for(project, name, svc)),
        cmd: svc.command.clone(),
        entrypoint: svc.entrypoint.clone(),
        env: Some(
            svc.environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        ),
        labels: Some(labels),
        user: svc.user.clone(),
        working_dir: svc.working_dir.clone(),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        stop_timeout: svc.stop_grace_seconds,
        healthcheck: svc.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: h.interval_ns,
            timeout: h.timeout_ns,
            retries: h.retries,
            start_period: h.start_period_ns,
            ..Default::default()
        }),
        host_config: Some(HostConfig {
            binds: (!binds.is_empty()).then_some(binds),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            network_mode: Some(network.clone()),
            init: svc.init.then_some(true),
            restart_policy: restart,
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network,
                EndpointSettings {
                    aliases: Some(vec![name.to_string(), cname]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}
