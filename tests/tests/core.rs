//! The authoring runtime without HTTP: cancellation, logging, injection once per invocation,
//! Thing Descriptions and schemas of a Thing written with the macros.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use labthings_core::prelude::*;
use labthings_core::protocol::paths::{ApiPaths, Origin, Scheme};
use labthings_core::{LogLevel, PropertyObserver, Served, thing_description};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

static TAGS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// A custom dependency, counting how often it is built.
#[derive(Clone)]
struct Tag(InvocationId);

impl FromInvocation for Tag {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        TAGS_BUILT.fetch_add(1, Ordering::SeqCst);
        Tag(ctx.id())
    }
}

/// Where a move should end.
#[allow(dead_code)] // `label` is only described, never read
#[derive(Debug, Deserialize, JsonSchema)]
struct Target {
    /// Steps along x.
    x: i64,
    /// Optional label.
    label: Option<String>,
}

/// A thermostat.
///
/// Used to test the runtime.
#[thing]
struct Thermostat {
    /// Target temperature.
    ///
    /// In degrees Celsius.
    #[property(minimum = -20, maximum = 40.5)]
    target: Property<f64>,
    /// Room name.
    #[setting(min_length = 1, max_length = 10)]
    room: Setting<String>,
    /// Firmware version.
    #[property(read_only)]
    firmware: Property<String>,
    /// The room got too cold.
    ///
    /// Carries the temperature reached, in degrees Celsius.
    #[event]
    too_cold: Event<f64>,
    /// Plain state: not part of the Thing's interface.
    display: Mutex<u8>,
}

#[thing]
impl Thermostat {
    /// Ask for the same resources twice.
    #[action]
    fn twice(
        &self,
        first: InvocationId,
        second: InvocationId,
        #[inject] tag_a: Tag,
        #[inject] tag_b: Tag,
        log: Logger,
    ) -> Vec<String> {
        log.info("from the logger");
        tracing::info!(reading = 3, "from a driver");
        tracing::debug!("below the capture level");
        vec![
            first.to_string(),
            second.to_string(),
            tag_a.0.to_string(),
            tag_b.0.to_string(),
            log.invocation_id().to_string(),
        ]
    }

    /// Move somewhere.
    #[action]
    fn go(
        &self,
        target: Target,
        #[param(default = 1.5, multiple_of = 0.5, title = "Speed (m/s)")] speed: f64,
    ) -> f64 {
        target.x as f64 * speed
    }

    /// Catch a cancel, carry on, and be cancelled again.
    #[action]
    fn stubborn(&self, cancel: CancelHook) -> Result<u32, Cancelled> {
        if cancel.sleep(Duration::from_secs(10)).is_err() {
            cancel.reset();
        }
        cancel.sleep(Duration::from_secs(10))?;
        Ok(1)
    }

    /// Current temperature.
    #[property]
    fn temperature(&self) -> f64 {
        19.5
    }

    /// Display brightness, 0–10.
    #[property(minimum = 0, maximum = 10)]
    fn brightness(&self) -> u8 {
        *self.display.lock().unwrap()
    }

    #[setter(brightness)]
    fn set_brightness(&self, value: u8) {
        *self.display.lock().unwrap() = value;
    }
}

impl Thermostat {
    fn new() -> Arc<Self> {
        Arc::new(Thermostat {
            target: Property::new(21.0),
            room: Setting::new("lab".into()),
            firmware: Property::new("1.0".into()),
            too_cold: Event::new(),
            display: Mutex::new(5),
        })
    }
}

fn run(
    thing: &Arc<Thermostat>,
    action: &str,
    input: Option<Value>,
) -> (InvocationContext, Outcome) {
    let ctx = InvocationContext::new(InvocationId::new());
    let prepared = thing
        .clone()
        .prepare_action(action, input)
        .expect("valid input");
    let outcome = prepared
        .body
        .run_blocking(&ctx)
        .ok()
        .expect("a blocking action");
    (ctx, outcome)
}

