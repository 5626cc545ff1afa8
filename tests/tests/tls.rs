//! HTTPS and WSS (the `tls` feature of labthings-server), black-box: a client that trusts only
//! the test CA (`tests/fixtures/tls`) talks to a real server over a real socket; plain HTTP to
//! the TLS port fails without hurting the server; an event stream, which leaves hyper once its
//! head is out, works the same; the `test-lab` binary takes `--tls-cert` and `--tls-key`,
//! announces an `https://` URL, and refuses files it can't use, naming them.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use labthings_server::Tls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");
const PATIENCE: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// `test-lab` run from a scratch folder: the demo config keeps settings (and the Things' ids)
/// in `./settings`.
fn test_lab() -> Command {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("scratch folder");
    let mut command = Command::new(BINARY);
    command.current_dir(folder);
    command
}

fn test_tls() -> Tls {
    Tls::from_pem_files(&fixture("server.pem"), &fixture("server.key")).expect("the test files")
}

/// A TLS connection to `addr` for `localhost`, trusting only the test CA.
async fn connect(addr: SocketAddr) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(fixture("ca.pem")).expect("ca.pem") {
        roots.add(ca.expect("a certificate")).expect("a CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("a name");
    tokio::time::timeout(
        PATIENCE,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("the handshake finishes")
    .expect("the certificate is trusted")
}

/// One HTTPS request on a fresh connection: the status and the body.
async fn https(addr: SocketAddr, method: Method, path: &str, body: &str) -> (StatusCode, Bytes) {
    let stream = connect(addr).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("localhost:{}", addr.port()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = tokio::time::timeout(PATIENCE, sender.send_request(request))
        .await
        .expect("an answer in time")
        .expect("an answer");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

async fn https_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = https(addr, Method::GET, path, "").await;
    assert_eq!(status, StatusCode::OK, "{path}");
    serde_json::from_slice(&body).expect("JSON")
}

async fn tls_server() -> labthings_server::RunningServer {
    support::demo_server()
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .tls(test_tls())
        .start()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn the_api_answers_over_https_with_https_urls() {
    let server = tls_server().await;
    let addr = server.local_addr();
    assert_eq!(server.url(), format!("https://{addr}"));

    let td = https_json(addr, "/counter/").await;
    let origin = format!("localhost:{}", addr.port());
    assert_eq!(td["base"], format!("https://{origin}/"));
    let forms = td["properties"]["count"]["forms"]
        .as_array()
        .expect("forms");
    let socket = forms.last().expect("a WebSocket form")["href"]
        .as_str()
        .expect("href");
    assert_eq!(socket, format!("wss://{origin}/counter/ws"));

    let (status, _) = https(addr, Method::PUT, "/counter/count", "7").await;
    assert!(status.is_success(), "{status}");
    assert_eq!(https_json(addr, "/counter/count").await, json!(7));
    let (status, body) = https(addr, Method::POST, "/counter/increment", "").await;
    assert_eq!(status, StatusCode::CREATED);
    let invocation: Value = serde_json::from_slice(&body).expect("JSON");
    let href = invocation["href"].as_str().expect("href");
    assert!(href.starts_with(&format!("https://{origin}/")), "{href}");
    server.shutdown().await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_fails_and_the_server_goes_on() {
    let server = tls_server().await;
    let addr = server.local_addr();
    for _ in 0..3 {
        let mut plain = TcpStream::connect(addr).await.expect("connect");
        plain
            .write_all(b"GET /counter/count HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("write");
        // The handshake fails: at most a TLS alert comes back, then the connection closes.
        let mut answer = Vec::new();
        tokio::time::timeout(PATIENCE, plain.read_to_end(&mut answer))
            .await
            .expect("the server closes the connection")
            .ok();
        assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
        assert!(answer.len() < 64, "only an alert: {answer:?}");
    }
    // A client that sends nothing is dropped after the handshake timeout, not kept; meanwhile
    // others are served.
    let _silent = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(
        https_json(addr, "/counter/serial").await,
        json!("LTRS-0001")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_websocket_works_over_tls() {
    let server = tls_server().await;
    let addr = server.local_addr();
    let stream = connect(addr).await;
    let request = format!("wss://localhost:{}/counter/ws", addr.port())
        .into_client_request()
        .expect("request");
    let (mut socket, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("the upgrade over TLS");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
        .send(Message::text(
            json!({"messageType": "addPropertyObservation", "data": {"count": true}}).to_string(),
        ))
        .await
        .expect("send");
    // The observation is registered once the server has read the frame; write until it shows.
    let mut value = 100;
    let seen = loop {
        let (status, _) = https(addr, Method::PUT, "/counter/count", &value.to_string()).await;
        assert!(status.is_success());
        match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) if value < 110 => value += 1,
            Err(_) => panic!("no propertyStatus over wss"),
        }
    };
    assert_eq!(seen["messageType"], "propertyStatus");
    assert_eq!(seen["data"]["count"], json!(value));
    server.shutdown().await;
}

/// The stream writes its own body once its head is out (issue #26): over TLS too, every value
/// arrives, and shutdown sends the last chunk and closes with a TLS close_notify.
#[tokio::test]
async fn server_sent_events_work_over_tls() {
    let server = tls_server().await;
    let addr = server.local_addr();
    let mut events =
        support::EventStream::open(connect(addr).await, "HTTP/1.1", "/counter/count").await;
    assert!(
        events.head.starts_with("HTTP/1.1 200 OK"),
        "{}",
        events.head
    );
    let first = events.message().await;
    assert!(first.starts_with("retry: 3000\n\n"), "{first}");
    for value in [11, 12, 13] {
        let (status, _) = https(addr, Method::PUT, "/counter/count", &value.to_string()).await;
        assert!(status.is_success());
        let message = events.message().await;
        assert!(
            message.ends_with(&format!("\ndata: {value}\n\n")),
            "{message}"
        );
    }
    server.shutdown().await;
    assert_eq!(events.chunk().await, None, "the last chunk");
    assert_eq!(events.rest().await, b"", "then a clean TLS close");
}

#[tokio::test]
async fn the_binary_serves_https_with_the_flags() {
    let mut command = test_lab();
    command.args(["--port", "0", "--tls-cert"]);
    command.arg(fixture("server.pem")).arg("--tls-key");
    command.arg(fixture("server.key"));
    let (mut child, addr, _stderr) = support::spawn_server(command);
    assert_eq!(https_json(addr, "/stage/position").await, json!([0, 0, 0]));
    child.kill().expect("kill");
    child.wait().expect("wait");
}

/// Run `test-lab` with `args`; it must refuse to start (exit 3); its stderr.
fn refused(args: &[&std::ffi::OsStr]) -> String {
    let output = test_lab()
        .args(["--port", "0"])
        .args(args)
        .output()
        .expect("test-lab runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    stderr
}

#[test]
fn unusable_certificates_and_keys_stop_start_up_naming_the_file() {
    let (cert, key, other) = (
        fixture("server.pem"),
        fixture("server.key"),
        fixture("other.key"),
    );
    let missing = fixture("missing.pem");
    let flag = |s: &'static str| std::ffi::OsStr::new(s);

    let stderr = refused(&[
        flag("--tls-cert"),
        missing.as_os_str(),
        flag("--tls-key"),
        key.as_os_str(),
    ]);
    assert!(
        stderr.contains(&format!("the TLS certificate file {}", missing.display())),
        "{stderr}"
    );
    // A key where the certificate should be: no certificate in it.
    let stderr = refused(&[
        flag("--tls-cert"),
        key.as_os_str(),
        flag("--tls-key"),
        key.as_os_str(),
    ]);
    assert!(
        stderr.contains(&format!("the TLS certificate file {}", key.display())),
        "{stderr}"
    );
    // A certificate where the key should be.
    let stderr = refused(&[
        flag("--tls-cert"),
        cert.as_os_str(),
        flag("--tls-key"),
        cert.as_os_str(),
    ]);
    assert!(
        stderr.contains(&format!("the TLS key file {}", cert.display())),
        "{stderr}"
    );
    // Somebody else's key.
    let stderr = refused(&[
        flag("--tls-cert"),
        cert.as_os_str(),
        flag("--tls-key"),
        other.as_os_str(),
    ]);
    assert!(
        stderr.contains(&format!("the TLS key file {}", other.display()))
            && stderr.contains("does not fit"),
        "{stderr}"
    );
    // One of the pair only.
    let stderr = refused(&[flag("--tls-cert"), cert.as_os_str()]);
    assert!(stderr.contains("--tls-cert needs --tls-key"), "{stderr}");
}

#[tokio::test]
async fn the_config_file_can_ask_for_tls() {
    let config = json!({
        "things": {"counter": "Counter"},
        "tls": {"cert": fixture("server.pem"), "key": fixture("server.key")},
    });
    let mut command = test_lab();
    command.args(["--port", "0", "-j", &config.to_string()]);
    let (mut child, addr, _stderr) = support::spawn_server(command);
    assert_eq!(
        https_json(addr, "/counter/serial").await,
        json!("LTRS-0001")
    );
    child.kill().expect("kill");
    child.wait().expect("wait");
}
