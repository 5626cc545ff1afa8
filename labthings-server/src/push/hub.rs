//! One Thing's notifications — property writes, events, invocation status — fanned out to
//! every WebSocket session and SSE stream that listens, without a writer ever waiting.
//!
//! A write publishes into a `tokio::sync::broadcast` channel: sending never blocks and needs no
//! runtime, so action threads and settings loads publish directly. Each listener reads at its
//! own pace from the channel's shared ring; one that falls more than [`QUEUE`] notifications
//! behind loses the oldest (never the newest) and is told how many it lost. The hub also keeps
//! the last [`REPLAY`] notifications so an SSE client can resume after `Last-Event-ID`.
//!
//! Polled getters (`observe_every`) publish *readings*: the hub keeps each one's last
//! published reading, publishes a new one only if it changed (by `min_change`, for numbers),
//! and hands the last one to a client that starts observing, who would otherwise wait for the
//! next change. Who observes is counted here too ([`ThingHub::observe`]), so the poller runs
//! only while someone listens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use labthings_core::{InvocationId, PropertyObserver};
use labthings_protocol::InvocationStatus;
use serde_json::Value;
use tokio::sync::broadcast;

use super::observed::{Counts, Observed, ObserverGuard};
use crate::runtime::invocation::InvocationObserver;

/// How many notifications a listener may fall behind before it loses the oldest.
pub const QUEUE: usize = 64;

/// How many notifications a Thing keeps for `Last-Event-ID` replay.
pub const REPLAY: usize = 64;

/// Something a Thing's listeners hear about, with its place in the Thing's sequence.
#[derive(Debug)]
pub struct Notification {
    /// Increases by one with every notification of the Thing (the SSE `id`).
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub kind: NotificationKind,
}

#[derive(Debug)]
pub enum NotificationKind {
    /// A data property was written; `value` is its new value as JSON text.
    Property { name: Arc<str>, value: Arc<str> },
    /// An event was emitted; `data` is its payload as JSON text.
    Event { name: Arc<str>, data: Arc<str> },
    /// An invocation changed status or progress.
    Action(ActionStatus),
}

/// The state of one invocation, as action observers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionStatus {
    pub action: &'static str,
    pub id: InvocationId,
    pub status: InvocationStatus,
    pub progress: Option<f64>,
}

/// The notifications of one served Thing.
pub struct ThingHub {
    sender: broadcast::Sender<Arc<Notification>>,
    /// The newest notifications, and the sequence counter: both change under this one lock,
    /// so sequence order is send order and a new listener sees neither a gap nor a repeat.
    recent: Mutex<Recent>,
    /// The polled getters, each with its last published reading. Locked before `recent`.
    readings: Mutex<HashMap<Arc<str>, Reading>>,
    counts: Counts,
}

/// A polled getter's change threshold and last published reading.
struct Reading {
    min_change: Option<f64>,
    last: Option<(Value, Arc<Notification>)>,
}

impl Reading {
    fn changed(&self, value: &Value) -> bool {
        let Some((last, _)) = &self.last else {
            return true;
        };
        match (self.min_change, last.as_f64(), value.as_f64()) {
            (Some(threshold), Some(last), Some(now)) => (now - last).abs() >= threshold,
            _ => last != value,
        }
    }
}

struct Recent {
    next_seq: u64,
    replay: VecDeque<Arc<Notification>>,
}

/// A listener: what it missed since the id it gave (oldest first), then the live channel.
pub struct Listener {
    pub missed: Vec<Arc<Notification>>,
    /// How many notifications after `since` the replay ring no longer holds (0 without `since`).
    pub lost: u64,
    pub live: broadcast::Receiver<Arc<Notification>>,
}

