//! Differential test of the validation engine against an independent JSON Schema validator
//! (the `jsonschema` crate, draft 7): every property and action-input schema of the demo lab's
//! and the test lab's Things, thousands of generated values each, valid and invalid.
//!
//! Our engine is lax the way pydantic is (`"7"` is an integer, a set's repeats are dropped), so
//! the verdicts are compared in the direction that holds for a lax validator:
//! - whatever `jsonschema` accepts, we accept;
//! - whatever we accept, `jsonschema` accepts in the normalised form we return, and our
//!   normalised form validates again unchanged.
//!
//! The values come from a seeded generator: a failure prints the seed, the schema and the value.

use labthings_core::Thing;
use labthings_core::validate::{check_supported, validate, validate_action_input};
use labthings_examples::{Counter, MockCamera, MockStage};
use labthings_tests::{Lab, Microscope};
use serde_json::{Map, Number, Value, json};

const VALUES_PER_SCHEMA: usize = 3000;
const SEED: u64 = 0x5eed_1ab7_4195;

/// xorshift64*: small, seedable, and good enough to spread values over a schema's edges.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One of a schema's own affordances: what the server validates, and how.
struct Case {
    label: String,
    schema: Value,
    /// `Some(takes_input)` for an action's input, `None` for a property value.
    action: Option<bool>,
}

fn cases() -> Vec<Case> {
    let things: Vec<(&str, Box<dyn Thing>)> = vec![
        ("counter", Box::new(Counter::new())),
        ("stage", Box::new(MockStage::new())),
        ("camera", Box::new(MockCamera::default())),
        ("lab", Box::new(Lab::new())),
        ("microscope", Box::new(Microscope::new())),
    ];
    let mut cases = Vec::new();
    for (name, thing) in things {
        let metadata = thing.metadata();
        for property in &metadata.properties {
            cases.push(Case {
                label: format!("{name}/{} (property)", property.name),
                schema: property.schema.clone(),
                action: None,
            });
        }
        for action in &metadata.actions {
            cases.push(Case {
                label: format!("{name}/{} (action input)", action.name),
                schema: action.input_schema.clone(),
                action: Some(action.takes_input),
            });
        }
    }
    cases
}

fn ours(case: &Case, value: &Value) -> Result<Value, String> {
    let result = match case.action {
        None => validate(&case.schema, value.clone()),
        Some(takes_input) => validate_action_input(&case.schema, takes_input, Some(value.clone())),
    };
    result.map_err(|errors| errors.to_string())
}

#[test]
fn our_verdicts_agree_with_the_jsonschema_crate() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "expected the demo lab's schemas, found {}",
        cases.len()
    );
    let mut rng = Rng(SEED);
    let (mut accepted, mut refused) = (0usize, 0usize);
    for case in &cases {
        check_supported(&case.schema)
            .unwrap_or_else(|e| panic!("{}: the engine can't check this schema: {e}", case.label));
        let reference = jsonschema::draft7::options()
            .should_validate_formats(false)
            .build(&case.schema)
            .unwrap_or_else(|e| panic!("{}: jsonschema refused the schema: {e}", case.label));
        for _ in 0..VALUES_PER_SCHEMA {
            let value = generate(&case.schema, &mut rng, 0);
            let context = || {
                format!(
                    "seed {SEED:#x}, {}\nschema: {}\nvalue: {value}",
                    case.label, case.schema
                )
            };
            match ours(case, &value) {
                Ok(normalised) => {
                    accepted += 1;
                    assert!(
                        reference.is_valid(&normalised),
                        "we accepted, jsonschema refuses our normalised {normalised}\n{}",
                        context()
                    );
                    assert_eq!(
                        ours(case, &normalised).as_ref(),
                        Ok(&normalised),
                        "normalising twice changed the value\n{}",
                        context()
                    );
                }
                Err(message) => {
                    refused += 1;
                    assert!(
                        !reference.is_valid(&value),
                        "we refused ({message}), jsonschema accepts\n{}",
                        context()
                    );
                }
            }
        }
    }
    println!(
        "{} schemas, {} values: {accepted} accepted, {refused} refused",
        cases.len(),
        cases.len() * VALUES_PER_SCHEMA
    );
    // The generator must exercise both verdicts, or the comparison proves little.
    assert!(
        accepted > cases.len() * VALUES_PER_SCHEMA / 5,
        "too few valid values: {accepted}"
    );
    assert!(
        refused > cases.len() * VALUES_PER_SCHEMA / 5,
        "too few invalid values: {refused}"
    );
}

