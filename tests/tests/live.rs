//! Live readings (issue #21) over real sockets: a getter with `observe_every` is called only
//! while observed (none, one, none again after the grace), publishes only changes, survives
//! a failing and a panicking getter, greets a late observer with the current value, and
//! publishes at once on `notify_<name>()`; a getter read on demand refuses an event stream.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use labthings_core::prelude::*;
use labthings_server::ThingServer;
use serde_json::{Value, json};
use support::TestServer;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A meter whose reading the test sets, counting how often its getters are called.
#[thing]
pub struct Meter {
    value: Mutex<f64>,
    calls: AtomicU64,
    fail: AtomicBool,
    panic: AtomicBool,
}

#[thing]
impl Meter {
    /// The reading, polled every 50 ms while observed.
    #[property(observe_every = "50ms")]
    fn reading(&self) -> Result<f64, std::io::Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.panic.load(Ordering::SeqCst) {
            panic!("the meter fell over");
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("the meter is unplugged"));
        }
        Ok(*self.value.lock().unwrap())
    }

    /// The same reading, published only when it moved by 1 or more.
    #[property(observe_every = "50ms", min_change = 1.0)]
    fn coarse(&self) -> f64 {
        *self.value.lock().unwrap()
    }

    /// Polled so rarely that only `notify_slow` publishes during a test.
    #[property(observe_every = "1h")]
    fn slow(&self) -> f64 {
        *self.value.lock().unwrap()
    }

    /// Read on demand only.
    #[property]
    fn on_demand(&self) -> f64 {
        *self.value.lock().unwrap()
    }

    /// Set the value and say so.
    #[action]
    fn set_and_notify(&self, value: f64) {
        *self.value.lock().unwrap() = value;
        self.notify_slow();
    }
}

impl Meter {
    fn set(&self, value: f64) {
        *self.value.lock().unwrap() = value;
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn meter() -> (TestServer, Arc<Meter>) {
    let meter = Arc::new(Meter {
        value: Mutex::new(20.0),
        calls: AtomicU64::new(0),
        fail: AtomicBool::new(false),
        panic: AtomicBool::new(false),
    });
    let server = TestServer::start(ThingServer::new().shared_thing("meter", meter.clone())).await;
    (server, meter)
}

/// An SSE stream being read; dropping it closes the connection.
struct Sse {
    body: Incoming,
    pending: String,
}

impl Sse {
    async fn open(server: &TestServer, path: &str) -> Self {
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        let request = Request::get(path)
            .header("host", server.addr.to_string())
            .header("accept", "text/event-stream")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            body: response.into_body(),
            pending: String::new(),
        }
    }

    /// The `data` of the next message within `wait`, skipping comments and `retry`.
    async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let message: String = self.pending.drain(..end + 2).collect();
                if let Some(data) = message.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return Some(serde_json::from_str(data).expect("JSON data"));
                }
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()?
                .expect("the stream is open")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.pending
                    .push_str(std::str::from_utf8(&data).expect("UTF-8"));
            }
        }
    }

    async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a message within 5 s")
    }
}

