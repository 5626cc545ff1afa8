//! Clearing what the broker still holds of Things this server no longer serves.
//!
//! A retained message outlives its publisher: a Thing renamed or taken out of the config would
//! stay on the broker for ever, its TD announcing it and its status saying `offline`. A Thing
//! is gone *for good* when the server starts without it: the topic prefix belongs to one
//! server, so at start-up (once the broker is reachable) every retained topic under the
//! prefix that names a Thing the server does not serve now — or a property a served Thing no
//! longer has — is cleared with an empty retained message. Stopping (or crashing) clears
//! nothing: the TDs stay, with status `offline`, since the Things come back with the server.
//!
//! The sweep has its own short-lived connection (client id `{client_id}`, which no Thing's
//! link uses). To know when the broker has sent every retained message, it publishes a marker
//! on a topic its own subscription covers, once the subscription is acknowledged: Mosquitto
//! queues the retained messages when it acknowledges, so the marker comes after them all.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::ControlFlow;

use rumqttc::{AsyncClient, Event, Packet, QoS};
use tokio::sync::watch;

use crate::mqtt::config::Resolved;
use crate::mqtt::link::{Polled, disconnect, poll_with_backoff};
use labthings_protocol::mqtt::word;

/// The marker's topic under the prefix: not a Thing name (those have no `.`).
pub const MARKER: &str = ".sweep";

/// What the server serves: each Thing's name and its properties' names.
pub type Served = BTreeMap<String, BTreeSet<String>>;

/// Clear the retained topics under `config.prefix` of Things (and properties) `served` does
/// not have; retry with backoff until the broker answers, or until `stop`.
pub async fn sweep(config: Resolved, served: Served, stop: watch::Receiver<bool>) {
    let mut options = config.options(config.client_id.clone());
    // Retained TDs can be large.
    options.set_max_packet_size(16 * 1024 * 1024, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let marker = format!("{}/{MARKER}", config.prefix);
    let mut retained = BTreeSet::new();
    // Topics to clear and how many clearings the broker has yet to acknowledge, once listed.
    let mut clearing: Option<(VecDeque<String>, usize)> = None;
    let swept = poll_with_backoff(&mut eventloop, stop, |polled| {
        match polled {
            Polled::Connected => {
                retained.clear();
                clearing = None;
                let all = format!("{}/#", config.prefix);
                let _ = client.try_subscribe(all, QoS::AtMostOnce);
            }
            Polled::Event(Event::Incoming(Packet::SubAck(_))) => {
                let _ = client.try_publish(marker.clone(), QoS::AtMostOnce, false, Vec::new());
            }
            Polled::Event(Event::Incoming(Packet::Publish(publish))) if clearing.is_none() => {
                if publish.topic == marker {
                    let stale = stale(&config.prefix, &retained, &served);
                    if stale.is_empty() {
                        return ControlFlow::Break(());
                    }
                    tracing::info!(
                        topics = stale.len(),
                        "MQTT: clearing the retained topics of Things this server no longer \
                         serves: {}",
                        gone(&config.prefix, &stale, &served).join(", ")
                    );
                    let count = stale.len();
                    clearing = Some((stale.into(), count));
                } else if publish.retain && !publish.payload.is_empty() {
                    retained.insert(publish.topic);
                }
            }
            Polled::Event(Event::Incoming(Packet::PubAck(_))) => {
                if let Some((queue, unacked)) = &mut clearing {
                    *unacked -= 1;
                    if queue.is_empty() && *unacked == 0 {
                        return ControlFlow::Break(());
                    }
                }
            }
            Polled::Event(_) => {}
            Polled::Failed(error, backoff) => {
                tracing::debug!("MQTT sweep: {error}; retrying in {backoff:?}");
            }
        }
        if let Some((queue, _)) = &mut clearing {
            // As many as rumqttc's request queue takes; the rest after the next event.
            while let Some(topic) = queue.front() {
                if client
                    .try_publish(topic.clone(), QoS::AtLeastOnce, true, Vec::new())
                    .is_err()
                {
                    break;
                }
                queue.pop_front();
            }
        }
        ControlFlow::Continue(())
    })
    .await;
    if swept {
        disconnect(&client, &mut eventloop).await;
    }
}

/// The topics of `retained` (under `prefix`) to clear: every one under a Thing `served` lacks,
/// and each property value of a property its Thing no longer has.
pub fn stale(prefix: &str, retained: &BTreeSet<String>, served: &Served) -> Vec<String> {
    retained
        .iter()
        .filter(|topic| {
            let Some(rest) = topic.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
                return false;
            };
            let mut words = rest.split('/');
            let thing = words.next().unwrap_or_default();
            match served.get(thing) {
                None => true,
                Some(properties) => match (words.next(), words.next(), words.next()) {
                    (Some(word::PROPERTIES), Some(name), None) => !properties.contains(name),
                    _ => false,
                },
            }
        })
        .cloned()
        .collect()
}

/// What the stale topics were, for the log line: a Thing's name, or a served Thing's
/// `thing/properties/name`.
fn gone(prefix: &str, stale: &[String], served: &Served) -> Vec<String> {
    let named: BTreeSet<&str> = stale
        .iter()
        .filter_map(|topic| topic.strip_prefix(prefix)?.strip_prefix('/'))
        .map(|rest| {
            let thing = rest.split('/').next().unwrap_or_default();
            if served.contains_key(thing) {
                rest
            } else {
                thing
            }
        })
        .collect();
    named.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_topics_are_those_of_things_and_properties_no_longer_served() {
        let served: Served = [(
            "counter".to_owned(),
            ["count".to_owned(), "limit".to_owned()].into(),
        )]
        .into();
        let retained: BTreeSet<String> = [
            "p/counter",
            "p/counter/status",
            "p/counter/properties/count",
            "p/counter/properties/renamed",
            "p/counter/properties/count/writeproperty",
            "p/old",
            "p/old/status",
            "p/old/properties/x",
            "p",
            "q/old",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(
            stale("p", &retained, &served),
            [
                "p/counter/properties/renamed",
                "p/old",
                "p/old/properties/x",
                "p/old/status"
            ]
        );
        assert_eq!(
            gone("p", &stale("p", &retained, &served), &served),
            ["counter/properties/renamed", "old"]
        );
    }
}
