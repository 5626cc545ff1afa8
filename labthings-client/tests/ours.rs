//! The client against our server: the demo Things (counter, stage, camera) served in-process
//! on a free port.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use labthings_client::{Error, InvocationStatus, ThingClient};
use labthings_server::{RunningServer, ThingServer};
use serde::Deserialize;
use serde_json::{Value, json};

/// A demo server that is shut down when dropped.
struct Lab {
    addr: SocketAddr,
    server: Option<RunningServer>,
}

impl Lab {
    async fn start() -> Self {
        let server = ThingServer::new()
            .thing("counter", labthings_examples::Counter::new())
            .thing("stage", labthings_examples::MockStage::new())
            .thing("camera", labthings_examples::MockCamera::default())
            .port(0)
            .shutdown_grace(Duration::from_millis(100))
            .start()
            .await
            .expect("server starts");
        Self {
            addr: server.local_addr(),
            server: Some(server),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn client(&self, thing: &str) -> ThingClient {
        ThingClient::from_url(&self.url(&format!("/{thing}/")))
            .await
            .expect("TD")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(server) = self.server.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(server.shutdown());
        }
    }
}

#[tokio::test]
async fn the_td_lists_affordances_and_the_unslashed_url_redirects() {
    let lab = Lab::start().await;
    // `/counter` answers 307 to `/counter/`.
    let counter = ThingClient::from_url(&lab.url("/counter"))
        .await
        .expect("TD");
    assert_eq!(counter.url(), lab.url("/counter/"));
    let properties: Vec<&str> = counter.properties().collect();
    for name in ["count", "gain", "limit", "serial", "uptime"] {
        assert!(properties.contains(&name), "{name} in {properties:?}");
    }
    let actions: Vec<&str> = counter.actions().collect();
    for name in ["fail", "increment", "slow"] {
        assert!(actions.contains(&name), "{name} in {actions:?}");
    }
    let td = counter.description();
    assert!(td.properties["serial"].read_only);
    assert_eq!(td.properties["limit"].schema["maximum"], 1000);
}

#[tokio::test]
async fn the_server_lists_its_things() {
    let lab = Lab::start().await;
    let things = ThingClient::list_things(&lab.url("")).await.expect("list");
    assert_eq!(
        things.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["camera", "counter", "stage"]
    );
    assert_eq!(things["counter"], lab.url("/counter/"));
    let clients = ThingClient::builder()
        .connect_all(&lab.url("/"))
        .await
        .expect("connect all");
    assert!(clients["stage"].actions().count() > 0);
}

#[tokio::test]
async fn properties_read_and_write_typed() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    counter.write("count", &41).await.expect("write");
    assert_eq!(counter.read::<i64>("count").await.expect("read"), 41);
    counter.write("gain", &2.5).await.expect("write setting");
    assert_eq!(
        counter.read::<f64>("gain").await.expect("read setting"),
        2.5
    );
    assert_eq!(
        counter.read::<String>("serial").await.expect("serial"),
        "LTRS-0001"
    );
    assert!(counter.read::<f64>("uptime").await.expect("uptime") >= 0.0);
    counter.reset("count").await.expect("reset");
    assert_eq!(counter.read::<i64>("count").await.expect("read"), 0);

    // A value of the wrong type for `T` is a decode error on our side.
    assert!(matches!(
        counter.read::<String>("count").await,
        Err(Error::Decode { .. })
    ));
}

#[tokio::test]
async fn refused_writes_are_typed_errors() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;

    // The reference's message for a string that is no integer (capture 13).
    let Err(Error::Validation(issues)) = counter.write("count", &"abc").await else {
        panic!("a string is not an integer");
    };
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].kind, "int_parsing");
    assert_eq!(issues[0].location(), "body");
    assert_eq!(
        issues[0].msg,
        "Input should be a valid integer, unable to parse string as an integer"
    );
    assert_eq!(issues[0].input, json!("abc"));

    let Err(Error::Validation(issues)) = counter.write("limit", &5000).await else {
        panic!("5000 is above the maximum");
    };
    assert_eq!(issues[0].location(), "body");

    // Read-only: 405 from the server.
    match counter.write("serial", &"X").await {
        Err(Error::Http { status, body }) => {
            assert_eq!(status.as_u16(), 405);
            assert!(body.contains("Method Not Allowed"), "{body}");
        }
        other => panic!("read-only write: {other:?}"),
    }
    assert_eq!(
        counter.read::<String>("serial").await.expect("serial"),
        "LTRS-0001"
    );
}

