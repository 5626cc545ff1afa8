//! Server-Sent Events once the stream has left hyper (issue #26: the stream takes its socket
//! once its head is out and writes the chunked body itself), over a raw socket: the head is
//! whole, every value arrives in order with its id, an idle stream gets keep-alive comments,
//! shutdown sends the last chunk and closes; `HEAD` keeps the connection for the next
//! request; an HTTP/1.0 client gets the bare messages until the close; bytes a client sends
//! after its request don't disturb its stream. (Over TLS: `tls.rs`. A client that stops
//! reading, a revoked token, shutdown with a stuck client: `probe.rs`.)

mod support;

use std::sync::Arc;
use std::time::Duration;

use labthings_core::prelude::*;
use labthings_server::ThingServer;
use support::{EventStream, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A Thing with one property the tests write.
#[thing]
pub struct Meter {
    /// The last value written.
    #[property]
    level: Property<i64>,
    /// Any text, as long as you like.
    #[property]
    text: Property<String>,
}

#[thing]
impl Meter {}

async fn meter() -> (TestServer, Arc<Meter>) {
    let meter = Arc::new(Meter {
        level: Property::new(0),
        text: Property::new(String::new()),
    });
    let server = TestServer::start(ThingServer::new().shared_thing("meter", meter.clone())).await;
    (server, meter)
}

async fn stream(server: &TestServer, version: &str) -> EventStream<TcpStream> {
    let socket = TcpStream::connect(server.addr).await.expect("connect");
    EventStream::open(socket, version, "/meter/level").await
}

#[tokio::test]
async fn every_value_arrives_in_order_then_shutdown_ends_the_body_and_closes() {
    let (server, meter) = meter().await;
    let mut events = stream(&server, "HTTP/1.1").await;
    let head = events.head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(
        head.contains("content-type: text/event-stream\r\n"),
        "{head}"
    );
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
    assert!(head.contains("cache-control: no-cache\r\n"), "{head}");
    assert_eq!(events.message().await, "retry: 3000\n\n");
    for value in 1..=50 {
        meter.level.set(value).unwrap();
    }
    for value in 1..=50 {
        assert_eq!(
            events.message().await,
            format!("id: {value}\ndata: {value}\n\n")
        );
    }
    server.stop().await;
    assert_eq!(events.chunk().await, None, "the last chunk");
    assert_eq!(events.rest().await, b"", "then the close");
}

/// The hand-over's one promise that ordinary traffic can't show: the socket is taken only once
/// hyper has sent all it holds. Here hyper holds most of a 4 MB answer (the client asked for it
/// first, pipelined, and reads nothing yet) when the stream's head joins it in the buffer.
#[tokio::test]
async fn a_stream_behind_a_large_pipelined_answer_follows_it_whole() {
    let (server, meter) = meter().await;
    let text = "x".repeat(4_000_000);
    meter.text.set(text.clone()).unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut socket = socket.connect(server.addr).await.expect("connect");
    let requests = "GET /meter/text HTTP/1.1\r\nHost: localhost\r\n\r\n\
                    GET /meter/level HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    socket.write_all(requests.as_bytes()).await.unwrap();
    // Let the server fill the socket and buffer the rest, the stream's head behind it. (That
    // the socket is taken only once the head has left hyper is proved by the unit test
    // `the_socket_is_taken_only_once_hyper_has_sent_the_whole_head` in `net/connection.rs`.)
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = format!("\"{text}\"");
    let mut answer = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    while !String::from_utf8_lossy(&answer[answer.len().saturating_sub(64)..])
        .contains("retry: 3000")
    {
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("more in time")
            .unwrap();
        assert!(read > 0, "closed after {} bytes", answer.len());
        answer.extend_from_slice(&buf[..read]);
    }
    let answer = String::from_utf8(answer).unwrap();
    let (first, stream) = answer.split_once(&body).expect("the whole first answer");
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    assert!(
        first.contains(&format!("content-length: {}", body.len())),
        "{first}"
    );
    assert!(stream.starts_with("HTTP/1.1 200 OK"), "{stream}");
    assert!(
        stream.ends_with("\r\n\r\nD\r\nretry: 3000\n\n\r\n"),
        "{stream:?}"
    );
    server.stop().await;
}

/// The interval itself is `push::sse`'s unit test's; here the comments come through the real
/// server and socket. The clock is paused once the stream is open (the set-up's sockets then
/// need no timer to fire early): idle, the runtime jumps to its next timer, so the 15 s pass at
/// once.
#[tokio::test]
async fn an_idle_stream_gets_keep_alive_comments() {
    let (server, _meter) = meter().await;
    let before = tokio::time::Instant::now();
    let mut events = stream(&server, "HTTP/1.1").await;
    assert_eq!(events.message().await, "retry: 3000\n\n");
    tokio::time::pause();
    for ticks in 1..=2 {
        assert_eq!(events.message().await, ":\n\n");
        assert!(
            before.elapsed() >= Duration::from_secs(15) * ticks,
            "not before its time"
        );
    }
    tokio::time::resume();
    server.stop().await;
}

#[tokio::test]
async fn a_resuming_client_gets_what_it_missed_first() {
    let (server, meter) = meter().await;
    for value in 1..=3 {
        meter.level.set(value).unwrap();
    }
    let mut socket = TcpStream::connect(server.addr).await.expect("connect");
    let request = "GET /meter/level HTTP/1.1\r\nHost: localhost\r\n\
                   Accept: text/event-stream\r\nLast-Event-ID: 1\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let wanted = "retry: 3000\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n";
    let mut buf = [0; 1024];
    while !String::from_utf8_lossy(&answer).contains(wanted) {
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .expect("the replay in time")
            .unwrap();
        assert!(read > 0, "{}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..read]);
    }
    server.stop().await;
}

#[tokio::test]
async fn head_gives_the_stream_up_and_the_connection_answers_its_next_request() {
    let (server, meter) = meter().await;
    meter.level.set(42).unwrap();
    let mut socket = TcpStream::connect(server.addr).await.expect("connect");
    let requests = "HEAD /meter/level HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n\
                    GET /meter/level HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    socket.write_all(requests.as_bytes()).await.unwrap();
    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answers))
        .await
        .expect("both answers, then the close")
        .unwrap();
    let answers = String::from_utf8(answers).unwrap();
    let (head, get) = answers.split_once("\r\n\r\n").expect("the answer to HEAD");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{answers}");
    assert!(head.contains("text/event-stream"), "{answers}");
    assert!(get.starts_with("HTTP/1.1 200 OK"), "{answers}");
    assert!(get.ends_with("\r\n\r\n42"), "{answers}");
    server.stop().await;
}

#[tokio::test]
async fn an_http_1_0_client_gets_the_bare_messages_until_the_close() {
    let (server, meter) = meter().await;
    let mut events = stream(&server, "HTTP/1.0").await;
    let head = events.head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.0 200 ok\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert_eq!(events.bytes(13).await, "retry: 3000\n\n");
    meter.level.set(7).unwrap();
    let message = "id: 1\ndata: 7\n\n";
    assert_eq!(events.bytes(message.len()).await, message);
    server.stop().await;
    assert_eq!(events.rest().await, b"", "the close ends the body");
}

#[tokio::test]
async fn bytes_sent_after_the_request_leave_the_stream_alone() {
    let (server, meter) = meter().await;
    let mut events = stream(&server, "HTTP/1.1").await;
    assert_eq!(events.message().await, "retry: 3000\n\n");
    events
        .socket()
        .write_all(b"GET /meter/level HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    for value in 1..=3 {
        meter.level.set(value).unwrap();
        assert_eq!(
            events.message().await,
            format!("id: {value}\ndata: {value}\n\n")
        );
    }
    server.stop().await;
    assert_eq!(events.chunk().await, None);
}
