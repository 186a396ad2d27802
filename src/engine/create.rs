//! A service's container as the create request Docker Compose sends (a
//! port of its `getCreateConfigs`): labels, environment, ports with an
//! empty host IP meaning every address (IPv4 and IPv6), binds and mounts,
//! networks with aliases, resources, healthcheck. Pure: what to send is
//! decided here and tested here; `execute` sends it.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, EndpointIpamConfig, EndpointSettings,
    HealthConfig, HostConfig, HostConfigCgroupnsModeEnum, HostConfigLogConfig, Mount,
    MountBindOptions, MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType,
    MountVolumeOptions, NetworkingConfig, PortBinding, ResourcesBlkioWeightDevice,
    ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum, ThrottleDevice,
};

use super::*;
use crate::compose::model::{self, FileReference, Project, Service, ServiceVolume};

/// What a container is made from, beyond the service itself.
pub struct CreateInput<'a> {
    pub project: &'a Project,
    /// The service with `service:x` references resolved to container ids.
    pub service: &'a Service,
    pub number: u32,
    /// The container's final name.
    pub name: String,
    /// The image id it runs (`com.docker.compose.image`).
    pub image_id: String,
    pub links: Vec<String>,
    pub api: ApiVersion,
    /// Set when replacing a container: `<service>-<n>`.
    pub replaces: Option<String>,
    /// Anonymous volumes of the replaced container, by target, kept.
    pub inherited: BTreeMap<String, String>,
}

/// The request, what to do between create and start, and the hash it carries.
#[derive(Debug)]
pub struct CreateSpec {
    pub body: ContainerCreateBody,
    pub platform: Option<String>,
    /// Networks joined after create on engines older than API 1.44.
    pub later_networks: Vec<(String, EndpointSettings)>,
    /// Secret and config contents written into the container before start.
    pub files: Vec<InjectedFile>,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFile {
    pub target: String,
    pub content: String,
    pub mode: i64,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
}

/// Compose's labels for a service's containers, beside its own.
pub fn custom_labels(project: &Project, service: &str, image_id: &str) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        (LABEL_PROJECT.to_string(), project.name.clone()),
        (LABEL_SERVICE.to_string(), service.to_string()),
        (LABEL_VERSION.to_string(), COMPOSE_VERSION.to_string()),
        (
            LABEL_WORKDIR.to_string(),
            project.working_dir.display().to_string(),
        ),
        (
            LABEL_CONFIG_FILES.to_string(),
            project
                .compose_files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
        (LABEL_ONEOFF.to_string(), "False".to_string()),
    ]);
    if !image_id.is_empty() {
        l.insert(LABEL_IMAGE.to_string(), image_id.to_string());
    }
    l
}

/// The image a service runs: its `image`, or the name Compose gives a build.
pub fn image_name(project: &Project, service: &Service) -> String {
    if service.image.is_empty() {
        built_image_name(&project.name, &service.name)
    } else {
        service.image.clone()
    }
}

/// `<project>-<service>-<n>`, or `container_name`.
pub fn container_name(project: &str, service: &Service, number: u32) -> String {
    if service.container_name.is_empty() {
        format!("{project}-{}-{number}", service.name)
    } else {
        service.container_name.clone()
    }
}

/// Networks in Compose's order: highest `priority` first, then by name.
pub fn networks_by_priority(service: &Service) -> Vec<String> {
    let mut keys: Vec<(i64, &String)> = service
        .networks
        .iter()
        .map(|(k, v)| (v.as_ref().map_or(0, |n| n.priority), k))
        .collect();
    keys.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    keys.into_iter().map(|(_, k)| k.clone()).collect()
}

fn opt_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn opt_str(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn opt_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| m.clone().into_iter().collect())
}

