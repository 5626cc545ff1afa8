//! What the types in a Thing must implement.
//!
//! `#[thing]` checks each type against one of these traits, at the type the author wrote, so a
//! missing derive is one error that says which derive to add, rather than one error per place
//! the generated code uses the type. Every type that has the underlying traits has these; there
//! is nothing to implement by hand.
//!
//! The traits name their requirements in the blanket impl, not as supertraits, and that impl
//! is `#[diagnostic::do_not_recommend]`: so rustc reports the unmet trait itself, with the
//! message below, instead of the `Serialize`/`Send`/… underneath it.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::blob::Blob;
use crate::endpoint::EndpointRequest;
use crate::outcome::{Failure, Outcome};
use crate::probe::Probe;
use crate::property::PropertyObserver;
use crate::slot::{SlotMetadata, WrongSlotType};
use crate::stream::MjpegStream;
use crate::thing::{EventMetadata, PropertyError, PropertyMetadata, StreamMetadata, ThingMetadata};
use serde_json::Value;
use std::any::Any;
use std::sync::Arc;

/// The type of an action parameter: decoded from JSON, described by a JSON schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be an action parameter: it must implement `Deserialize` and `JsonSchema`",
    label = "the server decodes this parameter from JSON and describes it in the Thing Description",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to the definition of `{Self}`"
)]
pub trait ActionParameter {
    #[doc(hidden)]
    const CHECKED: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema> ActionParameter for T {}

/// The type an action returns, or a property getter reads: sent as JSON, described by a JSON
/// schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be sent to clients: it must implement `Serialize` and `JsonSchema`",
    label = "the server sends this value as JSON and describes it in the Thing Description",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to the definition of `{Self}`"
)]
pub trait ReturnValue {
    /// Checks the type a `Probe` stands for: generated code only has a probe of a method's
    /// value type, the `T` of a returned `Result<T, E>` (see `__private::Split`).
    #[doc(hidden)]
    fn check(_: &Probe<Self>)
    where
        Self: Sized,
    {
    }
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + JsonSchema> ReturnValue for T {}

/// The payload `T` of an `#[event]` field `Event<T>`: sent as JSON, described by a JSON schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be an event payload: it must implement `Serialize` and `JsonSchema`",
    label = "the server sends this payload to subscribers as JSON and describes it in the Thing Description",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to the definition of `{Self}`"
)]
pub trait EventPayload {
    #[doc(hidden)]
    const CHECKED: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + JsonSchema> EventPayload for T {}

/// The value a property setter takes: decoded from JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be written by clients: it must implement `Deserialize`",
    label = "the server decodes the new value from JSON",
    note = "add `#[derive(serde::Deserialize)]` to the definition of `{Self}`"
)]
pub trait SetterValue {
    #[doc(hidden)]
    const CHECKED: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> SetterValue for T {}

/// What an `#[on_start]` method returns, when it returns something: `Result<(), E>`, whose
/// error stops the server starting.
#[diagnostic::on_unimplemented(
    message = "`#[on_start]` methods return nothing or `Result<(), E>`, not `{Self}`",
    label = "an error returned here stops the server starting",
    note = "return `Result<(), E>` (with `E: Display`) to report that starting failed, or nothing"
)]
pub trait StartResult {
    #[doc(hidden)]
    fn into_start_result(self) -> Result<(), Failure>;
}

impl<E: std::fmt::Display + 'static> StartResult for Result<(), E> {
    fn into_start_result(self) -> Result<(), Failure> {
        match Outcome::from_result(self) {
            Outcome::Failed(failure) => Err(failure),
            _ => Ok(()),
        }
    }
}

/// Implemented by nothing: a property whose value type is [`Blob`] fails this
/// bound, at the type. A blob's link names data an action's invocation keeps; a property read
/// has no invocation, so the link would be dead.
#[diagnostic::on_unimplemented(
    message = "a property can't hold a `Blob`: its link would name data nothing keeps",
    label = "a property's value is sent as JSON on every read; a `Blob` is kept (and served) only by the action invocation that returned it",
    note = "return the `Blob` from an `#[action]`, or serve the bytes from an `#[endpoint(get, …)]`"
)]
pub trait NotAPropertyValue {}

