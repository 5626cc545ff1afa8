//! One WebSocket client of a Thing: the upgrade handshake, then a loop that answers the
//! client's requests and relays the notifications it listens to.
//!
//! Each session is its own task reading the Thing's hub at its own pace, so a slow socket
//! delays nobody: it loses old notifications (and is told so once), and a send that can't
//! complete within [`SEND_TIMEOUT`] ends the session. Pings keep idle connections alive and
//! find dead ones; shutdown closes every session with a close frame.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE,
};
use hyper::{Response, StatusCode};
use labthings_core::ThingMetadata;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::hub::{Notification, NotificationKind, ThingHub};
use super::observed::ObserverGuard;
use super::ws_protocol::{self, Refusal, Request, Topic};
use crate::http::body::Body;
use crate::http::grant::{self, Grant};

/// How often an idle session pings its client.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A client that sends nothing (not even a pong) for this long is gone.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// A send that takes longer than this means the client stopped reading: end the session.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Buffer sizes and limits of a session's socket. tungstenite's defaults (128 KiB read buffer
/// allocated up front, unbounded write buffer, 64 MiB messages) suit a client downloading
/// large messages, not a server holding thousands of mostly idle observers: clients here send
/// small requests, and a slow client must not make its socket buffer grow without bound.
///
/// The read buffer is kept for the session's life (tungstenite grows it for a larger frame,
/// and reads at most this much per call), so it is sized for the requests clients send — a
/// subscription is ~70 bytes — not for throughput: 512 bytes instead of 4 KiB took an idle
/// observer from 7.5 to ~3.9 KiB of server memory (issue #26, `bench/README.md`).
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// The `101 Switching Protocols` answer to a WebSocket handshake, or `None` when the request
/// is not one (the route then answers 404, as the reference does to a plain GET); `Err` when
/// it is one with a bad version or key (426/400, see [`ws_handshake`](super::ws_handshake)).
pub fn accept(headers: &HeaderMap) -> Option<Result<Response<()>, Response<Body>>> {
    let upgrade = headers.get(UPGRADE)?.to_str().ok()?;
    let connection = headers.get(CONNECTION)?.to_str().ok()?;
    let wants_upgrade = connection
        .split(',')
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    if !upgrade.eq_ignore_ascii_case("websocket") || !wants_upgrade {
        return None;
    }
    if let Err(refusal) = super::ws_handshake::check(headers) {
        return Some(Err(*refusal));
    }
    let key = headers.get(SEC_WEBSOCKET_KEY)?;
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()?;
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "Upgrade")
        .header(SEC_WEBSOCKET_ACCEPT, accept)
        .body(())
        .ok()
        .map(Ok)
}

/// What a session needs to know about its Thing and server.
pub struct Session {
    pub metadata: &'static ThingMetadata,
    pub hub: std::sync::Arc<ThingHub>,
    /// Prefix of invocation URLs as this client addresses the server
    /// (`http://host:port/prefix/action_invocations/`).
    pub invocations_url: String,
    /// Becomes `true` when the server shuts down.
    pub stopped: watch::Receiver<bool>,
    /// The token the session was opened with: revoking it closes the session (1008).
    pub grant: Option<Grant>,
}

/// What one client listens to; each property observation holds its guard, which keeps a
/// polled getter's poller running.
#[derive(Default)]
struct Listening {
    properties: HashMap<String, ObserverGuard>,
    actions: HashSet<String>,
    events: HashSet<String>,
}

impl Listening {
    /// The names listened to of an action or event topic (properties hold guards).
    fn set(&mut self, topic: Topic) -> Option<&mut HashSet<String>> {
        match topic {
            Topic::Property => None,
            Topic::Action => Some(&mut self.actions),
            Topic::Event => Some(&mut self.events),
        }
    }

    fn is_empty(&self) -> bool {
        self.properties.is_empty() && self.actions.is_empty() && self.events.is_empty()
    }
}

enum Step {
    Continue,
    End,
}