/// A value for `schema`: usually shaped by it and close to its limits, sometimes anything.
fn generate(schema: &Value, rng: &mut Rng, depth: usize) -> Value {
    if depth > 4 || rng.chance(8) {
        return anything(rng, depth);
    }
    let Some(schema) = schema.as_object() else {
        return anything(rng, depth);
    };
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(branches)) = schema.get(combinator)
            && !branches.is_empty()
        {
            return generate(rng.pick(branches), rng, depth + 1);
        }
    }
    if let Some(expected) = schema.get("const") {
        return if rng.chance(80) {
            expected.clone()
        } else {
            anything(rng, depth)
        };
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        return if rng.chance(80) {
            rng.pick(options).clone()
        } else {
            anything(rng, depth)
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => integer(schema, rng),
        Some("number") => number(schema, rng),
        Some("string") => string(schema, rng),
        Some("boolean") => rng
            .pick(&[json!(true), json!(false), json!("yes"), json!(0)])
            .clone(),
        Some("null") => {
            if rng.chance(85) {
                Value::Null
            } else {
                anything(rng, depth)
            }
        }
        Some("array") => array(schema, rng, depth),
        Some("object") => object(schema, rng, depth),
        _ => anything(rng, depth),
    }
}

fn limit(schema: &Map<String, Value>, keys: &[&str]) -> Vec<f64> {
    keys.iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_f64))
        .collect()
}

fn integer(schema: &Map<String, Value>, rng: &mut Rng) -> Value {
    let mut near: Vec<i64> = vec![0, 1, -1, 7, 1_000_000, -1_000_000];
    for edge in limit(
        schema,
        &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
    ) {
        let edge = edge as i64;
        near.extend([edge - 1, edge, edge + 1]);
    }
    if let Some(step) = schema.get("multipleOf").and_then(Value::as_i64) {
        near.extend([step * 3, step * 3 + 1]);
    }
    let n = *rng.pick(&near);
    match rng.below(10) {
        0 => json!(n as f64 + 0.5),
        1 => json!(n as f64),
        2 => json!(n.to_string()),
        _ => json!(n),
    }
}

fn number(schema: &Map<String, Value>, rng: &mut Rng) -> Value {
    let mut near: Vec<f64> = vec![0.0, 0.25, -3.5, 1e9, -1e9];
    for edge in limit(
        schema,
        &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
    ) {
        near.extend([edge - 0.5, edge, edge + 0.5]);
    }
    let n = *rng.pick(&near);
    match rng.below(10) {
        0 => json!(format!("{n}")),
        1 => json!(n.round() as i64),
        _ => Number::from_f64(n).map_or(Value::Null, Value::Number),
    }
}

fn string(schema: &Map<String, Value>, rng: &mut Rng) -> Value {
    let mut lengths = vec![0usize, 1, 3, 12];
    for edge in limit(schema, &["minLength", "maxLength"]) {
        let edge = edge as usize;
        lengths.extend([edge.saturating_sub(1), edge, edge + 1]);
    }
    let length = *rng.pick(&lengths);
    let alphabet: &[char] = if rng.chance(70) {
        &['a', 'b', 'z', 'q']
    } else {
        &['a', 'B', '7', ' ', '-', 'é', '_']
    };
    let text: String = (0..length).map(|_| *rng.pick(alphabet)).collect();
    if rng.chance(5) {
        json!(length)
    } else {
        json!(text)
    }
}

fn array(schema: &Map<String, Value>, rng: &mut Rng, depth: usize) -> Value {
    if let Some(Value::Array(tuple)) = schema.get("items") {
        let mut items: Vec<Value> = tuple.iter().map(|s| generate(s, rng, depth + 1)).collect();
        match rng.below(10) {
            0 => {
                items.pop();
            }
            1 => items.push(json!(1)),
            _ => {}
        }
        return Value::Array(items);
    }
    let mut lengths = vec![0usize, 1, 2, 4];
    for edge in limit(schema, &["minItems", "maxItems"]) {
        let edge = edge as usize;
        lengths.extend([edge.saturating_sub(1), edge, edge + 1]);
    }
    let length = *rng.pick(&lengths);
    let item_schema = schema.get("items").cloned().unwrap_or(json!({}));
    let mut items: Vec<Value> = (0..length)
        .map(|_| generate(&item_schema, rng, depth + 1))
        .collect();
    if rng.chance(20)
        && let Some(first) = items.first().cloned()
    {
        items.push(first); // a repeat, for `uniqueItems`
    }
    Value::Array(items)
}

fn object(schema: &Map<String, Value>, rng: &mut Rng, depth: usize) -> Value {
    let mut fields = Map::new();
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, child) in properties {
            if rng.chance(88) {
                fields.insert(name.clone(), generate(child, rng, depth + 1));
            }
        }
    }
    if rng.chance(10) {
        let extra = match schema.get("additionalProperties") {
            Some(child @ Value::Object(_)) => generate(child, rng, depth + 1),
            _ => anything(rng, depth + 1),
        };
        fields.insert("unexpected".into(), extra);
    }
    Value::Object(fields)
}

fn anything(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.below(2000) as i64 - 1000),
        3 => json!(rng.below(2000) as f64 / 7.0 - 100.0),
        4 => json!("12"),
        5 => json!("text"),
        6 => Value::Array(
            (0..rng.below(3))
                .map(|_| anything(rng, depth + 1))
                .collect(),
        ),
        _ => json!({ "x": anything(rng, depth + 1) }),
    }
}
