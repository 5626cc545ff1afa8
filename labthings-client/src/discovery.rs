//! Finding Things on the local network by DNS-SD over mDNS (W3C WoT Discovery's `_wot._tcp`),
//! as `--mdns` servers advertise them: one service per Thing, TXT `td=<path of its TD>`,
//! `type=Thing`, `scheme=http|https`.
//!
//! [`discover`] browses for a while and returns every Thing resolved by then; [`Discovery`]
//! picks interfaces, stops early after N Things, and reports the services it had to skip.
//! The browser is `mdns-sd`'s daemon, a thread of its own; its events reach the async caller
//! through the channel's `recv_async`, so no runtime thread blocks on them. The daemon is
//! shut down when browsing ends, or when the future is dropped.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};

use crate::client::{ClientBuilder, ThingClient};
use crate::error::{Error, Result};

/// The DNS-SD service type of a Thing (W3C WoT Discovery).
pub const SERVICE_TYPE: &str = "_wot._tcp.local.";

/// A Thing found on the network: where its Thing Description is, and what its advertisement
/// said.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DiscoveredThing {
    /// The DNS-SD instance name, such as `counter on lab-pc:5000`.
    pub name: String,
    /// The Thing's name: the last segment of its TD's path (`counter` for `/counter/`).
    pub thing: String,
    /// The TD's URL: the advertised scheme, an address (IPv4 preferred, IPv6 in brackets), the
    /// port and the `td` path; give it to [`ThingClient::from_url`], or use
    /// [`connect`](Self::connect).
    pub td_url: String,
    /// The advertised host name, such as `lab-pc.local.`.
    pub host: String,
    /// The port the Thing is served on.
    pub port: u16,
    /// Every address advertised, the one in `td_url` first.
    pub addresses: Vec<IpAddr>,
    /// The TXT records (`td`, `type`, `scheme`, and any others).
    pub txt: BTreeMap<String, String>,
}

impl DiscoveredThing {
    /// Fetch this Thing's TD and make a client for it, with `builder`'s options (a token, a
    /// timeout) from the first request on.
    pub async fn connect(&self, builder: ClientBuilder) -> Result<ThingClient> {
        builder.connect(&self.td_url).await
    }

    /// Make sense of one resolved `_wot._tcp` service; the reason it isn't a usable Thing
    /// otherwise.
    pub(crate) fn from_service(
        fullname: &str,
        host: &str,
        port: u16,
        addresses: impl IntoIterator<Item = IpAddr>,
        txt: BTreeMap<String, String>,
    ) -> Result<Self, String> {
        let name = instance_name(fullname).to_owned();
        let td = txt
            .get("td")
            .ok_or("no `td` TXT record (the path of its Thing Description)")?;
        if !td.starts_with('/') {
            return Err(format!(
                "its `td` TXT record '{td}' is not an absolute path"
            ));
        }
        match txt.get("type").map(String::as_str) {
            None | Some("Thing") => {}
            Some(other) => return Err(format!("its `type` is '{other}', not 'Thing'")),
        }
        let scheme = txt.get("scheme").map_or("http", String::as_str);
        if scheme != "http" && scheme != "https" {
            return Err(format!("its `scheme` '{scheme}' is neither http nor https"));
        }
        let addresses = by_preference(addresses);
        let address = match addresses.first() {
            None => return Err("no address was advertised".to_owned()),
            // A link-local IPv6 address needs its zone (`%eth0`), which URLs and hyper can't
            // carry usefully.
            Some(IpAddr::V6(v6)) if v6.is_unicast_link_local() => {
                return Err(format!("only link-local addresses were advertised ({v6})"));
            }
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => format!("[{v6}]"),
        };
        let td_url = format!("{scheme}://{address}:{port}{td}");
        if let Err(error) = td_url.parse::<hyper::Uri>() {
            return Err(format!("'{td_url}' is not a URL: {error}"));
        }
        let thing = td
            .split('/')
            .rfind(|segment| !segment.is_empty())
            .map_or_else(
                || name.split(" on ").next().unwrap_or_default().to_owned(),
                str::to_owned,
            );
        Ok(Self {
            name,
            thing,
            td_url,
            host: host.to_owned(),
            port,
            addresses,
            txt,
        })
    }
}

/// `counter on lab-pc:5000` from `counter on lab-pc:5000._wot._tcp.local.`.
fn instance_name(fullname: &str) -> &str {
    fullname
        .strip_suffix(SERVICE_TYPE)
        .and_then(|name| name.strip_suffix('.'))
        .unwrap_or(fullname)
}

