//! One Thing's connection to the broker: connecting with a Last Will, reconnecting with
//! backoff, subscribing to its command topics and sending its retained state again after
//! every (re)connect, and the link's state for the log and the directory TD.
//!
//! rumqttc reconnects on the next `poll()` after an error, at once and forever (rumqtt#703),
//! and with a clean session the broker forgets the subscriptions (rumqtt#250): so this task
//! sleeps with backoff between attempts and the sender resubscribes on every `ConnAck`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, LastWill, Outgoing, Packet,
    Publish, QoS,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, watch};

use crate::mqtt::config::Resolved;
use crate::mqtt::outbox::Outbox;
use crate::mqtt::publish::{Heard, InvocationLinks, Pump};
use crate::push::stopping;
use labthings_protocol::mqtt::{ThingTopics, word};

/// The first wait after a failed attempt; it doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Requests rumqttc buffers between the sender and the event loop.
pub(crate) const REQUESTS: usize = 64;
/// How long a clean goodbye (`offline`, then DISCONNECT) may take at shutdown.
const GOODBYE: Duration = Duration::from_secs(1);

/// A link's state, as logged and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Never connected yet.
    Connecting,
    Connected,
    /// Lost or refused; retrying with backoff.
    Disconnected,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        }
    }
}

/// Every Thing's link state, for the directory TD.
#[derive(Debug, Default)]
pub struct Board {
    links: Mutex<BTreeMap<String, LinkState>>,
}

impl Board {
    fn set(&self, thing: &str, state: LinkState) -> Option<LinkState> {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.insert(thing.to_owned(), state)
    }

    /// `connected` when every link is, `disconnected` when any is, else `connecting`; and
    /// each Thing's.
    pub fn report(&self) -> Value {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        let all = |state| links.values().all(|s| *s == state);
        let overall = if links.values().any(|s| *s == LinkState::Disconnected) {
            LinkState::Disconnected
        } else if all(LinkState::Connected) {
            LinkState::Connected
        } else {
            LinkState::Connecting
        };
        let things: serde_json::Map<String, Value> = links
            .iter()
            .map(|(name, state)| (name.clone(), json!(state.as_str())))
            .collect();
        json!({"state": overall.as_str(), "things": things})
    }
}

/// What the pump learns from the event loop: whether the link is up, and which connection
/// it is (a new number after every `ConnAck`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Connection {
    pub up: bool,
    pub number: u64,
}

/// One Thing's link, ready to run: the event loop's side (the connection's state, commands
/// in, room in rumqttc's request queue for the pump); [`Link::run`] starts the pump beside it.
pub struct Link {
    pub thing: Arc<str>,
    pub topics: ThingTopics,
    /// The pump's queue, and where a command refused for want of room is reported.
    pub outbox: Arc<Outbox>,
    /// Where command messages go (already filtered: never a retained one).
    pub commands: mpsc::Sender<Publish>,
    pub board: Arc<Board>,
}

impl Link {
    /// Connect and serve until `stop`, the pump publishing what `heard` (the hub, listened to
    /// since the announcement) hears; then say `offline` and disconnect.
    pub async fn run(
        self,
        config: &Resolved,
        max_incoming: usize,
        heard: Heard,
        links: InvocationLinks,
        stop: watch::Receiver<bool>,
    ) {
        let mut options = config.options(format!("{}-{}", config.client_id, self.thing));
        options
            // A TD can be larger than rumqttc's 10 KiB default; commands are bounded like
            // request bodies.
            .set_max_packet_size(max_incoming, 16 * 1024 * 1024)
            .set_last_will(LastWill::new(
                self.topics.status(),
                word::OFFLINE,
                QoS::AtLeastOnce,
                true,
            ));
        let (client, mut eventloop) = AsyncClient::new(options, REQUESTS);
        let (connection, watching) = watch::channel(Connection::default());
        let room = Arc::new(Notify::new());
        self.board.set(&self.thing, LinkState::Connecting);
        let pump = Pump {
            topics: self.topics.clone(),
            links,
            outbox: self.outbox.clone(),
            client: client.clone(),
            connection: watching,
            room: room.clone(),
        };
        let pump = tokio::spawn(pump.run(heard, stop.clone()));
        self.drive(&mut eventloop, &connection, &room, stop).await;
        pump.abort();
        self.goodbye(&client, &mut eventloop).await;
    }