impl ThingHub {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(QUEUE).0,
            recent: Mutex::new(Recent {
                next_seq: 1,
                replay: VecDeque::with_capacity(REPLAY),
            }),
            readings: Mutex::new(HashMap::new()),
            counts: Counts::new(Observed::default()),
        }
    }

    fn readings(&self) -> MutexGuard<'_, HashMap<Arc<str>, Reading>> {
        // Entries are replaced whole: a panic can't leave one torn.
        self.readings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count an observer of `property` (with `None`, of every property) until the guard is
    /// dropped. Every binding that delivers property notifications holds one per observation:
    /// that is what starts and stops the pollers of getters.
    pub fn observe(&self, property: Option<&str>) -> ObserverGuard {
        ObserverGuard::new(&self.counts, property)
    }

    /// Watch who observes what (a poller waits on it).
    pub fn observed(&self) -> tokio::sync::watch::Receiver<Observed> {
        self.counts.subscribe()
    }

    /// Make `property` a polled getter whose readings are published only when they change
    /// (numbers: by at least `min_change`).
    pub fn poll(&self, property: &str, min_change: Option<f64>) {
        self.readings().insert(
            Arc::from(property),
            Reading {
                min_change,
                last: None,
            },
        );
    }

    /// Forget `property`'s last reading, so the next one is published even if equal: a new
    /// observation period starts, and its observers must hear the value.
    pub fn forget_reading(&self, property: &str) {
        if let Some(reading) = self.readings().get_mut(property) {
            reading.last = None;
        }
    }

    /// Publish a reading of polled getter `property` if it changed; whether it was published.
    /// A property that isn't polled publishes every reading.
    pub fn publish_reading(&self, property: &str, value: &Value) -> bool {
        let mut readings = self.readings();
        let Some(reading) = readings.get_mut(property) else {
            drop(readings);
            self.property_changed("", property, value);
            return true;
        };
        if !reading.changed(value) {
            return false;
        }
        // Published under the readings lock, so a notify and the poller can't both publish
        // one change, nor publish two out of order.
        let notification = self.publish(NotificationKind::Property {
            name: Arc::from(property),
            value: Arc::from(value.to_string()),
        });
        reading.last = Some((value.clone(), notification));
        true
    }

    /// The last published reading of each polled getter `stream` wants (`None`: all), for a
    /// client that starts observing.
    pub fn last_readings(&self, property: Option<&str>) -> Vec<Arc<Notification>> {
        self.readings()
            .iter()
            .filter(|(name, _)| property.is_none_or(|wanted| &***name == wanted))
            .filter_map(|(_, reading)| reading.last.as_ref().map(|(_, n)| n.clone()))
            .collect()
    }

    fn recent(&self) -> MutexGuard<'_, Recent> {
        // Every change to `Recent` is a push or a counter step: a panic can't leave it torn.
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tell every listener. Never blocks on a listener and never fails.
    pub fn publish(&self, kind: NotificationKind) -> Arc<Notification> {
        let mut recent = self.recent();
        let notification = Arc::new(Notification {
            seq: recent.next_seq,
            time: Utc::now(),
            kind,
        });
        recent.next_seq += 1;
        if recent.replay.len() == REPLAY {
            recent.replay.pop_front();
        }
        recent.replay.push_back(notification.clone());
        // An error only means nobody listens right now.
        let _ = self.sender.send(notification.clone());
        notification
    }

    /// Start listening; with `since`, first replay what came after that sequence number (as
    /// far back as the replay ring reaches).
    pub fn listen(&self, since: Option<u64>) -> Listener {
        let recent = self.recent();
        let missed = match since {
            Some(last) => recent
                .replay
                .iter()
                .filter(|n| n.seq > last)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        // Sequence numbers `last + 1 ..` older than the ring's oldest are gone for good.
        let oldest = recent.replay.front().map_or(recent.next_seq, |n| n.seq);
        let lost = since.map_or(0, |last| oldest.saturating_sub(last.saturating_add(1)));
        Listener {
            missed,
            lost,
            live: self.sender.subscribe(),
        }
    }

    /// How many listeners are connected.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Publish an invocation's status.
    pub fn action_status(&self, status: ActionStatus) {
        self.publish(NotificationKind::Action(status));
    }

    /// Start listening to `property` (with `None`, to every property) as an observer: the
    /// listener (after what it missed since `since`), the last readings of the polled getters
    /// it covers, and the guard that keeps their pollers running. The guard is taken after
    /// subscribing, so the first reading a poller takes for it is heard live.
    pub fn listen_observing(
        &self,
        since: Option<u64>,
        property: Option<&str>,
    ) -> (Listener, ObserverGuard) {
        let mut listener = self.listen(since);
        let seen: Vec<u64> = listener.missed.iter().map(|n| n.seq).collect();
        let last = self.last_readings(property);
        listener
            .missed
            .extend(last.into_iter().filter(|n| !seen.contains(&n.seq)));
        listener.missed.sort_by_key(|n| n.seq);
        (listener, self.observe(property))
    }
}