#[tokio::test]
async fn unknown_names_and_ids_are_404s() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    for result in [
        counter.read::<Value>("nope").await.map(drop),
        counter.write("nope", &1).await,
        counter.invoke::<Value, _>("nope", &()).await.map(drop),
        counter
            .invocation("/action_invocations/00000000-0000-0000-0000-000000000000")
            .await
            .map(drop),
        counter
            .download("/blob/00000000-0000-0000-0000-000000000000")
            .await
            .map(drop),
    ] {
        match result {
            Err(error @ Error::Http { .. }) => {
                assert_eq!(error.status().map(|s| s.as_u16()), Some(404))
            }
            other => panic!("expected a 404: {other:?}"),
        }
    }
    match ThingClient::from_url(&lab.url("/nothing/")).await {
        Err(Error::Http { status, .. }) => assert_eq!(status.as_u16(), 404),
        other => panic!("no such Thing: {other:?}"),
    }
    // A name can't smuggle a path into `T<name>`.
    assert!(matches!(
        counter.read::<Value>("../stage/").await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn actions_invoke_and_return_their_output() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    counter.write("count", &9).await.expect("write");
    let count: i64 = counter.invoke("increment", &()).await.expect("increment");
    assert_eq!(count, 10);
    let steps: u64 = counter
        .invoke("slow", &json!({"duration": 0.03, "step": 0.01}))
        .await
        .expect("slow");
    assert_eq!(steps, 3);

    // A struct output, from another Thing.
    #[derive(Debug, Deserialize)]
    struct Frame {
        #[serde(flatten)]
        fields: serde_json::Map<String, Value>,
    }
    let camera = lab.client("camera").await;
    let frame: Frame = camera
        .invoke("capture_metadata", &())
        .await
        .expect("capture_metadata");
    assert!(!frame.fields.is_empty());

    // A refused input: the field is named in `loc`.
    match counter
        .invoke::<u64, _>("slow", &json!({"duration": "long"}))
        .await
    {
        Err(Error::Validation(issues)) => {
            assert_eq!(issues[0].location(), "body.duration");
        }
        other => panic!("a string duration: {other:?}"),
    }
    match counter.invoke::<u64, _>("slow", &json!({"speed": 1})).await {
        Err(Error::Validation(issues)) => assert_eq!(issues[0].kind, "extra_forbidden"),
        other => panic!("an unknown input: {other:?}"),
    }
}

#[tokio::test]
async fn a_failing_action_is_a_problem() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    match counter.invoke::<(), _>("fail", &()).await {
        Err(Error::Problem(problem)) => {
            assert_eq!(problem.detail, "deliberate failure from fail()");
            assert_eq!(problem.status, 500);
            assert_eq!(problem.title, "RuntimeError");
        }
        other => panic!("fail: {other:?}"),
    }
}

#[tokio::test]
async fn invocations_log_and_cancel() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    let mut slow = counter
        .start("slow", &json!({"duration": 30.0, "step": 0.02}))
        .await
        .expect("start");
    assert!(!slow.status().is_finished());
    assert!(slow.href().ends_with(slow.id()), "{}", slow.href());

    // Wait for a few steps to be logged.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = slow.log().await.expect("log");
        if log.iter().any(|r| r.message.contains("step 2/")) {
            break log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no steps logged: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        log[0].message.starts_with("slow: starting 1500 steps"),
        "{log:?}"
    );
    assert_eq!(log[0].levelname, "INFO");
    assert_eq!(log[0].levelno, 20);
    assert_eq!(slow.status(), InvocationStatus::Running);

    slow.cancel().await.expect("cancel");
    assert!(matches!(slow.wait::<u64>().await, Err(Error::Cancelled)));
    assert_eq!(slow.status(), InvocationStatus::Cancelled);
    let problem = slow.record().error.clone().expect("error");
    assert_eq!(problem.title, "InvocationCancelledError");

    // Once finished it can't be cancelled again: 503.
    match slow.cancel().await {
        Err(Error::Http { status, .. }) => assert_eq!(status.as_u16(), 503),
        other => panic!("second cancel: {other:?}"),
    }

    // The same invocation, found again by its href.
    let again = counter.invocation(&slow.href()).await.expect("by href");
    assert_eq!(again.status(), InvocationStatus::Cancelled);
}