pub fn spec(input: &CreateInput) -> Result<CreateSpec, String> {
    let (p, s) = (input.project, input.service);
    let hash = Project::service_hash(s);
    let mut labels: BTreeMap<String, String> = s.labels.clone();
    labels.extend(custom_labels(p, &s.name, &input.image_id));
    labels.insert(LABEL_HASH.into(), hash.clone());
    labels.insert(LABEL_NUMBER.into(), input.number.to_string());
    labels.insert(
        LABEL_DEPENDS_ON.into(),
        s.depends_on
            .iter()
            .map(|(d, c)| format!("{d}:{}:{}", c.condition, c.restart))
            .collect::<Vec<_>>()
            .join(","),
    );
    if let Some(r) = &input.replaces {
        labels.insert(LABEL_REPLACE.into(), r.clone());
    }

    let env: Vec<String> = s
        .environment
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect();

    let mut exposed: Vec<String> = s
        .expose
        .iter()
        .map(|e| {
            if e.contains('/') {
                e.clone()
            } else {
                format!("{e}/tcp")
            }
        })
        .collect();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &s.ports {
        let key = format!("{}/{}", port.target, port.protocol);
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                // Empty means every address, IPv4 and IPv6, as Compose sends it.
                host_ip: Some(port.host_ip.clone()),
                host_port: Some(port.published.clone()),
            });
    }
    exposed.sort();
    exposed.dedup();

    let healthcheck = s
        .healthcheck
        .as_ref()
        .map(|h| -> Result<HealthConfig, String> {
            if h.start_interval.is_some() && !input.api.at_least(1, 44) {
                return Err(format!(
                    "service {}: healthcheck.start_interval needs Docker Engine 25 or later (this engine speaks API {})",
                    s.name, input.api
                ));
            }
            Ok(HealthConfig {
                test: if h.disable {
                    Some(vec!["NONE".into()])
                } else {
                    opt_vec(h.test.clone())
                },
                interval: h.interval.map(|d| d.0),
                timeout: h.timeout.map(|d| d.0),
                retries: h.retries,
                start_period: h.start_period.map(|d| d.0),
                start_interval: h.start_interval.map(|d| d.0),
            })
        })
        .transpose()?;

    let tmpfs: HashMap<String, String> = s
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, opts)) => (path.to_string(), opts.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect();

    let (binds, mounts, files) = volumes(input)?;

    let (network_mode, networking, later) = networks(input);

    let mut host = HostConfig {
        annotations: opt_map(&s.annotations),
        binds: opt_vec(binds),
        mounts: opt_vec(mounts),
        cap_add: opt_vec(s.cap_add.clone()),
        cap_drop: opt_vec(s.cap_drop.clone()),
        network_mode: Some(network_mode),
        init: s.init,
        ipc_mode: opt_str(&s.ipc),
        cgroupns_mode: match s.cgroup.as_str() {
            "host" => Some(HostConfigCgroupnsModeEnum::HOST),
            "private" => Some(HostConfigCgroupnsModeEnum::PRIVATE),
            _ => None,
        },
        readonly_rootfs: s.read_only.then_some(true),
        restart_policy: restart_policy(s),
        shm_size: (s.shm_size.0 != 0).then_some(s.shm_size.0),
        sysctls: opt_map(&s.sysctls),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        volume_driver: opt_str(&s.volume_driver),
        volumes_from: opt_vec(s.volumes_from.clone()),
        dns: opt_vec(s.dns.clone()),
        dns_search: opt_vec(s.dns_search.clone()),
        dns_options: opt_vec(s.dns_opt.clone()),
        extra_hosts: opt_vec(
            s.extra_hosts
                .0
                .iter()
                .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}:{ip}")))
                .collect(),
        ),
        security_opt: opt_vec(s.security_opt.clone()),
        storage_opt: opt_map(&s.storage_opt),
        userns_mode: opt_str(&s.userns_mode),
        uts_mode: opt_str(&s.uts),
        privileged: s.privileged.then_some(true),
        pid_mode: opt_str(&s.pid),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        runtime: opt_str(&s.runtime),
        log_config: s.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: opt_str(&l.driver),
            config: opt_map(&l.options),
        }),
        group_add: opt_vec(s.group_add.clone()),
        links: opt_vec(input.links.clone()),
        oom_score_adj: (s.oom_score_adj != 0).then_some(s.oom_score_adj),
        ..HostConfig::default()
    };
    if !s.isolation.is_empty() {
        host.isolation = s.isolation.parse().ok();
    }
    resources(s, &mut host);

    let body = ContainerCreateBody {
        hostname: opt_str(&s.hostname),
        domainname: opt_str(&s.domainname),
        user: opt_str(&s.user),
        exposed_ports: opt_vec(exposed),
        tty: s.tty.then_some(true),
        open_stdin: s.stdin_open.then_some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: s.command.clone(),
        image: Some(image_name(p, s)),
        working_dir: opt_str(&s.working_dir),
        entrypoint: s.entrypoint.clone(),
        network_disabled: (s.network_mode == "disabled").then_some(true),
        labels: Some(labels.into_iter().collect()),
        stop_signal: opt_str(&s.stop_signal),
        env: Some(env),
        healthcheck,
        stop_timeout: s.stop_grace_period.map(|d| d.0 / 1_000_000_000),
        host_config: Some(host),
        networking_config: networking,
        ..ContainerCreateBody::default()
    };
    let platform =
        opt_str(&s.platform).or_else(|| p.environment.get("DOCKER_DEFAULT_PLATFORM").cloned());
    Ok(CreateSpec {
        body,
        platform,
        later_networks: later,
        files,
        hash,
    })
}

