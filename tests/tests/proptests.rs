//! Property-based fuzzing on stable Rust (issue #14), bounded in cases:
//! - the validation engine against the `jsonschema` crate over generated schemas (the subset
//!   the engine implements) and generated values;
//! - the request parsing paths (methods, paths, query strings, headers, bodies) against a
//!   running server: every request is answered, never with a 5xx the server didn't mean, and
//!   the server keeps serving.
//!
//! A failure prints proptest's minimal failing case and its seed; replay it with
//! `PROPTEST_RNG_SEED=<seed> cargo test -p labthings-tests --test proptests`.

mod support;

use hyper::{Method, StatusCode};
use labthings_core::validate::{check_supported, validate};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};
use support::TestServer;

/// Cases per property (`PROPTEST_CASES` overrides).
fn config(cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..Config::default()
    }
}

fn scalar_schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            proptest::option::of(-50i64..50),
            proptest::option::of(0i64..100),
            proptest::option::of(1i64..5)
        )
            .prop_map(|(min, span, step)| {
                let mut s = Map::new();
                s.insert("type".into(), json!("integer"));
                if let Some(min) = min {
                    s.insert("minimum".into(), json!(min));
                    if let Some(span) = span {
                        s.insert("maximum".into(), json!(min + span));
                    }
                }
                if let Some(step) = step {
                    s.insert("multipleOf".into(), json!(step));
                }
                Value::Object(s)
            }),
        (proptest::option::of(-10.0f64..10.0), proptest::bool::ANY).prop_map(
            |(bound, exclusive)| {
                let mut s = Map::new();
                s.insert("type".into(), json!("number"));
                if let Some(bound) = bound {
                    let key = if exclusive {
                        "exclusiveMinimum"
                    } else {
                        "minimum"
                    };
                    s.insert(key.into(), json!(bound));
                }
                Value::Object(s)
            }
        ),
        (
            proptest::option::of(0u64..4),
            proptest::option::of(4u64..10),
            proptest::bool::ANY
        )
            .prop_map(|(min, max, pattern)| {
                let mut s = Map::new();
                s.insert("type".into(), json!("string"));
                if let Some(min) = min {
                    s.insert("minLength".into(), json!(min));
                }
                if let Some(max) = max {
                    s.insert("maxLength".into(), json!(max));
                }
                if pattern {
                    s.insert("pattern".into(), json!("^[a-z]+$"));
                }
                Value::Object(s)
            }),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": "null"})),
        proptest::collection::vec(
            prop_oneof![Just(json!("a")), Just(json!(1)), Just(json!(true))],
            1..3
        )
        .prop_map(|options| json!({"enum": options})),
        Just(json!({"const": "fixed"})),
    ]
}