/// Chosen over `__private::PropertyValueCheck` for a probe of a `Blob`: the check fails here,
/// so rustc's note names this module rather than the hidden one.
impl Probe<Blob> {
    #[doc(hidden)]
    pub fn property_value_check(&self)
    where
        // Higher-ranked, so rustc defers this never-true bound to the call.
        for<'a> Blob: NotAPropertyValue,
    {
    }
}

/// The parameter of an `#[endpoint]` method: the request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be an endpoint's parameter: an endpoint takes the request, `EndpointRequest`",
    label = "the server passes the HTTP request here",
    note = "write `request: EndpointRequest` (its method, headers, query and body), or take no parameter"
)]
pub trait EndpointParameter {
    #[doc(hidden)]
    fn from_request(request: EndpointRequest) -> Self;
}

impl EndpointParameter for EndpointRequest {
    fn from_request(request: EndpointRequest) -> Self {
        request
    }
}

/// The value of a `#[property]` or `#[setting]` field (the `T` of `Property<T>`): shared
/// between the server's threads, sent and received as JSON, described by a JSON schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be a property's value: it must be `Send + Sync` and implement `Clone`, `Serialize`, `Deserialize` and `JsonSchema`",
    label = "the server shares this value between threads, sends and receives it as JSON, and describes it in the Thing Description",
    note = "add `#[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]` to the definition of `{Self}`; to share it between threads, use `Arc` rather than `Rc` and a `Mutex` rather than `Cell`/`RefCell`"
)]
pub trait PropertyValue {
    #[doc(hidden)]
    const CHECKED: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: Clone + Serialize + DeserializeOwned + JsonSchema + Send + Sync> PropertyValue for T {}

/// The type of any field of a Thing: the server shares a Thing between threads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be held by a Thing: the server shares a Thing between threads, so each field must be `Send + Sync`",
    label = "this field is not `Send + Sync`",
    note = "use `Arc` rather than `Rc`, atomics or a `Mutex` rather than `Cell`/`RefCell`, and put a handle that is `Send` but not `Sync` behind a `std::sync::Mutex`"
)]
pub trait ThreadSafe {
    #[doc(hidden)]
    const CHECKED: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: ?Sized + Send + Sync> ThreadSafe for T {}

/// What `#[thing]` on a struct tells `#[thing]` on its `impl` block: the data properties,
/// events and slots declared on fields, and the struct's documentation.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is missing `#[thing]` on its struct definition",
    label = "`#[thing]` on this impl block needs the struct to be marked too",
    note = "add `#[thing]` above `struct {Self}` (it declares the struct's properties, settings, events and slots)"
)]
pub trait ThingFields {
    const DATA_PROPERTY_NAMES: &'static [&'static str];
    const EVENT_NAMES: &'static [&'static str];
    const DESCRIPTION: Option<&'static str>;
    fn data_property_metadata() -> Vec<PropertyMetadata>;
    /// The `#[event]` fields, in declaration order.
    fn event_metadata() -> Vec<EventMetadata>;
    fn slot_metadata() -> Vec<SlotMetadata>;
    /// The `#[stream]` fields' names (none unless the struct declares some).
    const STREAM_NAMES: &'static [&'static str] = &[];
    /// The `#[stream]` fields, in declaration order.
    fn stream_metadata() -> Vec<StreamMetadata> {
        Vec::new()
    }
    /// The `#[stream]` field `name`.
    fn stream_field(&self, name: &str) -> Option<&MjpegStream> {
        let _ = name;
        None
    }
    fn wire_slot_field(
        &self,
        name: &str,
        target: Arc<dyn Any + Send + Sync>,
    ) -> Result<(), WrongSlotType>;
    fn read_data_property(&self, name: &str) -> Result<Value, PropertyError>;
    /// `schema` is the property's schema from the metadata.
    fn write_data_property(
        &self,
        name: &str,
        value: Value,
        schema: &Value,
    ) -> Result<(), PropertyError>;
    /// Write a saved value of setting `name`, read-only or not (the settings file's loader).
    fn restore_setting_field(
        &self,
        name: &str,
        value: Value,
        schema: &Value,
    ) -> Result<(), PropertyError>;
    fn reset_data_property(&self, name: &str) -> Result<(), PropertyError>;
    fn data_property_default(&self, name: &str) -> Option<Value>;
    /// Bind every data property and every event to the served Thing.
    fn attach_fields(
        &self,
        thing: &str,
        metadata: &'static ThingMetadata,
        observer: Arc<dyn PropertyObserver>,
    );
}

