//! Which JSON Schema keywords the engine checks, and the refusal of schemas that use others.
//!
//! The engine implements the subset of JSON Schema that `schemars` generates for ordinary
//! Rust types plus the constraints our attributes declare. A schema that uses anything else
//! (a `$ref` left by a recursive type, `patternProperties`, `not` …) would be passed over in
//! silence at request time, so it is refused when the Thing is described instead.

use serde_json::{Map, Value};

/// Keywords that constrain values, each checked by the engine.
const CHECKED: &[&str] = &[
    "type",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
];

/// Keywords that describe without constraining (JSON Schema annotations, TD terms).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "format",
    "unit",
    "$comment",
    "$schema",
    "$id",
];

/// Keywords that end the engine's look at a schema object: it checks them and nothing else
/// beside them except `type` (which `enum`/`const` values already pin down).
const EXCLUSIVE: &[&str] = &["oneOf", "anyOf", "allOf", "const", "enum"];

const JSON_TYPES: &[&str] = &[
    "integer", "number", "string", "boolean", "null", "array", "object",
];

/// A schema the engine cannot check faithfully.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JSON Schema keyword `{keyword}` at {}: {reason}", place(pointer))]
pub struct UnsupportedKeyword {
    /// The keyword, e.g. `$ref`.
    pub keyword: String,
    /// Where it is, as a JSON Pointer into the schema (`""` for the root).
    pub pointer: String,
    /// Why it can't be checked.
    pub reason: &'static str,
}

fn place(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the schema's root"
    } else {
        pointer
    }
}

/// Check that every keyword in `schema` is one the engine implements, in a combination it
/// implements.
pub fn check_supported(schema: &Value) -> Result<(), UnsupportedKeyword> {
    walk(schema, &mut String::new())
}

fn walk(schema: &Value, pointer: &mut String) -> Result<(), UnsupportedKeyword> {
    let object = match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(object) => object,
        _ => {
            return Err(unsupported(
                "(schema)",
                pointer,
                "a schema must be an object",
            ));
        }
    };
    for keyword in object.keys() {
        let keyword = keyword.as_str();
        if keyword == "$ref" {
            return Err(unsupported(
                keyword,
                pointer,
                "references are not followed (a recursive Rust type makes one); \
                 give the parameter or property a non-recursive type",
            ));
        }
        if !CHECKED.contains(&keyword) && !ANNOTATIONS.contains(&keyword) {
            return Err(unsupported(
                keyword,
                pointer,
                "LabThings does not validate this keyword, so requests would not be checked \
                 against it",
            ));
        }
    }
    check_combination(object, pointer)?;
    if let Some(kind) = object.get("type")
        && !kind.as_str().is_some_and(|kind| JSON_TYPES.contains(&kind))
    {
        return Err(unsupported(
            "type",
            pointer,
            "`type` must be one JSON type name (a list of types is written as `oneOf`)",
        ));
    }
    for keyword in ["oneOf", "anyOf", "allOf", "items"] {
        match object.get(keyword) {
            Some(Value::Array(branches)) => {
                for (index, branch) in branches.iter().enumerate() {
                    within(pointer, &[keyword, &index.to_string()], |p| walk(branch, p))?;
                }
            }
            Some(child) if keyword == "items" => within(pointer, &[keyword], |p| walk(child, p))?,
            Some(_) => {
                return Err(unsupported(keyword, pointer, "expects a list of schemas"));
            }
            None => {}
        }
    }
    if let Some(child) = object.get("additionalProperties") {
        within(pointer, &["additionalProperties"], |p| walk(child, p))?;
    }
    if let Some(Value::Object(properties)) = object.get("properties") {
        for (name, child) in properties {
            within(pointer, &["properties", name], |p| walk(child, p))?;
        }
    }
    Ok(())
}

/// The engine checks `oneOf`/`anyOf`/`allOf`/`const`/`enum` alone: other constraints beside
/// one of them would be skipped.
fn check_combination(object: &Map<String, Value>, pointer: &str) -> Result<(), UnsupportedKeyword> {
    let Some(exclusive) = EXCLUSIVE.iter().find(|k| object.contains_key(**k)) else {
        return Ok(());
    };
    let beside_type_is_fine = matches!(*exclusive, "const" | "enum");
    for keyword in object.keys() {
        let keyword = keyword.as_str();
        let constrains = CHECKED.contains(&keyword) && keyword != *exclusive;
        if constrains && !(beside_type_is_fine && keyword == "type") {
            return Err(UnsupportedKeyword {
                keyword: keyword.to_owned(),
                pointer: pointer.to_owned(),
                reason: match *exclusive {
                    "oneOf" => {
                        "constraints beside `oneOf` are not checked; move them into its branches"
                    }
                    "anyOf" => {
                        "constraints beside `anyOf` are not checked; move them into its branches"
                    }
                    "allOf" => {
                        "constraints beside `allOf` are not checked; move them into its parts"
                    }
                    "const" => "constraints beside `const` are not checked",
                    _ => "constraints beside `enum` are not checked",
                },
            });
        }
    }
    Ok(())
}

/// Run `f` with `segments` appended to the JSON Pointer, escaped as RFC 6901 says.
fn within<T>(pointer: &mut String, segments: &[&str], f: impl FnOnce(&mut String) -> T) -> T {
    let length = pointer.len();
    for segment in segments {
        pointer.push('/');
        pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    }
    let result = f(pointer);
    pointer.truncate(length);
    result
}

fn unsupported(keyword: &str, pointer: &str, reason: &'static str) -> UnsupportedKeyword {
    UnsupportedKeyword {
        keyword: keyword.to_owned(),
        pointer: pointer.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schemars_shapes_are_supported() {
        let schema = json!({
            "type": "object",
            "properties": {
                "x": {"type": "integer", "format": "int32", "minimum": 0, "default": 3},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "tag": {"oneOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]},
                "pair": {"type": "array", "items": [{"type": "number"}, {"type": "boolean"}]},
                "set": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true},
                "map": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "required": ["x"],
            "additionalProperties": false
        });
        assert_eq!(check_supported(&schema), Ok(()));
    }

    #[test]
    fn refuses_references_and_unknown_keywords_with_their_place() {
        let recursive =
            json!({"type": "object", "properties": {"child": {"$ref": "#/definitions/Node"}}});
        let error = check_supported(&recursive).unwrap_err();
        assert_eq!(
            (error.keyword.as_str(), error.pointer.as_str()),
            ("$ref", "/properties/child")
        );
        assert!(error.to_string().contains("recursive"), "{error}");

        let pattern_properties = json!({"type": "array", "items": {"patternProperties": {}}});
        let error = check_supported(&pattern_properties).unwrap_err();
        assert_eq!(
            (error.keyword.as_str(), error.pointer.as_str()),
            ("patternProperties", "/items")
        );

        let escaped = json!({"properties": {"a/b": {"not": {}}}});
        assert_eq!(
            check_supported(&escaped).unwrap_err().pointer,
            "/properties/a~1b"
        );
    }

    #[test]
    fn refuses_constraints_the_engine_would_skip() {
        let beside_one_of = json!({"oneOf": [{"type": "integer"}], "minimum": 3});
        assert_eq!(
            check_supported(&beside_one_of).unwrap_err().keyword,
            "minimum"
        );
        let type_list = json!({"type": ["integer", "null"]});
        assert_eq!(check_supported(&type_list).unwrap_err().keyword, "type");
        let typed_enum = json!({"type": "string", "enum": ["a"]});
        assert_eq!(check_supported(&typed_enum), Ok(()));
    }
}
