//! What a compose file says that `brickyard up` does not act on, named by
//! service and key, so nothing is ignored silently. Most of these are
//! Swarm or tool-specific keys that `docker compose up` ignores as well.

use super::ApiVersion;
use crate::compose::{Project, Service};

/// One line per key not acted on: `service web: deploy.placement is ...`.
/// `buildkit`: whether builds go through BuildKit on this engine.
pub fn warnings(project: &Project, api: ApiVersion, buildkit: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, s) in &project.services {
        for (key, why) in service(s, api, buildkit) {
            out.push(format!("service {name}: `{key}` {why}"));
        }
    }
    out
}

fn service(s: &Service, api: ApiVersion, buildkit: bool) -> Vec<(&'static str, &'static str)> {
    const SWARM: &str = "is a Swarm setting; brickyard (like docker compose up) does not act on it";
    let mut w = Vec::new();
    if s.develop.is_some() {
        w.push((
            "develop",
            "is for `docker compose watch`; brickyard does not watch files",
        ));
    }
    if let Some(d) = &s.deploy {
        if d.mode == "global" {
            w.push(("deploy.mode", SWARM));
        }
        for (key, set) in [
            ("deploy.update_config", d.update_config.is_some()),
            ("deploy.rollback_config", d.rollback_config.is_some()),
            ("deploy.endpoint_mode", !d.endpoint_mode.is_empty()),
            ("deploy.labels", !d.labels.is_empty()),
            (
                "deploy.placement",
                !d.placement.constraints.is_empty()
                    || !d.placement.preferences.is_empty()
                    || d.placement.max_replicas != 0,
            ),
            (
                "deploy.resources.reservations.cpus",
                d.resources
                    .reservations
                    .as_ref()
                    .is_some_and(|r| r.cpus.0 != 0.0),
            ),
            (
                "deploy.resources.reservations.generic_resources",
                d.resources
                    .reservations
                    .as_ref()
                    .is_some_and(|r| !r.generic_resources.is_empty()),
            ),
        ] {
            if set {
                w.push((key, SWARM));
            }
        }
        if let Some(rp) = &d.restart_policy
            && (rp.delay.is_some() || rp.window.is_some())
        {
            w.push((
                "deploy.restart_policy.delay/window",
                "has no equivalent in the engine's restart policy (condition and max_attempts are used)",
            ));
        }
    }
    if s.credential_spec.is_some() {
        w.push(("credential_spec", "is for Windows containers; not acted on"));
    }
    if s.provider.is_some() {
        w.push((
            "provider",
            "needs a Compose provider plugin; brickyard does not run plugins",
        ));
    }
    if !s.models.is_empty() {
        w.push(("models", "needs Docker Model Runner; not acted on"));
    }
    if s.use_api_socket {
        w.push(("use_api_socket", "is not acted on; mount /var/run/docker.sock explicitly if the service needs the engine"));
    }
    if s.attach == Some(false) {
        w.push((
            "attach",
            "only changes which logs `docker compose up` shows; brickyard up does not attach",
        ));
    }
    for (key, set) in [
        ("log_driver", !s.log_driver.is_empty()),
        ("log_opt", !s.log_opt.is_empty()),
        ("net", !s.net.is_empty()),
        ("dockerfile", !s.dockerfile.is_empty()),
    ] {
        if set {
            w.push((key, "is a legacy key that Compose ignores; brickyard does too (use `logging`, `network_mode`, `build.dockerfile`)"));
        }
    }
    if ["daily", "weekly"].contains(&s.pull_policy.as_str()) || s.pull_policy.starts_with("every_")
    {
        w.push((
            "pull_policy",
            "refresh schedules are not kept; the image is pulled when missing",
        ));
    }
    if !s.mac_address.is_empty() && !api.at_least(1, 44) {
        w.push((
            "mac_address",
            "needs Docker Engine 25 or later (API 1.44); this engine would not apply it",
        ));
    }
    if s.networks
        .values()
        .flatten()
        .any(|n| !n.interface_name.is_empty())
        && !api.at_least(1, 49)
    {
        w.push((
            "networks.*.interface_name",
            "needs Docker Engine 28.1 or later; not applied here",
        ));
    }
    for refs in [&s.secrets, &s.configs] {
        if refs
            .iter()
            .any(|r| !r.uid.is_empty() || !r.gid.is_empty() || r.mode.is_some())
        {
            w.push((
                "secrets/configs uid, gid, mode",
                "apply to values written into the container (environment, content); a bind-mounted file keeps its own",
            ));
            break;
        }
    }
    if let Some(b) = &s.build {
        const LEGACY: &str = "needs BuildKit, and this engine builds with the legacy builder (Podman, or DOCKER_BUILDKIT=0); built without it";
        for (key, set) in [
            ("build.secrets", !b.secrets.is_empty()),
            ("build.ssh", !b.ssh.is_empty()),
        ] {
            if set && !buildkit {
                w.push((key, LEGACY));
            }
        }
        if b.ssh.iter().any(|k| !k.path.is_empty()) && buildkit {
            w.push((
                "build.ssh",
                "forwards the SSH agent (SSH_AUTH_SOCK); keys named by path are not loaded",
            ));
        }
        for (key, set) in [
            (
                "build.additional_contexts",
                !b.additional_contexts.is_empty(),
            ),
            ("build.cache_to", !b.cache_to.is_empty()),
            ("build.entitlements", !b.entitlements.is_empty()),
            ("build.privileged", b.privileged),
            ("build.ulimits", !b.ulimits.is_empty()),
            ("build.platforms (beyond the first)", b.platforms.len() > 1),
            ("build.provenance", !b.provenance.is_empty()),
            ("build.sbom", !b.sbom.is_empty()),
        ] {
            if set {
                w.push((
                    key,
                    "is not passed to the builder by brickyard; built without it",
                ));
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{ProjectOptions, load};

    #[test]
    fn each_key_not_acted_on_is_named_with_its_service() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("compose.yaml"),
            "services:\n  web:\n    image: x:1\n    deploy:\n      placement: {constraints: [node.role == manager]}\n      update_config: {parallelism: 2}\n    develop:\n      watch: [{action: rebuild, path: .}]\n    mac_address: 02:42:ac:11:00:02\n  plain:\n    image: x:1\n",
        )
        .unwrap();
        let p = load(&ProjectOptions {
            cwd: Some(root),
            os_env: Some(Default::default()),
            ..Default::default()
        })
        .unwrap()
        .project;
        let w = warnings(&p, ApiVersion(1, 41), true).join("\n");
        for key in [
            "deploy.placement",
            "deploy.update_config",
            "develop",
            "mac_address",
        ] {
            assert!(w.contains(&format!("service web: `{key}`")), "{key}: {w}");
        }
        assert!(!w.contains("service plain"), "{w}");
        assert!(
            !warnings(&p, ApiVersion(1, 47), true)
                .join("\n")
                .contains("mac_address")
        );
    }
}
