//! The session against the simulated supply over a real TCP socket and a real pty.

use std::time::{Duration, Instant};

use labthings_instruments::{OpenOptions, ScpiError, ScpiSession};
use scpi_sim::{Faults, Simulator};

const TIMEOUT: Duration = Duration::from_millis(300);

fn options() -> OpenOptions {
    OpenOptions {
        timeout: TIMEOUT,
        ..OpenOptions::default()
    }
}

fn tcp() -> (Simulator, scpi_sim::TcpServer) {
    let sim = Simulator::new();
    let server = sim.serve_tcp("127.0.0.1:0").unwrap();
    (sim, server)
}

fn exercise(session: &mut ScpiSession<labthings_instruments::Link>) {
    let identity = session.identify().unwrap();
    assert_eq!(
        (identity.manufacturer.as_str(), identity.model.as_str()),
        ("LabThings", "SCPI-SIM-PSU")
    );
    session.write_checked("*RST").unwrap();
    session.write_checked("VOLT 4.5").unwrap();
    session.write_checked("CURR 2").unwrap();
    session.write_checked("OUTP ON").unwrap();
    assert_eq!(session.query_f64("VOLT?").unwrap(), 4.5);
    assert!(session.query_bool("OUTP?").unwrap());
    assert_eq!(session.query_f64("MEAS:VOLT?").unwrap(), 4.5);
    assert_eq!(session.query_f64("MEAS:CURR?").unwrap(), 0.45);
    session.opc().unwrap();
    let error = session.write_checked("VOLT 31").unwrap_err();
    let errors = error.instrument_errors().expect("the instrument's error");
    assert_eq!(
        (errors[0].code, errors[0].text.as_str()),
        (-222, "Data out of range")
    );
    assert_eq!(
        session.query_f64("VOLT?").unwrap(),
        4.5,
        "a refused value changes nothing"
    );
}

#[test]
fn every_command_over_tcp() {
    let (_sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    exercise(&mut session);
}

#[test]
fn every_command_over_a_pty() {
    let sim = Simulator::new();
    let pty = sim.serve_pty().unwrap();
    let mut session = ScpiSession::open(&pty.resource(), &options()).unwrap();
    exercise(&mut session);
}

/// A late answer must not become the answer to the next query (`VOLT?` and `CURR?` answer
/// different numbers, so a shift shows).
fn late_answers_never_shift(
    sim: &Simulator,
    session: &mut ScpiSession<labthings_instruments::Link>,
) {
    session.write_checked("VOLT 7;CURR 3").unwrap();
    for _ in 0..3 {
        sim.answer_late_once(TIMEOUT + Duration::from_millis(100));
        let error = session.query_f64("VOLT?").unwrap_err();
        assert!(matches!(error, ScpiError::Timeout { .. }), "{error}");
        assert_eq!(session.query_f64("CURR?").unwrap(), 3.0);
        assert_eq!(session.query_f64("VOLT?").unwrap(), 7.0);
    }
}

#[test]
fn a_late_answer_never_shifts_the_answers_over_tcp() {
    let (sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    late_answers_never_shift(&sim, &mut session);
}

#[test]
fn a_late_answer_never_shifts_the_answers_over_a_pty() {
    let sim = Simulator::new();
    let pty = sim.serve_pty().unwrap();
    let mut session = ScpiSession::open(&pty.resource(), &options()).unwrap();
    late_answers_never_shift(&sim, &mut session);
}

#[test]
fn a_dropped_terminator_is_a_timeout_and_then_the_session_recovers() {
    let (sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    sim.set_faults(Faults {
        drop_terminator: true,
        ..Faults::default()
    });
    assert!(matches!(
        session.query("*IDN?"),
        Err(ScpiError::Timeout { .. })
    ));
    sim.set_faults(Faults::default());
    assert_eq!(session.query("OUTP?").unwrap(), "0");
}

#[test]
fn a_slow_instrument_is_waited_for_within_the_timeout() {
    let (sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    sim.set_faults(Faults {
        delay: TIMEOUT / 3,
        ..Faults::default()
    });
    assert_eq!(session.query("OUTP?").unwrap(), "0");
}

#[test]
fn a_closed_connection_is_reported_then_reopened_on_the_next_call() {
    let (sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    session.write_checked("VOLT 2").unwrap();
    sim.close_connections();
    let error = session.query("VOLT?").unwrap_err();
    assert!(matches!(error, ScpiError::Io { .. }), "{error}");
    assert!(
        error.to_string().contains("closed the connection"),
        "{error}"
    );
    assert_eq!(session.query_f64("VOLT?").unwrap(), 2.0, "reconnected");
}

#[test]
fn while_the_instrument_refuses_connections_errors_say_when_it_retries() {
    let (sim, server) = tcp();
    let mut session = ScpiSession::open(&server.resource(), &options()).unwrap();
    sim.refuse_connections_for(Duration::from_millis(500));
    sim.close_connections();
    let started = Instant::now();
    let mut messages = Vec::new();
    let answer = loop {
        match session.query("OUTP?") {
            Ok(answer) => break answer,
            Err(error) => messages.push(error.to_string()),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never recovered: {messages:#?}"
        );
        // Calls come as fast as a client makes them; the link decides when to retry.
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(answer, "0");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("reconnecting in") || m.contains("next attempt in")),
        "{messages:#?}"
    );
}

#[test]
fn a_wrong_resource_fails_to_open_naming_it() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resource = format!("TCPIP::127.0.0.1::{port}::SOCKET");
    let error = ScpiSession::open(&resource, &options()).err().unwrap();
    assert!(error.to_string().contains(&resource), "{error}");
    let error = ScpiSession::open("ASRL/dev/does-not-exist::INSTR", &options())
        .err()
        .unwrap();
    assert!(error.to_string().contains("/dev/does-not-exist"), "{error}");
    assert!(matches!(
        ScpiSession::open("GPIB::1::INSTR", &options()),
        Err(ScpiError::Resource { .. })
    ));
}
