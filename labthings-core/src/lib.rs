//! # LabThings for Rust — defining Things
//!
//! A *Thing* is an instrument (a camera, a stage, a sensor) described to the network as a W3C
//! Web of Thing: **properties** clients read and write, and **actions** clients invoke as
//! tracked, cancellable, logged invocations. This crate is how you write one; the
//! `labthings-server` crate serves it over HTTP and WebSocket with the wire protocol of the
//! Python `labthings-fastapi`.
//!
//! Mark the struct and one `impl` block with `#[thing]`:
//!
//! ```
//! use std::time::Duration;
//! use labthings_core::prelude::*;
//!
//! /// A mock translation stage.
//! #[thing]
//! pub struct Stage {
//!     /// Current position in steps.
//!     #[property(read_only)]
//!     position: Property<[i64; 3]>,
//!     /// Top speed in steps per second.
//!     #[setting(minimum = 1, maximum = 10_000)]
//!     speed: Setting<u32>,
//!     /// The stage arrived where a move was going.
//!     #[event]
//!     arrived: Event<[i64; 3]>,
//! }
//!
//! #[thing]
//! impl Stage {
//!     /// Move by a displacement.
//!     ///
//!     /// Cancelling stops the stage where it is.
//!     #[action]
//!     fn move_relative(
//!         &self,
//!         /// Steps along x, y and z.
//!         displacement: [i64; 3],
//!         /// Steps per move.
//!         #[param(default = 10, minimum = 1)]
//!         steps: u32,
//!         cancel: CancelHook,
//!         log: Logger,
//!         progress: Progress,
//!     ) -> Result<[i64; 3], Cancelled> {
//!         for step in 0..steps {
//!             cancel.sleep(Duration::from_millis(1))?; // returns at once on cancel
//!             self.position
//!                 .update(|p| {
//!                     for (axis, d) in p.iter_mut().zip(displacement) {
//!                         *axis += d / i64::from(steps);
//!                     }
//!                 })
//!                 .expect("position has no constraints");
//!             progress.update(u64::from(step) + 1, u64::from(steps));
//!         }
//!         log.info(format_args!("arrived at {:?}", self.position.get()));
//!         self.arrived.emit(self.position.get()); // to its subscribers, once served
//!         Ok(self.position.get())
//!     }
//!
//!     /// Driver temperature in °C.
//!     #[property]
//!     fn temperature(&self) -> f64 {
//!         21.5
//!     }
//! }
//!
//! // The server drives a Thing through the object-safe `Thing` trait:
//! use std::sync::Arc;
//! let stage = Arc::new(Stage {
//!     position: Property::new([0; 3]),
//!     speed: Setting::new(100),
//!     arrived: Event::new(),
//! });
//! let meta = stage.metadata();
//! assert_eq!(meta.action("move_relative").unwrap().title, "Move by a displacement.");
//! assert_eq!(stage.read_property("temperature").unwrap(), 21.5);
//!
//! let ctx = InvocationContext::new(InvocationId::new());
//! let call = stage.clone()
//!     .prepare_action("move_relative", Some(serde_json::json!({"displacement": [100, 0, -50]})))
//!     .unwrap();
//! assert_eq!(call.input["steps"], 10); // the declared default, filled in
//! let outcome = call.body.run_blocking(&ctx).ok().unwrap();
//! assert_eq!(outcome, Outcome::Completed(serde_json::json!([100, 0, -50])));
//! assert_eq!(ctx.log().snapshot()[0].message, "arrived at [100, 0, -50]");
//! assert_eq!(ctx.progress().get(), Some(1.0));
//! assert_eq!(meta.event("arrived").unwrap().title, "The stage arrived where a move was going.");
//! ```
//!
//! ## Rules
//!
//! - Actions take `&self`. Parameters typed [`InvocationId`], [`CancelHook`], [`Logger`] or
//!   [`Progress`], and parameters marked `#[inject]` whose type implements [`FromInvocation`],
//!   are *injected*; every other parameter is a field of the action's JSON input. Each injected
//!   resource is built once per invocation and shared. `progress.set(0.5)` (or
//!   `progress.update(done, total)`) reports how far the action has got to its observers.
//! - `#[param(default = EXPR, minimum = …)]` declares a default and constraints for a parameter;
//!   `Option<T>` parameters are optional.
//! - An action may return `T`, `Result<T, E>` with `E: Display`, or nothing. A [`Blob`]
//!   (binary data with a media type) is sent as a link to download it. `Err(Cancelled)`
//!   ends the invocation as `cancelled`; other errors and panics end it as `error`.
//! - Doc comments become titles (first line) and descriptions, for affordances and parameters.
//! - Data properties are `Property<T>` fields (`#[property]`) and persisted `Setting<T>` fields
//!   (`#[setting]`), with `read_only` and the constraints `minimum`, `maximum`,
//!   `exclusive_minimum`, `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`,
//!   `pattern`, enforced on every write once the Thing is served. Functional properties are
//!   `#[property]` getters, with an optional `#[setter(name)]`. An accessor whose error type
//!   is [`PropertyError`] answers with it: `PropertyError::Invalid` refuses the value as a
//!   failed validation does (422), e.g. when an instrument refuses it; other errors are 500s.
//! - Events are `#[event]` fields of type [`Event<T>`] (`T: Serialize + JsonSchema`, `()` for
//!   none), described in the TD with `T`'s schema as their `data` (`#[event(unit = "mm")]`
//!   adds the data's unit). `self.name.emit(value)` is
//!   synchronous, never blocks and never fails; before the Thing is served it does nothing.
//! - Live image streams are `#[stream]` fields of type [`MjpegStream`], served as MJPEG at
//!   `T<name>` (and a viewer page at `T<name>/viewer`) and linked from the TD.
//!   `self.name.add_frame(jpeg)` never blocks; [`MjpegStream::wait_for_watcher`] lets a camera
//!   make frames only while someone watches.
//! - Custom HTTP endpoints are `#[endpoint(get, path = "…")]` methods taking an
//!   [`EndpointRequest`] (or nothing) and returning an [`EndpointResponse`] (or bytes, text,
//!   JSON, a [`Blob`], a `Result` of one): served at `T<path>`, not in the TD. See [`mod@endpoint`].
//! - Affordance names (properties, actions, events and streams together) are unique, and
//!   `properties`, `events`, `ws` and `ui` are reserved for the server's own routes.
//!
//! ## Typed clients (the `client` feature)
//!
//! With `labthings-core = { …, features = ["client"] }`, `#[thing]` also generates
//! `<Thing>Client` next to each Thing: a client for a remote instance of it, over
//! `labthings-client` (re-exported as `labthings_core::client`), with the Thing's own types.
//! The crate that defines the Things then serves them and controls them remotely with the same
//! types, so a controller that no longer matches the Thing (a renamed action, a changed parameter type, a write of a
//! read-only property) is a compile error, not a 422 at run time.
//!
//! - `StageClient::connect(url).await?`, or `StageClient::from(thing_client)` for a client made
//!   with `client::ThingClient::builder` (a token, a timeout); `thing_client()` gives it back.
//! - One method per action, with its input parameters (the injected ones left out, `Option`
//!   and defaulted ones kept as plain parameters), giving its success type: the `T` of
//!   `Result<T, E>`. `start_<action>(…)` returns a `client::Invocation` to cancel or poll.
//! - Per property `<property>()`, `set_<property>(&value)` for writable ones only (so writing a
//!   read-only property doesn't compile), and `observe_<property>()` for data properties, a
//!   stream of the value type. Per event `subscribe_<event>()`, a stream of its payload type.
//! - Every method returns a `ClientFuture`: `.await` it for a `Result<T, client::Error>`, where
//!   a refused input is `client::Error::Validation` and a failed action
//!   `client::Error::Problem`.
//!
//! The methods of actions and functional properties are declared by the impl block's
//! `#[thing]` on a hidden type the client dereferences to; rustdoc lists only the client's
//! own (property and event) methods.
//!
//! The feature is this crate's, and the generated code is kept or dropped here: a Thing crate
//! declares nothing, and a build without the feature (a server) doesn't compile
//! `labthings-client` at all. Like every Cargo feature it is unified across a build, so any
//! crate enabling it gives every Thing in that build its client. Each client method asks of
//! the types it touches only what it needs (`Deserialize` for what it reads, `Serialize` for
//! what it sends), in its own `where` clause: a Thing whose action returns a `&'static str`
//! still builds, and only calling that method is an error. An action returning an alias of
//! `Result` (`io::Result<T>` is recognised; `MyResult<T>` is not) gives the whole type on the
//! client; write `Result<T, E>` to get `T`.
//!
#![warn(missing_docs)]
#![cfg_attr(
    feature = "client",
    doc = r#"```no_run
