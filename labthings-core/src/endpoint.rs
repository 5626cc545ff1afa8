//! Custom endpoints: `#[endpoint]` methods answer plain HTTP requests under a Thing, for what
//! fits neither a property nor an action (a raw image, a file export, a vendor protocol).
//!
//! ```
//! use labthings_core::prelude::*;
//!
//! /// A camera.
//! #[thing]
//! pub struct Camera {}
//!
//! #[thing]
//! impl Camera {
//!     /// The newest frame, as a JPEG.
//!     ///
//!     /// `?thumbnail=1` for a small one.
//!     #[endpoint(get, path = "snapshot.jpg", content_type = "image/jpeg")]
//!     fn snapshot(&self, request: EndpointRequest) -> EndpointResponse {
//!         let small = request.query("thumbnail").is_some_and(|v| v == "1");
//!         let jpeg = if small { vec![0xFF, 0xD8, 0xFF, 0xD9] } else { vec![0xFF, 0xD8, 0, 0xFF, 0xD9] };
//!         EndpointResponse::bytes("image/jpeg", jpeg).with_header("cache-control", "no-store")
//!     }
//! }
//!
//! let camera = Camera {};
//! let snapshot = &camera.endpoints()[0];
//! assert_eq!((snapshot.method, snapshot.path), (EndpointMethod::Get, "snapshot.jpg"));
//! assert_eq!(snapshot.content_type, Some("image/jpeg"));
//! ```
//!
//! An endpoint is served at `T<path>` (its path defaults to the method's name) for its HTTP
//! method; several methods may share a path with different HTTP methods. It takes nothing or
//! the [`EndpointRequest`] (method, headers, query, the body already read), and returns an
//! [`EndpointResponse`], or anything with [`IntoEndpointResponse`]: bytes (sent as the
//! declared `content_type`, else `application/octet-stream`), text, JSON, a
//! [`Blob`], a status, `()` (204), or a `Result` of one whose error becomes a 500 problem
//! (`application/problem+json`) with the error's message. Endpoints are not in the Thing
//! Description; [`Thing::endpoints`](crate::Thing::endpoints) lists them (for OpenAPI).
//!
//! A plain `fn` runs off the async runtime (it may block on hardware) and, when the server's
//! global lock is on, holds it as an action does unless marked `no_lock`; an `async fn` runs on
//! the runtime and never takes the lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::blob::Blob;
use crate::outcome::{Failure, Outcome};

/// The HTTP method an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointMethod {
    /// `GET`.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
}

impl EndpointMethod {
    /// `"GET"`, `"PUT"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            EndpointMethod::Get => "GET",
            EndpointMethod::Put => "PUT",
            EndpointMethod::Post => "POST",
            EndpointMethod::Delete => "DELETE",
            EndpointMethod::Patch => "PATCH",
        }
    }

    /// Whether a request with `method` is for this endpoint (`HEAD` goes with `GET`).
    pub fn answers(self, method: &Method) -> bool {
        match self {
            EndpointMethod::Get => method == Method::GET || method == Method::HEAD,
            EndpointMethod::Put => method == Method::PUT,
            EndpointMethod::Post => method == Method::POST,
            EndpointMethod::Delete => method == Method::DELETE,
            EndpointMethod::Patch => method == Method::PATCH,
        }
    }
}

impl fmt::Display for EndpointMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `#[endpoint]` method, as the server routes it and documentation lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointMetadata {
    /// The method's name, unique in its Thing (what [`Thing::call_endpoint`](crate::Thing::call_endpoint) takes).
    pub name: &'static str,
    /// The HTTP method it answers.
    pub method: EndpointMethod,
    /// The path under the Thing's, without a leading slash: `snapshot.jpg`, `export/csv`.
    pub path: &'static str,
    /// The first paragraph of the doc comment.
    pub title: Option<&'static str>,
    /// The whole doc comment.
    pub description: Option<&'static str>,
    /// The media type of the response body, when the author declared it (`content_type = …`).
    pub content_type: Option<&'static str>,
    /// `async fn` endpoints run on the async runtime.
    pub is_async: bool,
    /// Whether the call holds the server's global lock, when it is enabled.
    pub uses_global_lock: bool,
}

