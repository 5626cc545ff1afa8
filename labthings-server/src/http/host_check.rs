//! The DNS-rebinding defence of a server without tokens: which `Host` it answers.
//!
//! A page on `evil.example` can make its own name resolve to 127.0.0.1 a moment after it
//! loaded ("DNS rebinding"); its requests are then same-origin for the browser and reach a
//! local lab with `Host: evil.example`. Without tokens nothing else stops them, so the server
//! answers only names it knows stand for itself, as Jupyter's local server does: an IP literal
//! (a rebinding page can't make the browser send one), `localhost` and `*.localhost` (browsers
//! resolve those themselves, RFC 6761 §6.3), this machine's host name (and `<name>.local`,
//! the name mDNS advertises), and the names the operator lists with `--allowed-host`
//! (`*` lists every name, for a server behind a proxy that checks names itself).
//!
//! A request without `Host` (HTTP/1.0) is let through: every browser sends one.

use hyper::header::{HOST, HeaderMap};
use hyper::http::uri::Authority;
use hyper::{Response, Uri};

use crate::http::response::{self, Body};
use labthings_protocol::problem::Problem;

/// The host names a server answers besides IP literals and `localhost`.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// Lower case, without a trailing dot.
    names: Vec<String>,
    any: bool,
}

impl AllowedHosts {
    /// `machine` (this machine's host name) and the `configured` names (`--allowed-host`).
    pub fn new(machine: &str, configured: &[String]) -> Self {
        let mut names = vec![normalise(machine), format!("{}.local", normalise(machine))];
        names.extend(configured.iter().map(|name| normalise(name)));
        Self {
            any: configured.iter().any(|name| name == "*"),
            names,
        }
    }

    /// Whether a request with these `headers` (and `uri`, for an absolute-form target) names
    /// a host this server answers.
    pub fn allows(&self, headers: &HeaderMap, uri: &Uri) -> bool {
        if self.any {
            return true;
        }
        let host = match headers.get(HOST) {
            Some(value) => match value
                .to_str()
                .ok()
                .and_then(|h| h.parse::<Authority>().ok())
            {
                Some(authority) => authority,
                // Not even a host name: nothing a browser would send for a page's own origin.
                None => return false,
            },
            None => match uri.authority() {
                Some(authority) => authority.clone(),
                None => return true,
            },
        };
        // Compared without lower-casing into a new string: this runs on every request.
        let host = host.host().trim_end_matches('.');
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        literal.parse::<std::net::IpAddr>().is_ok()
            || is_localhost(host)
            || self
                .names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(host))
    }
}

/// `localhost` or a name under it, in any case (browsers resolve those themselves).
fn is_localhost(host: &str) -> bool {
    const SUFFIX: &str = ".localhost";
    host.eq_ignore_ascii_case(&SUFFIX[1..])
        || host
            .len()
            .checked_sub(SUFFIX.len())
            .and_then(|start| host.get(start..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(SUFFIX))
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// 421 Misdirected Request (RFC 9110 §15.5.20: this server won't answer for that name), with
/// a problem+json body telling the operator how to allow it.
pub fn refusal() -> Response<Body> {
    response::problem(&Problem::about_blank(
        421,
        "MisdirectedRequest",
        "This server does not answer for the host name in the Host header (a defence \
         against DNS rebinding while no tokens are configured). Use its IP address or \
         localhost, or start it with --allowed-host <name> (config `allowed_hosts`).",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn allows(hosts: &AllowedHosts, host: Option<&'static str>) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(HOST, HeaderValue::from_static(host));
        }
        hosts.allows(&headers, &Uri::from_static("/"))
    }

    #[test]
    fn ip_literals_localhost_the_machine_and_listed_names_are_answered() {
        let hosts = AllowedHosts::new("LabPC", &["lab.example.org".into()]);
        for host in [
            "127.0.0.1:5000",
            "192.168.1.20",
            "[::1]:5000",
            "localhost:5000",
            "LOCALHOST.",
            "ui.localhost:8000",
            "labpc:5000",
            "labpc.local:5000",
            "Lab.Example.Org:5000",
        ] {
            assert!(allows(&hosts, Some(host)), "{host}");
        }
        assert!(allows(&hosts, None), "HTTP/1.0 without Host");
        for host in [
            "evil.example:5000",
            "lab.example.org.evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "a b",
        ] {
            assert!(!allows(&hosts, Some(host)), "{host}");
        }
    }

    #[test]
    fn a_star_answers_every_name() {
        let hosts = AllowedHosts::new("labpc", &["*".into()]);
        assert!(allows(&hosts, Some("evil.example")));
    }
}