#[test]
fn cancel_wakes_a_sleep_from_another_thread() {
    let hook = CancelHook::new();
    let canceller = hook.clone();
    let started = Instant::now();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        canceller.cancel();
        Instant::now()
    });
    assert_eq!(hook.sleep(Duration::from_secs(10)), Err(Cancelled));
    let cancelled_at = thread.join().unwrap();
    let woke = Instant::now();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "well before 10 s"
    );
    assert!(
        woke.duration_since(cancelled_at) < Duration::from_millis(200),
        "woken by the cancel itself"
    );
    assert_eq!(hook.raise_if_cancelled(), Err(Cancelled));
    hook.reset();
    assert!(!hook.is_cancelled());
    assert_eq!(hook.sleep(Duration::from_millis(1)), Ok(()));
}

#[test]
fn a_caught_cancel_can_be_reset_and_cancelled_again() {
    // Every wait here has a deadline: a `CancelHook` that ignores cancels must fail the test,
    // not hang it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let thing = Thermostat::new();
    let ctx = InvocationContext::new(InvocationId::new());
    let body = thing.clone().prepare_action("stubborn", None).unwrap().body;
    let hook = ctx.cancel_hook().clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        hook.cancel();
        // Wait until the action has reset the flag, then cancel again.
        while hook.is_cancelled() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        hook.cancel();
        true
    });
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(body.run_blocking(&ctx).ok());
    });
    let outcome = finished
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect("the action ended within 5 s of its two cancels");
    assert!(
        canceller.join().unwrap(),
        "the action never reset the first cancel"
    );
    assert_eq!(outcome, Some(Outcome::Cancelled));
}

#[tokio::test]
async fn async_waiters_see_cancel() {
    let hook = CancelHook::new();
    let waiter = tokio::spawn({
        let hook = hook.clone();
        async move { hook.cancelled().await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    hook.cancel();
    tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("woken")
        .unwrap();
    assert_eq!(
        hook.sleep_async(Duration::from_secs(10)).await,
        Err(Cancelled)
    );
}

#[test]
fn resources_are_built_once_per_invocation_and_logs_are_captured() {
    let thing = Thermostat::new();
    let before = TAGS_BUILT.load(Ordering::SeqCst);
    let (ctx, outcome) = run(&thing, "twice", None);
    assert_eq!(
        TAGS_BUILT.load(Ordering::SeqCst) - before,
        1,
        "one Tag for two parameters"
    );
    let Outcome::Completed(Value::Array(ids)) = outcome else {
        panic!("{outcome:?}")
    };
    let id = ctx.id().to_string();
    assert!(
        ids.iter().all(|v| v == &json!(id)),
        "{ids:?} all equal {id}"
    );

    let records = ctx.log().snapshot();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages, ["from the logger", "from a driver reading=3"]);
    assert_eq!(records[1].level, LogLevel::Info);
    assert!(records[1].filename.ends_with("core.rs"));
    assert_eq!(
        (records[0].lineno, records[1].lineno),
        (
            line_of("log.info(\"from the logger\")"),
            line_of("tracing::info!(reading = 3, \"from a driver\")")
        ),
        "each record names the line that wrote it"
    );

    let (other, _) = run(&thing, "twice", None);
    assert_ne!(other.id(), ctx.id());
    assert_eq!(other.log().len(), 2, "each invocation has its own log");
}

/// The 1-based line of this file that holds `code` (once).
fn line_of(code: &str) -> u32 {
    let source = include_str!("core.rs");
    let mut lines = source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with(code));
    let (index, _) = lines
        .next()
        .unwrap_or_else(|| panic!("`{code}` not in core.rs"));
    assert!(lines.next().is_none(), "`{code}` is in core.rs twice");
    u32::try_from(index + 1).expect("a short file")
}

#[test]
fn inputs_are_validated_and_defaults_filled() {
    let thing = Thermostat::new();
    let (_, outcome) = run(&thing, "go", Some(json!({"target": {"x": 4}})));
    assert_eq!(outcome, Outcome::Completed(json!(6.0)));
    let errors = match thing
        .clone()
        .prepare_action("go", Some(json!({"target": {"x": "far"}, "speed": 0.7})))
    {
        Err(labthings_core::PrepareError::Invalid(errors)) => errors.0,
        other => panic!("{other:?}"),
    };
    assert_eq!(errors[0].loc, vec!["target".into(), "x".into()]);
    assert_eq!(errors[0].kind, "int_parsing");
    assert_eq!(errors[1].kind, "multiple_of");
}

#[test]
fn constraints_hold_for_writes_from_http_and_from_code() {
    let thing = Thermostat::new();
    let error = thing.write_property("target", json!(50)).unwrap_err();
    assert!(
        matches!(error, labthings_core::PropertyError::Invalid(_)),
        "{error:?}"
    );
    assert_eq!(thing.read_property("target").unwrap(), json!(21.0));
    assert!(matches!(
        thing.write_property("firmware", json!("2")),
        Err(labthings_core::PropertyError::ReadOnly)
    ));
    assert!(thing.write_property("brightness", json!(11)).is_err());
    thing.write_property("brightness", json!(7)).unwrap();
    assert_eq!(thing.read_property("brightness").unwrap(), json!(7));

    struct Recorder(Mutex<Vec<(String, String, Value)>>);
    impl PropertyObserver for Recorder {
        fn property_changed(&self, thing: &str, property: &str, value: &Value) {
            self.0
                .lock()
                .unwrap()
                .push((thing.into(), property.into(), value.clone()));
        }
    }
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    thing.attach("hall", recorder.clone());
    assert!(
        thing.target.set(-30.0).is_err(),
        "Rust-side writes are checked once served"
    );
    assert!(thing.room.set(String::new()).is_err());
    thing.target.set(22.5).unwrap();
    thing.write_property("room", json!("office")).unwrap();
    thing.reset_property("target").unwrap();
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("hall".into(), "target".into(), json!(22.5)),
            ("hall".into(), "room".into(), json!("office")),
            ("hall".into(), "target".into(), json!(21.0)),
        ]
    );
}

