//! The MQTT binding against a real Mosquitto (started per test on a free loopback port),
//! with `mosquitto_sub`/`mosquitto_pub` as the independent client: every topic family, writes
//! and invocations through the HTTP paths, refusals on the errors topic, stale retained
//! commands, a broker that is down at start or killed under load, two servers on one broker,
//! broker credentials, and the Last Will.

#[path = "support/broker.rs"]
mod broker;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use broker::{Access, Broker, Message};
use labthings_core::prelude::*;
use labthings_server::{MqttConfig, ThingServer};
use serde_json::{Value, json};
use support::{TestServer, demo_server};

const PREFIX: &str = "lt-test";
const WAIT: Duration = Duration::from_secs(10);

fn topic(rest: &str) -> String {
    format!("{PREFIX}/{rest}")
}

fn config(broker: &Broker) -> MqttConfig {
    let mut config = MqttConfig::url(broker.url());
    config.prefix = Some(PREFIX.into());
    config
}

async fn serve(config: MqttConfig) -> TestServer {
    TestServer::start(demo_server().mqtt(config)).await
}

fn is(topic_rest: &str, payload: &str) -> impl Fn(&Message) -> bool {
    let (topic, payload) = (topic(topic_rest), payload.to_owned());
    move |m| m.topic == topic && m.payload == payload
}

