//! The session against a scripted instrument on the other end of a real socket pair.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use super::*;

impl Transport for UnixStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        UnixStream::set_read_timeout(self, Some(timeout.max(Duration::from_millis(1))))
    }
}

/// An instrument answering each line with `answer(line)`: `None` for no answer, or after a
/// delay, the bytes to send (terminator included). Returns the lines it received.
fn instrument(
    answer: impl Fn(&str) -> Option<(Duration, String)> + Send + 'static,
) -> (UnixStream, thread::JoinHandle<Vec<String>>) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let peer = thread::spawn(move || {
        let mut writer = theirs.try_clone().unwrap();
        let mut received = Vec::new();
        for line in BufReader::new(theirs).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_owned();
            if let Some((delay, reply)) = answer(&line) {
                thread::sleep(delay);
                if writer.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
            received.push(line);
        }
        received
    });
    (ours, peer)
}

fn now(reply: &str) -> Option<(Duration, String)> {
    Some((Duration::ZERO, format!("{reply}\n")))
}

#[test]
fn queries_and_writes_with_the_configured_terminators() {
    let (stream, peer) = instrument(|line| match line {
        "*IDN?" => Some((Duration::ZERO, "Acme,PSU-1,1234,2.0\r\n".into())),
        "MEAS:VOLT?" => Some((Duration::ZERO, "+1.23450000E+00\r\n".into())),
        _ => None,
    });
    let mut session = ScpiSession::new(stream, "test").terminators("\r\n", "\r\n");
    session.write("VOLT 1.2345").unwrap();
    assert_eq!(
        session.identify().unwrap(),
        Identity {
            manufacturer: "Acme".into(),
            model: "PSU-1".into(),
            serial: "1234".into(),
            firmware: "2.0".into()
        }
    );
    assert_eq!(session.query_f64("MEAS:VOLT?").unwrap(), 1.2345);
    drop(session);
    assert_eq!(peer.join().unwrap(), ["VOLT 1.2345", "*IDN?", "MEAS:VOLT?"]);
}

#[test]
fn an_error_in_the_queue_after_a_write_is_that_writes_error() {
    let queue = std::sync::Mutex::new(Vec::<&str>::new());
    let (stream, _peer) = instrument(move |line| {
        let mut queue = queue.lock().unwrap();
        match line {
            "VOLT 99" => {
                queue.push("-222,\"Data out of range\"");
                queue.push("-221,\"Settings conflict\"");
                None
            }
            "SYST:ERR?" => now(if queue.is_empty() {
                "+0,\"No error\""
            } else {
                queue.remove(0)
            }),
            _ => None,
        }
    });
    let mut session = ScpiSession::new(stream, "psu");
    let error = session.write_checked("VOLT 99").unwrap_err();
    let expected = [
        InstrumentError {
            code: -222,
            text: "Data out of range".into(),
        },
        InstrumentError {
            code: -221,
            text: "Settings conflict".into(),
        },
    ];
    assert_eq!(error.instrument_errors(), Some(&expected[..]));
    assert_eq!(
        error.to_string(),
        "psu: the instrument refused `VOLT 99`: -222,\"Data out of range\"; -221,\"Settings conflict\""
    );
    session.write_checked("VOLT 1").unwrap();
}

#[test]
fn a_late_answer_never_becomes_the_next_querys_answer() {
    // `SLOW?` answers after the session has given up; on one wire (no reconnect) the session
    // must drop that answer rather than return it for `FAST?`.
    let (stream, _peer) = instrument(|line| match line {
        "SLOW?" => Some((Duration::from_millis(150), "slow\n".into())),
        "FAST?" => now("fast"),
        _ => None,
    });
    let mut session = ScpiSession::new(stream, "psu").timeout(Duration::from_millis(50));
    let error = session.query("SLOW?").unwrap_err();
    assert!(matches!(error, ScpiError::Timeout { .. }), "{error}");
    assert_eq!(error.to_string(), "psu: no answer to `SLOW?` within 50 ms");
    // The session gives the owed answer up to one timeout: make the answer later than that.
    let mut session = session.timeout(Duration::from_millis(300));
    assert_eq!(session.query("FAST?").unwrap(), "fast");
    assert_eq!(session.query("FAST?").unwrap(), "fast");
}

#[test]
fn an_answer_that_never_comes_is_forgotten_after_one_timeout() {
    let (stream, _peer) = instrument(|line| match line {
        "FAST?" => now("fast"),
        _ => None,
    });
    let mut session = ScpiSession::new(stream, "psu").timeout(Duration::from_millis(30));
    assert!(matches!(
        session.query("NEVER?"),
        Err(ScpiError::Timeout { .. })
    ));
    assert_eq!(session.query("FAST?").unwrap(), "fast");
}

#[test]
fn opc_waits_longer_than_a_query() {
    let (stream, _peer) = instrument(|line| match line {
        "*OPC?" => Some((Duration::from_millis(120), "1\n".into())),
        _ => None,
    });
    let mut session = ScpiSession::new(stream, "psu")
        .timeout(Duration::from_millis(30))
        .opc_timeout(Duration::from_secs(5));
    session.opc().unwrap();
}

#[test]
fn malformed_answers_are_parse_errors_naming_the_query() {
    let (stream, _peer) = instrument(|line| match line {
        "MEAS:VOLT?" => now("overload"),
        "OUTP?" => now("maybe"),
        "*IDN?" => now(""),
        _ => None,
    });
    let mut session = ScpiSession::new(stream, "psu");
    let error = session.query_f64("MEAS:VOLT?").unwrap_err();
    assert_eq!(
        error.to_string(),
        "psu: the answer \"overload\" to `MEAS:VOLT?` is not a number"
    );
    assert!(matches!(
        session.query_bool("OUTP?"),
        Err(ScpiError::Parse { .. })
    ));
    assert!(matches!(session.identify(), Err(ScpiError::Parse { .. })));
}

#[test]
fn a_closed_connection_is_an_io_error() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(theirs);
    let mut session = ScpiSession::new(ours, "psu");
    let error = session.query("*IDN?").unwrap_err();
    assert!(matches!(error, ScpiError::Io { .. }), "{error}");
}

#[test]
fn error_queue_entries_parse_in_their_common_forms() {
    let entry = |code, text: &str| {
        Some(InstrumentError {
            code,
            text: text.into(),
        })
    };
    assert_eq!(
        parse_error_entry("-222,\"Data out of range\""),
        entry(-222, "Data out of range")
    );
    assert_eq!(parse_error_entry("+0,\"No error\""), entry(0, "No error"));
    assert_eq!(parse_error_entry("0, No Error"), entry(0, "No Error"));
    assert_eq!(parse_error_entry("0"), entry(0, ""));
    assert_eq!(
        parse_error_entry("-113,\"Undefined header; \"\"FOO\"\"\""),
        entry(-113, "Undefined header; \"FOO\"")
    );
    assert_eq!(parse_error_entry("oops"), None);
}
