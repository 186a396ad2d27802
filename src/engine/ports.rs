//! Host ports: which a new service may take. A port is free when nothing
//! on the machine listens on it and no container claims it (a stopped or
//! just-created one keeps its claim though nothing listens yet), so new
//! projects skip what other projects will bind when they start.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};

use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;

/// Whether something on this machine holds `port` (tries to bind it).
pub fn port_is_free(ip: &str, port: u16, protocol: &str) -> bool {
    let ips: Vec<&str> = if ip.is_empty() {
        vec!["0.0.0.0", "::"]
    } else {
        vec![ip.trim_start_matches('[').trim_end_matches(']')]
    };
    ips.into_iter().all(|ip| {
        let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
            return true;
        };
        match protocol {
            "udp" => UdpSocket::bind((addr, port)).is_ok(),
            _ => match TcpListener::bind((addr, port)) {
                Ok(_) => true,
                // No IPv6 on this host: nothing can hold an IPv6 port.
                Err(e) if addr.is_ipv6() && e.kind() == std::io::ErrorKind::AddrNotAvailable => {
                    true
                }
                Err(_) => false,
            },
        }
    })
}

/// The host ports a generated project may take on this machine.
pub struct HostPorts {
    /// `BRICKYARD_PORT_CHECK=0`: every port is free (output that does not
    /// depend on the machine, e.g. for snapshots).
    unchecked: bool,
    /// Ports to skip besides what is in use (ones just lost to another stack).
    avoid: BTreeSet<u16>,
    /// What containers claim; asked of the engine once, on the first port
    /// that has to be chosen. No engine, no claims.
    claimed: OnceCell<BTreeSet<u16>>,
}

impl Default for HostPorts {
    fn default() -> Self {
        HostPorts {
            unchecked: std::env::var("BRICKYARD_PORT_CHECK").is_ok_and(|v| v == "0"),
            avoid: BTreeSet::new(),
            claimed: OnceCell::new(),
        }
    }
}

impl HostPorts {
    /// These ports, and what containers claim now.
    pub fn avoiding(avoid: impl IntoIterator<Item = u16>, claimed: BTreeSet<u16>) -> Self {
        HostPorts {
            avoid: avoid.into_iter().collect(),
            claimed: OnceCell::from(claimed),
            ..Default::default()
        }
    }

    pub fn is_free(&self, port: u16) -> bool {
        if self.unchecked {
            return true;
        }
        !self.avoid.contains(&port)
            && !self.claimed.get_or_init(engine_claims).contains(&port)
            && port_is_free("127.0.0.1", port, "tcp")
    }
}

/// Host ports the engine's containers publish or will publish when
/// started: a stopped or just-created container keeps its claim even
/// though nothing listens on the port yet.
pub async fn claimed(docker: &Docker) -> BTreeSet<u16> {
    let mut out = BTreeSet::new();
    let options = ListContainersOptions {
        all: true,
        ..Default::default()
    };
    let Ok(containers) = docker.list_containers(Some(options)).await else {
        return out;
    };
    for c in containers {
        out.extend(c.ports.iter().flatten().filter_map(|p| p.public_port));
        let running = c.state.as_ref().is_some_and(|s| s.to_string() == "running");
        let Some(id) = c.id.as_deref().filter(|_| !running) else {
            continue;
        };
        let Ok(info) = docker.inspect_container(id, None).await else {
            continue;
        };
        let bindings = info
            .host_config
            .and_then(|h| h.port_bindings)
            .unwrap_or_default();
        out.extend(
            bindings
                .into_values()
                .flatten()
                .flatten()
                .filter_map(|b| b.host_port?.parse::<u16>().ok()),
        );
    }
    out
}

/// The engine's claims, when one answers at once; none otherwise (making
/// a project must not wait on, or need, a daemon). Asked at API 1.41, which
/// Docker 20.10+ and Podman serve, without the version round trips of
/// `Engine::connect` (Docker's /version alone takes ~10 ms).
fn engine_claims() -> BTreeSet<u16> {
    let host = super::candidate_host();
    let docker = if host.starts_with("unix://") {
        let v141 = bollard::ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        Docker::connect_with_unix(&host, 2, &v141)
    } else {
        Docker::connect_with_host(&host)
    };
    let Ok(docker) = docker else {
        return BTreeSet::new();
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return BTreeSet::new();
    };
    rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(2), claimed(&docker))
            .await
            .unwrap_or_default()
    })
}
