//! Host ports: which a new service may take. A port is free when nothing
//! on the machine listens on it and no container claims it (a stopped or
//! just-created one keeps its claim though nothing listens yet), so new
//! projects skip what other projects will bind when they start.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};

use super::Engine;

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

/// The engine's claims, when one answers at once; none otherwise (making
/// a project must not wait on, or need, a daemon).
fn engine_claims() -> BTreeSet<u16> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return BTreeSet::new();
    };
    rt.block_on(async {
        let ask = async {
            match Engine::connect().await {
                Ok(engine) => engine.claimed_ports().await,
                Err(_) => BTreeSet::new(),
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(2), ask)
            .await
            .unwrap_or_default()
    })
}
