//! A real server on a free port and a small HTTP client for black-box tests.
#![allow(dead_code)]

mod system;
// Not every test binary installs packages or asks for root.
#[allow(unused_imports)]
pub use system::{apt_install, root};

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use labthings_server::{RunningServer, ThingServer};
use serde_json::Value;
use tokio::net::TcpStream;

mod chunked;
mod event_stream;
// Only the MJPEG tests read a chunked body byte by byte.
#[allow(unused_imports)]
pub use chunked::Chunked;
// Only the SSE tests read event streams off raw sockets.
#[allow(unused_imports)]
pub use event_stream::EventStream;

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A running server that is shut down when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    server: Option<RunningServer>,
}

impl TestServer {
    pub async fn start(server: ThingServer) -> Self {
        Self::start_on(server, 0).await
    }

    /// On `port` (0: any free one), e.g. again on a stopped server's port, to be that server
    /// (the history's server identity is host and port).
    pub async fn start_on(server: ThingServer, port: u16) -> Self {
        let server = server
            .port(port)
            .shutdown_grace(Duration::from_millis(100))
            .start()
            .await
            .expect("server starts");
        Self {
            addr: server.local_addr(),
            server: Some(server),
        }
    }

    /// The demo lab's Things plus the test-only `lab` Thing.
    pub async fn demo() -> Self {
        Self::start(demo_server()).await
    }

    /// Wait until everything recorded so far is in the history file.
    pub async fn flush_history(&self) {
        if let Some(server) = &self.server {
            server.flush_history().await;
        }
    }

    /// Shut down now (the history's writer commits and stops).
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], None).await
    }

    pub async fn put(&self, path: &str, body: &str) -> Reply {
        self.request(
            Method::PUT,
            path,
            &[("content-type", "application/json")],
            Some(body),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: Option<&str>) -> Reply {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    /// POST an action with `Prefer: wait=10`: the answer holds the finished invocation.
    pub async fn post_and_wait(&self, path: &str, body: Option<&str>) -> Reply {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json"), ("prefer", "wait=10")],
            body,
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request(Method::DELETE, path, &[], None).await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        request(
            self.addr,
            method,
            path,
            headers,
            body.map(|b| Bytes::from(b.to_owned())),
        )
        .await
    }

    /// POST an action and wait (polling the invocation) until it has finished.
    pub async fn run_action(&self, path: &str, body: Option<&str>) -> Value {
        let started = self.post(path, body).await;
        assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
        let id = started.json()["id"].as_str().expect("id").to_owned();
        self.wait_for(&id, |s| s != "pending" && s != "running")
            .await
    }

    /// POST `path` with `body` and wait until that invocation is `running`; its id.
    pub async fn start_running(&self, path: &str, body: Option<&str>) -> String {
        let started = self.post(path, body).await.json();
        let id = started["id"].as_str().expect("an invocation").to_owned();
        self.wait_for(&id, |s| s == "running").await;
        id
    }

    /// Poll an invocation until its status satisfies `done` (at most 10 s).
    pub async fn wait_for(&self, id: &str, done: impl Fn(&str) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let invocation = self.get(&format!("/action_invocations/{id}")).await.json();
            if done(invocation["status"].as_str().unwrap_or_default()) {
                return invocation;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "invocation never got there: {invocation}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(server.shutdown());
        }
    }
}

/// The messages of an invocation's log, in order (none if it has no log).
pub fn log_messages(invocation: &Value) -> Vec<&str> {
    invocation["log"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|record| record["message"].as_str())
        .collect()
}

pub fn demo_server() -> ThingServer {
    ThingServer::new()
        .thing("counter", labthings_examples::Counter::new())
        .thing("stage", labthings_examples::MockStage::new())
        .thing("camera", labthings_examples::MockCamera::default())
        .thing("lab", labthings_tests::Lab::new())
}

/// One request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Bytes>,
) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder().method(method).uri(path);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        builder = builder.header("host", addr.to_string());
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(body.unwrap_or_default()))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// Start a server process: `command` with its stdout and stderr piped. Returns the child, the
/// address its first stdout line announces, and its stderr, read whole in the background (as
/// is the rest of stdout) so the child never blocks on a full pipe.
pub fn spawn_server(
    mut command: std::process::Command,
) -> (
    std::process::Child,
    SocketAddr,
    std::thread::JoinHandle<String>,
) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first_line = String::new();
    let _ = stdout.read_line(&mut first_line);
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = first_line
        .trim()
        .rsplit("://") // http:// or, with TLS, https://
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first_line:?}"));
    (child, addr, stderr)
}

/// Send signal `name` (`TERM`, `HUP`, …) to a server process the test started.
pub fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{name} failed");
}

/// A fresh, empty folder under the target directory, named for the test and this process.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}
