//! Live readings: the getters a Thing marks `#[property(observe_every = "…")]`, polled only
//! while someone observes them.
//!
//! Each polled getter gets a [`poller`] task when the server starts. It sleeps until the hub
//! counts an observer of the property (an SSE stream, a WebSocket observation, any binding
//! holding a `push::observed::ObserverGuard`), then calls the getter every interval on the
//! blocking pool and hands each reading to the hub, which publishes only changes.

pub mod poller;

use std::sync::Arc;

use labthings_core::Thing;
use tokio::sync::watch;

use crate::push::hub::ThingHub;

/// Start a poller for every polled getter of `thing`, until `stopped`.
pub fn start(thing: &Arc<dyn Thing>, hub: &Arc<ThingHub>, stopped: &watch::Receiver<bool>) {
    for property in &thing.metadata().properties {
        if let Some(observe) = property.observe {
            hub.poll(property.name, observe.min_change);
            let poller = poller::Poller {
                thing: thing.clone(),
                hub: hub.clone(),
                property: property.name,
                every: observe.every,
            };
            tokio::spawn(poller.run(stopped.clone()));
        }
    }
}