/// Addresses in the order a client should try them: IPv4, then routable IPv6, then
/// link-local IPv6; each group in ascending order, so the choice is stable.
fn by_preference(addresses: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = addresses.into_iter().collect();
    addresses.sort_by_key(|ip| {
        let rank = match ip {
            IpAddr::V4(_) => 0,
            IpAddr::V6(v6) if !v6.is_unicast_link_local() => 1,
            IpAddr::V6(_) => 2,
        };
        (rank, *ip)
    });
    addresses.dedup();
    addresses
}

/// What a browse found: the Things, by instance name, and the `_wot._tcp` services that were
/// not usable Things, with the reason.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// The Things found, sorted by instance name, one per instance.
    pub things: Vec<DiscoveredThing>,
    /// `(instance name, why it was skipped)`, such as a service without a `td` TXT record.
    pub skipped: Vec<(String, String)>,
}

/// Browse `_wot._tcp` by mDNS, with options.
///
/// ```no_run
/// use std::time::Duration;
/// use labthings_client::{Discovery, ThingClient};
///
/// # async fn demo() -> Result<(), labthings_client::Error> {
/// let found = Discovery::new(Duration::from_secs(3)).interface("eth0").run().await?;
/// for (name, why) in &found.skipped {
///     eprintln!("skipped {name}: {why}");
/// }
/// for thing in &found.things {
///     let client = thing.connect(ThingClient::builder().token("secret")).await?;
///     println!("{} at {}: {:?}", thing.thing, thing.td_url, client.description().title);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Discovery {
    timeout: Duration,
    interfaces: Vec<IfKind>,
    stop_after: Option<usize>,
}

impl Discovery {
    /// Browse every interface (loopback included) for `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            interfaces: Vec::new(),
            stop_after: None,
        }
    }

    /// Browse on the interface named `name` (such as `eth0`); call again to add more. With
    /// none named, every interface is browsed.
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.interfaces.push(IfKind::Name(name.into()));
        self
    }

    /// Browse on the interface that has the address `address`; call again to add more.
    pub fn interface_with_address(mut self, address: IpAddr) -> Self {
        self.interfaces.push(IfKind::Addr(address));
        self
    }

    /// Stop as soon as `count` Things are found, rather than at the timeout.
    pub fn stop_after(mut self, count: usize) -> Self {
        self.stop_after = Some(count);
        self
    }

    /// Browse until the timeout (or until [`stop_after`](Self::stop_after) Things are found).
    /// A Thing that says goodbye meanwhile is not listed.
    pub async fn run(self) -> Result<Discovered> {
        let daemon = Browser::start(&self.interfaces)?;
        let events = daemon.0.browse(SERVICE_TYPE).map_err(mdns_error)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut things: BTreeMap<String, DiscoveredThing> = BTreeMap::new();
        let mut skipped: BTreeMap<String, String> = BTreeMap::new();
        while self.stop_after.is_none_or(|count| things.len() < count) {
            let event = match tokio::time::timeout_at(deadline, events.recv_async()).await {
                Ok(Ok(event)) => event,
                // The timeout, or the daemon went away: report what was found.
                Ok(Err(_)) | Err(_) => break,
            };
            match event {
                ServiceEvent::ServiceResolved(service) => {
                    let txt = service
                        .txt_properties
                        .iter()
                        .map(|p| (p.key().to_owned(), p.val_str().to_owned()))
                        .collect();
                    let addresses = service.addresses.iter().map(|a| a.to_ip_addr());
                    let name = instance_name(&service.fullname).to_owned();
                    match DiscoveredThing::from_service(
                        &service.fullname,
                        &service.host,
                        service.port,
                        addresses,
                        txt,
                    ) {
                        Ok(thing) => {
                            skipped.remove(&name);
                            things.insert(name, thing);
                        }
                        Err(reason) => {
                            things.remove(&name);
                            skipped.insert(name, reason);
                        }
                    }
                }
                ServiceEvent::ServiceRemoved(_, fullname) => {
                    let name = instance_name(&fullname);
                    things.remove(name);
                    skipped.remove(name);
                }
                _ => {}
            }
        }
        Ok(Discovered {
            things: things.into_values().collect(),
            skipped: skipped.into_iter().collect(),
        })
    }
}