impl Session {
    /// Serve the client until it leaves, stops reading, or the server shuts down.
    pub async fn run<S>(self, mut socket: WebSocketStream<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut stopped = self.stopped.clone();
        let mut grant = self.grant.clone();
        let mut live = self.hub.listen(None).live;
        let mut listening = Listening::default();
        let mut behind = false;
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(frame)) => {
                        last_heard = Instant::now();
                        // Boxed: a request is rare, and its future (replies, greetings, their
                        // timeouts) would otherwise take room in every idle session's task.
                        Box::pin(self.on_frame(frame, &mut listening, &mut socket)).await
                    }
                    // Closed, or broken (reset, protocol error): nothing more to say.
                    None | Some(Err(_)) => Step::End,
                },
                notification = live.recv() => match notification {
                    Ok(notification) => {
                        behind = false;
                        match self.render(&notification, &listening) {
                            Some(text) => send(&mut socket, Message::text(text)).await,
                            None => Step::Continue,
                        }
                    }
                    Err(RecvError::Lagged(missed)) if !behind && !listening.is_empty() => {
                        behind = true;
                        send(&mut socket, Message::text(ws_protocol::dropped(missed))).await
                    }
                    Err(RecvError::Lagged(_)) => Step::Continue,
                    Err(RecvError::Closed) => Step::End,
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        Step::End
                    } else {
                        send(&mut socket, Message::Ping(Default::default())).await
                    }
                }
                () = grant::revoked(&mut grant) => {
                    let close = CloseFrame {
                        code: CloseCode::Policy,
                        reason: "the token this session was opened with was revoked".into(),
                    };
                    let _ = timeout(SEND_TIMEOUT, socket.close(Some(close))).await;
                    Step::End
                }
                _ = super::stopping(&mut stopped) => {
                    let close = CloseFrame {
                        code: CloseCode::Away,
                        reason: "the server is shutting down".into(),
                    };
                    let _ = timeout(SEND_TIMEOUT, socket.close(Some(close))).await;
                    Step::End
                }
            };
            if let Step::End = step {
                break;
            }
        }
    }

    async fn on_frame<S>(
        &self,
        frame: Message,
        listening: &mut Listening,
        socket: &mut WebSocketStream<S>,
    ) -> Step
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let text = match frame {
            Message::Text(text) => text,
            Message::Binary(_) => {
                let reply =
                    ws_protocol::malformed("Binary frames are not messages: send JSON text.");
                return send(socket, Message::text(reply)).await;
            }
            // tungstenite answers pings and close frames itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Step::Continue,
            Message::Close(_) => return Step::End,
        };
        let request = match ws_protocol::parse(&text) {
            Ok(request) => request,
            Err(detail) => {
                return send(socket, Message::text(ws_protocol::malformed(&detail))).await;
            }
        };
        let Request::Listen {
            topic,
            adding,
            names,
        } = request
        else {
            return Step::Continue;
        };
        // Only why each name is refused is kept here: the replies are built once it is known
        // which are sent (`refusal_replies`), so a frame naming thousands costs one reply.
        let mut refused = Vec::new();
        for name in names {
            match self.refusal(topic, &name) {
                Some(why) => refused.push((name, why)),
                None if topic == Topic::Property && !adding => {
                    listening.properties.remove(&name);
                }
                None if topic == Topic::Property => {
                    if let Entry::Vacant(entry) = listening.properties.entry(name) {
                        let name = entry.key();
                        // Greet the observer with the getter's last reading, if polled.
                        if let Step::End = self.greet(name, socket).await {
                            return Step::End;
                        }
                        let guard = self.hub.observe(Some(name));
                        entry.insert(guard);
                    }
                }
                None => {
                    if let Some(names) = listening.set(topic) {
                        if adding {
                            names.insert(name);
                        } else {
                            names.remove(&name);
                        }
                    }
                }
            }
        }
        for reply in ws_protocol::refusal_replies(topic, adding, refused) {
            if let Step::End = send(socket, Message::text(reply)).await {
                return Step::End;
            }
        }
        Step::Continue
    }

    /// Send a new observer of `property` its last published reading, if it is a polled getter
    /// that has one (a late joiner otherwise waits for the next change).
    async fn greet<S>(&self, property: &str, socket: &mut WebSocketStream<S>) -> Step
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        for reading in self.hub.last_readings(Some(property)) {
            if let NotificationKind::Property { name, value } = &reading.kind {
                let text = ws_protocol::property_status(name, value);
                if let Step::End = send(socket, Message::text(text)).await {
                    return Step::End;
                }
            }
        }
        Step::Continue
    }

    /// Why a name can't be listened to, if it can't.
    fn refusal(&self, topic: Topic, name: &str) -> Option<Refusal> {
        let why = match topic {
            Topic::Property => match self.metadata.property(name) {
                None => Refusal::NotFound,
                Some(property) if !property.observable() => Refusal::NotObservable,
                Some(_) => return None,
            },
            Topic::Action if self.metadata.action(name).is_none() => Refusal::NotFound,
            Topic::Event if self.metadata.event(name).is_none() => Refusal::NotFound,
            Topic::Action | Topic::Event => return None,
        };
        Some(why)
    }

    /// The message for `notification`, if this client listens to it.
    fn render(&self, notification: &Notification, listening: &Listening) -> Option<String> {
        match &notification.kind {
            NotificationKind::Property { name, value } => listening
                .properties
                .contains_key(&**name)
                .then(|| ws_protocol::property_status(name, value)),
            NotificationKind::Event { name, data } => listening
                .events
                .contains(&**name)
                .then(|| ws_protocol::event(name, data, notification.time)),
            NotificationKind::Action(status) => {
                listening.actions.contains(status.action).then(|| {
                    let href = format!("{}{}", self.invocations_url, status.id);
                    ws_protocol::action_status(status, &href)
                })
            }
        }
    }
}

async fn send<S>(socket: &mut WebSocketStream<S>, message: Message) -> Step
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Step::Continue,
        Ok(Err(_)) | Err(_) => Step::End,
    }
}
