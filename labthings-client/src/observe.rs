//! Observing properties and subscribing to events over server-sent events, as a `Stream` of
//! typed values.
//!
//! The stream URL is the affordance's `observeproperty` / `subscribeevent` form (one with
//! `subprotocol: "sse"` preferred; for a property, its `readproperty` form when it has no
//! observe form), else `T<name>`, asked for with
//! `Accept: text/event-stream`. When the connection drops, the stream reconnects after the
//! server's `retry:` delay, sending `Last-Event-ID` so that a server keeping a replay ring
//! (ours keeps 64 messages per Thing) sends what was missed. A stream silent for
//! [`STREAM_IDLE`] is reconnected the same way. After
//! [`MAX_RECONNECTS`] failed attempts in a row the stream yields the error and ends. A server
//! that answers with something other than an event stream (the Python reference has no SSE)
//! is [`Error::Unsupported`](crate::Error::Unsupported).

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Uri};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::ThingClient;
use crate::error::{Error, Result};
use crate::sse::{SseMessage, SseParser};
use crate::transport::Transport;

/// How many reconnection attempts in a row may fail before the stream gives up.
pub const MAX_RECONNECTS: u32 = 5;

/// The reconnection delay when the server sets none (its `retry:`).
const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// A stream silent this long is taken for a dead connection and reconnected (our server
/// sends a comment every 15 s).
pub const STREAM_IDLE: Duration = Duration::from_secs(60);

type Messages = Pin<Box<dyn Stream<Item = Result<SseMessage>> + Send>>;

/// A stream of values pushed by the server: `Result<T>` items, one per message.
///
/// A message whose data does not decode as a `T` is an [`Error::Decode`] item, and the stream
/// goes on. Dropping the stream closes the connection.
pub struct Observation<T> {
    messages: Messages,
    decode: fn(SseMessage) -> Result<T>,
    _values: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Observation<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation").finish_non_exhaustive()
    }
}

impl<T> Stream for Observation<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let decode = self.decode;
        match self.messages.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(decode(message))),
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A value of a Thing-level stream (`observeallproperties`, `subscribeallevents`): which
/// affordance, and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The property's or event's name (the message's `event:`).
    pub name: String,
    /// The value or the event's data.
    pub value: Value,
    /// The message's id.
    pub id: Option<String>,
}

impl ThingClient {
    /// Observe the property `name`: every new value, as a `T`, as the server pushes it.
    pub async fn observe<T: DeserializeOwned>(&self, name: &str) -> Result<Observation<T>> {
        let url = self.affordance_url(
            name,
            self.property_forms(name),
            &["observeproperty", "readproperty"],
            true,
        )?;
        self.typed(url).await
    }

    /// Subscribe to the event `name`: each occurrence's data, as a `T`.
    pub async fn subscribe<T: DeserializeOwned>(&self, name: &str) -> Result<Observation<T>> {
        let url = self.affordance_url(name, self.event_forms(name), &["subscribeevent"], true)?;
        self.typed(url).await
    }

    /// Observe every property of the Thing on one stream (`T` + `properties` unless the TD
    /// has an `observeallproperties` form).
    pub async fn observe_all_properties(&self) -> Result<Observation<Named>> {
        let url = self.affordance_url(
            "properties",
            Some(self.thing_forms()),
            &["observeallproperties"],
            true,
        )?;
        self.named(url).await
    }

    /// Subscribe to every event of the Thing on one stream (`T` + `events` unless the TD has
    /// a `subscribeallevents` form).
    pub async fn subscribe_all_events(&self) -> Result<Observation<Named>> {
        let url = self.affordance_url(
            "events",
            Some(self.thing_forms()),
            &["subscribeallevents"],
            true,
        )?;
        self.named(url).await
    }

    /// The raw messages of the event stream at `href` (absolute, or relative to the TD's
    /// base), for streams this client has no typed call for.
    pub async fn event_stream(&self, href: &str) -> Result<Observation<SseMessage>> {
        let url = self.resolve(href)?;
        let messages = messages(self.transport.clone(), url).await?;
        Ok(Observation {
            messages,
            decode: Ok,
            _values: PhantomData,
        })
    }

