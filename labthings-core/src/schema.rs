//! JSON Schemas from Rust types, in the form a Thing Description accepts.
//!
//! `schemars` describes a type; a TD DataSchema differs from that in a few ways this module
//! irons out: no `$ref` (every subschema inlined), `oneOf` instead of `anyOf`, a single
//! `type` string (never an array), and no schemars-only numeric `format`s.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The TD DataSchema of `T`.
pub fn data_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    // The root title is the Rust type's name, which means nothing to a client.
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
    }
    to_data_schema(&mut schema);
    schema
}

/// Rewrite a schemars schema in place into TD DataSchema form (see the module docs).
pub fn to_data_schema(schema: &mut Value) {
    if let Value::Bool(_) = schema {
        // `true` (any value) has no TD spelling but the empty schema.
        *schema = Value::Object(Map::new());
        return;
    }
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    for key in ["$schema", "$id", "definitions", "$defs"] {
        object.remove(key);
    }
    if let Some(any_of) = object.remove("anyOf") {
        object.insert("oneOf".into(), any_of);
    }
    if let Some(Value::String(format)) = object.get("format")
        && is_numeric_format(format)
    {
        object.remove("format");
    }
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        split_type_array(object, &types);
    }
    for (key, child) in object.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Some(properties) = child.as_object_mut() {
                    properties.values_mut().for_each(to_data_schema);
                }
            }
            "items" | "additionalProperties" | "not" => {
                if let Value::Array(items) = child {
                    items.iter_mut().for_each(to_data_schema);
                } else if child.is_object() {
                    to_data_schema(child);
                }
            }
            "oneOf" | "allOf" => {
                if let Some(branches) = child.as_array_mut() {
                    branches.iter_mut().for_each(to_data_schema);
                }
            }
            _ => {}
        }
    }
}

fn is_numeric_format(format: &str) -> bool {
    matches!(
        format,
        "int"
            | "uint"
            | "int8"
            | "uint8"
            | "int16"
            | "uint16"
            | "int32"
            | "uint32"
            | "int64"
            | "uint64"
            | "int128"
            | "uint128"
            | "float"
            | "double"
    )
}

/// `{"type": ["integer", "null"], "minimum": 0}` → `{"oneOf": [{"type": "integer",
/// "minimum": 0}, {"type": "null"}]}`: a TD's `type` is one string.
fn split_type_array(object: &mut Map<String, Value>, types: &[Value]) {
    const SHARED: [&str; 7] = [
        "title",
        "description",
        "default",
        "readOnly",
        "writeOnly",
        "examples",
        "deprecated",
    ];
    object.remove("type");
    let specific: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| !SHARED.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    object.retain(|key, _| SHARED.contains(&key.as_str()));
    let branches: Vec<Value> = types
        .iter()
        .map(|kind| {
            if kind == "null" {
                json!({ "type": "null" })
            } else {
                let mut branch = specific.clone();
                branch.insert("type".into(), kind.clone());
                Value::Object(branch)
            }
        })
        .collect();
    object.insert("oneOf".into(), Value::Array(branches));
}

/// Add constraint keywords (`minimum`, `maxLength`, `pattern` …) to a schema. For an optional
/// value (`oneOf` with `null`) they go onto the non-null branches.
pub fn apply_constraints(schema: &mut Value, constraints: &[(&str, Value)]) {
    if constraints.is_empty() {
        return;
    }
    if let Some(Value::Array(branches)) = schema.get_mut("oneOf") {
        for branch in branches.iter_mut() {
            if branch.get("type").and_then(Value::as_str) != Some("null") {
                apply_constraints(branch, constraints);
            }
        }
        return;
    }
    if let Some(object) = schema.as_object_mut() {
        for (keyword, value) in constraints {
            object.insert((*keyword).to_owned(), value.clone());
        }
    }
}

/// The input schema of an action without parameters: an empty object or `null`, as the
/// reference describes it.
pub fn no_input_schema(action: &str) -> Value {
    json!({
        "description": "Represent the input of an action that never takes parameters.\n\nThis may be either an empty dictionary or ``None``.",
        "title": format!("{action}_input"),
        "oneOf": [
            {
                "description": "A model representing an object that must have no keys.",
                "title": "StrictEmptyObject",
                "type": "object",
                "properties": {},
                "additionalProperties": false
            },
            { "type": "null" }
        ]
    })
}

/// `schema` with `title` as its first key (the reference puts titles first).
pub fn titled(title: &str, schema: Value) -> Value {
    let mut titled = Map::new();
    titled.insert("title".into(), Value::String(title.to_owned()));
    if let Value::Object(rest) = schema {
        for (key, value) in rest {
            if key != "title" {
                titled.insert(key, value);
            }
        }
    }
    Value::Object(titled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::JsonSchema;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        x: u8,
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    enum Mode {
        Fast,
        Slow,
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        maybe: Option<Inner>,
        label: Option<String>,
        mode: Mode,
    }

    fn contains_key(value: &Value, key: &str) -> bool {
        match value {
            Value::Object(map) => {
                map.contains_key(key) || map.values().any(|v| contains_key(v, key))
            }
            Value::Array(items) => items.iter().any(|v| contains_key(v, key)),
            _ => false,
        }
    }

    #[test]
    fn inlines_everything_and_uses_td_forms() {
        let schema = data_schema::<Outer>();
        assert!(!contains_key(&schema, "$ref"), "{schema:#}");
        assert!(!contains_key(&schema, "anyOf"), "{schema:#}");
        assert!(!contains_key(&schema, "$defs") && !contains_key(&schema, "definitions"));
        assert_eq!(
            schema["properties"]["inner"]["properties"]["x"]["type"],
            "integer"
        );
        assert_eq!(
            schema["properties"]["inner"]["properties"]["x"]["maximum"],
            255
        );
        assert!(
            schema["properties"]["inner"]["properties"]["x"]
                .get("format")
                .is_none()
        );
        assert_eq!(
            schema["properties"]["label"],
            json!({"oneOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            schema["properties"]["mode"]["enum"],
            json!(["Fast", "Slow"])
        );
        assert_eq!(
            schema["properties"]["maybe"]["oneOf"][1],
            json!({"type": "null"})
        );
    }

    #[test]
    fn constraints_go_on_non_null_branches() {
        let mut schema = data_schema::<Option<f64>>();
        apply_constraints(&mut schema, &[("minimum", json!(0))]);
        assert_eq!(schema["oneOf"][0]["minimum"], 0);
        assert!(schema["oneOf"][1].get("minimum").is_none());
    }
}
