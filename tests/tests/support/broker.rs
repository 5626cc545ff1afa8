//! A real Mosquitto per test: installed with apt-get when missing, started on a free loopback
//! port with a written config, stopped (and its files removed) when dropped; and
//! `mosquitto_sub`/`mosquitto_pub` as an independent client.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where Debian puts the broker (not on a non-root PATH).
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Install `mosquitto` and `mosquitto-clients` once per test process when they are missing
/// (a fresh CI machine): `apt-get`, through `sudo -n` when not root.
pub fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let present = |program: &str| {
            Command::new(program)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        };
        if Path::new(MOSQUITTO).exists() && present("mosquitto_sub") && present("mosquitto_passwd")
        {
            return;
        }
        crate::support::apt_install(&["mosquitto", "mosquitto-clients"]);
        assert!(
            Path::new(MOSQUITTO).exists(),
            "these tests need Mosquitto: `apt-get install mosquitto mosquitto-clients` failed"
        );
    });
}

/// A running Mosquitto on `127.0.0.1:port`.
pub struct Broker {
    pub port: u16,
    /// With a TLS listener: the CA file its clients trust.
    ca_file: Option<PathBuf>,
    dir: PathBuf,
    child: Option<Child>,
    /// The broker's log, for a failing test's message.
    log: std::sync::Arc<Mutex<String>>,
}

/// `user:password` accounts, or anonymous.
pub enum Access<'a> {
    Anonymous,
    Accounts(&'a [(&'a str, &'a str)]),
}

impl Broker {
    /// An anonymous broker on a free port.
    pub fn start() -> Self {
        Self::with(Access::Anonymous)
    }

    /// A broker whose one listener speaks TLS, with the test certificate of
    /// `tests/fixtures/tls` (for `localhost` and 127.0.0.1, signed by its `ca.pem`).
    pub fn with_tls() -> Self {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
        let listener = format!(
            "cafile {}\ncertfile {}\nkeyfile {}\n",
            fixtures.join("ca.pem").display(),
            fixtures.join("server.pem").display(),
            fixtures.join("server.key").display(),
        );
        Self::configured(Access::Anonymous, &listener, Some(fixtures.join("ca.pem")))
    }

    pub fn with(access: Access<'_>) -> Self {
        Self::configured(access, "", None)
    }

    fn configured(access: Access<'_>, listener: &str, ca_file: Option<PathBuf>) -> Self {
        ensure_installed();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lt-mosquitto-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("broker dir");
        // Mosquitto can't report a port it chose: take a free one and let it go.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut config =
            format!("listener {port} 127.0.0.1\n{listener}persistence false\nlog_dest stderr\n");
        match access {
            Access::Anonymous => config.push_str("allow_anonymous true\n"),
            Access::Accounts(accounts) => {
                let file = dir.join("passwords");
                for (i, (user, password)) in accounts.iter().enumerate() {
                    let mut command = Command::new("mosquitto_passwd");
                    if i == 0 {
                        command.arg("-c");
                    }
                    let status = command
                        .args(["-b", &file.to_string_lossy(), user, password])
                        .status()
                        .expect("mosquitto_passwd runs");
                    assert!(status.success(), "mosquitto_passwd failed");
                }
                config.push_str(&format!(
                    "allow_anonymous false\npassword_file {}\n",
                    file.display()
                ));
            }
        }
        std::fs::write(dir.join("mosquitto.conf"), config).expect("broker config");
        let mut broker = Self {
            port,
            ca_file,
            dir,
            child: None,
            log: Default::default(),
        };
        broker.run();
        broker
    }

