//! Uses of the author's types that can't fail to compile, so that a missing derive is reported
//! once, by the check `#[thing]` emits at the type (see [`crate::bounds`]), and not again at
//! every place generated code uses the type.
//!
//! Generated code calls `(&Probe::<T>::new()).method(…)` with the traits below in scope. When
//! `T` has the needed trait, method resolution picks the impl on `Probe<T>`, which does the
//! work; otherwise it falls back to the impl on `&Probe<T>` (autoref specialization), which is
//! never run because the check has already failed the build.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::blob;
use crate::outcome::{Failure, Outcome};
use crate::probe::{Encoder, Probe};
use crate::schema::data_schema;
use crate::thing::PropertyError;

const UNCHECKED: &str = "`#[thing]` emits a failing check for a type without the needed trait";

/// Decoding a value of `T`.
pub trait Decode<T> {
    fn decode<'de, D: Deserializer<'de>>(&self, deserializer: D) -> Result<T, D::Error>;
}

impl<T: DeserializeOwned> Decode<T> for Probe<T> {
    fn decode<'de, D: Deserializer<'de>>(&self, deserializer: D) -> Result<T, D::Error> {
        // `DeserializeOwned` holds for every lifetime, `'de` among them.
        T::deserialize(deserializer)
    }
}

pub trait DecodeUnchecked<T> {
    fn decode<'de, D: Deserializer<'de>>(&self, deserializer: D) -> Result<T, D::Error>;
}

impl<T> DecodeUnchecked<T> for &Probe<T> {
    fn decode<'de, D: Deserializer<'de>>(&self, _: D) -> Result<T, D::Error> {
        unreachable!("{UNCHECKED}")
    }
}

/// Encoding a value of `T`. Unlike the others, its fallback runs: a parameter's default is
/// shown in the schema only when it can be serialized (as schemars does), so here it fails
/// softly.
pub trait Encode<T> {
    fn encode<S: Serializer>(&self, value: &T, serializer: S) -> Result<S::Ok, S::Error>;
}

impl<T: Serialize> Encode<T> for Probe<T> {
    fn encode<S: Serializer>(&self, value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }
}

pub trait EncodeUnchecked<T> {
    fn encode<S: Serializer>(&self, value: &T, serializer: S) -> Result<S::Ok, S::Error>;
}

impl<T> EncodeUnchecked<T> for &Probe<T> {
    fn encode<S: Serializer>(&self, _: &T, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this type is not `Serialize`"))
    }
}

/// `T`'s JSON schema, method by method as `JsonSchema` has them.
pub trait Describe {
    fn inline_schema(&self) -> bool;
    fn schema_name(&self) -> Cow<'static, str>;
    fn schema_id(&self) -> Cow<'static, str>;
    fn json_schema(&self, generator: &mut SchemaGenerator) -> Schema;
    fn non_optional_json_schema(&self, generator: &mut SchemaGenerator) -> Schema;
    fn is_option(&self) -> bool;
    /// The schema of a value as the Thing Description shows it.
    fn data_schema(&self) -> Value;
}

impl<T: JsonSchema> Describe for Probe<T> {
    fn inline_schema(&self) -> bool {
        T::inline_schema()
    }
    fn schema_name(&self) -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id(&self) -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
    fn non_optional_json_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        T::_schemars_private_non_optional_json_schema(generator)
    }
    fn is_option(&self) -> bool {
        T::_schemars_private_is_option()
    }
    fn data_schema(&self) -> Value {
        data_schema::<T>()
    }
}

pub trait DescribeUnchecked {
    fn inline_schema(&self) -> bool;
    fn schema_name(&self) -> Cow<'static, str>;
    fn schema_id(&self) -> Cow<'static, str>;
    fn json_schema(&self, generator: &mut SchemaGenerator) -> Schema;
    fn non_optional_json_schema(&self, generator: &mut SchemaGenerator) -> Schema;
    fn is_option(&self) -> bool;
    fn data_schema(&self) -> Value;
}

impl<T> DescribeUnchecked for &Probe<T> {
    fn inline_schema(&self) -> bool {
        unreachable!("{UNCHECKED}")
    }
    fn schema_name(&self) -> Cow<'static, str> {
        unreachable!("{UNCHECKED}")
    }
    fn schema_id(&self) -> Cow<'static, str> {
        unreachable!("{UNCHECKED}")
    }
    fn json_schema(&self, _: &mut SchemaGenerator) -> Schema {
        unreachable!("{UNCHECKED}")
    }
    fn non_optional_json_schema(&self, _: &mut SchemaGenerator) -> Schema {
        unreachable!("{UNCHECKED}")
    }
    fn is_option(&self) -> bool {
        unreachable!("{UNCHECKED}")
    }
    fn data_schema(&self) -> Value {
        unreachable!("{UNCHECKED}")
    }
}

