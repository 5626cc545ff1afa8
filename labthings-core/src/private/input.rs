//! An action's input: its schema, and validating and decoding a request's body into the
//! hidden input type, with a parameter's own decoding error placed at that parameter.

use std::cell::Cell;

use schemars::JsonSchema;
use serde::Deserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;

use super::metadata::check_patterns;
use crate::action_body::OutcomeFuture;
use crate::outcome::Outcome;
use crate::schema::{apply_constraints, data_schema, titled};
use crate::thing::{ActionMetadata, PrepareError};
use crate::validate::{LocSegment, ValidationErrors, validate_action_input};

/// The input schema of an action whose parameters make up `I`, with per-parameter constraints.
pub fn action_input_schema<I: JsonSchema>(
    action: &str,
    constraints: &[(&str, &[(&str, Value)])],
) -> Value {
    let mut schema = data_schema::<I>();
    for (field, field_constraints) in constraints {
        if let Some(field_schema) = schema.get_mut("properties").and_then(|p| p.get_mut(*field)) {
            apply_constraints(field_schema, field_constraints);
            check_patterns(field, field_constraints);
        }
    }
    titled(&format!("{action}_input"), schema)
}

/// Validate an action's input and decode it as `I` (the hidden input type).
pub fn parse_input<I: DeserializeOwned>(
    metadata: &ActionMetadata,
    input: Option<Value>,
) -> Result<(Value, I), PrepareError> {
    let value = validate_action_input(&metadata.input_schema, metadata.takes_input, input)
        .map_err(PrepareError::Invalid)?;
    let failed_at = Cell::new(None);
    let decoded = I::deserialize(FieldTracking {
        value: &value,
        failed_at: &failed_at,
    })
    .map_err(|e| {
        // A parameter's own `Deserialize` refused its value (e.g. a blob link naming no blob
        // this server keeps): the issue is at that parameter, as pydantic places it.
        let field = failed_at
            .get()
            .and_then(|index| value.as_object()?.iter().nth(index));
        let mut errors = ValidationErrors::single(
            "value_error",
            format!("Value error, {e}"),
            field.map_or_else(|| value.clone(), |(_, input)| input.clone()),
        );
        if let Some((name, _)) = field {
            errors = errors.prefixed(LocSegment::Field(name.clone()));
        }
        PrepareError::Invalid(errors)
    })?;
    Ok((value, decoded))
}

/// Deserializes a JSON object like `&Value` does, noting the position (in the object's order)
/// of the field whose value failed to decode.
struct FieldTracking<'a> {
    value: &'a Value,
    failed_at: &'a Cell<Option<usize>>,
}

impl<'de> Deserializer<'de> for FieldTracking<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.value.deserialize_any(TrackingVisitor {
            inner: visitor,
            failed_at: self.failed_at,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct TrackingVisitor<'a, V> {
    inner: V,
    failed_at: &'a Cell<Option<usize>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TrackingVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(TrackingMap {
            inner: map,
            index: 0,
            failed_at: self.failed_at,
        })
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
}

struct TrackingMap<'a, A> {
    inner: A,
    index: usize,
    failed_at: &'a Cell<Option<usize>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TrackingMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let result = self.inner.next_value_seed(seed);
        if result.is_err() {
            self.failed_at.set(Some(self.index));
        }
        self.index += 1;
        result
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Validate the input of an action without parameters (`{}`, `null` or no body).
pub fn parse_no_input(
    metadata: &ActionMetadata,
    input: Option<Value>,
) -> Result<Value, PrepareError> {
    validate_action_input(&metadata.input_schema, false, input).map_err(PrepareError::Invalid)
}

/// Box an `async` action body.
pub fn async_body<F>(future: F) -> OutcomeFuture
where
    F: std::future::Future<Output = Outcome> + Send + 'static,
{
    Box::pin(future)
}
