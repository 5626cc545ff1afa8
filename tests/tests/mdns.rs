//! `--mdns` and the non-loopback warning, in a private network namespace the test makes
//! (`unshare -rn`: a user namespace whose root owns a new network namespace with only `lo`),
//! so no multicast and no listening socket ever reaches a real network.
//!
//! The test re-runs itself inside the namespace (marked by an environment variable); there it
//! starts `test-lab --mdns`, browses `_wot._tcp` with `mdns-sd`, checks each Thing's TXT
//! records, then stops the server and waits for the goodbyes.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");
const INSIDE: &str = "LABTHINGS_TEST_IN_NETNS";
const CONFIG: &str =
    r#"{"things": {"counter": "Counter", "stage": "MockStage", "camera": "MockCamera"}}"#;

/// Run the test named `name` of this binary again inside a fresh network namespace.
fn in_namespace(name: &str) {
    let exe = std::env::current_exe().unwrap();
    let script = "ip link set lo up && ip link set lo multicast on && \
                  ip route add 224.0.0.0/4 dev lo && exec \"$0\" --exact \"$1\" --nocapture";
    let output = Command::new("unshare")
        .args(["-rn", "sh", "-c", script])
        .arg(exe)
        .arg(name)
        .env(INSIDE, "1")
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => panic!("cannot run `unshare` to make a private network namespace: {error}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("unshare failed") && !stderr.contains("Operation not permitted"),
        "no privilege to make a private network namespace (`unshare -rn`), so mDNS can't be \
         tested without touching a real network: {stderr}"
    );
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "inside the namespace:\n{stdout}\n{stderr}"
    );
}

/// A `test-lab` child: its address, and its stderr once it has exited.
struct Lab {
    child: Child,
    addr: SocketAddr,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Lab {
    fn start(args: &[&str]) -> Self {
        let mut command = Command::new(BINARY);
        command.args(["-j", CONFIG, "--port", "0"]).args(args);
        let (child, addr, stderr) = support::spawn_server(command);
        Self {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    /// SIGTERM; wait for a clean exit; its log.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn mdns_advertises_every_thing_and_withdraws_on_shutdown() {
    if std::env::var_os(INSIDE).is_none() {
        return in_namespace("mdns_advertises_every_thing_and_withdraws_on_shutdown");
    }
    let browser = ServiceDaemon::new().expect("an mDNS browser");
    browser
        .enable_interface(IfKind::LoopbackV4)
        .expect("browse on loopback");
    let events = browser.browse("_wot._tcp.local.").expect("browse");
    let lab = Lab::start(&["--mdns"]);

    let mut found: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while found.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("only these Things were found: {found:?}"));
        if let ServiceEvent::ServiceResolved(service) = event {
            assert_eq!(service.port, lab.addr.port(), "{service:?}");
            assert!(
                service
                    .addresses
                    .iter()
                    .any(|a| a.to_ip_addr() == lab.addr.ip()),
                "{service:?}"
            );
            let txt: BTreeMap<String, String> = service
                .txt_properties
                .iter()
                .map(|p| (p.key().to_owned(), p.val_str().to_owned()))
                .collect();
            found.insert(service.fullname.clone(), txt);
        }
    }
    let tds: BTreeSet<&str> = found.values().map(|txt| txt["td"].as_str()).collect();
    assert_eq!(
        tds,
        BTreeSet::from(["/camera/", "/counter/", "/stage/"]),
        "{found:?}"
    );
    for (name, txt) in &found {
        assert!(name.ends_with("._wot._tcp.local."), "{name}");
        assert_eq!(txt["type"], "Thing", "{name}");
        assert_eq!(txt["scheme"], "http", "{name}");
    }

    let log = lab.stop();
    assert!(log.contains("advertising the Things by mDNS"), "{log}");
    let mut removed = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while removed.len() < found.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                removed.insert(fullname);
            }
            Ok(_) => {}
            Err(_) => panic!("withdrawn: only {removed:?} of {:?}", found.keys()),
        }
    }
    let _ = browser.shutdown();
}

