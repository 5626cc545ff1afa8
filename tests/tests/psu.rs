//! The SCPI power supply driver, black-box over HTTP, against the simulated supply over real
//! TCP sockets and a real pty.

mod support;

use std::time::Duration;

use hyper::StatusCode;
use labthings_examples::{PsuConfig, ScpiPowerSupply};
use labthings_server::ThingServer;
use scpi_sim::Simulator;
use serde_json::{Value, json};
use support::TestServer;

fn config(resource: &str, timeout_ms: u64) -> PsuConfig {
    serde_json::from_value(json!({"resource": resource, "timeout_ms": timeout_ms})).unwrap()
}

/// A server with a `psu` talking to a fresh simulator over TCP.
async fn psu_over_tcp(timeout_ms: u64) -> (TestServer, Simulator, scpi_sim::TcpServer) {
    let sim = Simulator::new();
    let listener = sim.serve_tcp("127.0.0.1:0").unwrap();
    let psu = ScpiPowerSupply::new(config(&listener.resource(), timeout_ms));
    let server = TestServer::start(ThingServer::new().thing("psu", psu)).await;
    (server, sim, listener)
}

/// A problem reply's `detail`, as text ("" without one).
fn detail_text(reply: &support::Reply) -> String {
    reply.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn get_value(server: &TestServer, property: &str) -> Value {
    let reply = server.get(&format!("/psu/{property}")).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "GET {property}: {:?}",
        reply.body
    );
    reply.json()
}

async fn put_ok(server: &TestServer, property: &str, value: Value) {
    let reply = server
        .put(&format!("/psu/{property}"), &value.to_string())
        .await;
    assert!(
        reply.status.is_success(),
        "PUT {property}: {} {:?}",
        reply.status,
        reply.body
    );
}

