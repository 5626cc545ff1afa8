//! The push routes: Server-Sent Events streams and the WebSocket upgrade at `T` + `ws`.

use hyper::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::upgrade::OnUpgrade;
use hyper::{Method, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use labthings_protocol::paths::Origin;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::http::body::Body;
use crate::http::error::ApiError;
use crate::http::grant::Grant;
use crate::push::handover::ConnectionHandle;
use crate::push::lifeline::Lifeline;
use crate::push::sse::{self, Framing, Stream};
use crate::push::ws_session::{self, Session};
use crate::state::{ServedThing, ServerState};

/// Whether the client asks for an event stream (`Accept: text/event-stream`).
pub fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

/// The invocation URLs' prefix as this client addresses the server.
fn invocations_url(state: &ServerState, origin: &Origin) -> String {
    format!("{origin}{}/", state.paths.invocations())
}

/// `stream` of `served` as `text/event-stream`, resuming after `Last-Event-ID` if given. The
/// head goes out through hyper, the body past it (`push/handover.rs`).
pub fn event_stream(
    state: &ServerState,
    served: &ServedThing,
    stream: Stream,
    request: &Parts,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let body = if request.method == Method::HEAD {
        // The same head and nothing more (hyper never sends a HEAD's body, and frames this
        // one as it would the stream's): no subscription, no stream to throw away.
        Body::pulled(futures_util::stream::empty())
    } else {
        stream_body(state, served, stream, request, origin)?
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell reverse proxies (nginx) not to buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The body of a `GET` of an event stream: subscribed now, written past hyper once the head
/// is out.
fn stream_body(
    state: &ServerState,
    served: &ServedThing,
    stream: Stream,
    request: &Parts,
    origin: &Origin,
) -> Result<Body, ApiError> {
    // Every request comes through `net/connection.rs`, which puts it there.
    let Some(connection) = request.extensions.get::<ConnectionHandle>() else {
        return Err(ApiError::Detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "This connection can't carry an event stream.".into(),
        ));
    };
    // Hyper frames a body of unknown length so; the stream writes it the same way.
    let framing = if request.version == Version::HTTP_10 {
        Framing::UntilClose
    } else {
        Framing::Chunked
    };
    let last_event_id = request
        .headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok());
    let writer = sse::open(
        &served.hub,
        stream,
        last_event_id,
        invocations_url(state, origin),
        Lifeline::new(state.stopped.clone(), &request.extensions),
        framing,
    );
    Ok(connection.take_socket(Box::new(writer)))
}

/// Upgrade to the Thing's WebSocket; a request that is no handshake gets the 404 the
/// reference gives a plain GET of this path.
pub fn websocket(
    state: &ServerState,
    served: &ServedThing,
    request: &Parts,
    on_upgrade: Option<OnUpgrade>,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let accepted = ws_session::accept(&request.headers);
    let (Some(accepted), Some(on_upgrade)) = (accepted, on_upgrade) else {
        return Err(ApiError::NotFound);
    };
    let accepted = match accepted {
        Ok(accepted) => accepted,
        Err(refusal) => return Ok(refusal),
    };
    let session = Session {
        metadata: served.thing.metadata(),
        hub: served.hub.clone(),
        invocations_url: invocations_url(state, origin),
        stopped: state.stopped.clone(),
        grant: request.extensions.get::<Grant>().cloned(),
    };
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(ws_session::config()),
                )
                .await;
                session.run(socket).await;
            }
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
    });
    let (parts, ()) = accepted.into_parts();
    debug_assert_eq!(parts.status, StatusCode::SWITCHING_PROTOCOLS);
    Ok(Response::from_parts(parts, Body::empty()))
}
