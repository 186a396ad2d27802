//! compose.yaml assembled as data from the plan's service fragments, so it is
//! always valid YAML and every port is bound to 127.0.0.1.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Healthcheck, Theme};
use crate::plan::Plan;

/// The service every backing service and monitoring tool is wired to.
pub const APP_SERVICE: &str = "app";

#[derive(Serialize)]
struct ComposeFile {
    name: String,
    services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    volumes: BTreeMap<String, Empty>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Service {
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    profiles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    init: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<String>,
    /// Groups a non-root service joins: the owner of a Docker socket it mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    group_add: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    depends_on: BTreeMap<String, DependsOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logging: Option<Logging>,
    restart: &'static str,
}

#[derive(Serialize, Clone)]
struct Logging {
    driver: &'static str,
    options: BTreeMap<&'static str, String>,
}

/// Where the services' logs go, when an entry ships them (`wires.ship_logs`):
/// Docker's fluentd driver, to the sink's published port. Asynchronous, so
/// a service starts (and its lines wait) while the sink is not up yet. The
/// sink's own entry keeps Docker's default, or it would log to itself.
fn log_shipping(plan: &Plan) -> Option<(String, Logging)> {
    let (entry, sink) = plan
        .entries
        .iter()
        .find_map(|e| e.wires.ship_logs.as_ref().map(|s| (e, s)))?;
    let host = plan
        .service(&sink.service)?
        .ports
        .iter()
        .find(|(spec, _)| spec.container == sink.port)?
        .1;
    let options = BTreeMap::from([
        ("fluentd-address", format!("127.0.0.1:{host}")),
        ("fluentd-async", "true".to_string()),
        // Docker's own template: the container's name, e.g. myapp-app-1.
        ("tag", "{{.Name}}".to_string()),
    ]);
    Some((
        entry.id.clone(),
        Logging {
            driver: "fluentd",
            options,
        },
    ))
}

#[derive(Serialize)]
struct DependsOn {
    condition: &'static str,
}

/// The environment the app gets: every entry's `wires.app_env`.
pub fn app_env(plan: &Plan) -> BTreeMap<String, String> {
    plan.entries
        .iter()
        .flat_map(|e| e.wires.app_env.clone())
        .collect()
}

pub fn render(plan: &Plan) -> String {
    // What the app calls, so it starts once they answer.
    let backing: Vec<&str> = plan
        .services
        .iter()
        .filter(|s| {
            plan.entries
                .iter()
                .any(|e| e.id == s.from && matches!(e.theme, Theme::Services | Theme::Mocks))
        })
        .map(|s| s.name.as_str())
        .collect();
    let shipping = log_shipping(plan);
    // The chat's webhook variable, for services that run CI builds here.
    let notify_secret = plan.ci_notify().map(|(_, n)| &n.secret);
    let mut services = BTreeMap::new();
    let mut volumes = BTreeMap::new();
    for svc in &plan.services {
        let f = &svc.fragment;
        let mut environment = f.environment.clone();
        let mut deps: Vec<&str> = f.depends_on.iter().map(String::as_str).collect();
        if svc.name == APP_SERVICE {
            environment.extend(app_env(plan));
            deps.extend(&backing);
        }
        let runs_ci = plan
            .entries
            .iter()
            .any(|e| e.id == svc.from && e.wires.notify_env.contains(&svc.name));
        if let (true, Some(secret)) = (runs_ci, notify_secret) {
            environment.insert(secret.clone(), format!("${{{secret}:-}}"));
        }
        let depends_on = deps
            .into_iter()
            .filter_map(|d| plan.service(d))
            .map(|d| {
                let condition = if d.fragment.healthcheck.is_some() {
                    "service_healthy"
                } else {
                    "service_started"
                };
                (d.name.clone(), DependsOn { condition })
            })
            .collect();
        for vol in &f.volumes {
            let source = vol.split(':').next().unwrap_or_default();
            if !source.starts_with('.') && !source.starts_with('/') {
                volumes.insert(source.to_string(), Empty {});
            }
        }
        services.insert(
            svc.name.clone(),
            Service {
                image: f.image.clone(),
                build: f.build.clone(),
                profiles: f.profiles.clone(),
                command: f.command.clone(),
                user: f.user.clone(),
                init: f.init,
                environment,
                ports: svc
                    .ports
                    .iter()
                    .map(|(spec, host)| format!("127.0.0.1:{host}:{}", spec.container))
                    .collect(),
                volumes: f
                    .volumes
                    .iter()
                    .cloned()
                    .chain(f.host_mounts.iter().map(|m| m.volume()))
                    .collect(),
                group_add: f.host_mounts.iter().filter_map(|m| m.group_add()).collect(),
                healthcheck: f.healthcheck.clone(),
                depends_on,
                logging: shipping
                    .as_ref()
                    .filter(|(sink, _)| *sink != svc.from)
                    .map(|(_, logging)| logging.clone()),
                restart: "unless-stopped",
            },
        );
    }
    let file = ComposeFile {
        name: plan.project.clone(),
        services,
        volumes,
    };
    let body = serde_yaml::to_string(&file).expect("compose model serializes");
    format!(
        "# Generated by brickyard. Edit freely: `brickyard up` boots what this file says.\n\
         # Secrets come from .env (never committed). Every port is bound to 127.0.0.1.\n{body}"
    )
}
