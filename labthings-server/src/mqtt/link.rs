//! One Thing's connection to the broker: connecting with a Last Will, reconnecting with
//! backoff, subscribing to its command topics and sending its retained state again after
//! every (re)connect, and the link's state for the log and the directory TD.
//!
//! rumqttc reconnects on the next `poll()` after an error, at once and forever (rumqtt#703),
//! and with a clean session the broker forgets the subscriptions (rumqtt#250): so this task
//! sleeps with backoff between attempts and the sender resubscribes on every `ConnAck`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, LastWill, Outgoing, Packet, Publish, QoS,
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
const REQUESTS: usize = 64;
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

/// One Thing's link, ready to run.
pub struct Link {
    pub thing: Arc<str>,
    pub topics: ThingTopics,
    pub outbox: Arc<Outbox>,
    /// The hub, listened to since the announcement: the pump's.
    pub heard: Heard,
    pub links: InvocationLinks,
    /// Where command messages go (already filtered: never a retained one).
    pub commands: mpsc::Sender<Publish>,
    pub board: Arc<Board>,
}

impl Link {
    /// Connect and serve until `stop`; then say `offline` and disconnect.
    pub async fn run(self, config: &Resolved, max_incoming: usize, stop: watch::Receiver<bool>) {
        let mut options = config.options(format!("{}-{}", config.client_id, self.thing));
        options
            .set_keep_alive(Duration::from_secs(10))
            .set_clean_session(true)
            // A TD can be larger than rumqttc's 10 KiB default; commands are bounded like
            // request bodies.
            .set_max_packet_size(max_incoming, 16 * 1024 * 1024)
            .set_last_will(LastWill::new(
                self.topics.status(),
                word::OFFLINE,
                QoS::AtLeastOnce,
                true,
            ));
        let (client, eventloop) = AsyncClient::new(options, REQUESTS);
        let (connection, watching) = watch::channel(Connection::default());
        let room = Arc::new(Notify::new());
        self.board.set(&self.thing, LinkState::Connecting);
        let Self {
            thing,
            topics,
            outbox,
            heard,
            links,
            commands,
            board,
        } = self;
        let pump = Pump {
            topics: topics.clone(),
            links,
            outbox: outbox.clone(),
            client: client.clone(),
            connection: watching,
            room: room.clone(),
        };
        let pump = tokio::spawn(pump.run(heard, stop.clone()));
        let driver = Driver {
            thing,
            topics,
            outbox,
            commands,
            board,
            room,
        };
        let eventloop = driver.drive(eventloop, &connection, stop).await;
        pump.abort();
        driver.goodbye(&client, eventloop).await;
    }
}

/// The event loop's side of a link: the connection's state, commands in, room in rumqttc's
/// request queue for the pump.
struct Driver {
    thing: Arc<str>,
    topics: ThingTopics,
    /// Where a command refused for want of room is reported.
    outbox: Arc<Outbox>,
    commands: mpsc::Sender<Publish>,
    board: Arc<Board>,
    room: Arc<Notify>,
}

impl Driver {
    /// Poll the event loop until `stop`, with backoff after errors; hand the event loop back
    /// for the goodbye.
    async fn drive(
        &self,
        mut eventloop: EventLoop,
        connection: &watch::Sender<Connection>,
        mut stop: watch::Receiver<bool>,
    ) -> EventLoop {
        let mut backoff = MIN_BACKOFF;
        // Made once: a write's publish and its acknowledgement are two turns of this loop.
        let stop = stopping(&mut stop);
        tokio::pin!(stop);
        loop {
            let event = tokio::select! {
                event = eventloop.poll() => event,
                _ = &mut stop => return eventloop,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack)))
                    if ack.code == ConnectReturnCode::Success =>
                {
                    backoff = MIN_BACKOFF;
                    self.became(LinkState::Connected, None);
                    connection.send_modify(|c| {
                        c.up = true;
                        c.number += 1;
                    });
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => self.command(publish),
                Ok(Event::Outgoing(Outgoing::Publish(_))) => self.room.notify_waiters(),
                Ok(_) => {}
                Err(error) => {
                    connection.send_modify(|c| c.up = false);
                    self.became(LinkState::Disconnected, Some((&error, backoff)));
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut stop => return eventloop,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
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
    async fn goodbye(&self, client: &AsyncClient, mut eventloop: EventLoop) {
        let connected = self.board.set(&self.thing, LinkState::Disconnected);
        if connected != Some(LinkState::Connected) {
            return;
        }
        let sent = client
            .try_publish(self.topics.status(), QoS::AtLeastOnce, true, word::OFFLINE)
            .and_then(|()| client.try_disconnect());
        if sent.is_err() {
            return;
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
        tracing::info!(thing = %self.thing, "MQTT link closed");
    }
}