/// Schemas of the subset the engine implements (`oneOf` only over branches of distinct JSON
/// types: the engine takes the first match, JSON Schema wants exactly one).
fn schema() -> impl Strategy<Value = Value> {
    scalar_schema().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::option::of(0u64..3),
                proptest::bool::ANY
            )
                .prop_map(|(items, min, unique)| {
                    let mut s = Map::new();
                    s.insert("type".into(), json!("array"));
                    s.insert("items".into(), items);
                    if let Some(min) = min {
                        s.insert("minItems".into(), json!(min));
                    }
                    if unique {
                        s.insert("uniqueItems".into(), json!(true));
                    }
                    Value::Object(s)
                }),
            (
                proptest::collection::vec(inner.clone(), 1..4),
                proptest::bool::ANY,
                proptest::bool::ANY
            )
                .prop_map(|(fields, require_first, closed)| {
                    let properties: Map<String, Value> = fields
                        .into_iter()
                        .enumerate()
                        .map(|(i, schema)| (format!("f{i}"), schema))
                        .collect();
                    let mut s = Map::new();
                    s.insert("type".into(), json!("object"));
                    s.insert("properties".into(), Value::Object(properties));
                    if require_first {
                        s.insert("required".into(), json!(["f0"]));
                    }
                    if closed {
                        s.insert("additionalProperties".into(), json!(false));
                    }
                    Value::Object(s)
                }),
            inner.prop_map(|branch| {
                let kind = branch.get("type").and_then(Value::as_str).unwrap_or("");
                if kind == "null" || branch.get("type").is_none() {
                    branch
                } else {
                    json!({"oneOf": [branch, {"type": "null"}]})
                }
            }),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        proptest::bool::ANY.prop_map(Value::Bool),
        (-60i64..120).prop_map(|n| json!(n)),
        (-20.0f64..20.0).prop_map(|f| json!(f)),
        "[a-z]{0,10}".prop_map(Value::String),
        "[A-Z0-9 _-]{0,6}".prop_map(Value::String),
        (-60i64..120).prop_map(|n| Value::String(n.to_string())),
        Just(json!("fixed")),
        Just(json!("a")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("f[0-3]|x", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn validation_agrees_with_the_jsonschema_crate(schema in schema(), values in proptest::collection::vec(value(), 1..12)) {
        prop_assert_eq!(check_supported(&schema), Ok(()));
        let reference = jsonschema::draft7::options()
            .should_validate_formats(false)
            .build(&schema)
            .expect("jsonschema compiles the schema");
        for value in values {
            match validate(&schema, value.clone()) {
                Ok(normalised) => {
                    prop_assert!(reference.is_valid(&normalised),
                        "we accepted {} as {}, jsonschema refuses it, schema {}", value, normalised, schema);
                    prop_assert_eq!(validate(&schema, normalised.clone()).ok(), Some(normalised));
                }
                Err(errors) => prop_assert!(!reference.is_valid(&value),
                    "we refused {} ({}), jsonschema accepts it, schema {}", value, errors, schema),
            }
        }
    }
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::PUT),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::HEAD),
        Just(Method::OPTIONS),
        Just(Method::PATCH),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("counter".to_owned()),
        Just("lab".to_owned()),
        Just("stage".to_owned()),
        Just("count".to_owned()),
        Just("echo".to_owned()),
        Just("label".to_owned()),
        Just("reset".to_owned()),
        Just("action_invocations".to_owned()),
        Just("ws".to_owned()),
        Just("blob".to_owned()),
        Just(String::new()),
        "[a-zA-Z0-9%._~-]{1,12}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ];
    (
        proptest::collection::vec(segment, 0..4),
        proptest::option::of("[a-z=&%0-9]{0,16}"),
    )
        .prop_map(|(segments, query)| {
            let mut path = format!("/{}", segments.join("/"));
            if let Some(query) = query {
                path.push('?');
                path.push_str(&query);
            }
            path
        })
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let header = prop_oneof![
        "[ -~]{0,20}".prop_map(|v| ("content-type", v)),
        // Not `text/event-stream`: event streams never end, and this test reads whole bodies
        // (the streams have their own tests).
        prop_oneof![Just("application/json".to_owned()), "[ -~]{0,12}"].prop_map(|v| ("accept", v)),
        "[ -~]{0,16}".prop_map(|v| ("prefer", v)),
        "[ -~]{0,16}".prop_map(|v| ("origin", v)),
        "[ -~]{0,16}".prop_map(|v| ("last-event-id", v)),
        "[ -~]{0,12}".prop_map(|v| ("range", v)),
    ];
    proptest::collection::vec(header, 0..4)
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(prop_oneof![
        value().prop_map(|v| v.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(br#"{"text": "hi", "times": 3}"#.to_vec()),
    ])
}

#[test]
fn arbitrary_requests_are_answered_and_the_server_carries_on() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::demo());
    let mut runner = proptest::test_runner::TestRunner::new(config(400));
    let outcome = runner.run(
        &(method(), path(), headers(), body()),
        |(method, path, headers, body)| {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = runtime.block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    support::request(
                        server.addr,
                        method.clone(),
                        &path,
                        &headers,
                        body.map(Into::into),
                    ),
                )
                .await
            });
            let reply = reply
                .map_err(|_| TestCaseError::fail(format!("{method} {path}: no answer in 10 s")))?;
            // A 500 is only ever a getter or an action failing on purpose (`lab/broken`), and
            // 503 a full queue: anything else 5xx is a bug.
            let on_purpose =
                path.contains("broken") && reply.status == StatusCode::INTERNAL_SERVER_ERROR;
            prop_assert!(
                reply.status.as_u16() < 500
                    || on_purpose
                    || reply.status == StatusCode::SERVICE_UNAVAILABLE,
                "{} {} {:?} answered {}: {:?}",
                method,
                path,
                headers,
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
            Ok(())
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let alive = runtime.block_on(server.get("/counter/count"));
    assert_eq!(alive.status, StatusCode::OK, "the server still answers");
}
