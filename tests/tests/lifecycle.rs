//! Slots, lifecycle hooks and the global lock, in-process against a real server.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::StatusCode;
use labthings_core::prelude::*;
use labthings_examples::{Counter, MockCamera, MockStage};
use labthings_server::{ServerError, ThingServer};
use labthings_tests::{Lab, Microscope};
use serde_json::json;
use support::TestServer;

const LOCK_BUSY: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.GlobalLockBusyError";

#[tokio::test(flavor = "multi_thread")]
async fn a_held_global_lock_refuses_writes_and_actions() {
    let server = TestServer::start(
        ThingServer::new()
            .thing("counter", Counter::new())
            .thing("lab", Lab::new())
            .global_lock(true),
    )
    .await;
    let holder = server
        .post("/counter/slow", Some(r#"{"duration": 30, "step": 10}"#))
        .await
        .json();
    let holder_id = holder["id"].as_str().unwrap().to_owned();
    server.wait_for(&holder_id, |s| s == "running").await;

    let put = server.put("/counter/count", "3").await;
    assert_eq!(put.status, StatusCode::CONFLICT);
    assert_eq!(
        put.json(),
        json!({"detail": "The global lock could not be acquired.", "type": LOCK_BUSY, "status": 409, "title": "GlobalLockBusyError", "instance": null})
    );
    let refused = server.run_action("/counter/increment", None).await;
    assert_eq!(refused["status"], "error");
    assert_eq!(refused["error"]["type"], LOCK_BUSY);
    assert_eq!(refused["error"]["title"], "GlobalLockBusyError");
    assert_eq!(
        server.run_action("/lab/unlocked", None).await["output"],
        "ran",
        "no_lock opts out"
    );
    // An inline action that must take the lock waits for it on the pool, not on a request's
    // thread: it answers still pending or running (inline, it would answer having ended), and
    // ends refused like the others once the lock's 50 ms wait is over.
    let inline = server.post("/lab/where_inline", None).await.json();
    assert!(
        matches!(inline["status"].as_str(), Some("pending" | "running")),
        "{inline}"
    );
    let inline_id = inline["id"].as_str().unwrap().to_owned();
    let refused = server.wait_for(&inline_id, |s| s == "error").await;
    assert_eq!(refused["error"]["title"], "GlobalLockBusyError");
    assert_eq!(
        server.get("/counter/count").await.body,
        "0",
        "reads never wait"
    );

    server
        .delete(&format!("/action_invocations/{holder_id}"))
        .await;
    server.wait_for(&holder_id, |s| s == "cancelled").await;
    assert_eq!(
        server.put("/counter/count", "3").await.status,
        StatusCode::CREATED,
        "released"
    );
    assert_eq!(
        server.run_action("/counter/increment", None).await["output"],
        4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slots_are_wired_by_type_and_by_name() {
    let server = TestServer::start(
        ThingServer::new()
            .thing("stage", MockStage::new())
            .thing("scope", Microscope::new())
            .thing("camera", MockCamera::default()),
    )
    .await;
    assert_eq!(
        server.get("/scope/stage_position").await.json(),
        json!([0, 0, 0])
    );
    let focused = server
        .run_action("/camera/autofocus", Some(r#"{"range": 400, "steps": 5}"#))
        .await;
    assert_eq!(focused["status"], "completed", "{focused}");
    assert_eq!(
        server.get("/scope/stage_position").await.json()[2],
        focused["output"],
        "the camera moved the stage"
    );

    // Named in the config: the second of two stages.
    let (first, second) = (Arc::new(MockStage::new()), Arc::new(MockStage::new()));
    let scope = Arc::new(Microscope::new());
    let slots = HashMap::from([("stage".to_owned(), "right".to_owned())]);
    let named = TestServer::start(
        ThingServer::new()
            .shared_thing("left", first)
            .shared_thing("right", second.clone())
            .thing_with_slots("scope", scope, slots),
    )
    .await;
    named
        .run_action("/right/move_absolute", Some(r#"{"position": [0, 0, 30]}"#))
        .await;
    assert_eq!(
        named.get("/scope/stage_position").await.json(),
        json!([0, 0, 30])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_wrapped_in_the_actions_own_error_type_is_still_a_cancel() {
    let server = TestServer::start(
        ThingServer::new()
            .thing("stage", MockStage::new())
            .thing("camera", MockCamera::default()),
    )
    .await;
    assert_eq!(
        server.put("/stage/speed", "100").await.status,
        StatusCode::CREATED
    );
    let started = server
        .post("/camera/autofocus", Some(r#"{"range": 5000, "steps": 3}"#))
        .await
        .json();
    let id = started["id"].as_str().unwrap().to_owned();
    server.wait_for(&id, |s| s == "running").await;
    server.delete(&format!("/action_invocations/{id}")).await;
    let ended = server.wait_for(&id, |s| s != "running").await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    assert_eq!(ended["error"]["title"], "InvocationCancelledError");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_optional_slot_may_stay_empty() {
    let server = TestServer::start(ThingServer::new().thing("camera", MockCamera::default())).await;
    let failed = server.run_action("/camera/autofocus", None).await;
    assert_eq!(failed["status"], "error");
    assert_eq!(
        failed["error"]["detail"],
        "this camera has no stage to focus with"
    );
}

async fn start_error(server: ThingServer) -> String {
    match server.port(0).start().await {
        Ok(_) => panic!("the server started"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_ambiguous_slots_stop_start_up() {
    let missing = start_error(ThingServer::new().thing("scope", Microscope::new())).await;
    assert_eq!(
        missing,
        "slot `stage` of Thing `scope`: it needs a `labthings_examples::stage::MockStage` and the server has none"
    );
    let ambiguous = start_error(
        ThingServer::new()
            .thing("a", MockStage::new())
            .thing("b", MockStage::new())
            .thing("scope", Microscope::new()),
    )
    .await;
    assert!(
        ambiguous.contains("several Things could fill it (a, b)"),
        "{ambiguous}"
    );
    let slots = HashMap::from([("stage".to_owned(), "nowhere".to_owned())]);
    let unknown = start_error(ThingServer::new().thing_with_slots(
        "scope",
        Arc::new(Microscope::new()),
        slots,
    ))
    .await;
    assert!(
        unknown.contains("it names `nowhere`, which is not a Thing of this server"),
        "{unknown}"
    );
    let slots = HashMap::from([("stage".to_owned(), "counter".to_owned())]);
    let wrong = start_error(
        ThingServer::new()
            .thing("counter", Counter::new())
            .thing_with_slots("scope", Arc::new(Microscope::new()), slots),
    )
    .await;
    assert!(wrong.contains("`counter` can't go in it"), "{wrong}");
}

/// Records its lifecycle into a shared journal.
#[thing]
struct Hooked {
    #[property]
    label: Property<String>,
    journal: Arc<Mutex<Vec<String>>>,
    refuse_to_start: bool,
}

impl Hooked {
    fn new(label: &str, journal: &Arc<Mutex<Vec<String>>>, refuse_to_start: bool) -> Self {
        Self {
            label: Property::new(label.into()),
            journal: journal.clone(),
            refuse_to_start,
        }
    }
}

#[thing]
impl Hooked {
    #[on_start]
    fn begin(&self) -> Result<(), String> {
        self.journal
            .lock()
            .unwrap()
            .push(format!("start {}", self.label.get()));
        if self.refuse_to_start {
            Err("no hardware found".into())
        } else {
            Ok(())
        }
    }

    #[on_stop]
    fn end(&self) {
        self.journal
            .lock()
            .unwrap()
            .push(format!("stop {}", self.label.get()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_run_in_order_and_stop_in_reverse() {
    let journal = Arc::new(Mutex::new(Vec::new()));
    let server = ThingServer::new()
        .thing("a", Hooked::new("a", &journal, false))
        .thing("b", Hooked::new("b", &journal, false))
        .port(0)
        .start()
        .await
        .unwrap();
    assert_eq!(
        *journal.lock().unwrap(),
        ["start a", "start b"],
        "before serving"
    );
    server.shutdown().await;
    assert_eq!(
        *journal.lock().unwrap(),
        ["start a", "start b", "stop b", "stop a"]
    );

    let journal = Arc::new(Mutex::new(Vec::new()));
    let refused = ThingServer::new()
        .thing("a", Hooked::new("a", &journal, false))
        .thing("b", Hooked::new("b", &journal, true))
        .thing("c", Hooked::new("c", &journal, false))
        .port(0)
        .start()
        .await;
    let Err(ServerError::StartHook { thing, detail, .. }) = refused else {
        panic!("started")
    };
    assert_eq!(
        (thing.as_str(), detail.as_str()),
        ("b", "no hardware found")
    );
    assert_eq!(
        *journal.lock().unwrap(),
        ["start a", "start b", "stop a"],
        "what started is stopped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_cancels_running_actions() {
    let server = ThingServer::new()
        .thing("counter", Counter::new())
        .port(0)
        .shutdown_grace(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();
    let started = support::request(
        addr,
        hyper::Method::POST,
        "/counter/slow",
        &[],
        Some(r#"{"duration": 60, "step": 30}"#.into()),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let began = std::time::Instant::now();
    server.shutdown().await;
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "the 30 s step was cancelled, not waited out"
    );
}

/// A Thing with a factory calibration: clients may read it, only the settings file sets it.
#[thing]
struct Calibrated {
    /// Offset measured at the factory.
    #[setting(read_only)]
    offset: Setting<f64>,
}

#[thing]
impl Calibrated {}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_settings_load_from_their_file() {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("calibrated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(folder.join("sensor")).unwrap();
    std::fs::write(
        folder.join("sensor/Settings-Calibrated.json"),
        r#"{"offset": 1.5}"#,
    )
    .unwrap();
    let server = TestServer::start(
        ThingServer::new()
            .thing(
                "sensor",
                Calibrated {
                    offset: Setting::new(0.0),
                },
            )
            .settings_folder(&folder),
    )
    .await;
    assert_eq!(server.get("/sensor/offset").await.json(), 1.5);
    assert_eq!(
        server.put("/sensor/offset", "2").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// A tree: its schema refers to itself, so schemars can't inline it and leaves a `$ref`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct Node {
    pub children: Vec<Node>,
}

/// A Thing whose action input the validator could not check.
#[thing]
pub struct Gardener {}

#[thing]
impl Gardener {
    /// Count the nodes of a tree.
    #[action]
    fn count(&self, tree: Node) -> usize {
        1 + tree.children.len()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_the_validator_cannot_check_stops_start_up() {
    let error = ThingServer::new()
        .thing("gardener", Gardener {})
        .port(0)
        .start()
        .await
        .err()
        .expect("start-up refused");
    assert!(
        matches!(error, ServerError::UnsupportedSchema { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("Thing `gardener`, the input of action `count`")
            && message.contains("`$ref`")
            && message.contains("recursive"),
        "{message}"
    );
}