/// A value of `T` on its way to a client: an action's outcome, a property's value or an event's
/// payload.
pub trait Emit<T> {
    fn outcome(&self, value: T) -> Outcome;
    fn property_value(&self, value: T) -> Result<Value, PropertyError>;
    fn encoder(&self) -> Encoder<T>;
}

impl<T: Serialize> Emit<T> for Probe<T> {
    fn encoder(&self) -> Encoder<T> {
        |value| serde_json::to_value(value)
    }
    fn outcome(&self, value: T) -> Outcome {
        Outcome::from_value(value)
    }
    fn property_value(&self, value: T) -> Result<Value, PropertyError> {
        property_json(&value)
    }
}

/// A property's value as JSON. One holding a [`Blob`](crate::Blob) deeper than `#[thing]` can see (in an
/// `Option`, a `Vec`, a struct) fails the read: its link would be dead, since only an action's
/// invocation keeps a blob's data to serve.
pub fn property_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, PropertyError> {
    let (json, blobs) = blob::collect(|| serde_json::to_value(value));
    if !blobs.is_empty() {
        return Err(PropertyError::Failed(Failure {
            title: "BlobInProperty".into(),
            detail: BLOB_IN_PROPERTY.into(),
        }));
    }
    json.map_err(|e| {
        PropertyError::Failed(Failure {
            title: "SerializationError".into(),
            detail: e.to_string(),
        })
    })
}

const BLOB_IN_PROPERTY: &str = "a property's value can't hold a Blob: its link would name data \
nothing keeps; return the Blob from an action, or serve the bytes from an endpoint";

/// The check that a property's value type isn't [`Blob`](crate::Blob): `#[thing]` calls
/// `(&probe).property_value_check()`; for `Probe<Blob>` the inherent method in `bounds` is
/// chosen, whose bound fails with `NotAPropertyValue`'s message, at the author's type.
pub trait PropertyValueCheck {
    fn property_value_check(&self) {}
}

impl<T> PropertyValueCheck for Probe<T> {}

pub trait EmitUnchecked<T> {
    fn outcome(&self, value: T) -> Outcome;
    fn property_value(&self, value: T) -> Result<Value, PropertyError>;
    fn encoder(&self) -> Encoder<T>;
}

impl<T> EmitUnchecked<T> for &Probe<T> {
    fn encoder(&self) -> Encoder<T> {
        |_| unreachable!("{UNCHECKED}")
    }
    fn outcome(&self, _: T) -> Outcome {
        unreachable!("{UNCHECKED}")
    }
    fn property_value(&self, _: T) -> Result<Value, PropertyError> {
        unreachable!("{UNCHECKED}")
    }
}

/// What a method returned, split into its value and, for a `Result`, its error. The compiler
/// tells a `Result` apart (an alias of `Result` counts; a struct named `SearchResult` doesn't),
/// so `#[thing]` never guesses from a type's name. `value_probe` gives a probe of the value's
/// type, for its schema and its check.
pub trait Split<R> {
    type Value;
    type Error;
    fn split(&self, returned: R) -> Result<Self::Value, Self::Error>;
    fn value_probe(&self) -> Probe<Self::Value> {
        Probe::new()
    }
}

impl<T, E> Split<Result<T, E>> for Probe<Result<T, E>> {
    type Value = T;
    type Error = E;
    fn split(&self, returned: Result<T, E>) -> Result<T, E> {
        returned
    }
}

pub trait SplitPlain<R> {
    type Value;
    type Error;
    fn split(&self, returned: R) -> Result<Self::Value, Self::Error>;
    fn value_probe(&self) -> Probe<Self::Value> {
        Probe::new()
    }
}

impl<R> SplitPlain<R> for &Probe<R> {
    type Value = R;
    type Error = std::convert::Infallible;
    fn split(&self, returned: R) -> Result<R, std::convert::Infallible> {
        Ok(returned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::Blob;

    #[test]
    fn a_property_value_holding_a_blob_is_refused() {
        let blob = Blob::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]);
        let Err(PropertyError::Failed(failure)) = property_json(&vec![Some(blob)]) else {
            panic!("a blob inside a property's value must fail the read");
        };
        assert_eq!(failure.title, "BlobInProperty");
        assert_eq!(
            property_json(&vec![Some(1)]).unwrap(),
            serde_json::json!([1])
        );
    }
}