/// Wait until the getter has been called at least `calls` times (at most 5 s).
async fn until_calls(meter: &Meter, calls: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while meter.calls() < calls {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} calls, waited for {calls}",
            meter.calls()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_polled_getter_is_called_only_while_observed_and_for_the_grace_after() {
    let (server, meter) = meter().await;
    // Measuring an absence takes time: nobody observes, so nothing calls the getter.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(meter.calls(), 0, "no observer, no calls");

    let mut stream = Sse::open(&server, "/meter/reading").await;
    assert_eq!(
        stream.next().await,
        json!(20.0),
        "the first observer hears the value"
    );
    until_calls(&meter, 5).await;
    drop(stream);
    let left = meter.calls();

    // Within the 2 s grace polling goes on (a reconnect doesn't restart it)...
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(meter.calls() > left + 5, "polled during the grace");
    // ...and after it, stops.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let stopped = meter.calls();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(meter.calls(), stopped, "no calls once the grace is over");

    // A new observer starts it again, and hears the (unchanged) value at once.
    let mut again = Sse::open(&server, "/meter/reading").await;
    assert_eq!(again.next().await, json!(20.0));
    assert!(meter.calls() > stopped);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_changes_are_published_and_min_change_holds_back_small_ones() {
    let (server, meter) = meter().await;
    let mut reading = Sse::open(&server, "/meter/reading").await;
    let mut coarse = Sse::open(&server, "/meter/coarse").await;
    assert_eq!(reading.next().await, json!(20.0));
    assert_eq!(coarse.next().await, json!(20.0));
    let calls = meter.calls();
    until_calls(&meter, calls + 6).await;
    assert_eq!(
        reading.next_within(Duration::from_millis(200)).await,
        None,
        "an unchanged reading isn't published"
    );
    meter.set(20.5);
    assert_eq!(reading.next().await, json!(20.5));
    assert_eq!(
        coarse.next_within(Duration::from_millis(300)).await,
        None,
        "0.5 is under min_change"
    );
    meter.set(21.5);
    assert_eq!(reading.next().await, json!(21.5));
    assert_eq!(coarse.next().await, json!(21.5));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_or_panicking_getter_keeps_the_last_value_and_the_server_goes_on() {
    let (server, meter) = meter().await;
    let mut stream = Sse::open(&server, "/meter/reading").await;
    assert_eq!(stream.next().await, json!(20.0));
    meter.fail.store(true, Ordering::SeqCst);
    let calls = meter.calls();
    until_calls(&meter, calls + 3).await;
    assert_eq!(stream.next_within(Duration::from_millis(200)).await, None);
    // The failure backs off: far fewer calls than every 50 ms.
    let failing_since = meter.calls();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        meter.calls() - failing_since <= 5,
        "{} calls in 1 s while failing",
        meter.calls() - failing_since
    );
    meter.fail.store(false, Ordering::SeqCst);
    meter.panic.store(true, Ordering::SeqCst);
    let calls = meter.calls();
    until_calls(&meter, calls + 1).await;
    // The server still answers, and a late observer still hears the last good value.
    let mut late = Sse::open(&server, "/meter/reading").await;
    assert_eq!(late.next().await, json!(20.0));
    assert_eq!(server.get("/meter/on_demand").await.json(), json!(20.0));
    meter.panic.store(false, Ordering::SeqCst);
    meter.set(23.0);
    // After the back-off (at most a few seconds here) the poller reads again.
    assert_eq!(
        stream.next_within(Duration::from_secs(10)).await,
        Some(json!(23.0))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_observer_hears_the_current_value_at_once() {
    let (server, meter) = meter().await;
    meter.set(7.0);
    let mut first = Sse::open(&server, "/meter/reading").await;
    assert_eq!(first.next().await, json!(7.0));
    let mut second = Sse::open(&server, "/meter/reading").await;
    assert_eq!(
        second.next_within(Duration::from_millis(500)).await,
        Some(json!(7.0)),
        "the unchanged value greets the second observer"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_thing_level_properties_stream_observes_every_polled_getter() {
    let (server, meter) = meter().await;
    let mut all = Sse::open(&server, "/meter/properties").await;
    let mut heard = Vec::new();
    for _ in 0..2 {
        heard.push(all.next().await);
    }
    assert_eq!(heard, [json!(20.0), json!(20.0)], "reading and coarse");
    assert!(meter.calls() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_publishes_at_once_and_only_a_change() {
    let (server, _meter) = meter().await;
    let mut slow = Sse::open(&server, "/meter/slow").await;
    assert_eq!(
        slow.next().await,
        json!(20.0),
        "the first poll, then none for an hour"
    );
    let done = server
        .post_and_wait("/meter/set_and_notify", Some(r#"{"value": 42.0}"#))
        .await;
    assert_eq!(done.json()["status"], "completed", "{:?}", done.body);
    assert_eq!(slow.next().await, json!(42.0));
    server
        .post_and_wait("/meter/set_and_notify", Some(r#"{"value": 42.0}"#))
        .await;
    assert_eq!(
        slow.next_within(Duration::from_millis(300)).await,
        None,
        "the same value again is no change"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_observes_a_polled_getter_and_td_says_observable() {
    let (server, meter) = meter().await;
    let td = server.get("/meter/").await.json();
    assert_eq!(td["properties"]["reading"]["observable"], json!(true));
    let ops: Vec<&Value> = td["properties"]["reading"]["forms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subprotocol"] == "sse")
        .collect();
    assert_eq!(ops.len(), 1, "an SSE observe form");
    assert!(td["properties"]["on_demand"].get("observable").is_none());

    let url = format!("ws://{}/meter/ws", server.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let message = json!({"messageType": "addPropertyObservation", "data": {"reading": true}});
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
    meter.set(30.0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a status within 5 s")
            .unwrap()
            .unwrap();
        let Message::Text(text) = frame else { continue };
        let status: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status["messageType"], "propertyStatus", "{status}");
        if status["data"]["reading"] == json!(30.0) {
            break;
        }
    }
    assert!(meter.calls() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_stream_of_a_getter_read_on_demand_is_406_saying_how_to_observe_it() {
    let (server, meter) = meter().await;
    let reply = server
        .request(
            hyper::Method::GET,
            "/meter/on_demand",
            &[("accept", "text/event-stream")],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let detail = reply.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.contains("observe_every"), "{detail}");
    assert_eq!(meter.calls(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn units_are_om_terms_in_the_td_with_their_prefix_and_symbols_in_openapi() {
    let server = TestServer::start(
        ThingServer::new().thing("thermometer", labthings_examples::MockThermometer::new()),
    )
    .await;
    let td = server.get("/thermometer/").await.json();
    assert_eq!(td["properties"]["temperature"]["unit"], "om:degreeCelsius");
    assert_eq!(td["properties"]["temperature"]["observable"], true);
    assert_eq!(td["properties"]["set_point"]["unit"], "om:degreeCelsius");
    let input = &td["actions"]["warm_up_curve"]["input"]["properties"];
    assert_eq!(input["duration_seconds"]["unit"], "om:second-Time");
    let context = td["@context"].as_array().expect("@context is a list");
    assert_eq!(
        context.last(),
        Some(&json!({"om": "http://www.ontology-of-units-of-measure.org/resource/om-2/"})),
        "the om prefix is declared (and no prefix named `unit`)"
    );

    let openapi = server.get("/openapi.json").await;
    assert_eq!(openapi.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&openapi.body);
    assert!(
        text.contains(r#""x-unit":"°C""#),
        "x-unit in the OpenAPI document"
    );
    assert!(
        !text.contains(r#""unit":"#),
        "no bare `unit` keyword in JSON Schema"
    );

    // The TD without units keeps the plain two-entry context.
    let (plain, _) = meter().await;
    let td = plain.get("/meter/").await.json();
    assert_eq!(td["@context"].as_array().map(Vec::len), Some(2));
}

/// A gauge whose event data carries a unit.
#[thing]
pub struct Gauge {
    /// The gauge moved: the distance it travelled.
    #[event(unit = "mm")]
    moved: Event<f64>,
}

#[thing]
impl Gauge {}

#[tokio::test(flavor = "multi_thread")]
async fn an_events_unit_is_in_its_data_schema_the_context_and_openapi() {
    let server = TestServer::start(ThingServer::new().thing(
        "gauge",
        Gauge {
            moved: Event::new(),
        },
    ))
    .await;
    let td = server.get("/gauge/").await.json();
    assert_eq!(td["events"]["moved"]["data"]["unit"], "om:millimetre");
    assert_eq!(td["events"]["moved"]["data"]["type"], "number");
    let context = td["@context"].as_array().expect("@context is a list");
    assert_eq!(
        context.last(),
        Some(&json!({"om": "http://www.ontology-of-units-of-measure.org/resource/om-2/"})),
        "an event's unit alone declares the om prefix"
    );
    // OpenAPI describes an SSE stream's payload in its text, with the schema in JSON.
    let openapi = server.get("/openapi.json").await.json();
    let description = openapi["paths"]["/gauge/moved"]["get"]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains(r#""x-unit": "mm""#),
        "x-unit in the event's OpenAPI description: {description}"
    );
}