fn restart_policy(s: &Service) -> Option<RestartPolicy> {
    let name = |cond: &str| match cond {
        "none" | "no" => RestartPolicyNameEnum::NO,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "any" | "always" => RestartPolicyNameEnum::ALWAYS,
        _ => RestartPolicyNameEnum::EMPTY,
    };
    let mut policy = None;
    if !s.restart.is_empty() {
        let mut parts = s.restart.splitn(2, ':');
        let cond = parts.next().unwrap_or_default();
        let attempts = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        policy = Some(RestartPolicy {
            name: Some(name(cond)),
            maximum_retry_count: Some(attempts),
        });
    }
    if let Some(rp) = s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) {
        policy = Some(RestartPolicy {
            name: Some(name(&rp.condition)),
            maximum_retry_count: Some(rp.max_attempts.unwrap_or(0)),
        });
    }
    policy
}

fn resources(s: &Service, h: &mut HostConfig) {
    h.cgroup_parent = opt_str(&s.cgroup_parent);
    h.memory = (s.mem_limit.0 != 0).then_some(s.mem_limit.0);
    h.memory_swap = (s.memswap_limit.0 != 0).then_some(s.memswap_limit.0);
    h.memory_swappiness = (s.mem_swappiness.0 != 0).then_some(s.mem_swappiness.0);
    h.memory_reservation = (s.mem_reservation.0 != 0).then_some(s.mem_reservation.0);
    h.oom_kill_disable = s.oom_kill_disable.then_some(true);
    h.cpu_count = (s.cpu_count != 0).then_some(s.cpu_count);
    h.cpu_period = (s.cpu_period != 0).then_some(s.cpu_period);
    h.cpu_quota = (s.cpu_quota != 0).then_some(s.cpu_quota);
    h.cpu_realtime_period = (s.cpu_rt_period != 0).then_some(s.cpu_rt_period);
    h.cpu_realtime_runtime = (s.cpu_rt_runtime != 0).then_some(s.cpu_rt_runtime);
    h.cpu_shares = (s.cpu_shares != 0).then_some(s.cpu_shares);
    h.nano_cpus = (s.cpus.0 != 0.0).then_some((s.cpus.0 as f64 * 1e9) as i64);
    h.cpu_percent = (s.cpu_percent.0 != 0.0).then_some((s.cpu_percent.0 * 100.0) as i64);
    h.cpuset_cpus = opt_str(&s.cpuset);
    h.device_cgroup_rules = opt_vec(s.device_cgroup_rules.clone());
    h.pids_limit = (s.pids_limit != 0).then_some(s.pids_limit);
    if let Some(b) = &s.blkio_config {
        h.blkio_weight = (b.weight != 0).then_some(b.weight);
        let throttle = |v: &[model::ThrottleDevice]| {
            opt_vec(
                v.iter()
                    .map(|t| ThrottleDevice {
                        path: Some(t.path.clone()),
                        rate: Some(t.rate.0),
                    })
                    .collect(),
            )
        };
        h.blkio_weight_device = opt_vec(
            b.weight_device
                .iter()
                .map(|w| ResourcesBlkioWeightDevice {
                    path: Some(w.path.clone()),
                    weight: Some(w.weight as usize),
                })
                .collect(),
        );
        h.blkio_device_read_bps = throttle(&b.device_read_bps);
        h.blkio_device_read_iops = throttle(&b.device_read_iops);
        h.blkio_device_write_bps = throttle(&b.device_write_bps);
        h.blkio_device_write_iops = throttle(&b.device_write_iops);
    }
    let mut requests: Vec<DeviceRequest> = Vec::new();
    if let Some(d) = &s.deploy {
        if let Some(l) = &d.resources.limits {
            if l.memory.0 != 0 {
                h.memory = Some(l.memory.0);
            }
            if l.cpus.0 != 0.0 {
                h.nano_cpus = Some((l.cpus.0 as f64 * 1e9) as i64);
            }
            if l.pids > 0 {
                h.pids_limit = Some(l.pids);
            }
        }
        if let Some(r) = &d.resources.reservations {
            if r.memory.0 != 0 {
                h.memory_reservation = Some(r.memory.0);
            }
            for dev in &r.devices {
                requests.push(DeviceRequest {
                    capabilities: Some(vec![dev.capabilities.clone()]),
                    count: Some(dev.count),
                    device_ids: opt_vec(dev.ids.clone()),
                    driver: opt_str(&dev.driver),
                    options: opt_map(&dev.options),
                });
            }
        }
    }
    let mut devices = Vec::new();
    let mut cdi = Vec::new();
    for dev in &s.devices {
        // A CDI name (vendor.com/class=name) is a device request, not a path.
        if dev.source == dev.target
            && dev.source.contains('/')
            && dev.source.contains('=')
            && !dev.source.starts_with('/')
        {
            cdi.push(dev.source.clone());
            continue;
        }
        devices.push(DeviceMapping {
            path_on_host: Some(dev.source.clone()),
            path_in_container: Some(dev.target.clone()),
            cgroup_permissions: Some(dev.permissions.clone()),
        });
    }
    if !cdi.is_empty() {
        requests.push(DeviceRequest {
            driver: Some("cdi".into()),
            device_ids: Some(cdi),
            ..Default::default()
        });
    }
    for g in &s.gpus {
        let mut caps = g.capabilities.clone();
        caps.push("gpu".into());
        requests.push(DeviceRequest {
            driver: opt_str(&g.driver),
            count: Some(g.count),
            device_ids: opt_vec(g.ids.clone()),
            capabilities: Some(vec![caps]),
            options: opt_map(&g.options),
        });
    }
    h.devices = opt_vec(devices);
    h.device_requests = opt_vec(requests);
    h.ulimits = opt_vec(
        s.ulimits
            .iter()
            .map(|(name, u)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(if u.soft != 0 { u.soft } else { u.single }),
                hard: Some(if u.hard != 0 { u.hard } else { u.single }),
            })
            .collect(),
    );
}

