//! The README's "Many servers, one broker" command line, with the same arguments (kept in step
//! by hand): the real `demo-lab` binary with `--port … --settings-folder … --mqtt mqtt://…`
//! against a test Mosquitto, and its Things' TDs retained on the broker under
//! `labthings/<host>-<port>/`.

#[allow(dead_code)]
#[path = "../../tests/tests/support/broker.rs"]
mod broker;
#[allow(dead_code)]
#[path = "../../tests/tests/support/system.rs"]
mod system;
/// What the broker harness needs of the tests' support module.
mod support {
    pub use crate::system::apt_install;
}

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use broker::Broker;

const WAIT: Duration = Duration::from_secs(20);

/// The demo lab's process, killed when the test ends (also when it fails).
struct Lab(Child);

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_readmes_demo_lab_command_line_puts_its_things_on_the_broker() {
    let broker = Broker::start();
    let scratch = std::env::temp_dir().join(format!("lt-readme-mqtt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    // A free port, in the README's `--port N` form.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
        .to_string();
    let status = broker.subscribe(&["labthings/+/counter/status"], None);
    let lab = Lab(Command::new(env!("CARGO_BIN_EXE_demo-lab"))
        .args(["--port", &port, "--settings-folder", "lab-a"])
        .args(["--mqtt", &broker.url()])
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo-lab runs"));

    let online = status.until(WAIT, |message| message.payload == "online");
    let prefix = online.topic.strip_suffix("/counter/status").unwrap();
    assert!(
        prefix.starts_with("labthings/") && prefix.ends_with(&format!("-{port}")),
        "labthings/<host>-<port>: {prefix}"
    );
    // A subscriber that comes later is handed the TD the broker kept.
    let td_topic = format!("{prefix}/counter");
    let later = broker.subscribe(&[&td_topic], None);
    let td = later.on(&td_topic, WAIT);
    assert!(td.retained, "the TD is retained");
    let td = td.json();
    let forms = td["properties"]["count"]["forms"].as_array().unwrap();
    let href = format!("{}/{prefix}/counter/properties/count", broker.url());
    assert!(forms.iter().any(|form| form["href"] == href), "{forms:?}");
    assert!(scratch.join("lab-a").is_dir(), "the settings folder named");
    drop(lab);
    let _ = std::fs::remove_dir_all(&scratch);
}