#[test]
fn binding_beyond_loopback_without_tokens_warns() {
    if std::env::var_os(INSIDE).is_none() {
        return in_namespace("binding_beyond_loopback_without_tokens_warns");
    }
    let open = Lab::start(&["--host", "0.0.0.0"]);
    let log = open.stop();
    assert!(
        log.contains("anyone on that network can drive the instruments"),
        "{log}"
    );
    let folder = std::env::temp_dir().join(format!("lt-netns-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("tokens");
    std::fs::write(&file, "tok-netns\n").unwrap();
    let secured = Lab::start(&["--host", "0.0.0.0", "--tokens-file", file.to_str().unwrap()]);
    let log = secured.stop();
    assert!(!log.contains("anyone on that network"), "{log}");
    let loopback = Lab::start(&[]);
    let log = loopback.stop();
    assert!(!log.contains("anyone on that network"), "{log}");
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn two_labs_on_one_machine_are_both_found() {
    if std::env::var_os(INSIDE).is_none() {
        return in_namespace("two_labs_on_one_machine_are_both_found");
    }
    let browser = ServiceDaemon::new().expect("an mDNS browser");
    browser
        .enable_interface(IfKind::LoopbackV4)
        .expect("browse on loopback");
    let events = browser.browse("_wot._tcp.local.").expect("browse");
    let (a, b) = (Lab::start(&["--mdns"]), Lab::start(&["--mdns"]));

    // instance name → (port, TD path)
    let mut found: BTreeMap<String, (u16, String)> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while found.len() < 6 {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("only these Things were found: {found:?}"));
        if let ServiceEvent::ServiceResolved(service) = event {
            let td = service
                .txt_properties
                .get_property_val_str("td")
                .unwrap_or_default()
                .to_owned();
            found.insert(service.fullname.clone(), (service.port, td));
        }
    }
    for lab in [&a, &b] {
        let port = lab.addr.port();
        let tds: BTreeSet<&str> = found
            .iter()
            .filter(|(_, (p, _))| *p == port)
            .map(|(name, (_, td))| {
                assert!(name.contains(&format!(":{port}.")), "{name}");
                td.as_str()
            })
            .collect();
        assert_eq!(
            tds,
            BTreeSet::from(["/camera/", "/counter/", "/stage/"]),
            "{found:?}"
        );
    }
    a.stop();
    b.stop();
    let _ = browser.shutdown();
}

#[test]
fn the_client_discovers_both_labs_and_drives_a_found_thing() {
    if std::env::var_os(INSIDE).is_none() {
        return in_namespace("the_client_discovers_both_labs_and_drives_a_found_thing");
    }
    let (a, b) = (Lab::start(&["--mdns"]), Lab::start(&["--mdns"]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let found = labthings_client::discover(Duration::from_secs(4))
            .await
            .expect("discovery runs");
        let urls: BTreeSet<&str> = found.iter().map(|t| t.td_url.as_str()).collect();
        let mut expected = BTreeSet::new();
        for lab in [&a, &b] {
            for thing in ["camera", "counter", "stage"] {
                expected.insert(format!("http://{}/{thing}/", lab.addr));
            }
        }
        let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
        assert_eq!(urls, expected, "{found:#?}");
        assert_eq!(found.len(), 6, "one entry per Thing: {found:#?}");
        let mut names: Vec<&str> = found.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            found.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            "sorted by instance name"
        );
        for thing in &found {
            assert_eq!(thing.txt["type"], "Thing", "{thing:?}");
            assert!(thing.name.starts_with(&thing.thing), "{thing:?}");
            assert!(
                thing.name.ends_with(&format!(":{}", thing.port)),
                "{thing:?}"
            );
        }

        let counter = found
            .iter()
            .find(|t| t.thing == "counter" && t.port == b.addr.port())
            .expect("lab b's counter");
        let client = counter
            .connect(labthings_client::ThingClient::builder())
            .await
            .expect("connect to the found counter");
        client.write("count", &17).await.expect("write count");
        let count: i64 = client.read("count").await.expect("read count");
        assert_eq!(count, 17);

        // Options: only loopback, and back as soon as two are found.
        let started = Instant::now();
        let first = labthings_client::Discovery::new(Duration::from_secs(10))
            .interface("lo")
            .stop_after(2)
            .run()
            .await
            .expect("discovery runs");
        assert_eq!(first.things.len(), 2, "{first:?}");
        assert!(first.skipped.is_empty(), "{first:?}");
        assert!(started.elapsed() < Duration::from_secs(8), "stopped early");
    });
    a.stop();
    b.stop();
}
