//! What must hold across the whole project (compose-go's
//! `checkConsistency`): every reference points at something defined,
//! mutually exclusive keys are not both set, no two mounts share a target,
//! and `depends_on` has no cycle.

use std::collections::BTreeMap;

use super::model::{Project, Service};

pub fn check(p: &mut Project) -> Result<(), String> {
    for (name, s) in &p.services {
        check_service(p, name, s)?;
    }
    // Compose's check also copies `scale` into `deploy.replicas`.
    for s in p.services.values_mut() {
        if let (Some(scale), Some(deploy)) = (s.scale, s.deploy.as_mut()) {
            deploy.replicas = Some(scale);
        }
    }
    for (name, secret) in &p.secrets {
        if !secret.external && secret.file.is_empty() && secret.environment.is_empty() {
            return Err(format!(
                "secret {name:?} must declare either `file` or `environment`"
            ));
        }
    }
    check_container_names(&p.services)?;
    check_cycle(&p.services)
}

/// Two services cannot share a `container_name` (Compose checks this too).
fn check_container_names(services: &BTreeMap<String, Service>) -> Result<(), String> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in services {
        if s.container_name.is_empty() {
            continue;
        }
        if let Some(other) = seen.insert(&s.container_name, name) {
            return Err(format!(
                "services.{name}: container name {:?} is already in use by service {other}",
                s.container_name
            ));
        }
    }
    Ok(())
}

fn check_service(p: &Project, name: &str, s: &Service) -> Result<(), String> {
    if s.build.is_none() && s.image.is_empty() && s.provider.is_none() {
        return Err(format!(
            "service {name:?} has neither an image nor a build context specified"
        ));
    }
    if let Some(b) = &s.build {
        if !b.dockerfile_inline.is_empty() && !b.dockerfile.is_empty() {
            return Err(format!(
                "service {name:?} declares mutualy exclusive dockerfile and dockerfile_inline"
            ));
        }
        for (add, c) in &b.additional_contexts {
            if let Some(target) = c.strip_prefix("service:") {
                match p.services.get(target) {
                    None => {
                        return Err(format!(
                            "service {name:?} declares unknown service {target:?} as additional contexts {add}"
                        ));
                    }
                    Some(t) if t.build.is_none() => {
                        return Err(format!(
                            "service {name:?} declares non-buildable service {target:?} as additional contexts {add}"
                        ));
                    }
                    _ => {}
                }
            }
        }
        if !b.platforms.is_empty() && !s.platform.is_empty() && !b.platforms.contains(&s.platform) {
            return Err(format!(
                "service.build.platforms MUST include service.platform {:?}",
                s.platform
            ));
        }
        for secret in &b.secrets {
            if !p.secrets.contains_key(&secret.source) {
                return Err(format!(
                    "service {name:?} refers to undefined build secret {}",
                    secret.source
                ));
            }
        }
    }
    if !s.network_mode.is_empty() && !s.networks.is_empty() {
        return Err(format!(
            "service {name} declares mutually exclusive `network_mode` and `networks`"
        ));
    }
    for network in s.networks.keys() {
        if !p.networks.contains_key(network) {
            return Err(format!(
                "service {name:?} refers to undefined network {network}"
            ));
        }
    }
    if let Some(first) = s.healthcheck.as_ref().and_then(|h| h.test.first())
        && !["CMD", "CMD-SHELL", "NONE"].contains(&first.as_str())
    {
        return Err(r#"healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE""#.into());
    }
    for (dep, cfg) in &s.depends_on {
        if !p.services.contains_key(dep) {
            let disabled = p.disabled_services.contains_key(dep);
            if disabled && !cfg.required {
                continue;
            }
            return Err(format!(
                "service {name:?} depends on undefined service {dep:?}"
            ));
        }
    }
    if let Some(shared) = s.network_mode.strip_prefix("service:")
        && !p.services.contains_key(shared)
    {
        return Err(format!(
            "service {shared:?} not found for network_mode 'service:{shared}'"
        ));
    }
    for v in &s.volumes {
        if v.kind == "volume" && !v.source.is_empty() && !p.volumes.contains_key(&v.source) {
            return Err(format!(
                "service {name:?} refers to undefined volume {}",
                v.source
            ));
        }
    }
    for c in &s.configs {
        if !p.configs.contains_key(&c.source) {
            return Err(format!(
                "service {name:?} refers to undefined config {}",
                c.source
            ));
        }
    }
    for m in s.models.keys() {
        if !p.models.contains_key(m) {
            return Err(format!("service {name:?} refers to undefined model {m}"));
        }
    }
    for secret in &s.secrets {
        if !p.secrets.contains_key(&secret.source) {
            return Err(format!(
                "service {name:?} refers to undefined secret {}",
                secret.source
            ));
        }
    }
    let replicas = s.deploy.as_ref().and_then(|d| d.replicas);
    if let (Some(scale), Some(replicas)) = (s.scale, replicas)
        && scale != replicas
    {
        return Err(format!(
            "services.{name}: can't set distinct values on 'scale' and 'deploy.replicas'"
        ));
    }
    if s.scale.is_some_and(|n| n < 0) {
        return Err(format!(
            "services.{name}.scale: must be greater than or equal to 0"
        ));
    }
    if replicas.is_some_and(|n| n < 0) {
        return Err(format!(
            "services.{name}.deploy.replicas: must be greater than or equal to 0"
        ));
    }
    if let Some(limits) = s.deploy.as_ref().and_then(|d| d.resources.limits.as_ref()) {
        if s.cpus.0 != 0.0 && limits.cpus != s.cpus {
            return Err(format!(
                "services.{name}: can't set distinct values on 'cpus' and 'deploy.resources.limits.cpus'"
            ));
        }
        if s.mem_limit.0 != 0 && limits.memory != s.mem_limit {
            return Err(format!(
                "services.{name}: can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'"
            ));
        }
        if s.pids_limit != 0 && limits.pids != s.pids_limit {
            return Err(format!(
                "services.{name}: can't set distinct values on 'pids_limit' and 'deploy.resources.limits.pids'"
            ));
        }
    }
    if let Some(res) = s
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref())
        && s.mem_reservation.0 != 0
        && res.memory != s.mem_reservation
    {
        return Err(format!(
            "services.{name}: can't set distinct values on 'mem_reservation' and 'deploy.resources.reservations.memory'"
        ));
    }
    if s.scale() > 1 && !s.container_name.is_empty() {
        let attr = if s.scale.is_some() {
            "scale"
        } else {
            "deploy.replicas"
        };
        return Err(format!(
            "services.{name}: can't set container_name and {attr} as container name must be unique"
        ));
    }
    if let Some(dev) = &s.develop {
        for w in &dev.watch {
            if w.target.is_empty() && w.action != "rebuild" && w.action != "restart" {
                return Err(format!(
                    "services.{name}.develop.watch: target is required for non-rebuild actions"
                ));
            }
        }
    }
    let mut mounts: BTreeMap<String, String> = BTreeMap::new();
    for (i, t) in s.tmpfs.iter().enumerate() {
        let loc = format!("services.{name}.tmpfs[{i}]");
        let target = t.split(':').next().unwrap_or(t).to_string();
        if let Some(prev) = mounts.get(&target) {
            return Err(format!("{loc}: target {target} already mounted as {prev}"));
        }
        mounts.insert(target, loc);
    }
    for (i, v) in s.volumes.iter().enumerate() {
        let loc = format!("services.{name}.volumes[{i}]");
        if let Some(prev) = mounts.get(&v.target) {
            return Err(format!(
                "{loc}: target {} already mounted as {prev}",
                v.target
            ));
        }
        mounts.insert(v.target.clone(), loc);
    }
    Ok(())
}