/// A value a typed client (`<Thing>Client`, with the `client` feature) reads: an action's
/// output, a property's value, an event's payload. Only the client methods that read such a
/// value require it, so a Thing whose output can't be decoded (a `&'static str`) still builds;
/// calling that one method is the error.
#[cfg(feature = "client")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be read by a typed client: it must implement `Deserialize` (owned)",
    label = "the client decodes this value from the server's JSON",
    note = "add `#[derive(serde::Deserialize)]` to the definition of `{Self}`; if it is an alias of `Result`, write the return type as `Result<T, E>` so that the typed client returns `T`"
)]
pub trait ClientReadable: DeserializeOwned {}

#[cfg(feature = "client")]
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> ClientReadable for T {}

/// A value a typed client sends: an action's parameter, a property's new value.
#[cfg(feature = "client")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be sent by a typed client: it must implement `Serialize`",
    label = "the client encodes this value as JSON",
    note = "add `#[derive(serde::Serialize)]` to the definition of `{Self}`"
)]
pub trait ClientWritable: Serialize {}

#[cfg(feature = "client")]
#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> ClientWritable for T {}

/// A type named `Blob` in an action's output, which the typed client returns as a
/// `labthings_client::RemoteBlob` (the link, which downloads itself): it must be this crate's
/// [`Blob`].
#[cfg(feature = "client")]
#[diagnostic::on_unimplemented(
    message = "the typed client takes `{Self}` for `labthings_core::Blob` and returns a `RemoteBlob` for it",
    label = "a type named `Blob` in an action's output is taken to be `labthings_core::Blob`",
    note = "rename this type, or return `labthings_core::Blob`"
)]
pub trait ServerBlob {}

#[cfg(feature = "client")]
impl ServerBlob for crate::blob::Blob {}

/// What a typed client's action or getter returns (`O`, read off the signature: the `T` of
/// `Result<T, E>`, else the whole type) fits what the Thing's method returns (`Self`): `Self`
/// is `O`, or a `Result<O, E>`. It fails for a type that is merely named `Result`.
#[cfg(feature = "client")]
#[diagnostic::on_unimplemented(
    message = "the typed client would return `{O}`, but the method returns `{Self}`",
    label = "`#[thing]` reads the success type off this signature",
    note = "write the return type as `Result<T, E>` (the standard one) so that the typed client returns `T`"
)]
pub trait ClientValue<O> {}

#[cfg(feature = "client")]
impl<T> ClientValue<T> for T {}

#[cfg(feature = "client")]
impl<T, E> ClientValue<T> for Result<T, E> {}

/// What `#[thing]` on an impl block adds to the typed client of its Thing: the type holding
/// the methods of its actions and functional properties, which `<Thing>Client` (declared by
/// the struct's `#[thing]`) dereferences to. Going through the Thing's type, the impl block
/// never names the client type, so a struct missing its `#[thing]` is one error, not two; and
/// the client requires it only where deferred bounds say so, so a struct without a `#[thing]`
/// impl block still builds.
#[cfg(feature = "client")]
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is missing `#[thing]` on its impl block",
    label = "the typed client of `{Self}` needs the methods `#[thing]` on its impl block declares",
    note = "add a `#[thing] impl {Self} {{}}` block (it declares the actions and implements `Thing`)"
)]
pub trait ClientActions {
    type Actions: From<labthings_client::ThingClient> + Send + Sync + 'static;
}
