//! Validation of JSON input against an affordance's schema, with FastAPI's error shapes.
//!
//! Existing clients read 422 bodies produced by pydantic, so errors here use pydantic's `type`
//! codes and messages (`int_parsing`, `extra_forbidden`, `less_than_equal` …). Validation also
//! normalises the value the way pydantic's lax mode does — a whole-number float or a numeric
//! string becomes an integer, declared defaults are filled in — so that the result can be
//! handed to serde, and recorded as the invocation's input, as it is.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Number, Value, json};

/// One step of the path to the offending part of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocSegment {
    Field(String),
    Index(usize),
}

impl From<&str> for LocSegment {
    fn from(name: &str) -> Self {
        LocSegment::Field(name.to_owned())
    }
}

/// One problem with the input, in pydantic's shape (`detail[]` of a 422 body).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationIssue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Path from the validated value's root; the server puts `"body"` in front.
    pub loc: Vec<LocSegment>,
    pub msg: String,
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() {
            return f.write_str(&self.msg);
        }
        for (i, segment) in self.loc.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match segment {
                LocSegment::Field(name) => f.write_str(name)?,
                LocSegment::Index(index) => write!(f, "{index}")?,
            }
        }
        write!(f, ": {}", self.msg)
    }
}

/// All the problems found in one input; never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(pub Vec<ValidationIssue>);

impl ValidationErrors {
    /// A single issue about the value as a whole.
    pub fn single(kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self(vec![ValidationIssue {
            kind,
            loc: Vec::new(),
            msg: msg.into(),
            input,
            ctx: None,
        }])
    }

    /// Put `segment` in front of every issue's path.
    pub fn prefixed(mut self, segment: LocSegment) -> Self {
        for issue in &mut self.0 {
            issue.loc.insert(0, segment.clone());
        }
        self
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Validate `value` against `schema`, returning the normalised value.
pub fn validate(schema: &Value, value: Value) -> Result<Value, ValidationErrors> {
    let mut validator = Validator {
        errors: Vec::new(),
        loc: Vec::new(),
    };
    let normalised = validator.check(schema, value, false);
    if validator.errors.is_empty() {
        Ok(normalised)
    } else {
        Err(ValidationErrors(validator.errors))
    }
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
                validate_object(schema, Value::Object(Map::new()))
            }
        }
        Some(value) if takes_no_input => validate(schema, value),
        Some(value) => validate_object(schema, value),
    }
}

fn validate_object(schema: &Value, value: Value) -> Result<Value, ValidationErrors> {
    let mut validator = Validator {
        errors: Vec::new(),
        loc: Vec::new(),
    };
    let normalised = validator.check(schema, value, true);
    if validator.errors.is_empty() {
        Ok(normalised)
    } else {
        Err(ValidationErrors(validator.errors))
    }
}

/// A bound keyword: (keyword, pydantic error type, words in the message, `ctx` key, whether
/// the value's ordering against the limit satisfies it).
type Bound = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(std::cmp::Ordering) -> bool,
);

struct Validator {
    errors: Vec<ValidationIssue>,
    loc: Vec<LocSegment>,
}

impl Validator {
    fn fail(
        &mut self,
        kind: &'static str,
        msg: impl Into<String>,
        input: &Value,
        ctx: Option<Value>,
    ) {
        self.errors.push(ValidationIssue {
            kind,
            loc: self.loc.clone(),
            msg: msg.into(),
            input: input.clone(),
            ctx,
        });
    }

    /// Check `value` against `schema`; `is_model` marks an action's top-level input object.
    fn check(&mut self, schema: &Value, value: Value, is_model: bool) -> Value {
        let Some(schema) = schema.as_object() else {
            // `true` (anything) or `false` (nothing; never generated for inputs).
            return value;
        };
        if let Some(branches) = schema.get("oneOf").or_else(|| schema.get("anyOf")) {
            return self.check_union(branches, value);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let mut value = value;
            for part in all {
                value = self.check(part, value, is_model);
            }
            return value;
        }
        if let Some(expected) = schema.get("const") {
            if &value != expected {
                let shown = python_repr(expected);
                self.fail(
                    "literal_error",
                    format!("Input should be {shown}"),
                    &value,
                    Some(json!({ "expected": shown })),
                );
            }
            return value;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(&value) {
                let expected = python_alternatives(options);
                self.fail(
                    "enum",
                    format!("Input should be {expected}"),
                    &value,
                    Some(json!({ "expected": expected })),
                );
            }
            return value;
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => self.check_integer(schema, value),
            Some("number") => self.check_number(schema, value),
            Some("string") => self.check_string(schema, value),
            Some("boolean") => self.check_boolean(value),
            Some("null") => {
                if !value.is_null() {
                    self.fail("none_required", "Input should be None", &value, None);
                }
                value
            }
            Some("array") => self.check_array(schema, value),
            Some("object") => self.check_object(schema, value, is_model),
            _ => value,
        }
    }