fn bind_string(name: &str, v: &ServiceVolume) -> String {
    let mut options = vec![if v.read_only { "ro" } else { "rw" }.to_string()];
    if let Some(b) = &v.bind {
        if !b.selinux.is_empty() {
            options.push(b.selinux.clone());
        }
        if !b.propagation.is_empty() {
            options.push(b.propagation.clone());
        }
    }
    if v.volume.as_ref().is_some_and(|vol| vol.nocopy) {
        options.push("nocopy".into());
    }
    format!("{name}:{}:{}", v.target, options.join(","))
}

fn propagation(p: &str) -> Option<MountBindOptionsPropagationEnum> {
    Some(match p {
        "private" => MountBindOptionsPropagationEnum::PRIVATE,
        "rprivate" => MountBindOptionsPropagationEnum::RPRIVATE,
        "shared" => MountBindOptionsPropagationEnum::SHARED,
        "rshared" => MountBindOptionsPropagationEnum::RSHARED,
        "slave" => MountBindOptionsPropagationEnum::SLAVE,
        "rslave" => MountBindOptionsPropagationEnum::RSLAVE,
        _ => return None,
    })
}

/// A volume of the service as a mount (`buildMount`).
fn mount(p: &Project, v: &ServiceVolume) -> Result<Mount, String> {
    let mut source = v.source.clone();
    let typ = match v.kind.as_str() {
        "bind" => MountType::BIND,
        "volume" => {
            if let Some(pv) = p.volumes.get(&v.source) {
                source = pv.name.clone();
            }
            MountType::VOLUME
        }
        "tmpfs" => MountType::TMPFS,
        "npipe" => MountType::NPIPE,
        "image" => MountType::IMAGE,
        "cluster" => MountType::CLUSTER,
        other => return Err(format!("volume type `{other}` is not supported")),
    };
    Ok(Mount {
        typ: Some(typ),
        source: opt_str(&source),
        target: Some(v.target.clone()),
        read_only: v.read_only.then_some(true),
        consistency: opt_str(&v.consistency),
        bind_options: v.bind.as_ref().map(|b| MountBindOptions {
            propagation: propagation(&b.propagation),
            create_mountpoint: b.create_host_path.then_some(true),
            non_recursive: (b.recursive == "disabled").then_some(true),
            read_only_non_recursive: (b.recursive == "writable").then_some(true),
            read_only_force_recursive: (b.recursive == "readonly").then_some(true),
        }),
        volume_options: v.volume.as_ref().map(|vol| MountVolumeOptions {
            no_copy: vol.nocopy.then_some(true),
            labels: opt_map(&vol.labels),
            subpath: opt_str(&vol.subpath),
            ..Default::default()
        }),
        tmpfs_options: v.tmpfs.as_ref().map(|t| MountTmpfsOptions {
            size_bytes: (t.size.0 != 0).then_some(t.size.0),
            mode: (t.mode != 0).then_some(t.mode as i64),
            ..Default::default()
        }),
        ..Default::default()
    })
}

