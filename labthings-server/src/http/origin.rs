//! The origin a request was made to, as absolute URLs in answers must name it.

use hyper::header::HOST;
use hyper::http::uri::Authority;
use hyper::{HeaderMap, Uri};
use labthings_protocol::paths::{Origin, Scheme};

/// `scheme` and the `Host` header (or the URI's authority), if it is a valid authority; else
/// the server's own address.
pub fn of(uri: &Uri, headers: &HeaderMap, scheme: Scheme, default_host: &str) -> Origin {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .filter(|a| a.as_str().find('@').is_none())
        .or_else(|| uri.authority().cloned());
    match host {
        Some(authority) => Origin::new(scheme, authority.as_str()),
        None => Origin::new(scheme, default_host),
    }
}