#[tokio::test]
async fn observing_a_property_streams_its_writes() {
    let lab = Lab::start().await;
    let counter = lab.client("counter").await;
    let mut counts = counter.observe::<i64>("count").await.expect("observe");
    for value in [1, 2, 3] {
        counter.write("count", &value).await.expect("write");
    }
    let increment: i64 = counter.invoke("increment", &()).await.expect("increment");
    assert_eq!(increment, 4);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let next = tokio::time::timeout(Duration::from_secs(5), counts.next())
            .await
            .unwrap_or_else(|_| panic!("no pushed value in time; seen {seen:?}"));
        seen.push(next.expect("stream open").expect("a count"));
    }
    assert_eq!(seen, vec![1, 2, 3, 4]);

    // All properties on one stream, named.
    let mut all = counter.observe_all_properties().await.expect("observe all");
    counter.write("limit", &7).await.expect("write limit");
    let named = tokio::time::timeout(Duration::from_secs(5), all.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("decoded");
    assert_eq!(named.name, "limit");
    // A functional property is not observable: whatever the server answers, no stream.
    match counter.observe::<f64>("uptime").await {
        Err(Error::Unsupported(_) | Error::Http { .. } | Error::Problem(_)) => {}
        other => panic!("observing uptime: {other:?}"),
    }
    assert_eq!(named.value, json!(7));
    assert!(named.id.is_some());
}

#[tokio::test]
async fn a_token_is_sent_and_blobs_download_generically() {
    let lab = Lab::start().await;
    // The server does not check tokens yet: the header must simply not get in the way.
    let counter = ThingClient::builder()
        .token("s3cret")
        .connect(&lab.url("/counter/"))
        .await
        .expect("TD with a token");
    assert!(format!("{counter:?}").contains("redacted"));
    assert!(!format!("{counter:?}").contains("s3cret"));
    counter.write("count", &5).await.expect("write");
    let counter = counter.with_token("other");
    assert_eq!(counter.read::<i64>("count").await.expect("read"), 5);

    let blob = counter.download("/counter/count").await.expect("download");
    assert_eq!(blob.media_type.as_deref(), Some("application/json"));
    assert_eq!(&blob.bytes[..], b"5");
}

#[test]
fn the_blocking_client_does_it_all() {
    // The server runs on its own runtime thread; the blocking client owns another.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let lab = runtime.block_on(Lab::start());
    let url = lab.url("/counter/");
    let outcome = std::thread::spawn(move || {
        let counter = labthings_client::blocking::ThingClient::from_url(&url)?;
        assert!(counter.properties().contains(&"count".to_owned()));
        let mut counts = counter.observe::<i64>("count")?;
        counter.write("count", &20)?;
        assert_eq!(counter.read::<i64>("count")?, 20);
        assert_eq!(counter.invoke::<i64, _>("increment", &())?, 21);
        assert!(matches!(
            counter.write("count", &"x"),
            Err(Error::Validation(_))
        ));
        let mut slow = counter.start("slow", &json!({"duration": 30.0, "step": 0.05}))?;
        slow.cancel()?;
        assert!(matches!(slow.wait::<u64>(), Err(Error::Cancelled)));
        assert!(!slow.log()?.is_empty());
        let pushed: Vec<i64> = (0..2)
            .map(|_| counts.next_timeout(Duration::from_secs(5)))
            .map(|v| v.expect("a value in time"))
            .collect::<Result<_, _>>()?;
        assert_eq!(pushed, vec![20, 21]);
        Ok::<_, Error>(())
    })
    .join()
    .expect("no panic");
    outcome.expect("blocking calls succeed");
    runtime.block_on(async move { drop(lab) });
}
