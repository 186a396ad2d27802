//! Decide, then act: the project (what the file says) and what runs now
//! (`observe`) -> a plan of actions per service, and what `up` waits for.
//! No daemon, no I/O: every decision about keeping, starting, creating,
//! recreating or removing a container is made and tested here, with the
//! rules of Docker Compose's convergence (config hash, image id, networks,
//! volumes, scale), so the two tools agree on what is up to date.

use std::collections::BTreeMap;

use super::observe::{Observed, ObservedContainer};
use crate::compose::model::Volume;
use crate::compose::{Project, Service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// Only what changed (the default).
    #[default]
    Diverged,
    /// Everything (`--force-recreate`).
    Force,
    /// Nothing that exists (`--no-recreate`).
    Never,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub recreate: Recreate,
    /// Wait until every service is ready, not only what dependents need.
    pub wait: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NetworkStep {
    Keep {
        key: String,
        name: String,
        id: String,
    },
    External {
        key: String,
        name: String,
        id: String,
    },
    Create {
        key: String,
        name: String,
    },
    /// Its configuration changed: removed (with what is attached) and made again.
    Recreate {
        key: String,
        name: String,
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum VolumeStep {
    Keep { key: String, name: String },
    External { key: String, name: String },
    Create { key: String, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Running and up to date.
    Keep(ObservedContainer),
    /// Up to date but not running.
    Start(ObservedContainer),
    Create {
        number: u32,
    },
    Recreate {
        old: ObservedContainer,
        reason: String,
    },
    /// Beyond the service's scale.
    Remove(ObservedContainer),
    /// Up to date, but a dependency it asks to be restarted with
    /// (`depends_on.<x>.restart: true`) is recreated: stopped, then started.
    Restart(ObservedContainer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Condition {
    Started,
    Healthy,
    Completed,
}

impl Condition {
    pub fn parse(s: &str) -> Option<Condition> {
        match s {
            "service_started" => Some(Condition::Started),
            "service_healthy" => Some(Condition::Healthy),
            "service_completed_successfully" => Some(Condition::Completed),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::Completed => "service_completed_successfully",
        }
    }
}

/// What `up` waits for before a service counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Started is enough.
    Started,
    /// Healthy when it has a healthcheck, else running (and staying up).
    Ready,
    /// Healthy, which needs a healthcheck.
    Healthy,
    /// Exited 0 (a one-shot job something depends on).
    Completed,
}

/// A dependency to wait for before starting.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub service: String,
    pub condition: Condition,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub service: String,
    pub actions: Vec<Action>,
    pub wait: Wait,
    pub needs: Vec<Need>,
}

impl ServicePlan {
    /// Whether anything is created or started for this service.
    pub fn changes(&self) -> bool {
        self.actions.iter().any(|a| !matches!(a, Action::Keep(_)))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub networks: Vec<NetworkStep>,
    pub volumes: Vec<VolumeStep>,
    /// Containers of services no longer in the file.
    pub orphans: Vec<ObservedContainer>,
    /// In dependency order.
    pub services: Vec<ServicePlan>,
    pub warnings: Vec<String>,
}

/// `service:x` references (network/IPC/PID namespaces, `volumes_from`)
/// replaced by x's container id, as Compose does before hashing: the hash of
/// a service that shares x's namespace changes when x is recreated.
pub fn resolve_references(s: &Service, id_of: &dyn Fn(&str) -> Option<String>) -> Service {
    let mut s = s.clone();
    for mode in [&mut s.network_mode, &mut s.ipc, &mut s.pid] {
        if let Some(dep) = mode.strip_prefix("service:")
            && let Some(id) = id_of(dep)
        {
            *mode = format!("container:{id}");
        }
    }
    for v in s.volumes_from.iter_mut() {
        let mut parts = v.split(':');
        let first = parts.next().unwrap_or_default().to_string();
        if first == "container" {
            *v = parts.next().unwrap_or_default().to_string();
        } else if let Some(id) = id_of(&first) {
            *v = id;
        }
    }
    s
}

/// The services `s` takes a namespace or volumes from.
pub fn referenced_services(s: &Service) -> Vec<String> {
    let mut out: Vec<String> = [&s.network_mode, &s.ipc, &s.pid]
        .iter()
        .filter_map(|m| m.strip_prefix("service:").map(String::from))
        .collect();
    out.extend(
        s.volumes_from
            .iter()
            .filter(|v| !v.starts_with("container:"))
            .map(|v| v.split(':').next().unwrap_or_default().to_string()),
    );
    out
}

pub fn network_hash(net: &crate::compose::model::Network) -> String {
    sha256(&crate::compose::gofmt::go_json(
        serde_json::to_string(net).expect("the model serializes"),
    ))
}

pub fn volume_hash(vol: &Volume) -> String {
    let mut v = vol.clone();
    if v.driver.is_empty() {
        v.driver = "local".into();
    }
    sha256(&crate::compose::gofmt::go_json(
        serde_json::to_string(&v).expect("the model serializes"),
    ))
}

/// The SHA-256 of a text, in hex.
pub fn sha256(s: &str) -> String {
    crate::trust::sha256_hex(s.as_bytes())
}

pub fn reconcile(
    project: &Project,
    observed: &Observed,
    image_ids: &BTreeMap<String, String>,
    opts: &Options,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut network_ids: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (key, net) in &project.networks {
        let seen = observed.networks.get(&net.name);
        let step = if net.external {
            let Some(seen) = seen else {
                return Err(format!(
                    "network {} declared as external, but could not be found; create it (`docker network create {}`) or drop `external: true`",
                    net.name, net.name
                ));
            };
            NetworkStep::External {
                key: key.clone(),
                name: net.name.clone(),
                id: seen.id.clone(),
            }
        } else if let Some(seen) = seen {
            match seen.labels.get(super::LABEL_PROJECT) {
                None => plan.warnings.push(format!(
                    "a network with name {} exists but was not created by compose. Set `external: true` to use an existing network",
                    net.name
                )),
                Some(p) if *p != project.name => plan.warnings.push(format!(
                    "a network with name {} exists but was not created for project {:?}. Set `external: true` to use an existing network",
                    net.name, project.name
                )),
                _ => {}
            }
            let label = seen
                .labels
                .get(super::LABEL_NETWORK)
                .cloned()
                .unwrap_or_default();
            if label != *key {
                return Err(format!(
                    "network {} was found but has incorrect label {} set to {label:?} (expected: {key:?})",
                    net.name,
                    super::LABEL_NETWORK
                ));
            }
            match seen.labels.get(super::LABEL_HASH) {
                Some(h) if !h.is_empty() && *h != network_hash(net) => NetworkStep::Recreate {
                    key: key.clone(),
                    name: net.name.clone(),
                    id: seen.id.clone(),
                },
                _ => NetworkStep::Keep {
                    key: key.clone(),
                    name: net.name.clone(),
                    id: seen.id.clone(),
                },
            }
        } else {
            NetworkStep::Create {
                key: key.clone(),
                name: net.name.clone(),
            }
        };
        let id = match &step {
            NetworkStep::Keep { id, .. } | NetworkStep::External { id, .. } => Some(id.clone()),
            _ => None,
        };
        network_ids.insert(key.clone(), id);
        plan.networks.push(step);
    }
    for (key, vol) in &project.volumes {
        let seen = observed.volumes.get(&vol.name);
        let step = if vol.external {
            if seen.is_none() {
                return Err(format!(
                    "external volume {:?} not found; create it (`docker volume create {}`) or drop `external: true`",
                    vol.name, vol.name
                ));
            }
            VolumeStep::External {
                key: key.clone(),
                name: vol.name.clone(),
            }
        } else if let Some(seen) = seen {
            match seen.labels.get(super::LABEL_PROJECT) {
                None => plan.warnings.push(format!(
                    "volume {:?} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume",
                    vol.name
                )),
                Some(p) if *p != project.name => plan.warnings.push(format!(
                    "volume {:?} already exists but was created for project {p:?} (expected {:?}). Use `external: true` to use an existing volume",
                    vol.name, project.name
                )),
                _ => {}
            }
            if let Some(h) = seen.labels.get(super::LABEL_HASH)
                && *h != volume_hash(vol)
            {
                plan.warnings.push(format!(
                    "volume {:?} exists but does not match its configuration in the compose file; it is kept with its data (`brickyard down --volumes` removes it)",
                    vol.name
                ));
            }
            VolumeStep::Keep {
                key: key.clone(),
                name: vol.name.clone(),
            }
        } else {
            VolumeStep::Create {
                key: key.clone(),
                name: vol.name.clone(),
            }
        };
        plan.volumes.push(step);
    }

    let known =
        |s: &str| project.services.contains_key(s) || project.disabled_services.contains_key(s);
    plan.orphans = observed
        .containers
        .iter()
        .filter(|c| !known(&c.service))
        .cloned()
        .collect();

    let order = crate::compose::graph::order(&project.services).map_err(|e| e.to_string())?;
    // Services whose containers will be new, so whose ids are not known yet.
    let mut replaced: Vec<String> = Vec::new();
    for name in &order {
        let svc = &project.services[name];
        let containers = observed.of_service(name);
        let expected = svc.scale().max(0) as usize;
        let id_of = |dep: &str| -> Option<String> {
            let mut cs = observed.of_service(dep);
            cs.sort_by(|a, b| a.name.cmp(&b.name));
            cs.first().map(|c| c.id.clone())
        };
        let resolved = resolve_references(svc, &id_of);
        let hash = Project::service_hash(&resolved);
        let image = image_ids.get(name).cloned().unwrap_or_default();
        let namespace_replaced = referenced_services(svc)
            .into_iter()
            .find(|dep| replaced.contains(dep));
        let why = |c: &ObservedContainer| -> Option<String> {
            match opts.recreate {
                Recreate::Never => return None,
                Recreate::Force => return Some("--force-recreate".into()),
                Recreate::Diverged => {}
            }
            if c.hash != hash {
                return Some("its configuration changed".into());
            }
            if c.image != image {
                return Some("its image changed".into());
            }
            if let Some(dep) = &namespace_replaced {
                return Some(format!(
                    "{dep}, whose namespace or volumes it shares, is recreated"
                ));
            }
            if c.running() {
                for key in svc.networks.keys() {
                    match network_ids.get(key).cloned().flatten() {
                        Some(id) if c.network_ids.contains(&id) => {}
                        _ => return Some(format!("it is not attached to network {key}")),
                    }
                }
            }
            for v in &svc.volumes {
                if v.kind != "volume" || v.source.is_empty() {
                    continue;
                }
                let real = project.volumes.get(&v.source).map(|pv| pv.name.clone());
                if !real.is_some_and(|r| c.volume_names.contains(&r)) {
                    return Some(format!("it does not mount volume {}", v.source));
                }
            }
            None
        };
        // Obsolete ones first to go when scaling down, then the highest numbers.
        let mut ordered: Vec<(&ObservedContainer, Option<String>)> =
            containers.iter().map(|c| (*c, why(c))).collect();
        ordered.sort_by(|a, b| {
            a.1.is_some()
                .cmp(&b.1.is_some())
                .then(a.0.number.cmp(&b.0.number))
        });
        let mut actions = Vec::new();
        for (i, (c, reason)) in ordered.iter().enumerate() {
            if i >= expected {
                actions.push(Action::Remove((*c).clone()));
            } else if let Some(reason) = reason {
                actions.push(Action::Recreate {
                    old: (*c).clone(),
                    reason: reason.clone(),
                });
            } else if c.running() {
                actions.push(Action::Keep((*c).clone()));
            } else {
                actions.push(Action::Start((*c).clone()));
            }
        }
        let next = containers.iter().map(|c| c.number).max().unwrap_or(0) + 1;
        for i in 0..expected.saturating_sub(containers.len()) {
            actions.push(Action::Create {
                number: next + i as u32,
            });
        }
        if actions
            .iter()
            .any(|a| matches!(a, Action::Create { .. } | Action::Recreate { .. }))
        {
            replaced.push(name.clone());
        }
        plan.services.push(ServicePlan {
            service: name.clone(),
            actions,
            wait: Wait::Started,
            needs: needs(project, svc, &mut plan.warnings),
        });
    }
    // `depends_on.<x>.restart: true`: when x is (re)created, a running
    // dependent is restarted after it, as Compose does.
    for i in 0..plan.services.len() {
        let name = plan.services[i].service.clone();
        let svc = &project.services[&name];
        let restart_for = svc
            .depends_on
            .iter()
            .any(|(dep, cfg)| cfg.restart && replaced.contains(dep));
        if restart_for {
            for a in plan.services[i].actions.iter_mut() {
                if let Action::Keep(c) = a {
                    *a = Action::Restart(c.clone());
                }
            }
        }
    }
    // What each service must reach: what its dependents need, and with
    // `wait`, ready.
    for i in 0..plan.services.len() {
        let name = plan.services[i].service.clone();
        let strongest = plan
            .services
            .iter()
            .flat_map(|p| p.needs.iter())
            .filter(|n| n.service == name)
            .map(|n| n.condition)
            .max();
        let scale0 = project.services[&name].scale() == 0;
        plan.services[i].wait = match (scale0, strongest, opts.wait) {
            (true, _, _) => Wait::Started,
            (_, Some(Condition::Completed), _) => Wait::Completed,
            (_, Some(Condition::Healthy), _) => Wait::Healthy,
            (_, _, true) => Wait::Ready,
            _ => Wait::Started,
        };
    }
    Ok(plan)
}

/// The dependencies to wait for, as Compose's `shouldWaitForDependency`:
/// not one disabled by profiles, scaled to 0, or run by a provider.
fn needs(project: &Project, svc: &Service, warnings: &mut Vec<String>) -> Vec<Need> {
    let mut out = Vec::new();
    for (dep, cfg) in &svc.depends_on {
        let Some(condition) = Condition::parse(&cfg.condition) else {
            warnings.push(format!(
                "service {}: unsupported depends_on condition {:?} for {dep}; not waiting for it",
                svc.name, cfg.condition
            ));
            continue;
        };
        let Some(target) = project.services.get(dep) else {
            continue;
        };
        if target.scale() == 0 || target.provider.is_some() {
            continue;
        }
        out.push(Need {
            service: dep.clone(),
            condition,
            required: cfg.required,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{ProjectOptions, load};
    use crate::engine::observe::{ObservedNetwork, ObservedVolume};

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("compose.yaml"), yaml).unwrap();
        load(&ProjectOptions {
            cwd: Some(root),
            os_env: Some(Default::default()),
            keep_label_files: true,
            ..Default::default()
        })
        .unwrap()
        .project
    }

    fn images(p: &Project) -> BTreeMap<String, String> {
        p.services
            .keys()
            .map(|s| (s.clone(), format!("sha256:{s}")))
            .collect()
    }

    /// What a previous `up` of `p` would have left running.
    fn up_to_date(p: &Project) -> Observed {
        let mut o = Observed::default();
        for (key, net) in &p.networks {
            o.networks.insert(
                net.name.clone(),
                ObservedNetwork {
                    id: format!("net-{key}"),
                    labels: [
                        (crate::engine::LABEL_PROJECT.to_string(), p.name.clone()),
                        (crate::engine::LABEL_NETWORK.to_string(), key.clone()),
                    ]
                    .into(),
                },
            );
        }
        for vol in p.volumes.values() {
            o.volumes.insert(
                vol.name.clone(),
                ObservedVolume {
                    labels: [(crate::engine::LABEL_PROJECT.to_string(), p.name.clone())].into(),
                },
            );
        }
        for (name, s) in &p.services {
            for n in 1..=s.scale() as u32 {
                o.containers.push(ObservedContainer {
                    id: format!("{name}-{n}-id"),
                    name: format!("p-{name}-{n}"),
                    service: name.clone(),
                    number: n,
                    hash: Project::service_hash(s),
                    image: format!("sha256:{name}"),
                    state: "running".into(),
                    network_ids: s.networks.keys().map(|k| format!("net-{k}")).collect(),
                    volume_names: s
                        .volumes
                        .iter()
                        .filter(|v| v.kind == "volume" && !v.source.is_empty())
                        .map(|v| p.volumes[&v.source].name.clone())
                        .collect(),
                    ..Default::default()
                });
            }
        }
        o
    }

    fn kinds(plan: &Plan, service: &str) -> Vec<String> {
        plan.services
            .iter()
            .find(|s| s.service == service)
            .unwrap()
            .actions
            .iter()
            .map(|a| match a {
                Action::Keep(c) => format!("keep {}", c.number),
                Action::Start(c) => format!("start {}", c.number),
                Action::Create { number } => format!("create {number}"),
                Action::Recreate { old, reason } => format!("recreate {} ({reason})", old.number),
                Action::Remove(c) => format!("remove {}", c.number),
                Action::Restart(c) => format!("restart {}", c.number),
            })
            .collect()
    }

    const STACK: &str = "services:\n  web:\n    image: nginx:1\n    depends_on: {db: {condition: service_healthy}, migrate: {condition: service_completed_successfully}}\n    volumes: [data:/data]\n  db:\n    image: postgres:16\n    healthcheck: {test: [CMD, pg_isready]}\n  migrate:\n    image: migrate:1\nvolumes:\n  data:\n";

    #[test]
    fn nothing_runs_so_everything_is_created() {
        let p = project(STACK);
        let plan = reconcile(
            &p,
            &Observed::default(),
            &images(&p),
            &Options {
                wait: true,
                ..Default::default()
            },
        )
        .unwrap();
        let order: Vec<&str> = plan.services.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(order, ["db", "migrate", "web"]);
        for s in ["db", "migrate", "web"] {
            assert_eq!(kinds(&plan, s), ["create 1"]);
        }
        assert_eq!(
            plan.networks,
            vec![NetworkStep::Create {
                key: "default".into(),
                name: "p_default".into()
            }]
        );
        assert_eq!(
            plan.volumes,
            vec![VolumeStep::Create {
                key: "data".into(),
                name: "p_data".into()
            }]
        );
        let wait = |s: &str| plan.services.iter().find(|x| x.service == s).unwrap().wait;
        assert_eq!(wait("db"), Wait::Healthy);
        assert_eq!(wait("migrate"), Wait::Completed);
        assert_eq!(wait("web"), Wait::Ready);
    }

    #[test]
    fn an_up_to_date_stack_is_kept() {
        let p = project(STACK);
        let plan = reconcile(&p, &up_to_date(&p), &images(&p), &Options::default()).unwrap();
        for s in ["db", "migrate", "web"] {
            assert_eq!(kinds(&plan, s), ["keep 1"], "{s}");
        }
        assert!(plan.services.iter().all(|s| !s.changes()));
    }

    #[test]
    fn only_what_changed_is_recreated() {
        let p = project(STACK);
        let observed = up_to_date(&p);
        let edited = project(&STACK.replace("image: nginx:1", "image: nginx:2"));
        let plan = reconcile(&edited, &observed, &images(&edited), &Options::default()).unwrap();
        assert_eq!(
            kinds(&plan, "web"),
            ["recreate 1 (its configuration changed)"]
        );
        assert_eq!(kinds(&plan, "db"), ["keep 1"]);
        let mut imgs = images(&p);
        imgs.insert("db".into(), "sha256:rebuilt".into());
        let plan = reconcile(&p, &observed, &imgs, &Options::default()).unwrap();
        assert_eq!(kinds(&plan, "db"), ["recreate 1 (its image changed)"]);
    }

    #[test]
    fn force_and_never() {
        let p = project(STACK);
        let observed = up_to_date(&p);
        let plan = reconcile(
            &p,
            &observed,
            &images(&p),
            &Options {
                recreate: Recreate::Force,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(kinds(&plan, "db"), ["recreate 1 (--force-recreate)"]);
        let edited = project(&STACK.replace("image: nginx:1", "image: nginx:2"));
        let plan = reconcile(
            &edited,
            &observed,
            &images(&edited),
            &Options {
                recreate: Recreate::Never,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(kinds(&plan, "web"), ["keep 1"]);
    }

    #[test]
    fn stopped_containers_are_started_and_missing_volumes_recreate() {
        let p = project(STACK);
        let mut observed = up_to_date(&p);
        observed
            .containers
            .iter_mut()
            .find(|c| c.service == "migrate")
            .unwrap()
            .state = "exited".into();
        observed
            .containers
            .iter_mut()
            .find(|c| c.service == "web")
            .unwrap()
            .volume_names
            .clear();
        let plan = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap();
        assert_eq!(kinds(&plan, "migrate"), ["start 1"]);
        assert_eq!(
            kinds(&plan, "web"),
            ["recreate 1 (it does not mount volume data)"]
        );
    }

    #[test]
    fn scale_up_and_down() {
        let p = project("services:\n  w:\n    image: x:1\n    scale: 3\n");
        let mut observed = up_to_date(&project("services:\n  w:\n    image: x:1\n"));
        let plan = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap();
        // The hash ignores scale, so the first one is kept.
        assert_eq!(kinds(&plan, "w"), ["keep 1", "create 2", "create 3"]);
        let p1 = project("services:\n  w:\n    image: x:1\n    scale: 1\n");
        let three = up_to_date(&p);
        observed.containers = three.containers;
        let plan = reconcile(&p1, &observed, &images(&p1), &Options::default()).unwrap();
        assert_eq!(kinds(&plan, "w"), ["keep 1", "remove 2", "remove 3"]);
    }

    #[test]
    fn orphans_but_not_disabled_profiles() {
        let p = project(
            "services:\n  a:\n    image: x:1\n  dbg:\n    image: x:1\n    profiles: [debug]\n",
        );
        let mut observed = up_to_date(&project(
            "services:\n  a:\n    image: x:1\n  gone:\n    image: x:1\n  dbg:\n    image: x:1\n",
        ));
        observed.containers.retain(|c| c.service != "a");
        let plan = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap();
        let orphans: Vec<&str> = plan.orphans.iter().map(|c| c.service.as_str()).collect();
        assert_eq!(orphans, ["gone"]);
    }

    #[test]
    fn a_shared_namespace_follows_its_owner() {
        let yaml = "services:\n  vpn:\n    image: vpn:1\n  app:\n    image: app:1\n    network_mode: service:vpn\n";
        let p = project(yaml);
        let mut observed = up_to_date(&p);
        // What Compose stores: the hash with the namespace resolved to vpn's id.
        let app = observed
            .containers
            .iter_mut()
            .find(|c| c.service == "app")
            .unwrap();
        app.hash = Project::service_hash(&resolve_references(&p.services["app"], &|_| {
            Some("vpn-1-id".into())
        }));
        let plan = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap();
        assert_eq!(kinds(&plan, "app"), ["keep 1"]);
        let edited = project(&yaml.replace("vpn:1", "vpn:2"));
        let plan = reconcile(&edited, &observed, &images(&edited), &Options::default()).unwrap();
        assert_eq!(
            kinds(&plan, "vpn"),
            ["recreate 1 (its configuration changed)"]
        );
        assert_eq!(
            kinds(&plan, "app"),
            ["recreate 1 (vpn, whose namespace or volumes it shares, is recreated)"]
        );
    }

    #[test]
    fn networks_external_missing_and_foreign() {
        let p = project(
            "services:\n  a:\n    image: x:1\n    networks: [ext]\nnetworks:\n  ext: {external: true}\n",
        );
        let err =
            reconcile(&p, &Observed::default(), &images(&p), &Options::default()).unwrap_err();
        assert!(
            err.contains("network ext declared as external, but could not be found"),
            "{err}"
        );
        let p = project("services:\n  a:\n    image: x:1\n");
        let mut observed = Observed::default();
        observed.networks.insert(
            "p_default".into(),
            ObservedNetwork {
                id: "n".into(),
                labels: Default::default(),
            },
        );
        let err = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap_err();
        assert!(err.contains("has incorrect label"), "{err}");
    }

    #[test]
    fn dependents_that_ask_are_restarted_with_their_dependency() {
        let yaml = "services:\n  db:\n    image: pg:1\n  app:\n    image: app:1\n    depends_on: {db: {condition: service_started, restart: true}}\n  other:\n    image: o:1\n    depends_on: [db]\n";
        let p = project(yaml);
        let observed = up_to_date(&p);
        let edited = project(&yaml.replace("pg:1", "pg:2"));
        let plan = reconcile(&edited, &observed, &images(&edited), &Options::default()).unwrap();
        assert_eq!(
            kinds(&plan, "db"),
            ["recreate 1 (its configuration changed)"]
        );
        assert_eq!(kinds(&plan, "app"), ["restart 1"]);
        assert_eq!(kinds(&plan, "other"), ["keep 1"]);
    }

    #[test]
    fn a_container_off_its_network_is_recreated() {
        let p = project("services:\n  a:\n    image: x:1\n");
        let mut observed = up_to_date(&p);
        observed.containers[0].network_ids.clear();
        let plan = reconcile(&p, &observed, &images(&p), &Options::default()).unwrap();
        assert_eq!(
            kinds(&plan, "a"),
            ["recreate 1 (it is not attached to network default)"]
        );
    }
}