/// A request to an endpoint: everything the client sent, its body already read (within the
/// server's body limit).
#[derive(Debug, Clone)]
pub struct EndpointRequest {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
}

impl EndpointRequest {
    /// A request as the server makes one (or a test does): `query` is the raw query string,
    /// without the `?`.
    pub fn new(method: Method, headers: HeaderMap, query: Option<&str>, body: Bytes) -> Self {
        Self {
            method,
            headers,
            query: query.map(str::to_owned),
            body,
        }
    }

    /// The HTTP method (`HEAD` for a `HEAD` request to a `get` endpoint).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The value of header `name` as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw query string, without the `?` (`""` for none).
    pub fn query_string(&self) -> &str {
        self.query.as_deref().unwrap_or("")
    }

    /// The query's `name=value` pairs in order, decoded as a form is (`+` is a space, `%XX`
    /// a byte; invalid UTF-8 is replaced).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query_string()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(name), form_decode(value))
            })
            .collect()
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
    }

    /// The body as sent.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// The body decoded from JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A stream of body chunks.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// What an endpoint sends back: a status, headers and a body.
pub struct EndpointResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: EndpointBody,
    /// A header the author set that isn't valid HTTP: the server answers 500 naming it, so the
    /// mistake is seen rather than the header silently dropped.
    invalid_header: Option<String>,
}

/// The body of an [`EndpointResponse`].
pub enum EndpointBody {
    /// These bytes (also for no body: empty).
    Bytes(Bytes),
    /// Chunks sent as the stream yields them, each when the connection is ready for it; the
    /// response ends when the stream does.
    Stream(ChunkStream),
    /// A blob's data, served as a blob download is (a file streamed from disk, `Range`,
    /// `ETag`), with the blob's media type unless the response sets one.
    Blob(Blob),
}

impl fmt::Debug for EndpointBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointBody::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            EndpointBody::Stream(_) => f.write_str("Stream"),
            EndpointBody::Blob(blob) => write!(f, "{blob:?}"),
        }
    }
}

