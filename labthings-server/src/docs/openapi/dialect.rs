//! OpenAPI 3.1's schema dialect (JSON Schema 2020-12) from a TD's DataSchema.

use serde_json::Value;

/// A TD DataSchema in OpenAPI 3.1's dialect (JSON Schema 2020-12). They differ in one place
/// our TDs use: a tuple is `items: [schemas]` in the TD (the reference's draft-07 form, which
/// TD 1.1 validators expect) but `prefixItems` in 2020-12, where `items` must be one schema
/// (taking over from `additionalItems`). And TD 1.1's `unit` term (`om:degreeCelsius`), which
/// JSON Schema doesn't know, becomes the extension `x-unit` holding the symbol people read
/// (`°C`). Everything else is kept as it is.
pub fn json_schema_2020_12(mut schema: Value) -> Value {
    convert_tuples(&mut schema);
    schema
}

fn convert_tuples(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::String(term)) = object.remove("unit") {
        let symbol = labthings_protocol::units::symbol(&term).to_owned();
        object.insert("x-unit".into(), Value::String(symbol));
    }
    if object.get("items").is_some_and(Value::is_array) {
        if let Some(tuple) = object.remove("items") {
            object.insert("prefixItems".into(), tuple);
        }
        if let Some(rest) = object.remove("additionalItems") {
            object.insert("items".into(), rest);
        }
    }
    for (keyword, value) in object.iter_mut() {
        match keyword.as_str() {
            // Keywords holding one schema.
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "contains"
            | "not"
            | "if"
            | "then"
            | "else"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => convert_tuples(value),
            // Keywords holding a list of schemas.
            "prefixItems" | "allOf" | "anyOf" | "oneOf" => {
                if let Some(list) = value.as_array_mut() {
                    list.iter_mut().for_each(convert_tuples);
                }
            }
            // Keywords holding a map of name → schema (not schemas themselves).
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                if let Some(map) = value.as_object_mut() {
                    map.values_mut().for_each(convert_tuples);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tuples_become_prefix_items_wherever_a_schema_can_be() {
        let td = json!({
            "type": "object",
            "properties": {
                // A property *named* `items` is not the keyword.
                "items": {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
                "list": {"type": "array", "items": {"type": "integer"}},
            },
            "anyOf": [{"type": "array", "items": [{"type": "null"}], "additionalItems": false}],
        });
        assert_eq!(
            json_schema_2020_12(td),
            json!({
                "type": "object",
                "properties": {
                    "items": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
                    "list": {"type": "array", "items": {"type": "integer"}},
                },
                "anyOf": [{"type": "array", "prefixItems": [{"type": "null"}], "items": false}],
            })
        );
    }
}