type Volumes = (Vec<String>, Vec<Mount>, Vec<InjectedFile>);

/// Binds (the short form Docker reads) where they suffice, mounts
/// otherwise; then secrets and configs, as Compose decides it.
fn volumes(input: &CreateInput) -> Result<Volumes, String> {
    let (p, s) = (input.project, input.service);
    let mut binds = Vec::new();
    let mut mounts: Vec<Mount> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    for v in &s.volumes {
        targets.push(v.target.clone());
        if v.kind == "image" && !input.api.at_least(1, 48) {
            return Err(format!(
                "service {}: a volume of type image needs Docker Engine 28 or later",
                s.name
            ));
        }
        if v.kind == "volume"
            && v.source.is_empty()
            && let Some(kept) = input.inherited.get(&v.target)
        {
            // The replaced container's anonymous volume, kept with its data.
            mounts.push(Mount {
                typ: Some(MountType::VOLUME),
                source: Some(kept.clone()),
                target: Some(v.target.clone()),
                read_only: v.read_only.then_some(true),
                ..Default::default()
            });
            continue;
        }
        let needs_mount_api = |v: &ServiceVolume| match v.kind.as_str() {
            "bind" => v.bind.as_ref().is_some_and(|b| {
                !b.create_host_path || !b.propagation.is_empty() || !b.recursive.is_empty()
            }),
            "volume" => {
                v.volume.as_ref().is_some_and(|vol| {
                    !vol.labels.is_empty() || !vol.subpath.is_empty() || vol.nocopy
                }) || !p.volumes.contains_key(&v.source)
            }
            _ => true,
        };
        if !needs_mount_api(v) {
            let name = match v.kind.as_str() {
                "volume" => p.volumes[&v.source].name.clone(),
                _ => v.source.clone(),
            };
            binds.push(bind_string(&name, v));
            continue;
        }
        mounts.push(mount(p, v)?);
    }
    for (target, name) in &input.inherited {
        if !targets.contains(target) {
            // An anonymous volume the image declares: kept too.
            mounts.push(Mount {
                typ: Some(MountType::VOLUME),
                source: Some(name.clone()),
                target: Some(target.clone()),
                ..Default::default()
            });
            targets.push(target.clone());
        }
    }
    let mut files = Vec::new();
    for (kind, refs) in [("secret", &s.secrets), ("config", &s.configs)] {
        for r in refs {
            let defined = if kind == "secret" {
                p.secrets.get(&r.source)
            } else {
                p.configs.get(&r.source)
            }
            .ok_or_else(|| format!("service {} uses undefined {kind} {}", s.name, r.source))?;
            let target = file_target(kind, r);
            if defined.external {
                return Err(format!(
                    "service {}: external {kind} {} is a Swarm feature; Docker Compose does not support it either",
                    s.name, defined.name
                ));
            }
            if !defined.driver.is_empty() || !defined.template_driver.is_empty() {
                return Err(format!(
                    "service {}: {kind}s.{}.driver is a Swarm feature; Docker Compose does not support it either",
                    s.name, r.source
                ));
            }
            let content = if !defined.content.is_empty() {
                Some(defined.content.clone())
            } else if !defined.environment.is_empty() {
                Some(
                    p.environment
                        .get(&defined.environment)
                        .cloned()
                        .ok_or_else(|| {
                            format!(
                                "environment variable {:?} required by {kind} {:?} is not set",
                                defined.environment, defined.name
                            )
                        })?,
                )
            } else {
                None
            };
            if let Some(content) = content {
                if s.read_only {
                    return Err(format!(
                        "cannot create {kind} {:?} in read-only service {}: `file` is the sole supported option",
                        defined.name, s.name
                    ));
                }
                let id = |v: &str| v.parse::<u64>().ok();
                files.push(InjectedFile {
                    target,
                    content,
                    mode: r.mode.map_or(0o444, |m| m.0),
                    uid: id(&r.uid),
                    gid: id(&r.gid),
                });
                continue;
            }
            if targets.contains(&target) {
                continue;
            }
            targets.push(target.clone());
            let vol = ServiceVolume {
                kind: "bind".into(),
                source: defined.file.clone(),
                target,
                read_only: true,
                bind: (kind == "secret").then(|| model::VolumeBind {
                    create_host_path: false,
                    ..Default::default()
                }),
                ..Default::default()
            };
            if kind == "config" {
                binds.push(bind_string(&vol.source, &vol));
            } else {
                mounts.push(mount(p, &vol)?);
            }
        }
    }
    Ok((binds, mounts, files))
}