    /// Poll the event loop until `stop`, with backoff after errors.
    async fn drive(
        &self,
        eventloop: &mut EventLoop,
        connection: &watch::Sender<Connection>,
        room: &Notify,
        stop: watch::Receiver<bool>,
    ) {
        poll_with_backoff(eventloop, stop, |polled| {
            match polled {
                Polled::Connected => {
                    self.became(LinkState::Connected, None);
                    connection.send_modify(|c| {
                        c.up = true;
                        c.number += 1;
                    });
                }
                Polled::Event(Event::Incoming(Packet::Publish(publish))) => self.command(publish),
                Polled::Event(Event::Outgoing(Outgoing::Publish(_))) => room.notify_waiters(),
                Polled::Event(_) => {}
                Polled::Failed(error, backoff) => {
                    connection.send_modify(|c| c.up = false);
                    self.became(LinkState::Disconnected, Some((error, backoff)));
                }
            }
            ControlFlow::Continue(())
        })
        .await;
    }

    /// A message on a command topic. A retained one is a stale command the broker replays to
    /// every new subscriber: applying it at each reconnect would undo later changes.
    fn command(&self, publish: Publish) {
        if publish.retain {
            tracing::info!(
                thing = %self.thing,
                topic = %publish.topic,
                "ignored a retained MQTT command (commands must not be retained)"
            );
            return;
        }
        let topic = publish.topic.clone();
        if self.commands.try_send(publish).is_err() {
            crate::mqtt::commands::refuse_busy(&self.outbox, &self.topics, &topic);
        }
    }

    /// Record and log a change of state (only a change: a broker that stays down is logged
    /// once, not at every retry).
    fn became(&self, state: LinkState, error: Option<(&rumqttc::ConnectionError, Duration)>) {
        let before = self.board.set(&self.thing, state);
        if before == Some(state) {
            return;
        }
        match error {
            Some((error, retry)) => tracing::warn!(
                thing = %self.thing,
                "MQTT link {}: {error}; retrying every {:?} up to {:?}",
                state.as_str(),
                retry,
                MAX_BACKOFF
            ),
            None => tracing::info!(thing = %self.thing, "MQTT link {}", state.as_str()),
        }
    }

    /// At shutdown: `offline` (retained) and a clean DISCONNECT, if the link is up; a broker
    /// that is away has published the Last Will already, or will.
    async fn goodbye(&self, client: &AsyncClient, eventloop: &mut EventLoop) {
        let connected = self.board.set(&self.thing, LinkState::Disconnected);
        if connected != Some(LinkState::Connected) {
            return;
        }
        let sent = client.try_publish(self.topics.status(), QoS::AtLeastOnce, true, word::OFFLINE);
        if sent.is_ok() && disconnect(client, eventloop).await {
            tracing::info!(thing = %self.thing, "MQTT link closed");
        }
    }
}

/// What [`poll_with_backoff`] hands its caller.
pub enum Polled<'e> {
    /// The broker accepted the connection (a successful `ConnAck`; the backoff starts over).
    Connected,
    /// Any other event.
    Event(Event),
    /// The connection failed: the loop sleeps this long before rumqttc tries again.
    Failed(&'e ConnectionError, Duration),
}

/// Poll `eventloop` until `stop` (false) or until `each` breaks (true). After an error it
/// sleeps with backoff ([`MIN_BACKOFF`], doubling up to [`MAX_BACKOFF`], reset by a
/// successful `ConnAck`): rumqttc itself would reconnect at once, for ever.
pub async fn poll_with_backoff(
    eventloop: &mut EventLoop,
    mut stop: watch::Receiver<bool>,
    mut each: impl FnMut(Polled<'_>) -> ControlFlow<()>,
) -> bool {
    let mut backoff = MIN_BACKOFF;
    // Made once: a write's publish and its acknowledgement are two turns of this loop.
    let stop = stopping(&mut stop);
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = &mut stop => return false,
        };
        let flow = match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Success => {
                backoff = MIN_BACKOFF;
                each(Polled::Connected)
            }
            Ok(event) => each(Polled::Event(event)),
            Err(error) => {
                let flow = each(Polled::Failed(&error, backoff));
                if flow.is_continue() {
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut stop => return false,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                flow
            }
        };
        if flow.is_break() {
            return true;
        }
    }
}

/// Send DISCONNECT and poll until it is out (at most [`GOODBYE`]); false if it could not be
/// queued.
pub async fn disconnect(client: &AsyncClient, eventloop: &mut EventLoop) -> bool {
    if client.try_disconnect().is_err() {
        return false;
    }
    let flushed = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(GOODBYE, flushed).await;
    true
}