impl fmt::Debug for EndpointResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl EndpointResponse {
    /// A response with `status` and no body.
    pub fn status(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: EndpointBody::Bytes(Bytes::new()),
            invalid_header: None,
        }
    }

    /// 200 with `bytes` as the body, of `media_type` (e.g. `"image/jpeg"`).
    pub fn bytes(media_type: &str, bytes: impl Into<Bytes>) -> Self {
        Self::status(StatusCode::OK)
            .with_body(EndpointBody::Bytes(bytes.into()))
            .with_header("content-type", media_type)
    }

    /// 200 with `bytes` as the body and no `Content-Type`: the server sends the endpoint's
    /// declared `content_type` (`#[endpoint(get, content_type = "image/png")]`), else
    /// `application/octet-stream`.
    pub fn untyped(bytes: impl Into<Bytes>) -> Self {
        Self::status(StatusCode::OK).with_body(EndpointBody::Bytes(bytes.into()))
    }

    /// 200 with `text` as `text/plain; charset=utf-8`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::bytes("text/plain; charset=utf-8", text.into())
    }

    /// 200 with `value` as `application/json`; a value that can't be serialised is a 500.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(json) => Self::bytes("application/json", json),
            Err(error) => Self::failure(&Failure {
                title: "SerializationError".into(),
                detail: format!("the endpoint's response could not be serialised to JSON: {error}"),
            }),
        }
    }

    /// 200 with a blob's data (see [`EndpointBody::Blob`]).
    pub fn blob(blob: Blob) -> Self {
        Self::status(StatusCode::OK).with_body(EndpointBody::Blob(blob))
    }

    /// 200 streaming the chunks `stream` yields, as `media_type`.
    pub fn stream(media_type: &str, stream: impl Stream<Item = Bytes> + Send + 'static) -> Self {
        Self::status(StatusCode::OK)
            .with_body(EndpointBody::Stream(Box::pin(stream)))
            .with_header("content-type", media_type)
    }

    /// 200 streaming what is sent into the returned [`ChunkSender`] (from any thread), as
    /// `media_type`; the response ends when the sender is dropped. At most `capacity` chunks
    /// wait for a slow client: then `send` waits.
    pub fn channel(media_type: &str, capacity: usize) -> (Self, ChunkSender) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let response = Self::stream(media_type, ChannelStream(receiver));
        (response, ChunkSender(sender))
    }

    /// A status with `{"detail": message}` as JSON, the shape of the server's own errors.
    pub fn error(status: StatusCode, message: impl Into<String>) -> Self {
        Self::json(&serde_json::json!({ "detail": message.into() })).with_status(status)
    }

    /// 500 with RFC 9457 ProblemDetails (`application/problem+json`), as a failed action's.
    pub fn failure(failure: &Failure) -> Self {
        let problem = serde_json::json!({
            "detail": failure.detail,
            "type": null,
            "status": 500,
            "title": failure.title,
            "instance": null,
        });
        Self::bytes("application/problem+json", problem.to_string())
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The same response with another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The same response with header `name` set to `value` (replacing any value it had). A
    /// name or value that isn't valid HTTP makes the response a 500 that names it.
    pub fn with_header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        let value = value.as_ref();
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => {
                self.invalid_header
                    .get_or_insert_with(|| format!("{name}: {value}"));
            }
        }
        self
    }

    fn with_body(mut self, body: EndpointBody) -> Self {
        self.body = body;
        self
    }

    /// The status it answers with.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The headers it answers with.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Every header, to change at will.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body it answers with.
    pub fn body(&self) -> &EndpointBody {
        &self.body
    }

    /// The parts, for the server: status, headers and body, or the failure an invalid header
    /// makes of it.
    pub fn into_parts(self) -> Result<(StatusCode, HeaderMap, EndpointBody), Failure> {
        match self.invalid_header {
            Some(header) => Err(Failure {
                title: "InvalidHeader".into(),
                detail: format!("the endpoint set a header that isn't valid HTTP: `{header}`"),
            }),
            None => Ok((self.status, self.headers, self.body)),
        }
    }
}

/// Feeds an [`EndpointResponse::channel`] body, from a thread or a task.
#[derive(Clone)]
pub struct ChunkSender(mpsc::Sender<Bytes>);

/// The client is gone (or the response was dropped): stop producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client is no longer receiving this response")]
pub struct Disconnected;

impl ChunkSender {
    /// Send a chunk from a plain thread, waiting while `capacity` chunks are queued.
    /// Don't call it from async code: use [`send_async`](Self::send_async).
    pub fn send(&self, chunk: impl Into<Bytes>) -> Result<(), Disconnected> {
        self.0.blocking_send(chunk.into()).map_err(|_| Disconnected)
    }

    /// Send a chunk from async code.
    pub async fn send_async(&self, chunk: impl Into<Bytes>) -> Result<(), Disconnected> {
        self.0.send(chunk.into()).await.map_err(|_| Disconnected)
    }

    /// Whether the client has gone.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

struct ChannelStream(mpsc::Receiver<Bytes>);

impl Stream for ChannelStream {
    type Item = Bytes;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.0.poll_recv(cx)
    }
}

