//! The object-safe [`Thing`] trait the server drives, and the metadata it describes itself by.
//!
//! `#[thing]` implements this trait; the server holds Things as `Arc<dyn Thing>` and never
//! knows their types. Values cross this boundary as JSON.

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use crate::action_body::PreparedAction;
use crate::endpoint::{EndpointCall, EndpointMetadata, EndpointRequest};
use crate::outcome::Failure;
use crate::property::PropertyObserver;
use crate::slot::{SlotMetadata, WrongSlotType};
use crate::stream::MjpegStream;
use crate::validate::ValidationErrors;

/// What a Thing is: its name in code, its documentation, and its affordances.
#[derive(Debug, Clone)]
pub struct ThingMetadata {
    /// The Rust type's name (the TD title, and the settings file's `Settings-<TypeName>.json`).
    pub type_name: &'static str,
    /// The TD `title`.
    pub title: String,
    /// The TD `description`, from the struct's doc comment.
    pub description: Option<String>,
    /// Data and functional properties, in declaration order.
    pub properties: Vec<PropertyMetadata>,
    /// Actions, in declaration order.
    pub actions: Vec<ActionMetadata>,
    /// Events, in declaration order.
    pub events: Vec<EventMetadata>,
    /// References to other Things, wired by the server before serving.
    pub slots: Vec<SlotMetadata>,
    /// MJPEG streams (`#[stream]` fields), in declaration order.
    pub streams: Vec<StreamMetadata>,
}

impl ThingMetadata {
    /// The property named `name`.
    pub fn property(&self, name: &str) -> Option<&PropertyMetadata> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The action named `name`.
    pub fn action(&self, name: &str) -> Option<&ActionMetadata> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The event named `name`.
    pub fn event(&self, name: &str) -> Option<&EventMetadata> {
        self.events.iter().find(|e| e.name == name)
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> Option<&StreamMetadata> {
        self.streams.iter().find(|s| s.name == name)
    }
}

/// Where a property's value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// A [`Property<T>`](crate::Property) field: reads and writes touch only memory.
    Data,
    /// A [`Setting<T>`](crate::Setting) field: a data property the server persists.
    Setting,
    /// Getter (and optional setter) methods, which may talk to hardware and block.
    Functional,
}

/// A property as described in the TD.
#[derive(Debug, Clone)]
pub struct PropertyMetadata {
    /// Its name (its URL segment).
    pub name: &'static str,
    /// Its title (the doc comment's first line).
    pub title: String,
    /// Its description (the whole doc comment).
    pub description: Option<String>,
    /// The value's DataSchema, constraints included.
    pub schema: Value,
    /// Whether clients may only read it.
    pub read_only: bool,
    /// A field or a getter.
    pub kind: PropertyKind,
    /// Whether the schema carries constraints that writes must be checked against.
    pub constrained: bool,
    /// Whether writes take the server's global lock, when it is enabled (`no_lock` opts out).
    pub uses_global_lock: bool,
    /// How the server polls a getter while someone observes it (`observe_every`); `None` for
    /// data properties (every write is announced) and for getters read only on demand.
    pub observe: Option<Observe>,
}

/// `#[property(observe_every = "…", min_change = …)]` on a getter: the server calls it every
/// `every` while the property is observed, and publishes a reading only when it changed
/// (for numbers, by at least `min_change`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observe {
    /// How often the getter is called while observed.
    pub every: std::time::Duration,
    /// The least change of a number that is published.
    pub min_change: Option<f64>,
}

impl PropertyMetadata {
    /// Whether clients can observe the property: every data property, and getters with
    /// `observe_every` (the TD then says `observable` and gives the SSE and WebSocket forms).
    pub fn observable(&self) -> bool {
        self.kind != PropertyKind::Functional || self.observe.is_some()
    }

    /// Whether `POST …/reset` applies: writable data properties (which always have a default).
    pub fn resettable(&self) -> bool {
        !self.read_only && self.kind != PropertyKind::Functional
    }
}

/// An action as described in the TD.
#[derive(Debug, Clone)]
pub struct ActionMetadata {
    /// Its name (its URL segment).
    pub name: &'static str,
    /// Its title (the doc comment's first line).
    pub title: String,
    /// Its description (the whole doc comment).
    pub description: Option<String>,
    /// Whether the action has parameters (else its input is `{}` or `null`).
    pub takes_input: bool,
    /// The JSON Schema of its input.
    pub input_schema: Value,
    /// The JSON Schema of its output.
    pub output_schema: Value,
    /// `async fn` actions run on the async runtime rather than on the action pool.
    pub is_async: bool,
    /// Whether the action holds the server's global lock while it runs, when the lock is
    /// enabled (`#[action(no_lock)]` opts out; `async` actions never take it).
    pub uses_global_lock: bool,
}

