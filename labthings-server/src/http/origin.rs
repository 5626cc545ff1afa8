//! What a handler needs to know about the request beyond its path.

use hyper::header::HOST;
use hyper::http::uri::Authority;
use hyper::{HeaderMap, Uri};

/// The scheme and authority a client used, e.g. `http://127.0.0.1:5000`: absolute URLs in
/// responses (TD `base`, invocation `href`s, redirects) are built on it.
#[derive(Debug, Clone)]
pub struct Origin(pub String);

impl Origin {
    /// `scheme` (`http` or `https`) and the `Host` header (or the URI's authority), if it is a
    /// valid authority; else the server's own address.
    pub fn of(uri: &Uri, headers: &HeaderMap, scheme: &str, default_host: &str) -> Self {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<Authority>().ok())
            .filter(|a| a.as_str().find('@').is_none())
            .or_else(|| uri.authority().cloned());
        match host {
            Some(authority) => Origin(format!("{scheme}://{}", authority.as_str())),
            None => Origin(format!("{scheme}://{default_host}")),
        }
    }
}