    async fn typed<T: DeserializeOwned>(&self, url: Uri) -> Result<Observation<T>> {
        let messages = messages(self.transport.clone(), url).await?;
        Ok(Observation {
            messages,
            decode: decode_data::<T>,
            _values: PhantomData,
        })
    }

    async fn named(&self, url: Uri) -> Result<Observation<Named>> {
        let messages = messages(self.transport.clone(), url).await?;
        Ok(Observation {
            messages,
            decode: decode_named,
            _values: PhantomData,
        })
    }
}

fn decode_data<T: DeserializeOwned>(message: SseMessage) -> Result<T> {
    serde_json::from_str(&message.data).map_err(|e| Error::decode("a pushed value", e))
}

fn decode_named(message: SseMessage) -> Result<Named> {
    let name = message.event.unwrap_or_else(|| "message".to_owned());
    let value = serde_json::from_str(&message.data)
        .map_err(|e| Error::decode(format!("a pushed value of '{name}'"), e))?;
    Ok(Named {
        name,
        value,
        id: message.id,
    })
}

/// The connection state behind a message stream.
struct Connection {
    transport: Transport,
    url: Uri,
    parser: SseParser,
    body: Option<Incoming>,
    queue: VecDeque<SseMessage>,
    failures: u32,
    done: bool,
}

/// Connect to `url` (failing at once if that fails) and stream its messages, reconnecting
/// when the connection drops.
async fn messages(transport: Transport, url: Uri) -> Result<Messages> {
    let body = connect(&transport, &url, None).await?;
    let connection = Connection {
        transport,
        url,
        parser: SseParser::new(),
        body: Some(body),
        queue: VecDeque::new(),
        failures: 0,
        done: false,
    };
    Ok(Box::pin(futures_util::stream::unfold(connection, next)))
}

async fn next(mut c: Connection) -> Option<(Result<SseMessage>, Connection)> {
    loop {
        if let Some(message) = c.queue.pop_front() {
            return Some((Ok(message), c));
        }
        if c.done {
            return None;
        }
        match c.body.as_mut() {
            Some(body) => match tokio::time::timeout(STREAM_IDLE, body.frame())
                .await
                .unwrap_or(None)
            {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        c.parser.feed(data, &mut c.queue);
                    }
                }
                // The connection ended, broke or went silent: reconnect.
                Some(Err(_)) | None => {
                    c.body = None;
                    c.parser.reset();
                }
            },
            None => {
                tokio::time::sleep(c.parser.retry().unwrap_or(DEFAULT_RETRY)).await;
                match connect(&c.transport, &c.url, c.parser.last_id()).await {
                    Ok(body) => {
                        c.body = Some(body);
                        c.failures = 0;
                    }
                    Err(error) => {
                        c.failures += 1;
                        if c.failures >= MAX_RECONNECTS || !matches!(error, Error::Transport(_)) {
                            c.done = true;
                            return Some((Err(error), c));
                        }
                    }
                }
            }
        }
    }
}

/// Open the event stream at `url`, resuming after `last_id`.
async fn connect(transport: &Transport, url: &Uri, last_id: Option<&str>) -> Result<Incoming> {
    let mut headers = vec![
        (ACCEPT, HeaderValue::from_static("text/event-stream")),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if let Some(id) = last_id.and_then(|id| HeaderValue::try_from(id).ok()) {
        headers.push((HeaderName::from_static("last-event-id"), id));
    }
    let limit = transport.timeout();
    let response = tokio::time::timeout(limit, transport.send(Method::GET, url, &headers, None))
        .await
        .map_err(|_| Error::Timeout(limit))??;
    let (parts, body) = response.into_parts();
    let is_stream = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("text/event-stream"));
    if parts.status.is_success() && is_stream {
        return Ok(body);
    }
    let body = tokio::time::timeout(limit, body.collect())
        .await
        .map_err(|_| Error::Timeout(limit))?
        .map_err(|e| Error::Transport(Box::new(e)))?
        .to_bytes();
    if !parts.status.is_success() {
        return Err(Error::from_response(parts.status, &parts.headers, &body));
    }
    Err(Error::Unsupported(format!(
        "{url} answered {} instead of an event stream: the server does not stream it",
        parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no Content-Type")
    )))
}