/// An event as described in the TD.
#[derive(Debug, Clone)]
pub struct EventMetadata {
    /// Its name (its URL segment).
    pub name: &'static str,
    /// Its title (the doc comment's first line).
    pub title: String,
    /// Its description (the whole doc comment).
    pub description: Option<String>,
    /// The DataSchema of the payload; `None` for events without one (`Event<()>`).
    pub data_schema: Option<Value>,
}

/// An MJPEG stream, linked from the TD (`rel: alternate`, `multipart/x-mixed-replace`).
#[derive(Debug, Clone)]
pub struct StreamMetadata {
    /// Its name (its URL segment).
    pub name: &'static str,
    /// Its title (the doc comment's first line).
    pub title: String,
    /// Its description (the whole doc comment).
    pub description: Option<String>,
}

/// Why a property operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PropertyError {
    /// No property with that name.
    #[error("no such property")]
    NotFound,
    /// The property can't be written (or reset).
    #[error("the property is read-only")]
    ReadOnly,
    /// The value doesn't fit the property's schema.
    #[error("invalid value: {0}")]
    Invalid(ValidationErrors),
    /// The getter or setter failed.
    #[error("{}: {}", .0.title, .0.detail)]
    Failed(Failure),
}

/// Why an action could not be started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    /// No action with that name.
    #[error("no such action")]
    NotFound,
    /// The input doesn't fit the action's input schema.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
}

/// A Thing the server can serve: implemented by `#[thing]` on an `impl` block.
pub trait Thing: Send + Sync + 'static {
    /// The Thing's description, built once.
    fn metadata(&self) -> &'static ThingMetadata;

    /// The current value of property `name`. A functional property's getter may block.
    fn read_property(&self, name: &str) -> Result<Value, PropertyError>;

    /// Validate `value` and write it to property `name`.
    fn write_property(&self, name: &str, value: Value) -> Result<(), PropertyError>;

    /// Restore property `name` to its default.
    fn reset_property(&self, name: &str) -> Result<(), PropertyError>;

    /// Write a saved value of setting `name` (from the settings file): validated like any
    /// write, but allowed for read-only settings too.
    fn restore_setting(&self, name: &str, value: Value) -> Result<(), PropertyError>;

    /// The default value of data property `name` (defaults belong to the instance: they are
    /// what its constructor passed to `Property::new`).
    fn property_default(&self, name: &str) -> Option<Value>;

    /// Validate the input of action `name` and bind it to the Thing, ready to run.
    /// `input` is `None` when the request had no body.
    fn prepare_action(
        self: Arc<Self>,
        name: &str,
        input: Option<Value>,
    ) -> Result<PreparedAction, PrepareError>;

    /// Bind every data property to this Thing's name (as served), its constraints and an
    /// observer told of each change, and every event to the same observer, told of each
    /// emission. Called once by the server before serving.
    fn attach(&self, thing_name: &str, observer: Arc<dyn PropertyObserver>);

    /// The `#[stream]` field `name`, for the server to serve.
    fn mjpeg_stream(&self, name: &str) -> Option<&MjpegStream> {
        let _ = name;
        None
    }

    /// The `#[endpoint]` methods, in declaration order: served under the Thing's path, not in
    /// its Thing Description.
    fn endpoints(&self) -> &'static [EndpointMetadata] {
        &[]
    }

    /// Bind `request` to the endpoint method `name` (an [`EndpointMetadata::name`]), ready to
    /// run; `None` if the Thing has no such endpoint.
    fn call_endpoint(
        self: Arc<Self>,
        name: &str,
        request: EndpointRequest,
    ) -> Option<EndpointCall> {
        let _ = (name, request);
        None
    }

    /// Put `target` (another served Thing) into slot `name`.
    fn wire_slot(
        &self,
        name: &str,
        target: Arc<dyn Any + Send + Sync>,
    ) -> Result<(), WrongSlotType>;

    /// Run before the server starts serving (the `#[on_start]` method, if any). An error stops
    /// the server from starting.
    fn on_start(&self) -> Result<(), Failure> {
        Ok(())
    }

    /// Run after the server has stopped serving (the `#[on_stop]` method, if any).
    fn on_stop(&self) {}
}