#[test]
fn emitted_events_reach_the_observer_attached() {
    #[derive(Default)]
    struct Heard(Mutex<Vec<(String, String, Value)>>);
    impl PropertyObserver for Heard {
        fn property_changed(&self, _: &str, _: &str, _: &Value) {}
        fn event_emitted(&self, thing: &str, event: &str, data: &Value) {
            let mut heard = self.0.lock().unwrap();
            heard.push((thing.into(), event.into(), data.clone()));
        }
    }
    let thing = Thermostat::new();
    thing.too_cold.emit(4.0); // not served yet: nobody hears it
    let heard = Arc::new(Heard::default());
    thing.attach("hall", heard.clone());
    thing.too_cold.emit(3.5);
    thing.target.set(23.0).unwrap(); // a property write is not an event
    thing.too_cold.emit(-1.0);
    assert_eq!(
        *heard.0.lock().unwrap(),
        [
            ("hall".into(), "too_cold".into(), json!(3.5)),
            ("hall".into(), "too_cold".into(), json!(-1.0)),
        ]
    );
}

#[test]
fn panics_become_errors() {
    let outcome = Outcome::catching(|| panic!("stalled"));
    assert_eq!(
        outcome,
        Outcome::Failed(labthings_core::Failure {
            title: "Panic".into(),
            detail: "stalled".into()
        })
    );
}