impl std::fmt::Debug for ThingHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThingHub")
            .field("listeners", &self.listeners())
            .finish_non_exhaustive()
    }
}

impl Default for ThingHub {
    fn default() -> Self {
        Self::new()
    }
}

impl InvocationObserver for ThingHub {
    fn status_changed(
        &self,
        action: &'static str,
        id: InvocationId,
        status: InvocationStatus,
        progress: Option<f64>,
    ) {
        self.action_status(ActionStatus {
            action,
            id,
            status,
            progress,
        });
    }
}

impl PropertyObserver for ThingHub {
    fn property_changed(&self, _thing: &str, property: &str, value: &Value) {
        self.publish(NotificationKind::Property {
            name: Arc::from(property),
            value: Arc::from(value.to_string()),
        });
    }

    fn event_emitted(&self, _thing: &str, event: &str, data: &Value) {
        self.publish(NotificationKind::Event {
            name: Arc::from(event),
            data: Arc::from(data.to_string()),
        });
    }

    fn property_read(&self, _thing: &str, property: &str, value: &Value) {
        self.publish_reading(property, value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tokio::sync::broadcast::error::TryRecvError;

    use super::*;

    fn value_of(notification: &Notification) -> &str {
        match &notification.kind {
            NotificationKind::Property { value, .. } => value,
            other => panic!("not a property: {other:?}"),
        }
    }

    #[test]
    fn listeners_hear_writes_in_order_and_resume_after_an_id() {
        let hub = ThingHub::new();
        let mut early = hub.listen(None);
        for i in 0..5 {
            hub.property_changed("t", "count", &json!(i));
        }
        let heard: Vec<String> = (0..5)
            .map(|_| value_of(&early.live.try_recv().unwrap()).to_owned())
            .collect();
        assert_eq!(heard, ["0", "1", "2", "3", "4"]);

        let late = hub.listen(Some(3));
        let seqs: Vec<u64> = late.missed.iter().map(|n| n.seq).collect();
        assert_eq!(seqs, [4, 5], "what came after id 3");
    }

    #[test]
    fn a_listener_that_falls_behind_loses_the_oldest_and_keeps_the_newest() {
        let hub = ThingHub::new();
        let mut slow = hub.listen(None);
        let total = QUEUE + 10;
        for i in 0..total {
            hub.property_changed("t", "count", &json!(i));
        }
        assert!(matches!(
            slow.live.try_recv(),
            Err(TryRecvError::Lagged(10))
        ));
        let mut last = None;
        while let Ok(notification) = slow.live.try_recv() {
            last = Some(value_of(&notification).to_owned());
        }
        assert_eq!(last.as_deref(), Some((total - 1).to_string().as_str()));
    }

    #[test]
    fn readings_are_published_only_when_they_change_and_the_last_greets_a_new_observer() {
        let hub = ThingHub::new();
        hub.poll("t", Some(0.5));
        assert!(hub.publish_reading("t", &json!(20.0)));
        assert!(!hub.publish_reading("t", &json!(20.4)), "under min_change");
        assert!(hub.publish_reading("t", &json!(20.6)));
        let (listener, _guard) = hub.listen_observing(None, Some("t"));
        let greeting: Vec<&str> = listener.missed.iter().map(|n| value_of(n)).collect();
        assert_eq!(greeting, ["20.6"]);
        hub.forget_reading("t");
        assert!(
            hub.publish_reading("t", &json!(20.6)),
            "a new period hears it"
        );
    }

    #[test]
    fn replay_reaches_back_only_as_far_as_the_ring() {
        let hub = ThingHub::new();
        for i in 0..(REPLAY + 20) {
            hub.event_emitted("t", "tick", &json!(i));
        }
        let listener = hub.listen(Some(0));
        assert_eq!(listener.missed.len(), REPLAY);
        assert_eq!(listener.missed[0].seq, 21);
    }
}
