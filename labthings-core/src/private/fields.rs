//! The data-property and event glue of generated code: a `Property`/`Setting` field's value
//! type, reading, validating and writing it, binding fields to the served Thing, and the
//! outcome of a getter or setter.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::probe::property_json;
use crate::event::{Event, EventBinding};
use crate::outcome::{Failure, Outcome};
use crate::probe::{Encoder, Probe};
use crate::property::{Property, PropertyBinding, PropertyObserver, Setting};
use crate::schema::data_schema;
use crate::thing::{PropertyError, PropertyMetadata};
use crate::validate::{ValidationErrors, validate};

/// The value type inside a `Property<T>` or `Setting<T>` field. It asks nothing of `T`: what a
/// value needs is checked once, at the field (`bounds::PropertyValue`), and generated code
/// reaches the value's operations through a probe ([`DataProperty`]), so a type without them is
/// that one error and not one more at every use.
pub trait PropertyField {
    type Value;
    fn property(&self) -> &Property<Self::Value>;
}

impl<T> PropertyField for Property<T> {
    type Value = T;
    fn property(&self) -> &Property<T> {
        self
    }
}

impl<T> PropertyField for Setting<T> {
    type Value = T;
    fn property(&self) -> &Property<T> {
        self
    }
}

/// `Arc<Property<T>>` / `Arc<Setting<T>>`: a property the Thing shares with a thread of its own
/// (a camera's frame producer reading its frame rate).
impl<F: PropertyField> PropertyField for Arc<F> {
    type Value = F::Value;
    fn property(&self) -> &Property<F::Value> {
        F::property(self)
    }
}

/// Bind an `#[event]` field to the served Thing `thing`, so that `emit` reaches `observer`;
/// `encode` is the payload's `Serialize`, through a [`Probe`](crate::probe::Probe) (so a payload type without it is
/// reported once, by the check at the field).
pub fn bind_event<T>(
    event: &Event<T>,
    thing: &str,
    name: &'static str,
    observer: &Arc<dyn PropertyObserver>,
    encode: Encoder<T>,
) {
    let binding = EventBinding {
        thing: Arc::from(thing),
        name,
        observer: observer.clone(),
    };
    event.bind_with(binding, encode);
}

/// What generated code does with a data property field whose value is a `T`, called as
/// `(&Probe::<T>::new()).read_data(&self.field)` with this trait and [`DataPropertyUnchecked`]
/// in scope: for a `T` without the value traits, method resolution falls back to the
/// unchecked impl, which never runs because the check at the field has failed the build.
pub trait DataProperty<T> {
    /// The value's JSON schema.
    fn property_schema(&self) -> Value;
    /// The value as JSON.
    fn read_data<F: PropertyField<Value = T>>(&self, field: &F) -> Result<Value, PropertyError>;
    /// Validate `value` against `schema`, decode it and store it.
    fn write_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        value: Value,
        schema: &Value,
    ) -> Result<(), PropertyError>;
    /// Put the default back.
    fn reset_data<F: PropertyField<Value = T>>(&self, field: &F);
    /// The default, as JSON.
    fn default_json<F: PropertyField<Value = T>>(&self, field: &F) -> Option<Value>;
    /// Bind the field to the served Thing `thing`, so that writes reach `observer`.
    fn bind_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        thing: &str,
        metadata: &'static PropertyMetadata,
        observer: &Arc<dyn PropertyObserver>,
    );
}

impl<T> DataProperty<T> for Probe<T>
where
    T: Clone + Serialize + DeserializeOwned + JsonSchema + Send + Sync,
{
    fn property_schema(&self) -> Value {
        data_schema::<T>()
    }

    fn read_data<F: PropertyField<Value = T>>(&self, field: &F) -> Result<Value, PropertyError> {
        property_json(&*field.property().read())
    }

    fn write_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        value: Value,
        schema: &Value,
    ) -> Result<(), PropertyError> {
        let value = decode_value(schema, value)?;
        field.property().set_validated(value);
        Ok(())
    }

    fn reset_data<F: PropertyField<Value = T>>(&self, field: &F) {
        field.property().reset();
    }

    fn default_json<F: PropertyField<Value = T>>(&self, field: &F) -> Option<Value> {
        serde_json::to_value(field.property().default_value()).ok()
    }

    fn bind_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        thing: &str,
        metadata: &'static PropertyMetadata,
        observer: &Arc<dyn PropertyObserver>,
    ) {
        field.property().bind(PropertyBinding {
            thing: Arc::from(thing),
            name: metadata.name,
            constraints: metadata.constrained.then_some(&metadata.schema),
            observer: observer.clone(),
        });
    }
}