#[test]
fn the_thing_description_is_exactly_as_expected() {
    let thing = Thermostat::new();
    let served = Served {
        origin: &Origin::new(Scheme::Http, "lab:5000"),
        paths: &ApiPaths::default(),
        name: "thermo",
        id: Some("urn:uuid:0b5e7c2e-51b1-4b8e-9a39-3c7a7c2c9d11"),
        bearer: false,
    };
    let td = thing_description(thing.as_ref(), &served);
    let observe = |name: &str| {
        json!([
            {"href": format!("/thermo/{name}"), "op": ["observeproperty", "unobserveproperty"], "subprotocol": "sse"},
            {"href": "ws://lab:5000/thermo/ws", "op": ["observeproperty", "unobserveproperty"]}
        ])
    };
    let forms = |name: &str, op: Value| {
        let mut forms = vec![json!({"href": format!("/thermo/{name}"), "op": op})];
        forms.extend(observe(name).as_array().unwrap().iter().cloned());
        Value::Array(forms)
    };
    let expected = json!({
        "title": "Thermostat",
        "id": "urn:uuid:0b5e7c2e-51b1-4b8e-9a39-3c7a7c2c9d11",
        "properties": {
            "target": {
                "description": "Target temperature.\n\nIn degrees Celsius.",
                "title": "Target temperature.",
                "writeOnly": false, "readOnly": false, "default": 21.0,
                "type": "number", "minimum": -20, "maximum": 40.5, "observable": true,
                "forms": forms("target", json!(["readproperty", "writeproperty"]))
            },
            "room": {
                "description": "Room name.", "title": "Room name.",
                "writeOnly": false, "readOnly": false, "default": "lab",
                "type": "string", "minLength": 1, "maxLength": 10, "observable": true,
                "forms": forms("room", json!(["readproperty", "writeproperty"]))
            },
            "firmware": {
                "description": "Firmware version.", "title": "Firmware version.",
                "writeOnly": false, "readOnly": true, "default": "1.0", "type": "string",
                "observable": true,
                "forms": forms("firmware", json!(["readproperty"]))
            },
            "temperature": {
                "description": "Current temperature.", "title": "Current temperature.",
                "writeOnly": false, "readOnly": true, "type": "number",
                "forms": [{"href": "/thermo/temperature", "op": ["readproperty"]}]
            },
            "brightness": {
                "description": "Display brightness, 0–10.", "title": "Display brightness, 0–10.",
                "writeOnly": false, "readOnly": false, "type": "integer", "minimum": 0, "maximum": 10,
                "forms": [{"href": "/thermo/brightness", "op": ["readproperty", "writeproperty"]}]
            }
        },
        "actions": {
            "twice": {
                "description": "Ask for the same resources twice.", "title": "Ask for the same resources twice.",
                "forms": [
                    {"href": "/thermo/twice?sync=true", "op": ["invokeaction"]},
                    {"href": "/thermo/twice", "op": ["invokeaction"]}
                ],
                "input": {
                    "description": "Represent the input of an action that never takes parameters.\n\nThis may be either an empty dictionary or ``None``.",
                    "title": "twice_input",
                    "oneOf": [
                        {"description": "A model representing an object that must have no keys.", "title": "StrictEmptyObject",
                         "type": "object", "properties": {}, "additionalProperties": false},
                        {"type": "null"}
                    ]
                },
                "output": {"title": "twice_output", "type": "array", "items": {"type": "string"}}
            },
            "go": {
                "description": "Move somewhere.", "title": "Move somewhere.",
                "forms": [
                    {"href": "/thermo/go?sync=true", "op": ["invokeaction"]},
                    {"href": "/thermo/go", "op": ["invokeaction"]}
                ],
                "input": {
                    "title": "go_input", "type": "object", "additionalProperties": false,
                    "properties": {
                        "target": {
                            "description": "Where a move should end.", "type": "object", "title": "Target",
                            "properties": {
                                "x": {"description": "Steps along x.", "type": "integer"},
                                "label": {"description": "Optional label.", "oneOf": [{"type": "string"}, {"type": "null"}]}
                            },
                            "required": ["x"]
                        },
                        "speed": {"type": "number", "default": 1.5, "title": "Speed (m/s)", "multipleOf": 0.5}
                    },
                    "required": ["target"]
                },
                "output": {"title": "go_output", "type": "number"}
            },
            "stubborn": {
                "description": "Catch a cancel, carry on, and be cancelled again.",
                "title": "Catch a cancel, carry on, and be cancelled again.",
                "forms": [
                    {"href": "/thermo/stubborn?sync=true", "op": ["invokeaction"]},
                    {"href": "/thermo/stubborn", "op": ["invokeaction"]}
                ],
                "input": {
                    "description": "Represent the input of an action that never takes parameters.\n\nThis may be either an empty dictionary or ``None``.",
                    "title": "stubborn_input",
                    "oneOf": [
                        {"description": "A model representing an object that must have no keys.", "title": "StrictEmptyObject",
                         "type": "object", "properties": {}, "additionalProperties": false},
                        {"type": "null"}
                    ]
                },
                "output": {"title": "stubborn_output", "type": "integer", "minimum": 0}
            }
        },
        "events": {
            "too_cold": {
                "description": "The room got too cold.\n\nCarries the temperature reached, in degrees Celsius.",
                "title": "The room got too cold.",
                "data": {"type": "number"},
                "forms": [
                    {"href": "/thermo/too_cold", "op": ["subscribeevent", "unsubscribeevent"], "subprotocol": "sse"},
                    {"href": "ws://lab:5000/thermo/ws", "op": ["subscribeevent", "unsubscribeevent"]}
                ]
            }
        },
        "description": "A thermostat.\n\nUsed to test the runtime.",
        "base": "http://lab:5000/",
        "links": [
            {"rel": "alternate", "type": "text/html", "href": "/ui/thermo"},
            {"rel": "alternate", "type": "text/event-stream", "href": "/thermo/properties"},
            {"rel": "alternate", "type": "text/event-stream", "href": "/thermo/events"}
        ],
        "securityDefinitions": {"no_security": {"description": "No security", "scheme": "nosec"}},
        "security": "no_security",
        "@context": ["https://www.w3.org/2019/wot/td/v1", "https://www.w3.org/2022/wot/td/v1.1"]
    });
    assert_eq!(td, expected, "{td:#}");
    // The key order of the TD and its affordances follows the reference's TDs (inside data
    // schemas it is schemars' order, which means nothing to a client).
    let keys = |value: &Value| {
        value
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&td), keys(&expected));
    for kind in ["properties", "actions", "events"] {
        assert_eq!(
            keys(&td[kind]),
            keys(&expected[kind]),
            "{kind} in declaration order"
        );
        for name in keys(&expected[kind]) {
            let (ours, reference) = (keys(&td[kind][&name]), keys(&expected[kind][&name]));
            let position = |list: &Vec<String>, key: &str| list.iter().position(|k| k == key);
            for key in [
                "description",
                "title",
                "writeOnly",
                "readOnly",
                "forms",
                "input",
                "output",
            ] {
                assert_eq!(
                    position(&ours, key).is_some(),
                    position(&reference, key).is_some(),
                    "{name}.{key}"
                );
            }
            assert_eq!(
                ours.first(),
                reference.first(),
                "{name} starts as the reference does"
            );
            assert_eq!(
                ours.last(),
                reference.last(),
                "{name} ends as the reference does"
            );
        }
    }
}

