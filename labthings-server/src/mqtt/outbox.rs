//! What a Thing's link has yet to send: a bounded queue per topic that keeps the newest
//! messages, so a slow or absent broker never blocks a property writer or an action, and
//! memory stays bounded by the Thing's topics whatever the broker does.
//!
//! A retained topic (a property's value, the TD, the status) keeps its newest
//! [`RETAINED_BACKLOG`] messages: a short burst of writes reaches observers whole, while a
//! broker that is away costs a few stale values at most, the newest last. Other topics
//! (events, action statuses, errors) keep their newest [`BACKLOG`]. The last retained message
//! of each topic is also remembered, to send again after a reconnect (the broker may have
//! restarted empty).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

/// How many messages a non-retained topic keeps while the broker is away.
pub const BACKLOG: usize = 32;
/// How many values a retained topic keeps (its newest).
pub const RETAINED_BACKLOG: usize = 4;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub retain: bool,
}

#[derive(Default)]
pub struct Outbox {
    inner: Mutex<Inner>,
    /// Woken when a message is queued (a stored permit: no wake-up is lost).
    ready: Notify,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<String, VecDeque<Message>>,
    /// Topics with something queued, oldest first: topics take turns.
    order: VecDeque<String>,
    /// Each retained topic's newest payload, in topic order.
    retained: BTreeMap<String, Bytes>,
    /// Messages dropped because a newer one took their place.
    replaced: u64,
}

impl Outbox {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Each change is a push or a pop: a panic can't leave the queues torn.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a message; never blocks (beyond this short lock) and never fails.
    pub fn put(&self, topic: String, payload: Bytes, retain: bool) {
        let mut inner = self.inner();
        if retain {
            inner.retained.insert(topic.clone(), payload.clone());
        }
        inner.queue(Message {
            topic,
            payload,
            retain,
        });
        drop(inner);
        self.ready.notify_one();
    }

    /// Queue every retained topic's newest payload again (after a reconnect), unless its
    /// queue still holds it.
    pub fn requeue_retained(&self) {
        let mut inner = self.inner();
        let retained: Vec<Message> = inner
            .retained
            .iter()
            .filter(|(topic, _)| !inner.queues.contains_key(*topic))
            .map(|(topic, payload)| Message {
                topic: topic.clone(),
                payload: payload.clone(),
                retain: true,
            })
            .collect();
        for message in retained {
            inner.queue(message);
        }
        drop(inner);
        self.ready.notify_one();
    }

    /// The next message, topics taking turns.
    pub fn take(&self) -> Option<Message> {
        let mut inner = self.inner();
        let topic = inner.order.pop_front()?;
        let queue = inner.queues.get_mut(&topic)?;
        let message = queue.pop_front();
        if queue.is_empty() {
            inner.queues.remove(&topic);
        } else {
            inner.order.push_back(topic);
        }
        message
    }

    /// Resolves when something may have been queued since the last call.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// How many messages are waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner().queues.values().map(VecDeque::len).sum()
    }

    /// How many messages a newer one replaced since start.
    #[cfg(test)]
    pub fn replaced(&self) -> u64 {
        self.inner().replaced
    }
}

impl Inner {
    fn queue(&mut self, message: Message) {
        let cap = if message.retain {
            RETAINED_BACKLOG
        } else {
            BACKLOG
        };
        let topic = message.topic.clone();
        let queue = self.queues.entry(topic.clone()).or_default();
        let was_empty = queue.is_empty();
        queue.push_back(message);
        let excess = queue.len().saturating_sub(cap);
        queue.drain(..excess);
        self.replaced += excess as u64;
        if was_empty {
            self.order.push_back(topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(outbox: &Outbox, topic: &str, payload: &str, retain: bool) {
        outbox.put(topic.into(), Bytes::from(payload.to_owned()), retain);
    }

    fn drain(outbox: &Outbox) -> Vec<(String, String)> {
        std::iter::from_fn(|| outbox.take())
            .map(|m| (m.topic, String::from_utf8(m.payload.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn a_retained_topic_keeps_its_newest_value_and_others_their_newest_backlog() {
        let outbox = Outbox::default();
        for i in 0..1000 {
            put(&outbox, "p/count", &i.to_string(), true);
            put(&outbox, "e/tick", &i.to_string(), false);
        }
        assert_eq!(
            outbox.len(),
            RETAINED_BACKLOG + BACKLOG,
            "bounded whatever was written"
        );
        let sent = drain(&outbox);
        let counts: Vec<&str> = sent
            .iter()
            .filter(|(t, _)| t == "p/count")
            .map(|(_, p)| p.as_str())
            .collect();
        assert_eq!(counts, ["996", "997", "998", "999"], "the newest, in order");
        let ticks: Vec<String> = sent
            .iter()
            .filter(|(t, _)| t == "e/tick")
            .map(|(_, p)| p.clone())
            .collect();
        let newest: Vec<String> = (1000 - BACKLOG..1000).map(|i| i.to_string()).collect();
        assert_eq!(ticks, newest, "the oldest events went, in order");
        assert_eq!(
            outbox.replaced(),
            (1000 - RETAINED_BACKLOG + 1000 - BACKLOG) as u64
        );
    }

    #[test]
    fn retained_values_are_queued_again_after_a_reconnect() {
        let outbox = Outbox::default();
        put(&outbox, "t", "{td}", true);
        put(&outbox, "t/properties/a", "1", true);
        put(&outbox, "t/events/e", "x", false);
        assert_eq!(drain(&outbox).len(), 3);
        put(&outbox, "t/properties/a", "2", true);
        outbox.requeue_retained();
        let again = drain(&outbox);
        assert_eq!(
            again,
            [
                ("t/properties/a".to_owned(), "2".to_owned()),
                ("t".to_owned(), "{td}".to_owned())
            ],
            "each retained topic once, at its newest; events are not replayed"
        );
        outbox.requeue_retained();
        assert_eq!(drain(&outbox).len(), 2, "sent again after every reconnect");
    }
}