    fn check_union(&mut self, branches: &Value, value: Value) -> Value {
        let Some(branches) = branches.as_array() else {
            return value;
        };
        let mut first_failure = None;
        for branch in branches {
            let mut attempt = Validator {
                errors: Vec::new(),
                loc: self.loc.clone(),
            };
            let normalised = attempt.check(branch, value.clone(), false);
            if attempt.errors.is_empty() {
                return normalised;
            }
            // Report against the most specific branch: skip `null` when the input isn't null.
            let is_null_branch = branch.get("type").and_then(Value::as_str) == Some("null");
            let informative = !is_null_branch || value.is_null();
            if first_failure.is_none() && informative {
                first_failure = Some(attempt.errors);
            }
        }
        match first_failure {
            Some(errors) => self.errors.extend(errors),
            None => self.fail("none_required", "Input should be None", &value, None),
        }
        value
    }

    fn check_integer(&mut self, schema: &Map<String, Value>, value: Value) -> Value {
        let number = match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => n.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Number::from(f as i64),
                _ => {
                    self.fail(
                        "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part",
                        &value,
                        None,
                    );
                    return value;
                }
            },
            Value::String(s) => match parse_integer(s) {
                Some(n) => n,
                None => {
                    self.fail(
                        "int_parsing",
                        "Input should be a valid integer, unable to parse string as an integer",
                        &value,
                        None,
                    );
                    return value;
                }
            },
            Value::Bool(b) => Number::from(u8::from(*b)),
            _ => {
                self.fail("int_type", "Input should be a valid integer", &value, None);
                return value;
            }
        };
        self.check_bounds(schema, &number, &value);
        Value::Number(number)
    }

    fn check_number(&mut self, schema: &Map<String, Value>, value: Value) -> Value {
        let number = match &value {
            // A float field holds a float: 10 becomes 10.0, as pydantic echoes it.
            Value::Number(n) => n
                .as_f64()
                .and_then(Number::from_f64)
                .unwrap_or_else(|| n.clone()),
            Value::String(s) => match s.trim().parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => n,
                None => {
                    self.fail(
                        "float_parsing",
                        "Input should be a valid number, unable to parse string as a number",
                        &value,
                        None,
                    );
                    return value;
                }
            },
            Value::Bool(b) => Number::from(u8::from(*b)),
            _ => {
                self.fail("float_type", "Input should be a valid number", &value, None);
                return value;
            }
        };
        self.check_bounds(schema, &number, &value);
        Value::Number(number)
    }

    fn check_bounds(&mut self, schema: &Map<String, Value>, number: &Number, input: &Value) {
        use std::cmp::Ordering::*;
        let bounds: [Bound; 4] = [
            (
                "minimum",
                "greater_than_equal",
                "greater than or equal to",
                "ge",
                |o| o != Less,
            ),
            (
                "exclusiveMinimum",
                "greater_than",
                "greater than",
                "gt",
                |o| o == Greater,
            ),
            (
                "maximum",
                "less_than_equal",
                "less than or equal to",
                "le",
                |o| o != Greater,
            ),
            ("exclusiveMaximum", "less_than", "less than", "lt", |o| {
                o == Less
            }),
        ];
        for (keyword, kind, words, ctx_key, holds) in bounds {
            let Some(Value::Number(limit)) = schema.get(keyword) else {
                continue;
            };
            if !compare(number, limit).is_some_and(holds) {
                self.fail(
                    kind,
                    format!("Input should be {words} {limit}"),
                    input,
                    Some(json!({ ctx_key: limit })),
                );
            }
        }
        if let Some(Value::Number(step)) = schema.get("multipleOf")
            && !is_multiple_of(number, step)
        {
            self.fail(
                "multiple_of",
                format!("Input should be a multiple of {step}"),
                input,
                Some(json!({ "multiple_of": step })),
            );
        }
    }

    fn check_string(&mut self, schema: &Map<String, Value>, value: Value) -> Value {
        let Value::String(text) = &value else {
            self.fail(
                "string_type",
                "Input should be a valid string",
                &value,
                None,
            );
            return value;
        };
        let length = text.chars().count();
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && (length as u64) < min
        {
            let unit = if min == 1 { "character" } else { "characters" };
            self.fail(
                "string_too_short",
                format!("String should have at least {min} {unit}"),
                &value,
                Some(json!({ "min_length": min })),
            );
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && (length as u64) > max
        {
            let unit = if max == 1 { "character" } else { "characters" };
            self.fail(
                "string_too_long",
                format!("String should have at most {max} {unit}"),
                &value,
                Some(json!({ "max_length": max })),
            );
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && !pattern_matches(pattern, text)
        {
            self.fail(
                "string_pattern_mismatch",
                format!("String should match pattern '{pattern}'"),
                &value,
                Some(json!({ "pattern": pattern })),
            );
        }
        value
    }

    fn check_boolean(&mut self, value: Value) -> Value {
        let parsed = match &value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_f64() {
                Some(0.0) => Some(false),
                Some(1.0) => Some(true),
                _ => None,
            },
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => {
                self.fail("bool_type", "Input should be a valid boolean", &value, None);
                return value;
            }
        };
        match parsed {
            Some(b) => Value::Bool(b),
            None => {
                self.fail(
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                    &value,
                    None,
                );
                value
            }
        }
    }

    fn check_array(&mut self, schema: &Map<String, Value>, value: Value) -> Value {
        let Value::Array(items) = value else {
            self.fail("list_type", "Input should be a valid list", &value, None);
            return value;
        };
        let count = items.len() as u64;
        let checked: Vec<Value> = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let item_schema = match schema.get("items") {
                    Some(Value::Array(per_index)) => per_index.get(index),
                    other => other,
                };
                match item_schema {
                    Some(item_schema) => {
                        self.loc.push(LocSegment::Index(index));
                        let item = self.check(item_schema, item, false);
                        self.loc.pop();
                        item
                    }
                    None => item,
                }
            })
            .collect();
        let value = Value::Array(checked);
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            let unit = if min == 1 { "item" } else { "items" };
            self.fail(
                "too_short",
                format!("List should have at least {min} {unit} after validation, not {count}"),
                &value,
                Some(json!({ "field_type": "List", "min_length": min, "actual_length": count })),
            );
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && count > max
        {
            let unit = if max == 1 { "item" } else { "items" };
            self.fail(
                "too_long",
                format!("List should have at most {max} {unit} after validation, not {count}"),
                &value,
                Some(json!({ "field_type": "List", "max_length": max, "actual_length": count })),
            );
        }
        value
    }

    fn check_object(&mut self, schema: &Map<String, Value>, value: Value, is_model: bool) -> Value {
        let Value::Object(mut fields) = value else {
            if is_model {
                self.fail(
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                    &value,
                    None,
                );
            } else {
                self.fail(
                    "dict_type",
                    "Input should be a valid dictionary",
                    &value,
                    None,
                );
            }
            return value;
        };
        let declared = schema.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // pydantic reports a missing field with the whole input object: copy it (once) only
        // when something is missing.
        let original = required
            .iter()
            .any(|name| !fields.contains_key(*name))
            .then(|| Value::Object(fields.clone()));
        let mut checked = Map::new();
        if let Some(declared) = declared {
            for (name, field_schema) in declared {
                match fields.remove(name) {
                    Some(field) => {
                        self.loc.push(LocSegment::Field(name.clone()));
                        let field = self.check(field_schema, field, false);
                        self.loc.pop();
                        checked.insert(name.clone(), field);
                    }
                    None if required.contains(&name.as_str()) => {
                        self.loc.push(LocSegment::Field(name.clone()));
                        let whole = original.as_ref().unwrap_or(&Value::Null);
                        self.fail("missing", "Field required", whole, None);
                        self.loc.pop();
                    }
                    None => {
                        if let Some(default) = field_schema.get("default") {
                            checked.insert(name.clone(), default.clone());
                        }
                    }
                }
            }
        }
        for (name, extra) in fields {
            self.loc.push(LocSegment::Field(name.clone()));
            let extra = match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    self.fail(
                        "extra_forbidden",
                        "Extra inputs are not permitted",
                        &extra,
                        None,
                    );
                    extra
                }
                Some(value_schema @ Value::Object(_)) => self.check(value_schema, extra, false),
                _ => extra,
            };
            self.loc.pop();
            checked.insert(name, extra);
        }
        Value::Object(checked)
    }
}

