//! What a Thing's link has yet to send: a bounded queue per topic that keeps the newest
//! messages, so a slow or absent broker never blocks a property writer or an action, and
//! memory stays bounded by the Thing's topics whatever the broker does.
//!
//! A retained topic (a property's value, the TD, the status) keeps only its newest value: it
//! is state, and a newer value makes an older one that has not gone out yet worthless. So
//! writes that come faster than the broker link takes them are merged (observers see the
//! newest, as a slow WebSocket client does), and a broker that is away costs nothing but the
//! newest value of each topic. Other topics (events, action statuses, errors) keep their
//! newest [`BACKLOG`]. The last retained value of each topic is also remembered, to send again
//! after a reconnect (the broker may have restarted empty).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

/// How many messages a non-retained topic keeps while the broker is away.
pub const BACKLOG: usize = 32;
/// How many values a retained topic keeps: its newest.
pub const RETAINED_BACKLOG: usize = 1;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: Arc<str>,
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
    /// Every topic ever queued (a Thing's topics are few and fixed), with what it holds.
    topics: HashMap<Arc<str>, Slot>,
    /// Topics with something queued, oldest first: topics take turns.
    order: VecDeque<Arc<str>>,
    /// Messages dropped because a newer one took their place.
    replaced: u64,
}

struct Slot {
    /// The topic again (the map's key), to list it in `order` without allocating.
    topic: Arc<str>,
    queued: VecDeque<Bytes>,
    retain: bool,
    /// A retained topic's newest payload, sent or not.
    last: Option<Bytes>,
}

impl Outbox {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Each change is a push or a pop: a panic can't leave the queues torn.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a message; never blocks (beyond this short lock) and never fails. For the pump
    /// itself, which sends what it queued before it waits again.
    pub fn put(&self, topic: &str, payload: Bytes, retain: bool) {
        self.inner().queue(topic, payload, retain, false);
    }

    /// Queue a message from another task, and wake the pump to send it.
    pub fn post(&self, topic: &str, payload: Bytes, retain: bool) {
        self.put(topic, payload, retain);
        self.ready.notify_one();
    }

    /// Put back a message [`Outbox::take`] gave, at the head of its topic's queue (it could
    /// not be sent), unless a newer one has replaced it meanwhile.
    pub fn put_back(&self, message: Message) {
        let mut inner = self.inner();
        let replaced = message.retain
            && inner
                .topics
                .get(&*message.topic)
                .is_some_and(|slot| !slot.queued.is_empty());
        if !replaced {
            inner.queue(&message.topic, message.payload, message.retain, true);
        }
    }

    /// Queue every retained topic's newest payload again (after a reconnect), unless its
    /// queue still holds one.
    pub fn requeue_retained(&self) {
        let mut inner = self.inner();
        let Inner { topics, order, .. } = &mut *inner;
        for (topic, slot) in topics.iter_mut() {
            if let Some(last) = &slot.last
                && slot.queued.is_empty()
            {
                slot.queued.push_back(last.clone());
                order.push_back(topic.clone());
            }
        }
    }

    /// The next message, topics taking turns.
    pub fn take(&self) -> Option<Message> {
        let mut inner = self.inner();
        let Inner { topics, order, .. } = &mut *inner;
        let topic = order.pop_front()?;
        let slot = topics.get_mut(&topic)?;
        let payload = slot.queued.pop_front()?;
        if !slot.queued.is_empty() {
            order.push_back(topic.clone());
        }
        Some(Message {
            topic,
            payload,
            retain: slot.retain,
        })
    }

    /// Resolves when another task may have posted something since the last call.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// How many messages are waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner().topics.values().map(|s| s.queued.len()).sum()
    }

    /// How many messages a newer one replaced since start.
    #[cfg(test)]
    pub fn replaced(&self) -> u64 {
        self.inner().replaced
    }

    /// The payload a retained topic would be sent again with after a reconnect.
    #[cfg(test)]
    pub fn retained(&self, topic: &str) -> Option<Bytes> {
        self.inner().topics.get(topic)?.last.clone()
    }
}

impl Inner {
    /// Queue `payload` on `topic`, at the tail (or, putting one back, at the head), dropping
    /// the oldest beyond the topic's cap.
    fn queue(&mut self, topic: &str, payload: Bytes, retain: bool, at_head: bool) {
        if !self.topics.contains_key(topic) {
            let key: Arc<str> = Arc::from(topic);
            let slot = Slot {
                topic: key.clone(),
                queued: VecDeque::new(),
                retain,
                last: None,
            };
            self.topics.insert(key, slot);
        }
        let Some(slot) = self.topics.get_mut(topic) else {
            return;
        };
        slot.retain = retain;
        if retain && !at_head {
            slot.last = Some(payload.clone());
        }
        let was_empty = slot.queued.is_empty();
        if at_head {
            slot.queued.push_front(payload);
        } else {
            slot.queued.push_back(payload);
        }
        let cap = if retain { RETAINED_BACKLOG } else { BACKLOG };
        while slot.queued.len() > cap {
            slot.queued.pop_front();
            self.replaced += 1;
        }
        if was_empty {
            if at_head {
                self.order.push_front(slot.topic.clone());
            } else {
                self.order.push_back(slot.topic.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(outbox: &Outbox, topic: &str, payload: &str, retain: bool) {
        outbox.put(topic, Bytes::from(payload.to_owned()), retain);
    }

    fn drain(outbox: &Outbox) -> Vec<(String, String)> {
        std::iter::from_fn(|| outbox.take())
            .map(|m| {
                let payload = String::from_utf8(m.payload.to_vec()).unwrap();
                (m.topic.to_string(), payload)
            })
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
        assert_eq!(counts, ["999"], "the newest value");
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

    #[test]
    fn a_message_put_back_is_sent_again_unless_a_newer_value_replaced_it() {
        let outbox = Outbox::default();
        put(&outbox, "e", "1", false);
        put(&outbox, "e", "2", false);
        put(&outbox, "p", "a", true);
        let first = outbox.take().unwrap();
        outbox.put_back(first);
        let stale = outbox.take().unwrap();
        assert_eq!(&*stale.payload, b"a");
        put(&outbox, "p", "b", true);
        outbox.put_back(stale);
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(t, p)| ((*t).to_owned(), (*p).to_owned()))
                .collect()
        };
        assert_eq!(
            drain(&outbox),
            pairs(&[("e", "1"), ("p", "b"), ("e", "2")]),
            "in order, and the stale `a` dropped"
        );
    }
}