/// Browse `_wot._tcp` on every interface for `timeout`, and list the Things found, sorted by
/// instance name. See [`Discovery`] for options.
///
/// ```no_run
/// use std::time::Duration;
/// use labthings_client::{ThingClient, discover};
///
/// # async fn demo() -> Result<(), labthings_client::Error> {
/// for thing in discover(Duration::from_secs(2)).await? {
///     println!("{} at {}", thing.name, thing.td_url);
/// }
/// # Ok(())
/// # }
/// ```
pub async fn discover(timeout: Duration) -> Result<Vec<DiscoveredThing>> {
    Ok(Discovery::new(timeout).run().await?.things)
}

/// The mDNS daemon, shut down when dropped (its thread would otherwise run on).
struct Browser(ServiceDaemon);

impl Browser {
    fn start(interfaces: &[IfKind]) -> Result<Self> {
        let browser = Self(ServiceDaemon::new().map_err(mdns_error)?);
        if !interfaces.is_empty() {
            // Selections apply in order: none, then the ones asked for.
            browser
                .0
                .disable_interface(IfKind::All)
                .map_err(mdns_error)?;
            for interface in interfaces {
                browser
                    .0
                    .enable_interface(interface.clone())
                    .map_err(mdns_error)?;
            }
        }
        Ok(browser)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Not waiting for the daemon's confirmation: that would block the runtime's thread.
        let _ = self.0.stop_browse(SERVICE_TYPE);
        let _ = self.0.shutdown();
    }
}

fn mdns_error(error: mdns_sd::Error) -> Error {
    Error::Discovery(Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const FULLNAME: &str = "counter on lab-pc:5000._wot._tcp.local.";

    #[test]
    fn a_thing_gets_its_td_url_from_txt_address_and_port() {
        let ips: Vec<IpAddr> = vec!["fe80::1".parse().unwrap(), "192.168.1.20".parse().unwrap()];
        let thing = DiscoveredThing::from_service(
            FULLNAME,
            "lab-pc.local.",
            5000,
            ips,
            txt(&[("td", "/counter/"), ("type", "Thing"), ("scheme", "http")]),
        )
        .unwrap();
        assert_eq!(thing.name, "counter on lab-pc:5000");
        assert_eq!(thing.thing, "counter");
        assert_eq!(thing.td_url, "http://192.168.1.20:5000/counter/");
        assert_eq!(thing.host, "lab-pc.local.");
        assert_eq!(thing.addresses[0].to_string(), "192.168.1.20");
        assert_eq!(thing.txt["type"], "Thing");
    }

    #[test]
    fn ipv6_is_bracketed_and_https_kept() {
        let ips: Vec<IpAddr> = vec!["fe80::1".parse().unwrap(), "2001:db8::7".parse().unwrap()];
        let thing = DiscoveredThing::from_service(
            FULLNAME,
            "lab-pc.local.",
            8443,
            ips,
            txt(&[("td", "/api/stage/"), ("scheme", "https")]),
        )
        .unwrap();
        assert_eq!(thing.td_url, "https://[2001:db8::7]:8443/api/stage/");
        assert_eq!(thing.thing, "stage");
    }

    #[test]
    fn unusable_services_are_skipped_with_a_reason() {
        let ip = || vec!["10.0.0.1".parse::<IpAddr>().unwrap()];
        let reason = |txt, ips: Vec<IpAddr>| {
            DiscoveredThing::from_service(FULLNAME, "h.local.", 80, ips, txt).unwrap_err()
        };
        assert!(reason(txt(&[("type", "Thing")]), ip()).contains("no `td` TXT record"));
        assert!(reason(txt(&[("td", "counter/")]), ip()).contains("not an absolute path"));
        assert!(reason(txt(&[("td", "/c/"), ("scheme", "coap")]), ip()).contains("'coap'"));
        assert!(reason(txt(&[("td", "/"), ("type", "Directory")]), ip()).contains("Directory"));
        assert!(reason(txt(&[("td", "/c/")]), vec![]).contains("no address"));
        let link_local = vec!["fe80::1".parse().unwrap()];
        assert!(reason(txt(&[("td", "/c/")]), link_local).contains("link-local"));
        assert!(reason(txt(&[("td", "/a b/")]), ip()).contains("not a URL"));
    }

    #[test]
    fn a_td_at_the_root_is_named_after_the_instance() {
        let thing = DiscoveredThing::from_service(
            "microscope on pi:80._wot._tcp.local.",
            "pi.local.",
            80,
            vec!["10.0.0.2".parse().unwrap()],
            txt(&[("td", "/")]),
        )
        .unwrap();
        assert_eq!(thing.thing, "microscope");
        assert_eq!(thing.td_url, "http://10.0.0.2:80/");
    }
}
