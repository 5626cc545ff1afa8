//! The metadata generated code describes a Thing's affordances with.

use std::any::TypeId;

use serde_json::Value;

use crate::schema::apply_constraints;
use crate::slot::{SlotField, SlotMetadata};
use crate::thing::{EventMetadata, Observe, PropertyKind, PropertyMetadata, StreamMetadata};

/// Metadata of a property whose value has the data schema `schema`.
#[allow(clippy::too_many_arguments)]
pub fn property_metadata(
    mut schema: Value,
    name: &'static str,
    title: &str,
    description: Option<&str>,
    read_only: bool,
    kind: PropertyKind,
    uses_global_lock: bool,
    constraints: &[(&str, Value)],
) -> PropertyMetadata {
    apply_constraints(&mut schema, constraints);
    check_patterns(name, constraints);
    PropertyMetadata {
        name,
        title: title.to_owned(),
        description: description.map(str::to_owned),
        schema,
        read_only,
        kind,
        // `unit` describes without constraining: alone, it needs no check on writes.
        constrained: constraints.iter().any(|(keyword, _)| *keyword != "unit"),
        uses_global_lock,
        observe: None,
    }
}

/// `metadata` of a getter the server polls every `every_micros` µs while observed.
pub fn observed_every(
    mut metadata: PropertyMetadata,
    every_micros: u64,
    min_change: Option<f64>,
) -> PropertyMetadata {
    metadata.observe = Some(Observe {
        every: std::time::Duration::from_micros(every_micros),
        min_change,
    });
    metadata
}

/// An invalid `pattern` is a programming error in the Thing: say so when it is first described.
pub(super) fn check_patterns(name: &str, constraints: &[(&str, Value)]) {
    for (keyword, value) in constraints {
        if *keyword == "pattern"
            && let Some(Err(error)) = value.as_str().map(regex::Regex::new)
        {
            panic!("the `pattern` of `{name}` is not a valid regular expression: {error}");
        }
    }
}

/// Metadata of an `#[event]` field; `data_schema` is `None` for an `Event<()>`.
pub fn event_metadata(
    name: &'static str,
    title: &str,
    description: Option<&str>,
    mut data_schema: Option<Value>,
    unit: &[(&str, Value)],
) -> EventMetadata {
    if let Some(schema) = &mut data_schema {
        apply_constraints(schema, unit);
    }
    EventMetadata {
        name,
        title: title.to_owned(),
        description: description.map(str::to_owned),
        data_schema,
    }
}

/// Metadata of a `#[stream]` field.
pub fn stream_metadata(
    name: &'static str,
    title: &str,
    description: Option<&str>,
) -> StreamMetadata {
    StreamMetadata {
        name,
        title: title.to_owned(),
        description: description.map(str::to_owned),
    }
}

/// Metadata of a `Slot<T>` / `OptionalSlot<T>` field.
pub fn slot_metadata<F: SlotField>(name: &'static str) -> SlotMetadata {
    SlotMetadata {
        name,
        target_type: TypeId::of::<F::Target>(),
        target_type_name: std::any::type_name::<F::Target>(),
        optional: F::OPTIONAL,
    }
}
