//! The validation engine: walks a JSON Schema (the subset `supported` lists) and a value
//! together, normalising the value as pydantic's lax mode does and collecting every issue.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use regex::Regex;
use serde_json::{Map, Number, Value, json};

use super::pydantic::{count_noun, python_alternatives, python_repr};
use labthings_protocol::validation::{LocSegment, ValidationErrors, ValidationIssue};

/// A bound keyword and how pydantic words its failure.
struct Bound {
    keyword: &'static str,
    /// pydantic's error `type`.
    error_type: &'static str,
    /// The words before the limit in the message ("greater than or equal to").
    words: &'static str,
    /// The key of the limit in the error's `ctx`.
    ctx_key: &'static str,
    /// Whether the value's ordering against the limit satisfies the bound.
    holds: fn(std::cmp::Ordering) -> bool,
}

const BOUNDS: [Bound; 4] = {
    use std::cmp::Ordering::*;
    [
        Bound {
            keyword: "minimum",
            error_type: "greater_than_equal",
            words: "greater than or equal to",
            ctx_key: "ge",
            holds: |o| o != Less,
        },
        Bound {
            keyword: "exclusiveMinimum",
            error_type: "greater_than",
            words: "greater than",
            ctx_key: "gt",
            holds: |o| o == Greater,
        },
        Bound {
            keyword: "maximum",
            error_type: "less_than_equal",
            words: "less than or equal to",
            ctx_key: "le",
            holds: |o| o != Greater,
        },
        Bound {
            keyword: "exclusiveMaximum",
            error_type: "less_than",
            words: "less than",
            ctx_key: "lt",
            holds: |o| o == Less,
        },
    ]
};

pub(super) struct Validator {
    errors: Vec<ValidationIssue>,
    loc: Vec<LocSegment>,
}

impl Validator {
    /// A validator reporting issues under `loc`.
    pub(super) fn new(loc: Vec<LocSegment>) -> Self {
        Self {
            errors: Vec::new(),
            loc,
        }
    }

    /// Check `value` against `schema` (`is_model`: an action's top-level input object),
    /// returning the normalised value or every issue found.
    pub(super) fn run(
        mut self,
        schema: &Value,
        value: Value,
        is_model: bool,
    ) -> Result<Value, ValidationErrors> {
        let normalised = self.check(schema, value, is_model);
        if self.errors.is_empty() {
            Ok(normalised)
        } else {
            Err(ValidationErrors(self.errors))
        }
    }

    fn fail(
        &mut self,
        kind: &'static str,
        msg: impl Into<String>,
        input: &Value,
        ctx: Option<Value>,
    ) {
        self.errors.push(ValidationIssue {
            kind: kind.into(),
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
            let errors = match Validator::new(self.loc.clone()).run(branch, value.clone(), false) {
                Ok(normalised) => return normalised,
                Err(ValidationErrors(errors)) => errors,
            };
            // Report against the most specific branch: skip `null` when the input isn't null.
            let is_null_branch = branch.get("type").and_then(Value::as_str) == Some("null");
            let informative = !is_null_branch || value.is_null();
            if first_failure.is_none() && informative {
                first_failure = Some(errors);
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
            // pydantic reads a boolean as 0.0 or 1.0 here: a float field holds a float.
            Value::Bool(b) => Number::from_f64(if *b { 1.0 } else { 0.0 }).expect("finite"),
            _ => {
                self.fail("float_type", "Input should be a valid number", &value, None);
                return value;
            }
        };
        self.check_bounds(schema, &number, &value);
        Value::Number(number)
    }

    fn check_bounds(&mut self, schema: &Map<String, Value>, number: &Number, input: &Value) {
        for bound in &BOUNDS {
            let Some(Value::Number(limit)) = schema.get(bound.keyword) else {
                continue;
            };
            if !compare(number, limit).is_some_and(bound.holds) {
                self.fail(
                    bound.error_type,
                    format!("Input should be {} {limit}", bound.words),
                    input,
                    Some(json!({ bound.ctx_key: limit })),
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
            let unit = count_noun(min, "character", "characters");
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
            let unit = count_noun(max, "character", "characters");
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
        let mut checked: Vec<Value> = items
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
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            // A Rust set arrives as a list, and pydantic's lax mode makes a set of it: the
            // repeats go, the first of each stays.
            let mut seen = Vec::with_capacity(checked.len());
            checked.retain(|item| {
                let first = !seen.contains(item);
                if first {
                    seen.push(item.clone());
                }
                first
            });
        }
        let count = checked.len() as u64;
        let value = Value::Array(checked);
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            let unit = count_noun(min, "item", "items");
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
            let unit = count_noun(max, "item", "items");
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