fn parse_integer(text: &str) -> Option<Number> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(Number::from(n));
    }
    if let Ok(n) = text.parse::<u64>() {
        return Some(Number::from(n));
    }
    None
}

/// Exact for integers, `f64` otherwise.
fn compare(a: &Number, b: &Number) -> Option<std::cmp::Ordering> {
    fn as_i128(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn is_multiple_of(number: &Number, step: &Number) -> bool {
    if let (Some(n), Some(s)) = (number.as_i64(), step.as_i64()) {
        return s != 0 && n % s == 0;
    }
    match (number.as_f64(), step.as_f64()) {
        (Some(n), Some(s)) if s != 0.0 => {
            let ratio = n / s;
            (ratio - ratio.round()).abs() < 1e-9
        }
        _ => false,
    }
}

fn pattern_matches(pattern: &str, text: &str) -> bool {
    // Patterns are few and fixed (declared on affordances): compile each once, share it
    // read-mostly, and match outside the lock.
    static CACHE: OnceLock<RwLock<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let cached = cache
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(pattern)
        .cloned();
    let regex = cached.unwrap_or_else(|| {
        let compiled = Regex::new(pattern).ok();
        let mut cache = cache.write().unwrap_or_else(|p| p.into_inner());
        cache.insert(pattern.to_owned(), compiled.clone());
        compiled
    });
    // An invalid pattern is caught when the Thing is described; treat it as matching here.
    regex.is_none_or(|regex| regex.is_match(text))
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

fn python_alternatives(options: &[Value]) -> String {
    let shown: Vec<String> = options.iter().map(python_repr).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (e.kind, e.msg.as_str()),
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
        assert_eq!((missing[0].kind, missing[0].loc.len()), ("missing", 0));
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
