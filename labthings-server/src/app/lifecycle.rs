//! Start and stop hooks of the served Things, and the fan-out of property changes.

use std::sync::Arc;

use labthings_core::{PropertyObserver, Thing};
use serde_json::Value;

use crate::app::error::ServerError;

/// Runs the Things' `on_start` hooks in order and their `on_stop` hooks in reverse, off the
/// async runtime (they may talk to hardware).
pub(super) struct Lifecycle {
    pub(super) things: Vec<(String, Arc<dyn Thing>)>,
}

impl Lifecycle {
    pub(super) async fn start(&self) -> Result<(), ServerError> {
        for (index, (name, thing)) in self.things.iter().enumerate() {
            let hook_thing = thing.clone();
            let started = tokio::task::spawn_blocking(move || hook_thing.on_start()).await;
            let failure = match started {
                Ok(Ok(())) => continue,
                Ok(Err(failure)) => failure,
                Err(_) => labthings_core::Failure {
                    title: "Panic".into(),
                    detail: "the on_start hook panicked".into(),
                },
            };
            // Stop what already started, newest first.
            Lifecycle {
                things: self.things[..index].to_vec(),
            }
            .stop()
            .await;
            return Err(ServerError::StartHook {
                thing: name.clone(),
                title: failure.title,
                detail: failure.detail,
            });
        }
        Ok(())
    }

    pub(super) async fn stop(&self) {
        for (name, thing) in self.things.iter().rev() {
            let hook_thing = thing.clone();
            if tokio::task::spawn_blocking(move || hook_thing.on_stop())
                .await
                .is_err()
            {
                tracing::error!(thing = %name, "the on_stop hook panicked");
            }
        }
    }
}

/// Forwards property changes to every registered observer.
pub(super) struct Observers(pub(super) Vec<Arc<dyn PropertyObserver>>);

impl PropertyObserver for Observers {
    fn property_changed(&self, thing: &str, property: &str, value: &Value) {
        for observer in &self.0 {
            observer.property_changed(thing, property, value);
        }
    }

    fn event_emitted(&self, thing: &str, event: &str, data: &Value) {
        for observer in &self.0 {
            observer.event_emitted(thing, event, data);
        }
    }

    fn property_read(&self, thing: &str, property: &str, value: &Value) {
        for observer in &self.0 {
            observer.property_read(thing, property, value);
        }
    }
}
