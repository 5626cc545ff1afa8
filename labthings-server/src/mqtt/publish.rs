//! What a Thing tells the broker: its TD and `online` status (retained), each property's value
//! (retained, so a newcomer reads it at once), each event and each invocation status (not
//! retained). It listens to the Thing's hub like an SSE stream does, so a writer never waits
//! for the broker: the hub never blocks, and the outbox keeps only the newest few of each topic.

use std::sync::Arc;

use bytes::Bytes;
use labthings_core::PropertyKind;
use labthings_protocol::mqtt::{ThingTopics, word};
use labthings_protocol::paths::{ApiPaths, Origin};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::mqtt::outbox::Outbox;
use crate::push::hub::{ActionStatus, NotificationKind};
use crate::push::stopping;
use crate::state::ServedThing;

/// Queue the Thing's TD (as seen from `origin`), its `online` status and the current value of
/// each data property: the retained state a newcomer to the broker reads.
pub fn announce(served: &ServedThing, topics: &ThingTopics, origin: &Origin, outbox: &Outbox) {
    outbox.put(topics.td().to_owned(), served.td_json(origin), true);
    outbox.put(
        topics.status(),
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
            outbox.put(topics.property(property.name), payload, true);
        }
    }
}

/// Forward the Thing's notifications to the outbox until `stop`.
pub async fn forward(
    served: &ServedThing,
    topics: ThingTopics,
    links: InvocationLinks,
    outbox: Arc<Outbox>,
    mut stop: watch::Receiver<bool>,
) {
    // The broker's subscribers are invisible to us: the binding observes every observable
    // property for as long as it runs, so polled getters are read (and their changes
    // retained on the broker) while MQTT is on. The last readings come first.
    let (mut listener, _observing) = served.hub.listen_observing(None, None);
    for notification in std::mem::take(&mut listener.missed) {
        put(&notification.kind, &topics, &links, &outbox);
    }
    loop {
        let notification = tokio::select! {
            received = listener.live.recv() => match received {
                Ok(notification) => notification,
                // The oldest were lost, never the newest: go on with what is left.
                Err(RecvError::Lagged(lost)) => {
                    tracing::debug!(thing = %served.name, lost, "MQTT fell behind the hub");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
            _ = stopping(&mut stop) => return,
        };
        put(&notification.kind, &topics, &links, &outbox);
    }
}

/// Queue one notification on its topic.
fn put(kind: &NotificationKind, topics: &ThingTopics, links: &InvocationLinks, outbox: &Outbox) {
    let (topic, payload, retain) = match kind {
        NotificationKind::Property { name, value } => {
            (topics.property(name), Bytes::from(value.to_string()), true)
        }
        NotificationKind::Event { name, data } => {
            (topics.event(name), Bytes::from(data.to_string()), false)
        }
        NotificationKind::Action(status) => (
            topics.action_status(status.action),
            links.status(status),
            false,
        ),
    };
    outbox.put(topic, payload, retain);
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