use labthings_core::client::{Error, ThingClient};
use labthings_core::prelude::*;

#[thing]
pub struct Counter {
    /// The count.
    #[property]
    count: Property<i64>,
    /// A serial number.
    #[property(read_only)]
    serial: Property<String>,
}

#[thing]
impl Counter {
    /// Add `by` to the count.
    #[action]
    fn add(&self, by: i64, log: Logger) -> Result<i64, Cancelled> {
        log.info("adding");
        Ok(self.count.update(|count| *count += by).map(|_| self.count.get()).unwrap_or(0))
    }
}

# async fn remote() -> Result<(), Error> {
let counter = CounterClient::from(
    ThingClient::builder().token("secret").connect("http://127.0.0.1:5000/counter/").await?,
);
counter.set_count(&40).await?;
let count: i64 = counter.add(2).await?;
assert_eq!(count, counter.count().await?);
let serial: String = counter.serial().await?; // no `set_serial`: it's read-only
# let _ = serial;
# Ok(())
# }
```"#
)]

mod action_body;
pub mod blob;
pub mod bounds;
mod cancel;
mod capture;
mod context;
pub mod endpoint;
mod event;
mod id;
mod log_budget;
mod log_records;
mod logger;
mod notify;
mod outcome;
#[doc(hidden)]
pub mod probe;
mod progress;
mod property;
pub mod schema;
mod slot;
mod stream;
mod td;
mod thing;
mod time;
pub mod validate;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use action_body::{ActionBody, BlockingBody, OutcomeFuture, PreparedAction};
pub use blob::Blob;
pub use cancel::{CancelHook, Cancelled};
pub use capture::{Captured, run_captured};
pub use context::{FromInvocation, InvocationContext};
pub use endpoint::{
    ChunkSender, EndpointBody, EndpointCall, EndpointMetadata, EndpointMethod, EndpointRequest,
    EndpointResponse, IntoEndpointResponse,
};
pub use event::Event;
pub use id::InvocationId;
pub use labthings_macros::{
    action, endpoint, event, inject, on_start, on_stop, param, property, setter, setting, slot,
    stream, thing,
};
/// The wire protocol: paths, reserved names, statuses (the `labthings-protocol` crate).
pub use labthings_protocol as protocol;
pub use log_budget::LogBudget;
pub use logger::{
    InvocationLog, LOG_BYTES, LOG_CAPACITY, LogLevel, LogRecord, Logger, set_capture_level,
};
pub use outcome::{Failure, Outcome};
pub use progress::Progress;
pub use property::{Property, PropertyObserver, Setting};
/// `schemars` 1.x, re-exported so that a Thing crate needs no dependency of its own for the
/// `JsonSchema` derive of its property, parameter and event types: write
/// `#[derive(labthings_core::schemars::JsonSchema)]` with
/// `#[schemars(crate = "labthings_core::schemars")]` (see the guide's "Properties and
/// settings" chapter).
pub use schemars;
/// `serde` 1.x (with its derives), re-exported for the same reason as [`schemars`]: derive
/// `labthings_core::serde::{Serialize, Deserialize}` with
/// `#[serde(crate = "labthings_core::serde")]`.
pub use serde;
/// `serde_json`, re-exported: its `Value` and `json!` are what custom endpoints and untyped
/// property access speak.
pub use serde_json;
pub use slot::{OptionalSlot, Slot, SlotMetadata, WrongSlotType};
pub use stream::{FrameError, MjpegStream, Watcher};
pub use td::{Served, insert_security, thing_description};
pub use thing::{
    ActionMetadata, EventMetadata, Observe, PrepareError, PropertyError, PropertyKind,
    PropertyMetadata, StreamMetadata, Thing, ThingMetadata,
};
pub use time::rfc3339;
pub use validate::{LocSegment, ValidationErrors, ValidationIssue};

/// The `labthings-client` crate, which the typed clients are made of (with the `client`
/// feature): `client::Error`, `client::ThingClient`, `client::Invocation`, …
#[cfg(feature = "client")]
pub use labthings_client as client;

/// What the methods of a typed client return (with the `client` feature): a future of the
/// affordance's typed result, to `.await`. (A boxed future rather than an `async fn`, so that a
/// method whose value can't be decoded is one error where it is called.)
#[cfg(feature = "client")]
pub type ClientFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = labthings_client::Result<T>> + Send + 'a>>;

/// Everything a Thing author needs: `use labthings_core::prelude::*;`.
pub mod prelude {
    pub use crate::endpoint::StatusCode;
    pub use crate::{
        Blob, CancelHook, Cancelled, EndpointMethod, EndpointRequest, EndpointResponse, Event,
        FromInvocation, InvocationContext, InvocationId, Logger, MjpegStream, OptionalSlot,
        Outcome, Progress, Property, Setting, Slot, Thing, action, endpoint, event, inject,
        on_start, on_stop, param, property, setter, setting, slot, stream, thing,
    };
}