/// Every affordance, checked against the instrument's own state.
async fn every_affordance(server: &TestServer, sim: &Simulator) {
    assert_eq!(
        get_value(server, "identity").await,
        "LabThings,SCPI-SIM-PSU,0001,1.0"
    );
    put_ok(server, "voltage", json!(5.0)).await;
    put_ok(server, "current_limit", json!(2.0)).await;
    put_ok(server, "output", json!(true)).await;
    assert_eq!(
        (sim.psu().voltage, sim.psu().current_limit, sim.psu().output),
        (5.0, 2.0, true)
    );
    assert_eq!(get_value(server, "voltage").await, 5.0);
    assert_eq!(get_value(server, "current_limit").await, 2.0);
    assert_eq!(get_value(server, "output").await, true);
    assert_eq!(get_value(server, "measured_voltage").await, 5.0);
    assert_eq!(get_value(server, "measured_current").await, 0.5);
    // The load model: a 0.2 A limit holds 2 V across the 10 Ω load.
    put_ok(server, "current_limit", json!(0.2)).await;
    assert_eq!(get_value(server, "measured_voltage").await, 2.0);
    put_ok(server, "current_limit", json!(5.0)).await;

    let invocation = server
        .run_action(
            "/psu/sweep",
            Some(r#"{"start": 0, "stop": 2, "steps": 3, "dwell_ms": 0}"#),
        )
        .await;
    assert_eq!(invocation["status"], "completed", "{invocation}");
    assert_eq!(
        invocation["output"]["points"],
        json!([[0.0, 0.0], [1.0, 0.1], [2.0, 0.2]])
    );
    assert!(sim.psu().output, "a completed sweep leaves the output on");
    let href = invocation["output"]["csv"]["href"]
        .as_str()
        .expect("a CSV blob link");
    let path = href
        .split_once(&server.addr.to_string())
        .map_or(href, |(_, path)| path);
    let csv = server.get(path).await;
    assert_eq!(csv.status, StatusCode::OK);
    // Named for the browser that saves it (`Blob::with_filename`), not after its UUID.
    assert_eq!(
        csv.header("content-disposition"),
        Some(r#"inline; filename="sweep.csv""#)
    );
    assert_eq!(
        String::from_utf8_lossy(&csv.body),
        "setpoint_v,voltage_v,current_a\n0,0,0\n1,1,0.1\n2,2,0.2\n"
    );
    let messages = support::log_messages(&invocation);
    assert!(
        messages.iter().any(|m| m.contains("sweep done: 3 points")),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_affordance_over_tcp() {
    let (server, sim, _listener) = psu_over_tcp(2000).await;
    every_affordance(&server, &sim).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_affordance_over_a_pty() {
    let sim = Simulator::new();
    let pty = sim.serve_pty().unwrap();
    let psu = ScpiPowerSupply::new(config(&pty.resource(), 2000));
    let server = TestServer::start(ThingServer::new().thing("psu", psu)).await;
    every_affordance(&server, &sim).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_out_of_range_write_gets_the_instruments_message() {
    let (server, sim, _listener) = psu_over_tcp(2000).await;
    put_ok(&server, "voltage", json!(3.0)).await;
    let reply = server.put("/psu/voltage", "31").await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    let detail = &reply.json()["detail"][0];
    let message = detail["msg"].as_str().unwrap_or_default();
    assert!(message.contains("-222,\"Data out of range\""), "{detail}");
    assert_eq!(detail["type"], "instrument_error");
    assert_eq!(sim.psu().voltage, 3.0, "the refused value changed nothing");
    // A negative value never reaches the instrument: the declared minimum refuses it.
    let before = sim.transcript().len();
    assert_eq!(
        server.put("/psu/current_limit", "-1").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(sim.transcript().len(), before);

    // An action ends `error` with the instrument's code and text, and the output off.
    put_ok(&server, "output", json!(true)).await;
    let invocation = server
        .run_action(
            "/psu/sweep",
            Some(r#"{"start": 20, "stop": 40, "steps": 3, "dwell_ms": 0}"#),
        )
        .await;
    assert_eq!(invocation["status"], "error", "{invocation}");
    let problem = invocation["output"].to_string() + &invocation["log"].to_string();
    assert!(
        problem.contains("-222") && problem.contains("Data out of range"),
        "{invocation}"
    );
    assert!(!sim.psu().output, "an error switches the output off");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_sweep_leaves_the_output_off() {
    let (server, sim, _listener) = psu_over_tcp(2000).await;
    put_ok(&server, "output", json!(true)).await;
    let started = server
        .post(
            "/psu/sweep",
            Some(r#"{"start": 0, "stop": 10, "steps": 50, "dwell_ms": 200}"#),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let id = started.json()["id"].as_str().unwrap().to_owned();
    server.wait_for(&id, |s| s == "running").await;
    let cancel = server.delete(&format!("/action_invocations/{id}")).await;
    assert!(cancel.status.is_success(), "{:?}", cancel.body);
    let invocation = server
        .wait_for(&id, |s| s != "running" && s != "pending")
        .await;
    assert_eq!(invocation["status"], "cancelled", "{invocation}");
    assert!(!sim.psu().output, "cancelled with the output on");
    assert_eq!(get_value(&server, "output").await, false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_answer_never_shifts_the_answers() {
    let (server, sim, _listener) = psu_over_tcp(300).await;
    put_ok(&server, "voltage", json!(7.0)).await;
    put_ok(&server, "current_limit", json!(3.0)).await;
    for _ in 0..3 {
        sim.answer_late_once(Duration::from_millis(500));
        let reply = server.get("/psu/voltage").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        let detail = detail_text(&reply);
        assert!(
            detail.contains("no answer to `VOLT?` within 300 ms"),
            "{detail}"
        );
        assert_eq!(get_value(&server, "current_limit").await, 3.0);
        assert_eq!(get_value(&server, "voltage").await, 7.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_is_a_clear_error_then_recovers_without_a_restart() {
    let (server, sim, _listener) = psu_over_tcp(2000).await;
    put_ok(&server, "voltage", json!(4.0)).await;
    sim.close_connections();
    let reply = server.get("/psu/voltage").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    let detail = detail_text(&reply);
    assert!(
        detail.contains("closed the connection; reconnecting on the next call"),
        "{detail}"
    );
    assert_eq!(get_value(&server, "voltage").await, 4.0);
    put_ok(&server, "voltage", json!(4.5)).await;
    assert_eq!(sim.psu().voltage, 4.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_never_interleave_commands_on_one_session() {
    let (server, sim, _listener) = psu_over_tcp(2000).await;
    let server = std::sync::Arc::new(server);
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let server = server.clone();
            tokio::spawn(async move {
                for i in 0..15 {
                    let volts = f64::from(client * 100 + i) / 10.0;
                    put_ok(&server, "voltage", json!(volts)).await;
                    let _ = get_value(&server, "measured_current").await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    // Each write is followed by its own error check before anything else is sent.
    let transcript = sim.transcript();
    let writes: Vec<usize> = (0..transcript.len())
        .filter(|&i| transcript[i].starts_with("VOLT ") && transcript[i] != "VOLT?")
        .collect();
    assert_eq!(writes.len(), 30);
    for i in writes {
        assert_eq!(
            transcript.get(i + 1).map(String::as_str),
            Some("SYST:ERR?"),
            "{transcript:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_resource_is_a_start_up_error_naming_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resource = format!("TCPIP::127.0.0.1::{port}::SOCKET");
    let psu = ScpiPowerSupply::new(config(&resource, 500));
    let error = ThingServer::new()
        .thing("psu", psu)
        .port(0)
        .start()
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains(&resource), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_server_switches_the_output_off() {
    let sim = Simulator::new();
    let listener = sim.serve_tcp("127.0.0.1:0").unwrap();
    let psu = ScpiPowerSupply::new(config(&listener.resource(), 2000));
    let running = ThingServer::new()
        .thing("psu", psu)
        .port(0)
        .start()
        .await
        .unwrap();
    let addr = running.local_addr();
    let reply = support::request(
        addr,
        hyper::Method::PUT,
        "/psu/output",
        &[],
        Some("true".into()),
    )
    .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
    assert!(sim.psu().output);
    running.shutdown().await;
    assert!(!sim.psu().output, "on_stop leaves the output off");
}
