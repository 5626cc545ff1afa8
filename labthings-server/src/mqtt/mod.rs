//! The W3C WoT MQTT binding: every Thing also served through a broker (`--mqtt URL`), from the
//! same hub and through the same write and invoke paths as HTTP. Topics are
//! `labthings_protocol::mqtt`'s.
//!
//! Each Thing has its own connection (its client id `{client_id}-{thing}`), so that its Last
//! Will can say `offline` on its own status topic. Per Thing, three tasks:
//!
//! - `link`: the connection's event loop, backoff, the link state (logged on change, reported
//!   in the directory TD's `mqtt` field), command messages in;
//! - `publish`: the pump, the hub → the outbox → the event loop (properties retained, events
//!   and statuses not), resubscribing and republishing after every reconnect; `outbox` is the
//!   bounded newest-value queue per topic in between, so nothing waits for the broker;
//! - `commands`: writes and invocations carried out through `ops/`, refusals on `errors`.
//!
//! Once per start, `sweep` clears the retained topics of Things the server no longer serves.
//! `td_forms` adds the MQTT forms to TDs; `config` reads `--mqtt` and the config's `"mqtt"`.

pub mod commands;
pub mod config;
pub mod link;
pub mod outbox;
pub mod publish;
pub mod sweep;
pub mod td_forms;
#[cfg(feature = "tls")]
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use labthings_protocol::mqtt::ThingTopics;
use labthings_protocol::paths::Origin;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::mqtt::config::Resolved;
use crate::mqtt::link::{Board, Link};
use crate::mqtt::outbox::Outbox;
use crate::mqtt::publish::{InvocationLinks, announce};
use crate::state::ServerState;

/// The running binding: its links, stopped at shutdown.
pub struct MqttLinks {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Start a link per Thing of `state`. `origin` is the HTTP origin the published TDs and
/// invocation links use.
pub fn start(
    state: &Arc<ServerState>,
    config: &Resolved,
    board: &Arc<Board>,
    origin: &Origin,
) -> MqttLinks {
    let (stop, stopped) = watch::channel(false);
    let served: sweep::Served = state
        .things
        .iter()
        .map(|thing| {
            let properties = thing.thing.metadata().properties.iter();
            (
                thing.name.to_string(),
                properties.map(|p| p.name.to_owned()).collect(),
            )
        })
        .collect();
    let mut tasks = vec![tokio::spawn(sweep::sweep(
        config.clone(),
        served,
        stopped.clone(),
    ))];
    for (index, served) in state.things.iter().enumerate() {
        let topics = ThingTopics::new(&config.prefix, &served.name);
        let outbox = Arc::new(Outbox::default());
        let heard = announce(served, &topics, origin, &outbox);
        let links = InvocationLinks {
            origin: origin.clone(),
            paths: state.paths.clone(),
        };
        let commands = commands::spawn(state.clone(), index, topics.clone(), outbox.clone());
        let link = Link {
            thing: served.name.clone(),
            topics,
            outbox,
            commands,
            board: board.clone(),
        };
        let (config, stopped, max_incoming) = (config.clone(), stopped.clone(), state.body_limit);
        tasks.push(tokio::spawn(async move {
            link.run(&config, max_incoming, heard, links, stopped).await;
        }));
    }
    MqttLinks { stop, tasks }
}

impl MqttLinks {
    /// Say `offline` on every Thing's status topic and disconnect, waiting at most `within`.
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(true);
        let all = futures_util::future::join_all(self.tasks);
        let _ = tokio::time::timeout(within, all).await;
    }
}
