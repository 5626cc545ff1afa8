//! Reading and writing a property: data properties inline, functional ones (whose getter and
//! setter may block on hardware) on tokio's blocking pool, and anything that must first take
//! the global lock (which may wait 50 ms) off the runtime too.

use std::sync::Arc;

use labthings_core::{PropertyError, PropertyKind, PropertyMetadata, Thing};
use labthings_protocol::problem::Problem;
use serde_json::Value;

use crate::runtime::blocking::on_thread;
use crate::runtime::lock::GlobalLock;
use crate::runtime::provenance::{self, Provenance, WriteSource};
use crate::state::{ServedThing, ServerState};

/// Why an operation on a property failed: the Thing refused it, or its method never returned
/// (a panic, a busy global lock).
#[derive(Debug)]
pub enum OpError {
    Property(PropertyError),
    Problem(Problem),
}

impl From<PropertyError> for OpError {
    fn from(error: PropertyError) -> Self {
        Self::Property(error)
    }
}

impl From<Problem> for OpError {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

/// Run `operation` on the Thing: inline for data properties, off the runtime for functional
/// ones and for anything that must first take the global `lock`.
pub async fn on_thing<T: Send + 'static>(
    served: &ServedThing,
    kind: PropertyKind,
    lock: Option<Arc<GlobalLock>>,
    operation: impl FnOnce(&dyn Thing) -> Result<T, PropertyError> + Send + 'static,
) -> Result<T, OpError> {
    if kind != PropertyKind::Functional && lock.is_none() {
        return Ok(operation(served.thing.as_ref())?);
    }
    let thing = served.thing.clone();
    let call = move || operation(thing.as_ref());
    Ok(on_thread(lock, "the property method", call).await??)
}

/// Write `value` as a `PUT` does: validated by the Thing, under the global lock when the
/// property uses it, heard by the observers (settings, push, MQTT, history, which records
/// `source` as where it came from).
pub async fn write(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
    value: Value,
    source: WriteSource,
) -> Result<(), OpError> {
    let name = property.name;
    let lock = state.lock_for(property.uses_global_lock);
    on_thing(served, property.kind, lock, move |thing| {
        provenance::with(Provenance::direct(source), || {
            thing.write_property(name, value)
        })
    })
    .await
}

/// Reset the property to its default as `POST T<prop>/reset` does: like a write, under the
/// global lock when the property uses it, recorded as a reset.
pub async fn reset(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
) -> Result<(), OpError> {
    let name = property.name;
    let lock = state.lock_for(property.uses_global_lock);
    on_thing(served, property.kind, lock, move |thing| {
        provenance::with(Provenance::direct(WriteSource::Reset), || {
            thing.reset_property(name)
        })
    })
    .await
}
