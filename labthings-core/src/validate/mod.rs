//! Validation of JSON input against an affordance's schema, with FastAPI's error shapes.
//!
//! Existing clients read 422 bodies produced by pydantic, so errors here use pydantic's `type`
//! codes and messages (`int_parsing`, `extra_forbidden`, `less_than_equal` …). Validation also
//! normalises the value the way pydantic's lax mode does — a whole-number float or a numeric
//! string becomes an integer, declared defaults are filled in — so that the result can be
//! handed to serde, and recorded as the invocation's input, as it is.

mod engine;
mod pydantic;
mod supported;

use serde_json::{Map, Value};

use engine::Validator;
pub use labthings_protocol::validation::{LocSegment, ValidationErrors, ValidationIssue};
pub use supported::{UnsupportedKeyword, check_supported};

/// Validate `value` against `schema`, returning the normalised value.
pub fn validate(schema: &Value, value: Value) -> Result<Value, ValidationErrors> {
    Validator::new(Vec::new()).run(schema, value, false)
}

/// Validate an action's input object. `None` means the request had no body: accepted when no
/// field is required (and then normalised to the defaults) — the reference accepts a missing
/// body only for actions without parameters. An action without parameters (`takes_input`
/// false) accepts no body, `null` or `{}`.
pub fn validate_action_input(
    schema: &Value,
    takes_input: bool,
    input: Option<Value>,
) -> Result<Value, ValidationErrors> {
    let takes_no_input = !takes_input;
    match input {
        None | Some(Value::Null) if takes_no_input => Ok(Value::Null),
        None => {
            let required = schema.get("required").and_then(Value::as_array);
            if required.is_some_and(|r| !r.is_empty()) {
                Err(ValidationErrors::single(
                    "missing",
                    "Field required",
                    Value::Null,
                ))
            } else {
                Validator::new(Vec::new()).run(schema, Value::Object(Map::new()), true)
            }
        }
        Some(value) if takes_no_input => validate(schema, value),
        Some(value) => Validator::new(Vec::new()).run(schema, value, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issue(schema: Value, value: Value) -> ValidationIssue {
        validate(&schema, value).unwrap_err().0.remove(0)
    }

    #[test]
    fn integers_follow_pydantic_lax_mode() {
        let int = json!({"type": "integer"});
        assert_eq!(validate(&int, json!(3.0)).unwrap(), json!(3));
        assert_eq!(validate(&int, json!("7")).unwrap(), json!(7));
        let e = issue(int.clone(), json!(1.5));
        assert_eq!(
            (e.kind.as_ref(), e.msg.as_str()),
            (
                "int_from_float",
                "Input should be a valid integer, got a number with a fractional part"
            )
        );
        assert_eq!(issue(int.clone(), json!("abc")).kind, "int_parsing");
        assert_eq!(issue(int, json!({"value": 5})).kind, "int_type");
    }

    #[test]
    fn bounds_carry_ctx() {
        let limited = json!({"type": "integer", "minimum": 0, "maximum": 1000});
        let e = issue(limited, json!(5000));
        assert_eq!(e.kind, "less_than_equal");
        assert_eq!(e.msg, "Input should be less than or equal to 1000");
        assert_eq!(e.ctx, Some(json!({"le": 1000})));
        let float = json!({"type": "number"});
        assert_eq!(
            serde_json::to_string(&validate(&float, json!(10)).unwrap()).unwrap(),
            "10.0"
        );
        let positive = json!({"type": "number", "exclusiveMinimum": 0});
        assert_eq!(
            issue(positive, json!(0)).msg,
            "Input should be greater than 0"
        );
        let stepped = json!({"type": "number", "multipleOf": 0.5});
        assert!(validate(&stepped, json!(1.5)).is_ok());
        assert_eq!(issue(stepped, json!(1.2)).kind, "multiple_of");
    }

    #[test]
    fn strings_check_length_and_pattern() {
        let name = json!({"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"});
        assert!(validate(&name, json!("abc")).is_ok());
        assert_eq!(issue(name.clone(), json!("a")).kind, "string_too_short");
        assert_eq!(issue(name.clone(), json!("abcde")).kind, "string_too_long");
        assert_eq!(
            issue(name.clone(), json!("AB")).kind,
            "string_pattern_mismatch"
        );
        assert_eq!(issue(name, json!(12)).kind, "string_type");
    }

    #[test]
    fn action_inputs_fill_defaults_and_reject_extras() {
        let schema = json!({
            "type": "object",
            "properties": {"duration": {"type": "number"}, "step": {"type": "number", "default": 0.5}},
            "required": ["duration"],
            "additionalProperties": false
        });
        assert_eq!(
            validate_action_input(&schema, true, Some(json!({"duration": 10}))).unwrap(),
            json!({"duration": 10.0, "step": 0.5})
        );
        let errors =
            validate_action_input(&schema, true, Some(json!({"duration": "abc", "bogus": 1})))
                .unwrap_err()
                .0;
        assert_eq!(errors[0].kind, "float_parsing");
        assert_eq!(errors[0].loc, vec![LocSegment::from("duration")]);
        assert_eq!(errors[1].kind, "extra_forbidden");
        assert_eq!(errors[1].loc, vec![LocSegment::from("bogus")]);
        let missing = validate_action_input(&schema, true, None).unwrap_err().0;
        assert_eq!(
            (missing[0].kind.as_ref(), missing[0].loc.len()),
            ("missing", 0)
        );
        let array = validate_action_input(&schema, true, Some(json!([1, 2])))
            .unwrap_err()
            .0;
        assert_eq!(array[0].kind, "model_attributes_type");
    }

    #[test]
    fn a_body_may_be_omitted_when_everything_has_a_default() {
        let schema = json!({
            "type": "object",
            "properties": {"step": {"type": "number", "default": 0.5}},
            "additionalProperties": false
        });
        assert_eq!(
            validate_action_input(&schema, true, None).unwrap(),
            json!({"step": 0.5})
        );
    }

    #[test]
    fn unions_and_nested_paths() {
        let schema = json!({"type": "object", "properties": {
            "points": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            "label": {"oneOf": [{"type": "string"}, {"type": "null"}]}
        }, "additionalProperties": false});
        assert!(validate(&schema, json!({"points": [1], "label": null})).is_ok());
        let errors = validate(&schema, json!({"points": [1, "x"], "label": 3}))
            .unwrap_err()
            .0;
        assert_eq!(
            errors[0].loc,
            vec![LocSegment::from("points"), LocSegment::Index(1)]
        );
        assert_eq!(errors[1].kind, "string_type");
        assert_eq!(issue(schema, json!({"points": []})).kind, "too_short");
    }
}