#[test]
fn observers_see_concurrent_writes_in_the_order_they_happened() {
    struct Last(Mutex<Option<Value>>);
    impl PropertyObserver for Last {
        fn property_changed(&self, _: &str, _: &str, value: &Value) {
            *self.0.lock().unwrap() = Some(value.clone());
        }
    }
    let thing = Thermostat::new();
    let last = Arc::new(Last(Mutex::new(None)));
    thing.attach("t", last.clone());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let thing = thing.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    thing.target.set(f64::from(w * 1000 + i) / 100.0).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let announced = last.0.lock().unwrap().clone().unwrap();
    assert_eq!(
        announced,
        json!(thing.target.get()),
        "the last announcement is the stored value"
    );
}

/// A functional property whose setter chooses its own refusal.
#[thing]
struct Dial {
    #[property]
    reading: Property<f64>,
}

#[thing]
impl Dial {
    /// The level.
    #[property]
    fn level(&self) -> f64 {
        self.reading.get()
    }

    #[setter(level)]
    fn set_level(&self, level: f64) -> Result<(), labthings_core::PropertyError> {
        if level > 10.0 {
            // As an instrument that refuses the value would.
            return Err(labthings_core::PropertyError::Invalid(
                labthings_core::ValidationErrors::single(
                    "instrument_error",
                    "-222,\"Data out of range\"",
                    json!(level),
                ),
            ));
        }
        self.reading
            .set(level)
            .map_err(labthings_core::PropertyError::Invalid)
    }
}

#[test]
fn a_setter_returning_a_property_error_answers_with_it() {
    let dial = Dial {
        reading: Property::new(0.0),
    };
    dial.write_property("level", json!(3.0)).unwrap();
    assert_eq!(dial.read_property("level").unwrap(), json!(3.0));
    match dial.write_property("level", json!(11.0)) {
        Err(labthings_core::PropertyError::Invalid(errors)) => {
            assert_eq!(errors.0[0].msg, "-222,\"Data out of range\"");
        }
        other => panic!("expected the setter's own refusal, got {other:?}"),
    }
}