/// `/run/secrets/<name>` for a secret, `/<name>` for a config, unless a
/// target says otherwise (a relative secret target is under /run/secrets).
pub fn file_target(kind: &str, r: &FileReference) -> String {
    let base = if kind == "secret" {
        "/run/secrets/"
    } else {
        "/"
    };
    if r.target.is_empty() {
        format!("{base}{}", r.source)
    } else if !r.target.starts_with('/') {
        format!("{base}{}", r.target)
    } else {
        r.target.clone()
    }
}

fn endpoint(input: &CreateInput, key: &str) -> EndpointSettings {
    let (s, cfg) = (
        input.service,
        input.service.networks.get(key).cloned().flatten(),
    );
    let mut aliases = vec![input.name.clone(), s.name.clone()];
    let mut settings = EndpointSettings {
        links: opt_vec(input.links.clone()),
        ..Default::default()
    };
    if let Some(c) = cfg {
        aliases.extend(c.aliases.iter().cloned());
        if !c.ipv4_address.is_empty() || !c.ipv6_address.is_empty() || !c.link_local_ips.is_empty()
        {
            settings.ipam_config = Some(EndpointIpamConfig {
                ipv4_address: opt_str(&c.ipv4_address),
                ipv6_address: opt_str(&c.ipv6_address),
                link_local_ips: opt_vec(c.link_local_ips.clone()),
            });
        }
        settings.mac_address = opt_str(&c.mac_address);
        let mut opts = c.driver_opts.clone();
        if !c.interface_name.is_empty() {
            opts.insert(
                "com.docker.network.endpoint.ifname".into(),
                c.interface_name.clone(),
            );
        }
        settings.driver_opts = opt_map(&opts);
        settings.gw_priority = (c.gateway_priority != 0).then_some(c.gateway_priority);
    }
    settings.aliases = Some(aliases);
    settings
}

type Networks = (
    String,
    Option<NetworkingConfig>,
    Vec<(String, EndpointSettings)>,
);

