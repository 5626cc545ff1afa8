//! What a Thing tells the broker: its TD and `online` status (retained), each property's value
//! (retained, so a newcomer reads it at once), each event and each invocation status (not
//! retained). It listens to the Thing's hub like an SSE stream does, so a writer never waits
//! for the broker: the hub never blocks, and the outbox keeps only the newest of each topic.
//!
//! One task per Thing, the pump, carries notifications from the hub through the outbox to
//! rumqttc's request queue (the link's event loop, in `link.rs`, writes them out). Doing both
//! in one task spares a wake-up per write, and on waking the pump first lets the other ready
//! tasks (the HTTP writers) run: under load, the writes of a whole round of requests are then
//! taken from the hub together.

use std::sync::Arc;

use bytes::Bytes;
use labthings_core::PropertyKind;
use labthings_protocol::mqtt::{ThingTopics, word};
use labthings_protocol::paths::{ApiPaths, Origin};
use rumqttc::{AsyncClient, QoS, SubscribeFilter};
use serde_json::json;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{Notify, watch};

use crate::mqtt::link::Connection;
use crate::mqtt::outbox::Outbox;
use crate::push::hub::{ActionStatus, Listener, NotificationKind};
use crate::push::observed::ObserverGuard;
use crate::push::stopping;
use crate::state::ServedThing;

/// The most notifications a pump takes from the hub before letting other tasks run: as many
/// as rumqttc's queue holds.
const ROUND: usize = crate::mqtt::link::REQUESTS;

/// What the binding hears from a Thing's hub, subscribed before [`announce`] read the values:
/// handed to the [`Pump`].
pub struct Heard {
    listener: Listener,
    /// The broker's subscribers are invisible to us: the binding observes every observable
    /// property for as long as it runs, so polled getters are read (and their changes
    /// retained on the broker) while MQTT is on.
    _observing: ObserverGuard,
}

/// Queue the Thing's TD (as seen from `origin`), its `online` status and the current value of
/// each data property: the retained state a newcomer to the broker reads. Listens to the hub
/// *before* reading the values, so a write in between is heard (and queued after the value
/// read here): read first, it would be lost, and the broker would keep a stale value until
/// the next change.
pub fn announce(
    served: &ServedThing,
    topics: &ThingTopics,
    origin: &Origin,
    outbox: &Outbox,
) -> Heard {
    let (listener, observing) = served.hub.listen_observing(None, None);
    outbox.put(topics.td(), served.td_json(origin), true);
    outbox.put(
        &topics.status(),
        Bytes::from_static(word::ONLINE.as_bytes()),
        true,
    );
    for property in &served.thing.metadata().properties {
        // A functional property's getter may block on hardware: it is published when it
        // changes (by its poller, when it has one), not read here.
        if property.kind == PropertyKind::Functional {
            continue;
        }
        if let Ok(value) = served.thing.read_property(property.name) {
            let payload = Bytes::from(value.to_string());
            outbox.put(&topics.property(property.name), payload, true);
        }
    }
    Heard {
        listener,
        _observing: observing,
    }
}

/// One Thing's pump: the hub → the outbox → rumqttc, while the link is up.
pub struct Pump {
    pub topics: ThingTopics,
    pub links: InvocationLinks,
    pub outbox: Arc<Outbox>,
    pub client: AsyncClient,
    /// The link's state, from its event loop.
    pub connection: watch::Receiver<Connection>,
    /// Notified (its waiters only) by the event loop each time it takes a request: room in
    /// rumqttc's queue.
    pub room: Arc<Notify>,
}

