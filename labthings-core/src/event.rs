//! Events: things that happen to a Thing, pushed to subscribers with a typed payload.
//!
//! An `#[event]` field of type [`Event<T>`] appears in the Thing Description under `events`,
//! with `T`'s schema as its `data`. [`Event::emit`] is synchronous, never blocks and never
//! fails: it hands the payload, as JSON, to the observer the server bound the event to, which
//! queues it for subscribers without waiting for any of them. Before the Thing is served an
//! event has no observer, and `emit` does nothing.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::property::PropertyObserver;

/// What binding an event to a served Thing gives it.
#[doc(hidden)]
pub struct EventBinding {
    pub thing: Arc<str>,
    pub name: &'static str,
    pub observer: Arc<dyn PropertyObserver>,
}

/// Turns a payload into JSON: `serde_json::to_value`, chosen where `T: Serialize` is known.
type Encode<T> = crate::probe::Encoder<T>;

/// An event bound to a served Thing, with the way to encode its payload.
struct Bound<T> {
    binding: EventBinding,
    encode: Encode<T>,
}

/// An event a Thing emits, with a payload of type `T` (`()` for none).
///
/// ```
/// use labthings_core::Event;
/// let overheated: Event<f64> = Event::new();
/// overheated.emit(71.5); // not served yet: nobody hears it, and nothing fails
/// ```
pub struct Event<T> {
    bound: OnceLock<Bound<T>>,
}

// Nothing here asks anything of `T`: that its payload is `Serialize + JsonSchema` is checked
// once, by `#[thing]` at the field's type (`bounds::EventPayload`), which then binds the event
// with an encoder. Bounds here would repeat that one error at every `Event::new()` and `emit`.
impl<T> Event<T> {
    /// An event not yet bound to a served Thing.
    pub fn new() -> Self {
        Self {
            bound: OnceLock::new(),
        }
    }

    /// Announce the event to its subscribers. Never blocks and never fails: a payload that
    /// can't be serialised (a map with non-string keys, say) is logged and dropped.
    pub fn emit(&self, data: T) {
        let Some(Bound { binding, encode }) = self.bound.get() else {
            return;
        };
        match encode(&data) {
            Ok(json) => binding
                .observer
                .event_emitted(&binding.thing, binding.name, &json),
            Err(error) => tracing::warn!(
                thing = %binding.thing,
                event = binding.name,
                "event payload not emitted, it has no JSON form: {error}"
            ),
        }
    }

    /// Bind to a served Thing, encoding payloads with `encode`. An event is bound at most
    /// once; later calls are ignored.
    #[doc(hidden)]
    pub fn bind_with(&self, binding: EventBinding, encode: Encode<T>) {
        let _ = self.bound.set(Bound { binding, encode });
    }
}

impl<T: Serialize> Event<T> {
    /// Bind to a served Thing. An event is bound at most once; later calls are ignored.
    #[doc(hidden)]
    pub fn bind(&self, binding: EventBinding) {
        self.bind_with(binding, |data| serde_json::to_value(data));
    }
}

impl<T> Default for Event<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.bound.get().map(|b| b.binding.name);
        f.debug_struct("Event").field("name", &name).finish()
    }
}