    /// `mqtt://127.0.0.1:port`.
    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "mqtts"
        } else {
            "mqtt"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `--cafile` for mosquitto_pub/_sub, with a TLS listener.
    fn tls_args(&self, command: &mut Command) {
        if let Some(ca_file) = &self.ca_file {
            command.arg("--cafile").arg(ca_file);
        }
    }

    /// Start the broker process and return once it listens (it says so on stderr).
    fn run(&mut self) {
        let mut child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (ready, listening) = channel();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("running") || line.contains("Error") {
                    let _ = ready.send(line.clone());
                }
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let said = listening
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("mosquitto did not start: {}", self.log()));
        assert!(
            said.contains("running"),
            "mosquitto: {said}\n{}",
            self.log()
        );
        self.child = Some(child);
    }

    /// Kill the broker at once (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port, empty (no persistence: retained messages are gone).
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Publish with `mosquitto_pub` (`-r`: retained), as `account` when given.
    pub fn publish(&self, topic: &str, payload: &str, retain: bool, account: Option<(&str, &str)>) {
        let mut command = Command::new("mosquitto_pub");
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"]);
        command.args(["-t", topic, "-m", payload]);
        self.tls_args(&mut command);
        if retain {
            command.arg("-r");
        }
        if let Some((user, password)) = account {
            command.args(["-u", user, "-P", password]);
        }
        let status = command.status().expect("mosquitto_pub runs");
        assert!(status.success(), "mosquitto_pub {topic} failed");
    }

    /// Subscribe with `mosquitto_sub -v` to `filters` (as `account` when given), and return
    /// once the broker has the subscription: a server started afterwards can't publish (or
    /// clear) anything before the subscriber hears it. (Without the wait, a loaded machine
    /// let a server's start-up sweep clear retained topics before `mosquitto_sub` connected.)
    pub fn subscribe(&self, filters: &[&str], account: Option<(&str, &str)>) -> Subscriber {
        // Readiness: a marker on a topic of this subscriber's own, published until it comes
        // back; marker topics never reach the test (other subscribers' included).
        static SUBSCRIBERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let number = SUBSCRIBERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ready_topic = format!("{READY_PREFIX}{}-{number}", std::process::id());
        let mut command = Command::new("mosquitto_sub");
        command.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-v",
            "-q",
            "1",
        ]);
        command.args(["-F", "%t %r %p"]);
        self.tls_args(&mut command);
        for filter in filters {
            command.args(["-t", filter]);
        }
        command.args(["-t", &ready_topic]);
        if let Some((user, password)) = account {
            command.args(["-u", user, "-P", password]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, messages) = channel();
        let (heard_ready, ready) = channel();
        let own_marker = ready_topic.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut parts = line.splitn(3, ' ');
                let topic = parts.next().unwrap_or_default().to_owned();
                if topic.starts_with(READY_PREFIX) {
                    if topic == own_marker {
                        let _ = heard_ready.send(());
                    }
                    continue;
                }
                let retained = parts.next() == Some("1");
                let payload = parts.next().unwrap_or_default().to_owned();
                if sender
                    .send(Message {
                        topic,
                        retained,
                        payload,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.publish(&ready_topic, "", false, account);
            if ready.recv_timeout(Duration::from_millis(100)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto_sub didn't subscribe within 10 s"
            );
        }
        Subscriber {
            child,
            messages,
            history: Mutex::new(Vec::new()),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message `mosquitto_sub` printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub topic: String,
    /// Whether the broker delivered it as a retained message (stored before we subscribed).
    pub retained: bool,
    pub payload: String,
}

impl Message {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.topic, self.payload))
    }
}

/// A running `mosquitto_sub`, killed when dropped. Messages are kept in arrival order;
/// each is handed out once, to the first wait that wants it, whatever waits came before.
pub struct Subscriber {
    child: Child,
    messages: Receiver<Message>,
    /// Everything received, and whether a wait has taken it.
    history: Mutex<Vec<(Message, bool)>>,
}

/// The topics of the subscribers' readiness markers (`Broker::subscribe`).
const READY_PREFIX: &str = "lt-ready/";

impl Subscriber {
    /// The first message not taken yet that `wanted` accepts, waiting up to `timeout` for it;
    /// panics, listing what came, if none does.
    #[track_caller]
    pub fn until(&self, timeout: Duration, wanted: impl Fn(&Message) -> bool) -> Message {
        // Waiting blocks this thread: let the (multi-thread) runtime move its other tasks,
        // the server's among them, elsewhere meanwhile.
        let found = tokio::task::block_in_place(|| self.wait_until(timeout, &wanted));
        found.unwrap_or_else(|| {
            let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
            let seen: Vec<String> = history
                .iter()
                .map(|(m, taken)| {
                    let payload: String = m.payload.chars().take(80).collect();
                    format!(
                        "{}{} {payload}",
                        if *taken { "(taken) " } else { "" },
                        m.topic
                    )
                })
                .collect();
            panic!(
                "no wanted message within {timeout:?}; came:\n{}",
                seen.join("\n")
            )
        })
    }

    fn wait_until(&self, timeout: Duration, wanted: &dyn Fn(&Message) -> bool) -> Option<Message> {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((message, taken)) = history.iter_mut().find(|(m, taken)| !*taken && wanted(m)) {
            *taken = true;
            return Some(message.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    let hit = wanted(&message);
                    history.push((message.clone(), hit));
                    if hit {
                        return Some(message);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The first message not taken yet on `topic`, waiting up to `timeout` for it.
    #[track_caller]
    pub fn on(&self, topic: &str, timeout: Duration) -> Message {
        self.until(timeout, |m| m.topic == topic)
    }

    /// Every message received so far and within `window` more (taken or not).
    pub fn all(&self, window: Duration) -> Vec<Message> {
        tokio::task::block_in_place(|| {
            let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
            let deadline = Instant::now() + window;
            while let Ok(message) = self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                history.push((message, false));
            }
            history.iter().map(|(m, _)| m.clone()).collect()
        })
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