impl Pump {
    /// Run until `stop` (or until the hub closes); what was heard before `stop` is queued
    /// first.
    pub async fn run(mut self, heard: Heard, mut stop: watch::Receiver<bool>) {
        let Heard {
            mut listener,
            _observing,
        } = heard;
        // The polled getters' last readings come first.
        let mut topic = String::new();
        for notification in std::mem::take(&mut listener.missed) {
            self.queue(&notification.kind, &mut topic);
        }
        let stop = stopping(&mut stop);
        tokio::pin!(stop);
        let mut subscribed = 0;
        loop {
            // Set once rumqttc's queue refuses a message in this pass: sending again before
            // it has room would only copy the payload to be refused. Each pass tries afresh.
            let mut full = false;
            // What the hub holds, without waiting, at most a round's worth (then other tasks
            // get their turn). Each value is handed to rumqttc as soon as it is queued, so a
            // topic's values merge in the outbox only while rumqttc's queue is full or the
            // link is down — never because two were written close together (queued first and
            // sent after, the second replaced the first).
            for _ in 0..ROUND {
                match listener.live.try_recv() {
                    Ok(notification) => {
                        self.queue(&notification.kind, &mut topic);
                        full = full || self.send(&mut subscribed);
                    }
                    // The oldest were lost, never the newest: go on with what is left.
                    Err(TryRecvError::Lagged(lost)) => {
                        tracing::debug!(lost, "MQTT fell behind the hub");
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            // Taken before sending: the event loop's notice that it took a request reaches it
            // even if it comes before this task waits.
            let room = self.room.notified();
            full = full || self.send(&mut subscribed);
            tokio::select! {
                biased;
                received = listener.live.recv() => match received {
                    Ok(notification) => {
                        self.queue(&notification.kind, &mut topic);
                        if !full {
                            self.send(&mut subscribed);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = room, if full => {}
                _ = self.outbox.ready() => {}
                // The link's event loop is gone: nothing more will be sent.
                changed = self.connection.changed() => if changed.is_err() { return },
                _ = &mut stop => return,
            }
            // Let the tasks that are ready run first: the hub gathers the writes they make,
            // taken in the next round.
            tokio::task::yield_now().await;
        }
    }

    /// While the link is up: after a new connection, subscribe to the command topics and
    /// queue the retained state again (a restarted broker has none); then hand rumqttc what
    /// the outbox holds. Whether rumqttc's queue was full.
    fn send(&self, subscribed: &mut u64) -> bool {
        let connection = *self.connection.borrow();
        if !connection.up {
            return false;
        }
        if connection.number != *subscribed {
            let filters = self
                .topics
                .command_filters()
                .map(|f| SubscribeFilter::new(f, QoS::AtLeastOnce));
            if self.client.try_subscribe_many(filters).is_err() {
                return true;
            }
            self.outbox.requeue_retained();
            *subscribed = connection.number;
        }
        while let Some(message) = self.outbox.take() {
            let sent = self.client.try_publish(
                &*message.topic,
                QoS::AtLeastOnce,
                message.retain,
                message.payload.to_vec(),
            );
            if sent.is_err() {
                self.outbox.put_back(message);
                return true;
            }
        }
        false
    }

    /// Queue one notification on its topic (`topic`: a buffer, reused).
    fn queue(&self, kind: &NotificationKind, topic: &mut String) {
        // Property values are most of the traffic: their topic is written into the buffer.
        match kind {
            NotificationKind::Property { name, value } => {
                self.topics.property_into(name, topic);
                let payload = Bytes::copy_from_slice(value.as_bytes());
                self.outbox.put(topic, payload, true);
            }
            NotificationKind::Event { name, data } => {
                let payload = Bytes::copy_from_slice(data.as_bytes());
                self.outbox.put(&self.topics.event(name), payload, false);
            }
            NotificationKind::Action(status) => {
                let topic = self.topics.action_status(status.action);
                self.outbox.put(&topic, self.links.status(status), false);
            }
        }
    }
}

/// Where an invocation is over HTTP, for its status messages.
#[derive(Debug, Clone)]
pub struct InvocationLinks {
    pub origin: Origin,
    pub paths: ApiPaths,
}

impl InvocationLinks {
    /// `{"id", "action", "status", "progress", "href"}`: the invocation's state and where to
    /// follow it (its log, its output) over HTTP.
    fn status(&self, status: &ActionStatus) -> Bytes {
        let body = json!({
            "id": status.id.to_string(),
            "action": status.action,
            "status": status.status.as_str(),
            "progress": status.progress,
            "href": format!("{}{}", self.origin, self.paths.invocation(status.id)),
        });
        Bytes::from(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::{Arc, OnceLock};

    use labthings_core::{
        EndpointMetadata, PropertyError, PropertyMetadata, PropertyObserver, Thing, ThingMetadata,
    };
    use labthings_protocol::paths::Scheme;
    use serde_json::{Value, json};

    use super::*;
    use crate::push::hub::ThingHub;

    /// Two data properties, `late` then `early` in metadata order. Reading `early` (after
    /// `late` was read) writes `late` as a concurrent writer would: exactly between the
    /// announcement's read of `late` and the end of the announcement.
    struct Racy {
        late: AtomicI64,
        hub: Arc<ThingHub>,
    }

    fn data(name: &'static str) -> PropertyMetadata {
        PropertyMetadata {
            name,
            title: name.into(),
            description: None,
            schema: json!({"type": "integer"}),
            read_only: false,
            kind: PropertyKind::Data,
            constrained: false,
            uses_global_lock: true,
            observe: None,
        }
    }

    impl Thing for Racy {
        fn metadata(&self) -> &'static ThingMetadata {
            static METADATA: OnceLock<ThingMetadata> = OnceLock::new();
            METADATA.get_or_init(|| ThingMetadata {
                type_name: "Racy",
                title: "Racy".into(),
                description: None,
                properties: vec![data("late"), data("early")],
                actions: Vec::new(),
                events: Vec::new(),
                slots: Vec::new(),
                streams: Vec::new(),
            })
        }
        fn endpoints(&self) -> &'static [EndpointMetadata] {
            &[]
        }
        fn read_property(&self, name: &str) -> Result<Value, PropertyError> {
            match name {
                "late" => Ok(json!(self.late.load(Ordering::SeqCst))),
                "early" => {
                    self.late.store(2, Ordering::SeqCst);
                    self.hub.property_changed("racy", "late", &json!(2));
                    Ok(json!(0))
                }
                _ => Err(PropertyError::NotFound),
            }
        }
        crate::hand_written::refuse_the_rest!();
    }

    #[tokio::test]
    async fn a_write_during_the_announcement_reaches_the_broker_not_the_stale_value() {
        let hub = Arc::new(ThingHub::new());
        let thing = Arc::new(Racy {
            late: AtomicI64::new(1),
            hub: hub.clone(),
        });
        let paths = ApiPaths::new("");
        let served = ServedThing::new("racy", thing, &paths, hub, false, "urn:x".into());
        let topics = ThingTopics::new("p", "racy");
        let origin = Origin::new(Scheme::Http, "127.0.0.1:5000");
        let outbox = Arc::new(Outbox::default());

        let heard = announce(&served, &topics, &origin, &outbox);
        // Stopped already: the pump queues what was heard, then returns.
        let (_stop, stopped) = watch::channel(true);
        let options = rumqttc::MqttOptions::new("test", "127.0.0.1", 1);
        let (client, _eventloop) = AsyncClient::new(options, 8);
        let link = watch::Sender::new(Connection::default());
        let pump = Pump {
            topics: topics.clone(),
            links: InvocationLinks { origin, paths },
            outbox: outbox.clone(),
            client,
            connection: link.subscribe(),
            room: Arc::default(),
        };
        pump.run(heard, stopped).await;

        assert_eq!(
            outbox.retained(&topics.property("late")).as_deref(),
            Some(&b"2"[..]),
            "the broker would keep `late` = 1 although it is 2"
        );
    }
}