/// The directory TD's report of the MQTT link: `connected`, `connecting`, `disconnected`.
async fn link_state(server: &TestServer) -> String {
    let directory = server.get("/.well-known/wot").await.json();
    directory["mqtt"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Ask the directory until the link reports `state` (over HTTP there is nothing to wait on).
async fn until_link(server: &TestServer, state: &str) {
    let deadline = Instant::now() + WAIT;
    while link_state(server).await != state {
        assert!(Instant::now() < deadline, "the link never became {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A driver that writes a reading several times in a row, as one emptying an instrument's
/// buffer would.
#[thing]
struct Burst {
    #[property(read_only)]
    value: Property<i64>,
}

#[thing]
impl Burst {
    /// Count `value` up to `to`, one write per step, back to back.
    #[action]
    fn count(&self, to: i64) {
        for next in self.value.get() + 1..=to {
            let _ = self.value.set(next);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_written_back_to_back_each_reach_the_broker() {
    let broker = Broker::start();
    let burst = Burst {
        value: Property::new(0),
    };
    let server = TestServer::start(
        ThingServer::new()
            .thing("burst", burst)
            .mqtt(config(&broker)),
    )
    .await;
    let values = topic("burst/properties/value");
    let sub = broker.subscribe(&[&values], None);
    sub.until(WAIT, is("burst/properties/value", "0"));
    until_link(&server, "connected").await;
    // Five bursts of twenty writes, microseconds apart: rumqttc's queue (64 a Thing) has room
    // for each, so every value must go out — merging is for a full queue or a broker away.
    for to in [20, 40, 60, 80, 100] {
        let body = format!(r#"{{"to": {to}}}"#);
        let done = server.post_and_wait("/burst/count", Some(&body)).await;
        assert_eq!(done.json()["status"], "completed");
        sub.until(WAIT, is("burst/properties/value", &to.to_string()));
    }
    let seen: Vec<String> = sub
        .all(Duration::ZERO)
        .into_iter()
        .filter(|m| m.topic == values)
        .map(|m| m.payload)
        .collect();
    let written: Vec<String> = (0..=100).map(|n| n.to_string()).collect();
    assert_eq!(seen, written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_topic_family_reaches_an_independent_subscriber() {
    let broker = Broker::start();
    let server = serve(config(&broker)).await;
    let sub = broker.subscribe(&[&topic("#")], None);
    // `sub` may have subscribed before the server's first publishes (then they arrive live,
    // not flagged retained): once it has seen them, a subscriber that comes later must be
    // handed all three by the broker as retained messages.
    sub.on(&topic("counter/properties/count"), WAIT);
    let late = broker.subscribe(&[&topic("counter/#")], None);

    let td = late.on(&topic("counter"), WAIT);
    assert!(td.retained, "the TD is retained");
    let td = td.json();
    assert_eq!(td["title"], "Counter");
    let forms = td["properties"]["count"]["forms"].as_array().unwrap();
    let mqtt: Vec<&Value> = forms
        .iter()
        .filter(|f| f["href"].as_str().unwrap().starts_with("mqtt://"))
        .collect();
    assert_eq!(
        mqtt[0]["href"],
        format!("{}/{}", broker.url(), topic("counter/properties/count"))
    );
    assert_eq!(mqtt[0]["mqv:filter"], topic("counter/properties/count"));
    assert!(
        !forms[0]["href"].as_str().unwrap().starts_with("mqtt"),
        "HTTP first"
    );
    // The TD served over HTTP says the same.
    let http_td = server.get("/counter/").await.json();
    assert_eq!(
        http_td["properties"]["count"]["forms"],
        td["properties"]["count"]["forms"]
    );
    assert_eq!(
        http_td["@context"][2]["mqv"],
        "https://www.w3.org/2019/wot/mqtt#"
    );

    let status = late.on(&topic("counter/status"), WAIT);
    assert_eq!((status.payload.as_str(), status.retained), ("online", true));
    let count = late.on(&topic("counter/properties/count"), WAIT);
    assert_eq!((count.payload.as_str(), count.retained), ("0", true));

    // A PUT reaches the property's topic.
    assert_eq!(server.put("/counter/count", "7").await.status, 201);
    let count = sub.until(WAIT, is("counter/properties/count", "7"));
    assert!(!count.retained, "delivered live (and kept by the broker)");

    // An action invoked over MQTT: its statuses, its event, its property changes.
    broker.publish(
        &topic("stage/actions/move_relative"),
        r#"{"displacement": [5, 0, 0]}"#,
        false,
        None,
    );
    let statuses = topic("stage/actions/move_relative/status");
    for status in ["pending", "running", "completed"] {
        sub.until(WAIT, |m| {
            m.topic == statuses && m.json()["status"] == status
        });
    }
    let completed = sub.all(Duration::ZERO);
    let completed = completed.iter().rfind(|m| m.topic == statuses).unwrap();
    let href = completed.json()["href"].as_str().unwrap().to_owned();
    let arrived = sub.on(&topic("stage/events/arrived"), WAIT);
    assert_eq!(
        (arrived.json(), arrived.retained),
        (json!([5, 0, 0]), false)
    );
    // The invocation is an ordinary one, followed over HTTP.
    let path = href.split_once(&server.addr.to_string()).unwrap().1;
    let invocation = server.get(path).await.json();
    assert_eq!(invocation["status"], "completed");
    assert_eq!(invocation["output"], json!([5, 0, 0]));
    assert_eq!(server.get("/stage/position").await.json(), json!([5, 0, 0]));
    assert_eq!(link_state(&server).await, "connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_writes_take_the_put_path_and_bad_ones_are_refused_never_applied() {
    let broker = Broker::start();
    let server = serve(config(&broker)).await;
    let sub = broker.subscribe(&[&topic("counter/#")], None);
    sub.on(&topic("counter/status"), WAIT);
    let write = |property: &str, payload: &str| {
        broker.publish(
            &topic(&format!("counter/properties/{property}/writeproperty")),
            payload,
            false,
            None,
        );
    };

    write("count", "42");
    sub.until(WAIT, is("counter/properties/count", "42"));
    assert_eq!(server.get("/counter/count").await.json(), json!(42));

    let errors = topic("counter/errors");
    let refused = |payload: &str, property: &str| -> Value {
        write(property, payload);
        let error = sub.on(&errors, WAIT).json();
        assert_eq!(
            error["topic"],
            topic(&format!("counter/properties/{property}/writeproperty")),
            "the problem names the topic"
        );
        error
    };
    let wrong_type = refused(r#""many""#, "count");
    assert_eq!(
        (wrong_type["status"].clone(), wrong_type["title"].clone()),
        (json!(422), json!("ValidationError"))
    );
    assert_eq!(wrong_type["issues"][0]["type"], "int_parsing");
    let not_json = refused("{count", "count");
    assert_eq!(
        (not_json["status"].clone(), not_json["title"].clone()),
        (json!(422), json!("InvalidJSON"))
    );
    assert_eq!(refused("5000", "limit")["status"], 422, "above the maximum");
    assert_eq!(refused(r#""X""#, "serial")["status"], 405, "read-only");
    assert_eq!(refused("", "count")["status"], 422, "an empty write");
    broker.publish(&topic("counter/actions/nothing"), "", false, None);
    assert_eq!(sub.on(&errors, WAIT).json()["status"], 404);

    // None was applied.
    assert_eq!(server.get("/counter/count").await.json(), json!(42));
    assert_eq!(server.get("/counter/limit").await.json(), json!(100));
    assert_eq!(
        server.get("/counter/serial").await.json(),
        json!("LTRS-0001")
    );
    // And the server still takes good ones.
    write("count", "43");
    sub.until(WAIT, is("counter/properties/count", "43"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_retained_command_is_ignored() {
    let broker = Broker::start();
    // Left on the broker by a careless client before the server starts.
    broker.publish(
        &topic("counter/properties/count/writeproperty"),
        "99",
        true,
        None,
    );
    broker.publish(&topic("counter/actions/increment"), "", true, None);
    let sub = broker.subscribe(&[&topic("counter/#")], None);
    let server = serve(config(&broker)).await;
    sub.until(WAIT, is("counter/status", "online"));
    // A live write after the server subscribed: the retained one reached it first.
    broker.publish(
        &topic("counter/properties/count/writeproperty"),
        "5",
        false,
        None,
    );
    sub.until(WAIT, is("counter/properties/count", "5"));
    let seen = sub.all(Duration::from_millis(300));
    assert!(
        !seen
            .iter()
            .any(|m| m.topic.ends_with("/properties/count") && m.payload == "99"),
        "the stale write was applied: {seen:?}"
    );
    assert_eq!(server.get("/counter/count").await.json(), json!(5));
    let invocations = server.get("/action_invocations").await.json();
    assert_eq!(invocations, json!([]), "the stale invocation was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_and_restarted_under_load_gets_the_newest_state_and_blocks_no_writer() {
    let mut broker = Broker::start();
    let server = Arc::new(serve(config(&broker)).await);
    {
        let sub = broker.subscribe(&[&topic("counter/status")], None);
        sub.until(WAIT, |m| m.payload == "online");
    }
    // A writer PUTs without pause all along, timing each PUT.
    let stop = Arc::new(AtomicBool::new(false));
    let slowest = Arc::new(AtomicU64::new(0));
    let writer = {
        let (server, stop, slowest) = (server.clone(), stop.clone(), slowest.clone());
        tokio::spawn(async move {
            let mut value = 0;
            while !stop.load(Ordering::Relaxed) {
                value = (value + 1) % 1000;
                let started = Instant::now();
                let reply = server.put("/counter/count", &value.to_string()).await;
                assert_eq!(reply.status, 201);
                let micros = started.elapsed().as_micros() as u64;
                slowest.fetch_max(micros, Ordering::Relaxed);
            }
            value
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.kill();
    until_link(&server, "disconnected").await;
    // Writers go on while the broker is away.
    tokio::time::sleep(Duration::from_millis(700)).await;
    tokio::task::block_in_place(|| broker.restart());
    until_link(&server, "connected").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let last = writer.await.expect("the writer ran");

    // The restarted broker is empty: everything it now holds, the server sent again.
    let sub = broker.subscribe(&[&topic("#")], None);
    let td = sub.on(&topic("counter"), WAIT);
    assert_eq!(td.json()["title"], "Counter");
    sub.until(WAIT, |m| {
        m.topic == topic("stage/status") && m.payload == "online"
    });
    sub.until(WAIT, is("counter/properties/count", &last.to_string()));
    // And new values flow.
    assert_eq!(server.put("/counter/count", "1000").await.status, 201);
    sub.until(WAIT, is("counter/properties/count", "1000"));
    let slowest = Duration::from_micros(slowest.load(Ordering::Relaxed));
    assert!(
        slowest < Duration::from_millis(500),
        "a PUT waited {slowest:?} on the broker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_and_serves_with_the_broker_down_and_connects_when_it_comes() {
    let mut broker = Broker::start();
    broker.kill();
    let server = serve(config(&broker)).await;
    assert_eq!(server.get("/counter/count").await.json(), json!(0));
    assert_eq!(server.put("/counter/count", "3").await.status, 201);
    until_link(&server, "disconnected").await;
    tokio::task::block_in_place(|| broker.restart());
    let sub = broker.subscribe(&[&topic("counter/#")], None);
    sub.on(&topic("counter"), WAIT);
    sub.until(WAIT, is("counter/properties/count", "3"));
    until_link(&server, "connected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_broker_under_their_own_default_prefixes() {
    let broker = Broker::start();
    let first = TestServer::start(demo_server().mqtt(MqttConfig::url(broker.url()))).await;
    let second = TestServer::start(demo_server().mqtt(MqttConfig::url(broker.url()))).await;
    let sub = broker.subscribe(&["labthings/+/counter"], None);
    let mut bases = Vec::new();
    for _ in 0..2 {
        let td = sub.until(WAIT, |_| true);
        let prefix = td.topic.trim_end_matches("/counter").to_owned();
        let href = td.json()["base"].as_str().unwrap().to_owned();
        bases.push((prefix, href));
    }
    bases.sort();
    let mut expected: Vec<u16> = vec![first.addr.port(), second.addr.port()];
    expected.sort();
    for ((prefix, base), port) in bases.iter().zip(&expected) {
        assert!(
            prefix.ends_with(&format!("-{port}")),
            "{prefix} is the server's own"
        );
        assert!(
            base.contains(&format!(":{port}/")),
            "{base}: its TD links its own HTTP"
        );
    }
    // A write on one server's topic changes that server only.
    let first_prefix = &bases
        .iter()
        .find(|(p, _)| p.ends_with(&format!("-{}", first.addr.port())))
        .unwrap()
        .0;
    let counts = broker.subscribe(&[&format!("{first_prefix}/counter/properties/count")], None);
    counts.until(WAIT, |m| m.payload == "0");
    broker.publish(
        &format!("{first_prefix}/counter/properties/count/writeproperty"),
        "11",
        false,
        None,
    );
    counts.until(WAIT, |m| m.payload == "11");
    assert_eq!(first.get("/counter/count").await.json(), json!(11));
    assert_eq!(second.get("/counter/count").await.json(), json!(0));

    // The client lists the fleet from the broker and reaches each Thing over HTTP.
    let fleet = labthings_client::announced(&broker.url(), labthings_client::DEFAULT_FILTER, WAIT)
        .await
        .expect("the broker answers");
    let names: Vec<&str> = fleet.iter().map(|t| t.name()).collect();
    assert_eq!(names.len(), 8, "4 Things on each server: {names:?}");
    assert!(fleet.iter().all(|t| t.online == Some(true)));
    let counters: Vec<_> = fleet.iter().filter(|t| t.name() == "counter").collect();
    let mut counts = Vec::new();
    for counter in counters {
        let client = counter
            .connect(labthings_client::ClientBuilder::default())
            .expect("a client from the TD");
        counts.push(client.read::<i64>("count").await.expect("read over HTTP"));
    }
    counts.sort();
    assert_eq!(counts, [0, 11]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_credentials_come_from_a_password_file() {
    let broker = Broker::with(Access::Accounts(&[("lab", "s3cret"), ("viewer", "look")]));
    let dir = std::env::temp_dir().join(format!("lt-mqtt-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (good, bad) = (dir.join("good"), dir.join("bad"));
    std::fs::write(&good, "s3cret\n").unwrap();
    std::fs::write(&bad, "guess\n").unwrap();
    let with_password = |file: &std::path::Path, prefix: &str| {
        let mut config = MqttConfig::url(broker.url());
        config.prefix = Some(prefix.into());
        config.username = Some("lab".into());
        config.password_file = Some(file.to_owned());
        config
    };
    let server = serve(with_password(&good, PREFIX)).await;
    let refused = serve(with_password(&bad, "lt-refused")).await;

    let sub = broker.subscribe(&["#"], Some(("viewer", "look")));
    let td = sub.on(&topic("counter"), WAIT).json();
    assert_eq!(td["securityDefinitions"]["mqtt_basic"]["scheme"], "basic");
    let forms = td["actions"]["increment"]["forms"].as_array().unwrap();
    assert_eq!(forms.last().unwrap()["security"], json!(["mqtt_basic"]));
    assert_eq!(
        forms[0].get("security"),
        None,
        "HTTP forms keep the Thing's security"
    );
    broker.publish(
        &topic("counter/actions/increment"),
        "",
        false,
        Some(("viewer", "look")),
    );
    sub.until(WAIT, is("counter/properties/count", "1"));
    assert_eq!(server.get("/counter/count").await.json(), json!(1));

    // A wrong password: refused by the broker, reported, and HTTP serves on.
    until_link(&refused, "disconnected").await;
    assert_eq!(refused.get("/counter/count").await.json(), json!(0));
    assert!(
        sub.all(Duration::from_millis(200))
            .iter()
            .all(|m| !m.topic.starts_with("lt-refused")),
        "nothing from the refused server"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_will_says_offline_when_the_server_process_dies() {
    const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");
    let broker = Broker::start();
    // Its default config keeps settings in `./settings`: run it where that is scratch.
    let scratch = std::env::temp_dir().join(format!("lt-mqtt-will-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut command = std::process::Command::new(BINARY);
    command
        .args(["--port", "0", "--mqtt", &broker.url()])
        .current_dir(&scratch);
    let (mut child, addr, _stderr) = support::spawn_server(command);
    let sub = broker.subscribe(&["labthings/+/counter/status"], None);
    let online = sub.until(WAIT, |m| m.payload == "online");
    assert!(online.topic.contains(&format!("-{}/", addr.port())));
    child.kill().unwrap(); // SIGKILL: no goodbye, the broker sees the socket close
    child.wait().unwrap();
    let offline = sub.until(WAIT, |m| m.payload == "offline");
    assert_eq!(offline.topic, online.topic);
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// What the broker holds retained under `filter` (something, at least): a marker published
/// once the first message arrived (the subscription is in place) comes after all of them.
fn retained(broker: &Broker, filter: &str) -> Vec<Message> {
    let sub = broker.subscribe(&[filter], None);
    sub.until(WAIT, |_| true);
    let marker = topic("zz-marker");
    broker.publish(&marker, "end", false, None);
    sub.until(WAIT, |m| m.topic == marker);
    let all = sub.all(Duration::ZERO);
    all.into_iter().filter(|m| m.retained).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_no_longer_served_are_cleared_from_the_broker_at_start_and_a_stop_leaves_tds_offline()
 {
    let broker = Broker::start();
    // What an earlier run left: a Thing since taken out of the config, and a property the
    // counter no longer has.
    for (rest, payload) in [
        ("retired", r#"{"title": "Retired"}"#),
        ("retired/status", "offline"),
        ("retired/properties/level", "3"),
        ("counter/properties/renamed", "5"),
    ] {
        broker.publish(&topic(rest), payload, true, None);
    }
    let sub = broker.subscribe(&[&topic("#")], None);
    let server = serve(config(&broker)).await;
    for cleared in [
        "retired",
        "retired/status",
        "retired/properties/level",
        "counter/properties/renamed",
    ] {
        sub.until(WAIT, is(cleared, ""));
    }
    sub.until(WAIT, is("counter/status", "online"));
    let held = retained(&broker, &topic("#"));
    let topics: Vec<&str> = held.iter().map(|m| m.topic.as_str()).collect();
    assert!(
        !topics
            .iter()
            .any(|t| t.contains("retired") || t.ends_with("renamed")),
        "{topics:?}"
    );
    for kept in [
        "counter",
        "counter/status",
        "counter/properties/count",
        "stage",
    ] {
        assert!(topics.contains(&topic(kept).as_str()), "{kept}: {topics:?}");
    }

    // A normal stop clears nothing: the Things come back with the server.
    server.stop().await;
    let held = retained(&broker, &topic("#"));
    let payload = |rest: &str| {
        let topic = topic(rest);
        held.iter()
            .find(|m| m.topic == topic)
            .map(|m| m.payload.clone())
    };
    assert_eq!(
        payload("counter/status").as_deref(),
        Some("offline"),
        "{held:?}"
    );
    assert!(
        payload("counter").is_some_and(|td| td.contains("Counter")),
        "{held:?}"
    );
    assert!(payload("counter/properties/count").is_some(), "{held:?}");
}

#[test]
fn print_td_adds_the_mqtt_forms_without_reading_the_password_file() {
    const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");
    // No such file: starting would refuse it, printing a TD has no need of it.
    let config = json!({
        "things": {"counter": "Counter"},
        "mqtt": {"url": "mqtt://broker.lab:1884", "prefix": "site/a", "username": "lab",
                 "password_file": "/nonexistent/mqtt-password"},
    })
    .to_string();
    let output = std::process::Command::new(BINARY)
        .args(["-j", &config, "--print-td", "counter"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let td: Value = serde_json::from_slice(&output.stdout).expect("a TD on stdout");
    let forms = td["properties"]["count"]["forms"].as_array().unwrap();
    assert_eq!(
        forms.last().unwrap()["href"],
        "mqtt://broker.lab:1884/site/a/counter/properties/count/writeproperty"
    );
    assert_eq!(td["securityDefinitions"]["mqtt_basic"]["scheme"], "basic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtts_checks_the_broker_certificate_against_the_ca_file() {
    let broker = Broker::with_tls();
    assert!(broker.url().starts_with("mqtts://"));
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let mut trusting = config(&broker);
    trusting.ca_file = Some(fixtures.join("ca.pem"));
    let server = serve(trusting).await;

    let sub = broker.subscribe(&[&topic("counter/#")], None);
    let td = sub.on(&topic("counter"), WAIT).json();
    let forms = td["properties"]["count"]["forms"].as_array().unwrap();
    assert_eq!(
        forms.last().unwrap()["href"],
        format!(
            "{}/{}",
            broker.url(),
            topic("counter/properties/count/writeproperty")
        )
    );
    broker.publish(
        &topic("counter/properties/count/writeproperty"),
        "12",
        false,
        None,
    );
    sub.until(WAIT, is("counter/properties/count", "12"));
    assert_eq!(server.get("/counter/count").await.json(), json!(12));
    assert_eq!(link_state(&server).await, "connected");

    // Trusting something else (here the broker's own certificate, which is no CA): the
    // handshake fails, the link says so, HTTP serves on.
    let mut doubting = config(&broker);
    doubting.prefix = Some("lt-doubting".into());
    doubting.ca_file = Some(fixtures.join("server.pem"));
    let refused = serve(doubting).await;
    until_link(&refused, "disconnected").await;
    assert_eq!(refused.get("/counter/count").await.json(), json!(0));
    // Under its own prefix: had it connected, its TD and status would be retained there.
    let doubting_sub = broker.subscribe(&["lt-doubting/#"], None);
    assert!(
        doubting_sub.all(Duration::from_millis(200)).is_empty(),
        "nothing from the server that does not trust the broker"
    );
}