/// `dependency cycle detected: a -> b -> a`, the first one found visiting
/// services and their dependencies in name order (as Compose reports it).
pub fn check_cycle(services: &BTreeMap<String, Service>) -> Result<(), String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        services: &'a BTreeMap<String, Service>,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Result<(), String> {
        path.push(name);
        marks.insert(name, Mark::Visiting);
        if let Some(svc) = services.get(name) {
            for dep in svc.depends_on.keys() {
                if !services.contains_key(dep) {
                    continue;
                }
                match marks.get(dep.as_str()) {
                    Some(Mark::Done) => {}
                    Some(Mark::Visiting) => {
                        let i = path.iter().position(|p| *p == dep).unwrap_or(0);
                        return Err(format!(
                            "dependency cycle detected: {} -> {dep}",
                            path[i..].join(" -> ")
                        ));
                    }
                    None => visit(dep, services, marks, path)?,
                }
            }
        }
        path.pop();
        marks.insert(name, Mark::Done);
        Ok(())
    }
    let mut marks = BTreeMap::new();
    for name in services.keys() {
        if !marks.contains_key(name.as_str()) {
            visit(name, services, &mut marks, &mut Vec::new())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(deps: &[&str]) -> Service {
        Service {
            image: "x".into(),
            depends_on: deps
                .iter()
                .map(|d| (d.to_string(), Default::default()))
                .collect(),
            ..Service::default()
        }
    }

    #[test]
    fn a_cycle_is_named() {
        let services: BTreeMap<String, Service> = [
            ("a".to_string(), svc(&["b"])),
            ("b".to_string(), svc(&["c"])),
            ("c".to_string(), svc(&["a"])),
        ]
        .into();
        assert_eq!(
            check_cycle(&services).unwrap_err(),
            "dependency cycle detected: a -> b -> c -> a"
        );
        let services: BTreeMap<String, Service> = [("a".to_string(), svc(&["a"]))].into();
        assert_eq!(
            check_cycle(&services).unwrap_err(),
            "dependency cycle detected: a -> a"
        );
    }

    #[test]
    fn a_wide_graph_is_checked_quickly() {
        // Compose's own search is exponential here; ours visits each service once.
        let mut services = BTreeMap::new();
        for i in 0..200 {
            let deps: Vec<String> = (i + 1..(i + 6).min(200))
                .map(|d| format!("s{d:03}"))
                .collect();
            let refs: Vec<&str> = deps.iter().map(String::as_str).collect();
            services.insert(format!("s{i:03}"), svc(&refs));
        }
        check_cycle(&services).unwrap();
    }
}
