//! `--mdns`: each Thing advertised on the local network as a DNS-SD `_wot._tcp` service (W3C
//! WoT Discovery), with the TXT records `td` (the TD's path), `type=Thing` and `scheme=http`
//! (`https` when serving TLS),
//! and withdrawn (goodbye packets) on shutdown. `mdns-sd` answers queries from a thread of
//! its own; no system daemon is needed, and it coexists with one.

use std::net::SocketAddr;
use std::time::Duration;

use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};

/// The DNS-SD service type of a Thing.
pub const SERVICE_TYPE: &str = "_wot._tcp.local.";

/// The advertisements of a running server.
pub struct Advertiser {
    daemon: ServiceDaemon,
    fullnames: Vec<String>,
}

/// The TXT records of a Thing whose TD is at `td_path`, served over `scheme` (`http` or
/// `https`).
pub fn txt_records(td_path: &str, scheme: &str) -> [(&'static str, String); 3] {
    [
        ("td", td_path.to_owned()),
        ("type", "Thing".to_owned()),
        ("scheme", scheme.to_owned()),
    ]
}

/// The instance name of Thing `name` served on `host` at `port`: unique on the network as
/// long as host names are, two servers on one machine included, at most 63 bytes (DNS's label
/// limit; the port is kept, the rest shortened).
pub fn instance_name(name: &str, host: &str, port: u16) -> String {
    let port = format!(":{port}");
    let mut instance = format!("{name} on {host}");
    while instance.len() + port.len() > 63 {
        instance.pop();
    }
    instance + &port
}

/// This machine's host name, for the instance names and the advertised host (`<host>.local.`),
/// and the Things' derived ids.
pub(crate) fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() {
        "labthings".to_owned()
    } else {
        name
    }
}

impl Advertiser {
    /// Advertise `things` (name, TD path) served at `addr`. A server bound to every address
    /// advertises every interface's addresses; one bound to a single address advertises that
    /// one (on loopback too, which mDNS responders usually skip).
    pub fn start(
        things: &[(&str, &str)],
        addr: SocketAddr,
        scheme: &str,
    ) -> Result<Self, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        let ip = addr.ip();
        if ip.is_loopback() {
            tracing::warn!(
                %addr,
                "the server listens on loopback only: mDNS advertises it to this machine alone \
                 (use --host 0.0.0.0 to reach the network)"
            );
            daemon.enable_interface(if ip.is_ipv4() {
                IfKind::LoopbackV4
            } else {
                IfKind::LoopbackV6
            })?;
        }
        let host = host_name();
        let mut advertiser = Self {
            daemon,
            fullnames: Vec::new(),
        };
        for (name, path) in things {
            let txt = txt_records(path, scheme);
            let instance = instance_name(name, &host, addr.port());
            let host_name = format!("{host}.local.");
            let info = if ip.is_unspecified() {
                ServiceInfo::new(
                    SERVICE_TYPE,
                    &instance,
                    &host_name,
                    "",
                    addr.port(),
                    &txt[..],
                )?
                .enable_addr_auto()
            } else {
                ServiceInfo::new(
                    SERVICE_TYPE,
                    &instance,
                    &host_name,
                    ip,
                    addr.port(),
                    &txt[..],
                )?
            };
            let fullname = info.get_fullname().to_owned();
            if let Err(error) = advertiser.daemon.register(info) {
                advertiser.withdraw();
                return Err(error);
            }
            advertiser.fullnames.push(fullname);
        }
        Ok(advertiser)
    }

    /// Withdraw every advertisement (goodbye packets) and stop the responder. Blocks for at
    /// most about a second per Thing.
    pub fn withdraw(self) {
        let wait = Duration::from_secs(1);
        for fullname in &self.fullnames {
            if let Ok(done) = self.daemon.unregister(fullname) {
                let _ = done.recv_timeout(wait);
            }
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(wait);
        }
    }
}

/// Start advertising `things` (name, path) served at `addr` by mDNS; a failure is logged, not fatal: the
/// instruments stay reachable by address.
pub async fn advertise(
    things: Vec<(String, String)>,
    addr: SocketAddr,
    scheme: &'static str,
) -> Option<Advertiser> {
    let started = tokio::task::spawn_blocking(move || {
        let things: Vec<(&str, &str)> = things
            .iter()
            .map(|(name, path)| (name.as_str(), path.as_str()))
            .collect();
        Advertiser::start(&things, addr, scheme)
    })
    .await;
    match started {
        Ok(Ok(advertiser)) => {
            tracing::info!("advertising the Things by mDNS as _wot._tcp");
            Some(advertiser)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "could not advertise the Things by mDNS");
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_records_follow_wot_discovery() {
        let txt = txt_records("/api/counter/", "http");
        assert_eq!(txt[0], ("td", "/api/counter/".to_owned()));
        assert_eq!(txt[1], ("type", "Thing".to_owned()));
        assert_eq!(txt[2], ("scheme", "http".to_owned()));
        assert_eq!(txt_records("/counter/", "https")[2].1, "https");
    }

    #[test]
    fn instance_names_fit_a_dns_label() {
        assert_eq!(
            instance_name("counter", "lab-pc", 5000),
            "counter on lab-pc:5000"
        );
        let long = instance_name(&"x".repeat(80), "pc", 5001);
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("x:5001"), "{long}");
    }
}
