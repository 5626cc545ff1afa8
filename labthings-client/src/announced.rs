//! Finding Things through an MQTT broker: every server run with `--mqtt` keeps each Thing's TD
//! retained on `{prefix}/{thing}` (prefix `labthings/<server name>` by default) and its status
//! (`online`/`offline`) on `{prefix}/{thing}/status`. Subscribing to `labthings/+/+` gets every
//! TD the broker holds at once; [`announced`] collects them and each connects over HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use labthings_protocol::mqtt::{Broker, word};
use labthings_protocol::td::ThingDescription;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use crate::client::{ClientBuilder, ThingClient};
use crate::error::{Error, Result};

/// Every server's Things under the default prefixes: `labthings/<server>/<thing>`.
pub const DEFAULT_FILTER: &str = "labthings/+/+";

/// Retained messages arrive right after the subscription is acknowledged; once none came for
/// this long, the broker has sent what it holds.
const QUIET: Duration = Duration::from_millis(300);

/// A Thing whose TD a broker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncedThing {
    /// The TD's topic, e.g. `labthings/lab-pc-5000/counter`.
    pub topic: String,
    /// Its TD.
    pub td: ThingDescription,
    /// What its status topic says: `Some(true)` for `online`, `Some(false)` for `offline`
    /// (its server stopped or died), `None` if it says nothing.
    pub online: Option<bool>,
}

impl AnnouncedThing {
    /// The Thing's name: the last segment of its topic.
    pub fn name(&self) -> &str {
        self.topic.rsplit('/').next().unwrap_or_default()
    }

    /// A client for it over HTTP (its TD's `base`), with `builder`'s options.
    pub fn connect(&self, builder: ClientBuilder) -> Result<ThingClient> {
        let base = self.td.base.as_deref().ok_or_else(|| {
            Error::Unsupported(format!("the TD on {} has no `base` URL", self.topic))
        })?;
        builder.from_td(self.td.clone(), base)
    }
}

/// The Things whose TDs the broker at `broker` (`mqtt://host[:port]`) holds on topics matching
/// `filter` (such as [`DEFAULT_FILTER`]), sorted by topic; retained messages that are not TDs
/// are skipped. Gives up after `timeout` if the broker does not answer.
pub async fn announced(
    broker: &str,
    filter: &str,
    timeout: Duration,
) -> Result<Vec<AnnouncedThing>> {
    let broker = Broker::parse(broker).map_err(|e| Error::Unsupported(e.0))?;
    if broker.tls {
        return Err(Error::Unsupported(format!(
            "`{}`: this client speaks plain MQTT only",
            broker.url()
        )));
    }
    let id = format!("labthings-client-{}", std::process::id());
    let mut options = MqttOptions::new(id, broker.host, broker.port);
    options.set_max_packet_size(16 * 1024 * 1024, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 4);
    let status = format!("{filter}/{}", word::STATUS);
    let status_suffix = format!("/{}", word::STATUS);
    let collect = async {
        let mut tds = BTreeMap::new();
        let mut statuses = BTreeMap::new();
        let mut subscribed = false;
        loop {
            let event = if subscribed {
                match tokio::time::timeout(QUIET, eventloop.poll()).await {
                    Ok(event) => event,
                    Err(_) => break, // quiet: everything retained has come
                }
            } else {
                eventloop.poll().await
            };
            match event.map_err(|e| Error::Transport(Box::new(e)))? {
                Event::Incoming(Packet::ConnAck(_)) => {
                    let filters = [filter.to_owned(), status.clone()]
                        .map(|f| rumqttc::SubscribeFilter::new(f, QoS::AtLeastOnce));
                    client
                        .try_subscribe_many(filters)
                        .map_err(|e| Error::Transport(Box::new(e)))?;
                }
                Event::Incoming(Packet::SubAck(_)) => subscribed = true,
                Event::Incoming(Packet::Publish(publish)) if publish.retain => {
                    if let Some(thing) = publish.topic.strip_suffix(&status_suffix) {
                        let online = match &publish.payload[..] {
                            b"online" => Some(true),
                            b"offline" => Some(false),
                            _ => None,
                        };
                        statuses.insert(thing.to_owned(), online);
                    } else if let Ok(td) =
                        serde_json::from_slice::<ThingDescription>(&publish.payload)
                    {
                        tds.insert(publish.topic.clone(), td);
                    }
                }
                _ => {}
            }
        }
        Ok::<_, Error>((tds, statuses))
    };
    let (tds, statuses) = tokio::time::timeout(timeout, collect)
        .await
        .map_err(|_| Error::Timeout(timeout))??;
    let _ = client.try_disconnect();
    Ok(tds
        .into_iter()
        .map(|(topic, td)| AnnouncedThing {
            online: statuses.get(&topic).copied().flatten(),
            topic,
            td,
        })
        .collect())
}