fn networks(input: &CreateInput) -> Networks {
    let (p, s) = (input.project, input.service);
    if !s.network_mode.is_empty() {
        return (s.network_mode.clone(), None, Vec::new());
    }
    if p.networks.is_empty() {
        return ("none".into(), None, Vec::new());
    }
    let ordered = networks_by_priority(s);
    let primary_key = ordered.first().cloned().unwrap_or_else(|| "default".into());
    let real = |k: &str| {
        p.networks
            .get(k)
            .map(|n| n.name.clone())
            .unwrap_or_default()
    };
    let primary = real(&primary_key);
    let mut primary_endpoint = endpoint(input, &primary_key);
    let mut endpoints = HashMap::new();
    let mut later = Vec::new();
    for key in ordered.iter().skip(1) {
        if input.api.at_least(1, 44) {
            endpoints.insert(real(key), endpoint(input, key));
        } else {
            later.push((real(key), endpoint(input, key)));
        }
    }
    // The container-level MacAddress of older APIs is not in the client's
    // model; the endpoint's carries it (honoured from API 1.44 on).
    if primary_endpoint.mac_address.is_none() {
        primary_endpoint.mac_address = opt_str(&s.mac_address);
    }
    endpoints.insert(primary.clone(), primary_endpoint);
    (
        primary,
        Some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
        later,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{ProjectOptions, load};

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shop");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("compose.yaml"), yaml).unwrap();
        std::fs::write(root.join("pw.txt"), "s3cret").unwrap();
        load(&ProjectOptions {
            cwd: Some(root),
            os_env: Some([("TOKEN".to_string(), "t0k".to_string())].into()),
            keep_label_files: true,
            ..Default::default()
        })
        .unwrap()
        .project
    }

    fn spec_of(p: &Project, service: &str, api: ApiVersion) -> CreateSpec {
        let s = &p.services[service];
        spec(&CreateInput {
            project: p,
            service: s,
            number: 1,
            name: container_name(&p.name, s, 1),
            image_id: "sha256:abc".into(),
            links: Vec::new(),
            api,
            replaces: None,
            inherited: BTreeMap::new(),
        })
        .unwrap()
    }

    const OLD: ApiVersion = ApiVersion(1, 41);
    const NEW: ApiVersion = ApiVersion(1, 47);

    #[test]
    fn ports_bind_every_address_unless_told() {
        let p = project(
            "services:\n  web:\n    image: nginx:1\n    ports: ['8080:80', '127.0.0.1:9000:9000', '[::1]:53:53/udp']\n    expose: [3000]\n",
        );
        let b = spec_of(&p, "web", OLD).body;
        let ports = b.host_config.unwrap().port_bindings.unwrap();
        let one = |k: &str| ports[k].clone().unwrap()[0].clone();
        assert_eq!(one("80/tcp").host_ip.as_deref(), Some(""));
        assert_eq!(one("9000/tcp").host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(one("53/udp").host_ip.as_deref(), Some("::1"));
        assert_eq!(
            b.exposed_ports.unwrap(),
            ["3000/tcp", "53/udp", "80/tcp", "9000/tcp"]
        );
    }

    #[test]
    fn labels_say_what_compose_says() {
        let p = project(
            "services:\n  web:\n    image: nginx:1\n    labels: {team: shop}\n    depends_on: [db]\n  db:\n    image: postgres:16\n",
        );
        let spec = spec_of(&p, "web", OLD);
        let labels = spec.body.labels.unwrap();
        assert_eq!(labels[LABEL_PROJECT], "shop");
        assert_eq!(labels[LABEL_SERVICE], "web");
        assert_eq!(labels[LABEL_NUMBER], "1");
        assert_eq!(labels[LABEL_ONEOFF], "False");
        assert_eq!(labels[LABEL_IMAGE], "sha256:abc");
        assert_eq!(labels[LABEL_HASH], spec.hash);
        assert_eq!(labels[LABEL_DEPENDS_ON], "db:service_started:false");
        assert_eq!(labels["team"], "shop");
    }

    #[test]
    fn volumes_binds_mounts_secrets_configs() {
        let p = project(
            "services:\n  web:\n    image: nginx:1\n    volumes: ['./conf:/etc/conf:ro', 'data:/data', 'cache:/cache:nocopy', '/anon', {type: tmpfs, target: /tmp, tmpfs: {size: 1024}}, {type: bind, source: ./x, target: /x, bind: {propagation: rprivate}}]\n    secrets: [pw, {source: token, target: tok, mode: 0400}]\n    configs: [{source: site, target: /etc/site.conf}]\nvolumes:\n  data:\n  cache:\nsecrets:\n  pw: {file: ./pw.txt}\n  token: {environment: TOKEN}\nconfigs:\n  site: {content: 'hello'}\n",
        );
        let spec = spec_of(&p, "web", OLD);
        let host = spec.body.host_config.unwrap();
        let binds = host.binds.unwrap();
        assert!(
            binds.iter().any(|b| b.ends_with("/shop/conf:/etc/conf:ro")),
            "{binds:?}"
        );
        assert!(
            binds.contains(&"shop_data:/data:rw".to_string()),
            "{binds:?}"
        );
        let mounts = host.mounts.unwrap();
        let at = |t: &str| {
            mounts
                .iter()
                .find(|m| m.target.as_deref() == Some(t))
                .unwrap()
        };
        assert_eq!(
            at("/cache").volume_options.as_ref().unwrap().no_copy,
            Some(true)
        );
        assert_eq!(at("/cache").source.as_deref(), Some("shop_cache"));
        assert_eq!(at("/anon").source, None);
        assert_eq!(at("/tmp").typ, Some(MountType::TMPFS));
        // A bind with options the short form cannot say: the Mount API.
        assert_eq!(at("/x").typ, Some(MountType::BIND));
        assert_eq!(
            at("/x").bind_options.as_ref().unwrap().propagation,
            Some(MountBindOptionsPropagationEnum::RPRIVATE)
        );
        assert_eq!(at("/run/secrets/pw").read_only, Some(true));
        assert!(
            at("/run/secrets/pw")
                .source
                .as_deref()
                .unwrap()
                .ends_with("/shop/pw.txt")
        );
        assert_eq!(
            spec.files,
            vec![
                InjectedFile {
                    target: "/run/secrets/tok".into(),
                    content: "t0k".into(),
                    mode: 0o400,
                    uid: None,
                    gid: None
                },
                InjectedFile {
                    target: "/etc/site.conf".into(),
                    content: "hello".into(),
                    mode: 0o444,
                    uid: None,
                    gid: None
                },
            ]
        );
    }

    #[test]
    fn networks_aliases_and_old_engines() {
        let p = project(
            "services:\n  web:\n    image: nginx:1\n    networks:\n      front: {aliases: [www], priority: 10}\n      back: {ipv4_address: 10.5.0.5}\nnetworks:\n  front:\n  back: {ipam: {config: [{subnet: 10.5.0.0/16}]}}\n",
        );
        let old = spec_of(&p, "web", OLD);
        let host = old.body.host_config.as_ref().unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("shop_front"));
        let eps = old
            .body
            .networking_config
            .unwrap()
            .endpoints_config
            .unwrap();
        assert_eq!(eps.len(), 1);
        assert_eq!(
            eps["shop_front"].aliases.as_ref().unwrap(),
            &["shop-web-1", "web", "www"]
        );
        assert_eq!(old.later_networks.len(), 1);
        assert_eq!(old.later_networks[0].0, "shop_back");
        assert_eq!(
            old.later_networks[0]
                .1
                .ipam_config
                .as_ref()
                .unwrap()
                .ipv4_address
                .as_deref(),
            Some("10.5.0.5")
        );
        let new = spec_of(&p, "web", NEW);
        assert!(new.later_networks.is_empty());
        assert_eq!(
            new.body
                .networking_config
                .unwrap()
                .endpoints_config
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn network_mode_and_none() {
        let p = project("services:\n  a:\n    image: x:1\n    network_mode: host\n");
        let b = spec_of(&p, "a", OLD).body;
        assert_eq!(b.host_config.unwrap().network_mode.as_deref(), Some("host"));
        assert!(b.networking_config.is_none());
    }

    #[test]
    fn resources_restart_and_health() {
        let p = project(
            "services:\n  a:\n    image: x:1\n    restart: on-failure:3\n    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}\n    deploy: {resources: {limits: {cpus: '0.5', memory: 512m}}}\n    healthcheck: {test: [CMD, 'true'], interval: 2s, retries: 3}\n    stop_grace_period: 1m\n    init: true\n",
        );
        let b = spec_of(&p, "a", OLD).body;
        let h = b.host_config.unwrap();
        let rp = h.restart_policy.unwrap();
        assert_eq!(
            (rp.name, rp.maximum_retry_count),
            (Some(RestartPolicyNameEnum::ON_FAILURE), Some(3))
        );
        assert_eq!(h.memory, Some(536_870_912));
        assert_eq!(h.nano_cpus, Some(500_000_000));
        assert_eq!(h.init, Some(true));
        let mut u = h.ulimits.unwrap();
        u.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!((u[0].soft, u[0].hard), (Some(10), Some(20)));
        assert_eq!((u[1].soft, u[1].hard), (Some(5), Some(5)));
        let hc = b.healthcheck.unwrap();
        assert_eq!(hc.test.unwrap(), ["CMD", "true"]);
        assert_eq!(hc.interval, Some(2_000_000_000));
        assert_eq!(b.stop_timeout, Some(60));
    }
}
