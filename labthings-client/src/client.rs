//! [`ThingClient`]: one Thing, known by its Thing Description, and the URLs of its affordances.
//!
//! Affordance URLs come from the TD's forms resolved against its `base` (or the TD's own URL
//! when it has none). An affordance without a usable form, or a name the TD does not list, is
//! tried at `T<name>`, as the reference's Python `ThingClient` does (it joins the name to the
//! Thing's URL); the server then answers, typically with a 404.

use std::sync::Arc;
use std::time::Duration;

use hyper::header::LOCATION;
use hyper::{Method, StatusCode, Uri};
use labthings_protocol::td::{Form, ThingDescription, href_for};

use crate::error::{Error, Result};
use crate::transport::{DEFAULT_TIMEOUT, Transport};
use crate::url::{parse_absolute, resolve, with_trailing_slash};

/// How many redirects fetching a TD may follow.
const MAX_REDIRECTS: usize = 5;

/// How long [`ThingClient::invoke`] asks the server to hold its answer (`Prefer: wait=N`)
/// before polling.
pub const DEFAULT_PREFER_WAIT: Duration = Duration::from_secs(5);

/// A client for one Thing. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct ThingClient {
    pub(crate) transport: Transport,
    td: Arc<ThingDescription>,
    url: Uri,
    base: Uri,
    pub(crate) prefer_wait: Duration,
}

impl std::fmt::Debug for ThingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThingClient")
            .field("url", &self.url)
            .field("title", &self.td.title)
            .field("token", &self.transport.has_token().then_some("<redacted>"))
            .finish()
    }
}

/// Options for connecting: a bearer token and a timeout, applied from the first request (the
/// TD's) on.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    token: Option<String>,
    timeout: Duration,
    prefer_wait: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            timeout: DEFAULT_TIMEOUT,
            prefer_wait: DEFAULT_PREFER_WAIT,
        }
    }
}

impl ClientBuilder {
    /// Send `Authorization: Bearer <token>` with every request.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How long one request may take, answer included (default 30 s). Streams are bounded
    /// only until their headers arrive.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`ThingClient::invoke`] asks the server to hold its first answer (default 5 s;
    /// zero sends no `Prefer` header). Servers that ignore `Prefer` are polled instead.
    pub fn prefer_wait(mut self, wait: Duration) -> Self {
        self.prefer_wait = wait;
        self
    }

    pub(crate) fn transport(&self) -> Transport {
        Transport::new()
            .with_token(self.token.clone())
            .with_timeout(self.timeout)
    }

    /// Fetch the Thing Description at `url` (following redirects, such as the 307 from
    /// `/counter` to `/counter/`) and make a client for that Thing.
    pub async fn connect(self, url: &str) -> Result<ThingClient> {
        let transport = self.transport();
        let mut current = parse_absolute(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let reply = transport
                .fetch(Method::GET, &current, &[], None, Duration::ZERO)
                .await?;
            if reply.status.is_redirection() {
                let location = reply.header(&LOCATION).ok_or_else(|| Error::Http {
                    status: reply.status,
                    body: "a redirect without a Location header".into(),
                })?;
                current = resolve(&current, location)?;
                continue;
            }
            let reply = reply.success()?;
            let td: ThingDescription = reply.json("the Thing Description")?;
            return ThingClient::assemble(transport, td, &current, self.prefer_wait);
        }
        Err(Error::Http {
            status: StatusCode::LOOP_DETECTED,
            body: format!("more than {MAX_REDIRECTS} redirects fetching {url}"),
        })
    }

    /// A client for a Thing whose TD was obtained elsewhere (a directory, discovery, a file),
    /// served at `url` (its `T`, the URL relative hrefs resolve against when the TD has no
    /// `base`).
    pub fn from_td(self, td: ThingDescription, url: &str) -> Result<ThingClient> {
        let url = parse_absolute(url)?;
        ThingClient::assemble(self.transport(), td, &url, self.prefer_wait)
    }
}

impl ThingClient {
    /// Fetch the Thing Description at `url` and make a client for that Thing, with default
    /// options (see [`ThingClient::builder`] for a token or timeout from the first request).
    pub async fn from_url(url: &str) -> Result<Self> {
        ClientBuilder::default().connect(url).await
    }

    /// A client for a Thing whose TD was obtained elsewhere (see [`ClientBuilder::from_td`]).
    pub fn from_td(td: ThingDescription, url: &str) -> Result<Self> {
        ClientBuilder::default().from_td(td, url)
    }

    /// Options for connecting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn assemble(
        transport: Transport,
        td: ThingDescription,
        url: &Uri,
        prefer_wait: Duration,
    ) -> Result<Self> {
        let url = with_trailing_slash(url)?;
        let base = match td.base.as_deref().map(parse_absolute) {
            Some(Ok(base)) => base,
            // No base, or one this client can't use: hrefs are relative to the TD's own URL.
            _ => url.clone(),
        };
        Ok(Self {
            transport,
            td: Arc::new(td),
            url,
            base,
            prefer_wait,
        })
    }

    /// The same client, sending `Authorization: Bearer <token>` with every request from now
    /// on (clones made before keep what they had).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.transport = self.transport.with_token(Some(token.into()));
        self
    }

    /// The same client with another request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.with_timeout(timeout);
        self
    }

    /// The Thing Description the client was made from.
    pub fn description(&self) -> &ThingDescription {
        &self.td
    }

    /// The Thing's URL (`T`, with its trailing slash).
    pub fn url(&self) -> String {
        self.url.to_string()
    }

    /// The names of the Thing's properties, as its TD lists them.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.td.properties.keys().map(String::as_str)
    }

    /// The names of the Thing's actions.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.td.actions.keys().map(String::as_str)
    }

    /// The names of the Thing's events.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.td.events.keys().map(String::as_str)
    }

    /// `href` (absolute, or relative to the TD's base) as a URL.
    pub(crate) fn resolve(&self, href: &str) -> Result<Uri> {
        resolve(&self.base, href)
    }

    /// The URL for `op` on the affordance `name` with `forms` (`None` when the TD lacks it):
    /// the first matching HTTP form, else `T<name>`.
    pub(crate) fn affordance_url(
        &self,
        name: &str,
        forms: Option<&[Form]>,
        ops: &[&str],
        sse: bool,
    ) -> Result<Uri> {
        let href = forms.and_then(|forms| ops.iter().find_map(|op| href_for(forms, op, sse)));
        match href {
            Some(href) => self.resolve(href),
            None => self.fallback_url(name),
        }
    }

    /// `T<name>`.
    pub(crate) fn fallback_url(&self, name: &str) -> Result<Uri> {
        if name.is_empty() || name.contains(['/', '?', '#']) {
            return Err(Error::InvalidRequest(format!(
                "'{name}' is not an affordance name"
            )));
        }
        resolve(&self.url, name)
    }

    pub(crate) fn property_forms(&self, name: &str) -> Option<&[Form]> {
        self.td.properties.get(name).map(|p| p.forms.as_slice())
    }

    pub(crate) fn action_forms(&self, name: &str) -> Option<&[Form]> {
        self.td.actions.get(name).map(|a| a.forms.as_slice())
    }

    pub(crate) fn event_forms(&self, name: &str) -> Option<&[Form]> {
        self.td.events.get(name).map(|e| e.forms.as_slice())
    }

    pub(crate) fn thing_forms(&self) -> &[Form] {
        &self.td.forms
    }
}