const UNCHECKED: &str = "`#[thing]` checks a property's value type at its field";

pub trait DataPropertyUnchecked<T> {
    fn property_schema(&self) -> Value;
    fn read_data<F: PropertyField<Value = T>>(&self, field: &F) -> Result<Value, PropertyError>;
    fn write_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        value: Value,
        schema: &Value,
    ) -> Result<(), PropertyError>;
    fn reset_data<F: PropertyField<Value = T>>(&self, field: &F);
    fn default_json<F: PropertyField<Value = T>>(&self, field: &F) -> Option<Value>;
    fn bind_data<F: PropertyField<Value = T>>(
        &self,
        field: &F,
        thing: &str,
        metadata: &'static PropertyMetadata,
        observer: &Arc<dyn PropertyObserver>,
    );
}

impl<T> DataPropertyUnchecked<T> for &Probe<T> {
    fn property_schema(&self) -> Value {
        unreachable!("{UNCHECKED}")
    }
    fn read_data<F: PropertyField<Value = T>>(&self, _: &F) -> Result<Value, PropertyError> {
        unreachable!("{UNCHECKED}")
    }
    fn write_data<F: PropertyField<Value = T>>(
        &self,
        _: &F,
        _: Value,
        _: &Value,
    ) -> Result<(), PropertyError> {
        unreachable!("{UNCHECKED}")
    }
    fn reset_data<F: PropertyField<Value = T>>(&self, _: &F) {
        unreachable!("{UNCHECKED}")
    }
    fn default_json<F: PropertyField<Value = T>>(&self, _: &F) -> Option<Value> {
        unreachable!("{UNCHECKED}")
    }
    fn bind_data<F: PropertyField<Value = T>>(
        &self,
        _: &F,
        _: &str,
        _: &'static PropertyMetadata,
        _: &Arc<dyn PropertyObserver>,
    ) {
        unreachable!("{UNCHECKED}")
    }
}

/// Validate `value` against the property's `schema` and decode it as `T`.
pub fn decode_value<T: DeserializeOwned>(schema: &Value, value: Value) -> Result<T, PropertyError> {
    // Decoded from a borrow: the value is only kept for the error.
    decode_setter_value(schema, value, |value| T::deserialize(value))
}

/// A getter's or setter's `Result`, its value already converted (the getter's by
/// [`Emit::property_value`](super::Emit::property_value)), as the outcome of a read or write.
/// An accessor that returns a [`PropertyError`] itself chooses its answer:
/// `PropertyError::Invalid` refuses the value as a validation error would (422), e.g. when an
/// instrument refuses it.
pub fn accessor_result<T, E: std::fmt::Display + 'static>(
    result: Result<Result<T, PropertyError>, E>,
) -> Result<T, PropertyError> {
    match result {
        Ok(converted) => converted,
        Err(error) => {
            let mut slot = Some(error);
            let own = (&mut slot as &mut dyn std::any::Any)
                .downcast_mut::<Option<PropertyError>>()
                .and_then(Option::take);
            if let Some(own) = own {
                return Err(own);
            }
            let Some(error) = slot else {
                unreachable!("the slot is emptied only when it held a PropertyError")
            };
            match Outcome::from_result(Err::<(), E>(error)) {
                Outcome::Failed(failure) => Err(PropertyError::Failed(failure)),
                _ => Err(PropertyError::Failed(Failure {
                    title: "Cancelled".into(),
                    detail: "cancelled".into(),
                })),
            }
        }
    }
}

/// Validate `value` against a functional property's `schema`, then decode it for the setter.
pub fn decode_setter_value<T>(
    schema: &Value,
    value: Value,
    decode: impl FnOnce(&Value) -> Result<T, serde_json::Error>,
) -> Result<T, PropertyError> {
    let value = validate(schema, value).map_err(PropertyError::Invalid)?;
    decode(&value).map_err(|e| {
        PropertyError::Invalid(ValidationErrors::single(
            "value_error",
            format!("Value error, {e}"),
            value,
        ))
    })
}