/// What an `#[endpoint]` method may return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be an endpoint's response",
    label = "an `#[endpoint]` returns an `EndpointResponse` or something that converts into one",
    note = "return `EndpointResponse` (`EndpointResponse::bytes(media_type, data)`, `::json(&value)`, `::text(…)`, `::blob(…)`, `::stream(…)`), a `Blob`, a `serde_json::Value`, a `String`, a `StatusCode`, nothing, or a `Result` of one of these with an error that implements `Display`"
)]
pub trait IntoEndpointResponse {
    /// The response this value is sent as.
    fn into_endpoint_response(self) -> EndpointResponse;
}

impl IntoEndpointResponse for EndpointResponse {
    fn into_endpoint_response(self) -> EndpointResponse {
        self
    }
}

/// 204 No Content.
impl IntoEndpointResponse for () {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::status(StatusCode::NO_CONTENT)
    }
}

impl IntoEndpointResponse for StatusCode {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::status(self)
    }
}

/// `application/json`.
impl IntoEndpointResponse for serde_json::Value {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::json(&self)
    }
}

/// `text/plain`.
impl IntoEndpointResponse for String {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::text(self)
    }
}

/// `text/plain`.
impl IntoEndpointResponse for &'static str {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::text(self)
    }
}

/// The endpoint's declared `content_type`, else `application/octet-stream`.
impl IntoEndpointResponse for Vec<u8> {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::untyped(self)
    }
}

/// The endpoint's declared `content_type`, else `application/octet-stream`.
impl IntoEndpointResponse for Bytes {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::untyped(self)
    }
}

/// The blob's data, with its media type.
impl IntoEndpointResponse for Blob {
    fn into_endpoint_response(self) -> EndpointResponse {
        EndpointResponse::blob(self)
    }
}

/// `Ok` as its own response; `Err` → 500 problem with the error's message.
impl<T: IntoEndpointResponse, E: fmt::Display> IntoEndpointResponse for Result<T, E> {
    fn into_endpoint_response(self) -> EndpointResponse {
        match self {
            Ok(response) => response.into_endpoint_response(),
            Err(error) => match Outcome::from_error(error, false) {
                Outcome::Failed(failure) => EndpointResponse::failure(&failure),
                _ => unreachable!("`from_error` fails when not cancelled"),
            },
        }
    }
}

/// A prepared call of an endpoint, bound to its Thing and request.
pub enum EndpointCall {
    /// A plain `fn`: the server runs it off the async runtime.
    Blocking(Box<dyn FnOnce() -> EndpointResponse + Send>),
    /// An `async fn`, polled on the runtime.
    Async(Pin<Box<dyn Future<Output = EndpointResponse> + Send>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_as_forms() {
        let request = EndpointRequest::new(
            Method::GET,
            HeaderMap::new(),
            Some("quality=80&name=a+b%21&flag&quality=10&bad=%ff"),
            Bytes::new(),
        );
        assert_eq!(request.query("quality").as_deref(), Some("80"));
        assert_eq!(request.query("name").as_deref(), Some("a b!"));
        assert_eq!(request.query("flag").as_deref(), Some(""));
        assert_eq!(request.query("bad").as_deref(), Some("\u{FFFD}"));
        assert_eq!(request.query("missing"), None);
        assert_eq!(request.query_pairs().len(), 5);
    }

    #[test]
    fn results_and_invalid_headers_become_failures() {
        let failed: Result<EndpointResponse, std::fmt::Error> = Err(std::fmt::Error);
        let response = failed.into_endpoint_response();
        assert_eq!(response.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let EndpointBody::Bytes(body) = response.body() else {
            panic!("a problem is bytes")
        };
        let problem: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(problem["title"], "Error");
        assert_eq!(problem["detail"], std::fmt::Error.to_string());

        let bad = EndpointResponse::text("x").with_header("x-bad", "line\nbreak");
        assert!(bad.into_parts().unwrap_err().detail.contains("x-bad"));
        assert_eq!(
            ().into_endpoint_response().status_code(),
            StatusCode::NO_CONTENT
        );
    }
}
