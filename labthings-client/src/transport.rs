//! The HTTP layer: one pooled hyper client shared by every handle, the bearer token, the
//! request timeout, and turning unsuccessful answers into typed [`Error`]s.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// How long a request may take, headers and body, unless the client is told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// `Ok(self)` for a 2xx answer, the typed error otherwise.
    pub fn success(self) -> Result<Self> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(Error::from_response(self.status, &self.headers, &self.body))
        }
    }

    /// The body as JSON of type `T` (an empty body reads as `null`).
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| Error::decode(what, e))
    }

    pub fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The shared HTTP client: cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("token", &self.inner.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

struct Inner {
    client: Client<HttpConnector, Full<Bytes>>,
    token: Option<String>,
    timeout: Duration,
}

impl Transport {
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            inner: Arc::new(Inner {
                client,
                token: None,
                timeout: DEFAULT_TIMEOUT,
            }),
        }
    }

    /// The same connection pool, with `token` sent as `Authorization: Bearer`.
    pub fn with_token(&self, token: Option<String>) -> Self {
        self.rebuild(|inner| inner.token = token)
    }

    /// The same connection pool, with another request timeout.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        self.rebuild(|inner| inner.timeout = timeout)
    }

    fn rebuild(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            client: self.inner.client.clone(),
            token: self.inner.token.clone(),
            timeout: self.inner.timeout,
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    pub fn has_token(&self) -> bool {
        self.inner.token.is_some()
    }

    /// Send one request and return the response with its body unread (for streams).
    pub async fn send(
        &self,
        method: Method,
        uri: &Uri,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
    ) -> Result<Response<Incoming>> {
        let mut builder = Request::builder().method(method).uri(uri.clone());
        if let Some(token) = &self.inner.token {
            let value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                Error::InvalidRequest("the token is not a valid header value".into())
            })?;
            builder = builder.header(AUTHORIZATION, value);
        }
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if !headers.iter().any(|(name, _)| name == ACCEPT) {
            builder = builder.header(ACCEPT, HeaderValue::from_static("application/json"));
        }
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.inner
            .client
            .request(request)
            .await
            .map_err(|e| Error::Transport(Box::new(e)))
    }

    /// Send one request and read the whole answer, within the timeout (plus `extra`).
    pub async fn fetch(
        &self,
        method: Method,
        uri: &Uri,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        extra: Duration,
    ) -> Result<Reply> {
        let limit = self.inner.timeout + extra;
        let exchange = async {
            let response = self.send(method, uri, headers, body).await?;
            let status = response.status();
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| Error::Transport(Box::new(e)))?
                .to_bytes();
            Ok(Reply {
                status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| Error::Timeout(limit))?
    }

    /// GET `uri` and decode a successful JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, uri: &Uri, what: &str) -> Result<T> {
        self.fetch(Method::GET, uri, &[], None, Duration::ZERO)
            .await?
            .success()?
            .json(what)
    }
}
