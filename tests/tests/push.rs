//! Push over real sockets (issue #10): a slow WebSocket client loses old values, never the
//! newest, and slows neither writers nor other clients; clients that vanish mid-stream leave
//! no socket behind; progress is pushed at most every 50 ms; shutdown closes WebSockets with
//! a close frame; and a bounded fuzz pass of malformed frames never takes the server down.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use labthings_core::prelude::*;
use labthings_server::ThingServer;
use serde_json::{Value, json};
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A Thing for push tests.
#[thing]
pub struct Board {
    /// Any text, as long as you like.
    #[property]
    text: Property<String>,
}

#[thing]
impl Board {
    /// Report progress in a tight loop for about `millis` milliseconds.
    #[action]
    fn crunch(&self, millis: u64, #[inject] progress: Progress) -> u64 {
        let started = Instant::now();
        let total = Duration::from_millis(millis);
        let mut steps = 0;
        while started.elapsed() < total {
            progress.set(started.elapsed().as_secs_f64() / total.as_secs_f64());
            steps += 1;
        }
        progress.set(1.0);
        steps
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn board() -> (TestServer, Arc<Board>) {
    let board = Arc::new(Board {
        text: Property::new(String::new()),
    });
    let server = TestServer::start(ThingServer::new().shared_thing("board", board.clone())).await;
    (server, board)
}

async fn connect(server: &TestServer, thing: &str) -> Socket {
    let url = format!("ws://{}/{thing}/ws", server.addr);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket handshake");
    socket
}

async fn send(socket: &mut Socket, message_type: &str, data: Value) {
    let message = json!({ "messageType": message_type, "data": data }).to_string();
    socket.send(Message::text(message)).await.expect("sent");
}

/// The next text message as JSON (at most 5 s).
async fn next_json(socket: &mut Socket) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

/// Wait until a freshly subscribed socket hears writes: write `probe` until it arrives.
async fn until_subscribed(socket: &mut Socket, board: &Board, probe: &str) {
    for _ in 0..50 {
        board.text.set(probe.to_owned()).expect("no constraints");
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(100), socket.next()).await
            && text.contains(probe)
        {
            return;
        }
    }
    panic!("the subscription never took effect");
}

fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |fds| fds.count())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_loses_old_values_keeps_the_newest_and_slows_no_one() {
    let (server, board) = board().await;
    let mut slow = connect(&server, "board").await;
    let mut fast = connect(&server, "board").await;
    for socket in [&mut slow, &mut fast] {
        send(socket, "addPropertyObservation", json!({"text": true})).await;
        until_subscribed(socket, &board, "ready").await;
    }

    // 300 writes of 64 KiB: far more than the slow client's socket buffers hold.
    let writes = 300;
    let big = "x".repeat(64 * 1024);
    let fast_reader = tokio::spawn(async move {
        let mut last = String::new();
        while !last.starts_with(&format!("{}:", writes - 1)) {
            let message = next_json(&mut fast).await;
            if let Some(text) = message["data"]["text"].as_str() {
                last = text.to_owned();
            }
        }
        fast
    });
    let started = Instant::now();
    let writer = std::thread::spawn(move || {
        for i in 0..writes {
            board
                .text
                .set(format!("{i}:{big}"))
                .expect("no constraints");
        }
    });
    tokio::task::spawn_blocking(move || writer.join().expect("writer"))
        .await
        .unwrap();
    let writing = started.elapsed();
    // The fast client hears the last value although the slow one reads nothing.
    let _fast = tokio::time::timeout(Duration::from_secs(10), fast_reader)
        .await
        .expect("the fast client keeps up")
        .unwrap();
    assert!(
        writing < Duration::from_secs(10),
        "writers never wait for observers ({writing:?} for {writes} writes)"
    );

    // Now the slow client reads: what its buffers held, one drop notice, then the newest.
    let mut notices = 0;
    let mut last = String::new();
    while !last.starts_with(&format!("{}:", writes - 1)) {
        let message = next_json(&mut slow).await;
        match message["messageType"].as_str() {
            Some("response") => {
                assert_eq!(message["error"]["title"], "Messages dropped", "{message}");
                notices += 1;
            }
            Some("propertyStatus") => {
                last = message["data"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(notices, 1, "one notice per episode of falling behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_vanish_mid_stream_leave_no_socket_behind() {
    let (server, board) = board().await;
    let baseline = open_sockets();
    for round in 0..40 {
        // A WebSocket dropped without a close frame, and an SSE stream dropped mid-message.
        let mut socket = connect(&server, "board").await;
        send(&mut socket, "addPropertyObservation", json!({"text": true})).await;
        let mut sse = TcpStream::connect(server.addr).await.unwrap();
        let request = format!(
            "GET /board/text HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            server.addr
        );
        sse.write_all(request.as_bytes()).await.unwrap();
        board.text.set(format!("round {round}")).unwrap();
        let mut buffer = [0u8; 64];
        let _ = tokio::time::timeout(Duration::from_secs(2), sse.read(&mut buffer)).await;
        drop(socket.into_inner()); // the TCP stream, without a close frame
        drop(sse);
    }
    // Publishing once more makes any producer that still holds a dead stream notice it.
    board.text.set("after".into()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let open = open_sockets();
        if open <= baseline + 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} descriptors open, {baseline} before the 40 rounds"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And the server still pushes to a new client.
    let mut socket = connect(&server, "board").await;
    send(&mut socket, "addPropertyObservation", json!({"text": true})).await;
    until_subscribed(&mut socket, &board, "still here").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_is_pushed_at_most_every_50_ms_and_ends_at_the_final_status() {
    let (server, _board) = board().await;
    let mut socket = connect(&server, "board").await;
    send(&mut socket, "addActionObservation", json!({"crunch": true})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = server
        .post("/board/crunch", Some(r#"{"millis": 500}"#))
        .await;
    assert_eq!(started.status, hyper::StatusCode::CREATED);
    let mut running = Vec::new();
    let final_message = loop {
        let message = next_json(&mut socket).await;
        assert_eq!(message["messageType"], "actionStatus", "{message}");
        match message["data"]["status"].as_str() {
            Some("pending") => {}
            Some("running") => running.push((Instant::now(), message["data"]["progress"].clone())),
            _ => break message,
        }
    };
    assert_eq!(final_message["data"]["status"], "completed");
    assert_eq!(final_message["data"]["progress"], 1.0);
    let fractions: Vec<f64> = running.iter().filter_map(|(_, p)| p.as_f64()).collect();
    assert!(fractions.len() >= 3, "progress was pushed: {fractions:?}");
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "in order: {fractions:?}"
    );
    // Over 500 ms at most one push per 50 ms (+ the first, + slack for the boundaries),
    // although the action reported millions of times.
    assert!(
        fractions.len() <= 14,
        "{} pushes in 500 ms",
        fractions.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_closes_websockets_with_a_close_frame() {
    let board = Arc::new(Board {
        text: Property::new(String::new()),
    });
    let server = ThingServer::new()
        .shared_thing("board", board)
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .start()
        .await
        .expect("server starts");
    let url = format!("ws://{}/board/ws", server.local_addr());
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown finishes with a socket open");
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame within 5 s");
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Away));
}

/// xorshift64*, seeded: the fuzz pass is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_websocket_traffic_never_takes_the_server_down() {
    let (server, board) = board().await;
    let mut rng = Rng(0x00f0_220f_u64);
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        "\"messageType\"",
        ":",
        ",",
        "\"data\"",
        "\"addPropertyObservation\"",
        "\"removeEventSubscription\"",
        "{\"text\":true}",
        "null",
        "1e999",
        "\"\\u0000\"",
        "true",
    ];
    for _ in 0..20 {
        let mut socket = connect(&server, "board").await;
        for _ in 0..25 {
            let length = (rng.next() % 12) as usize;
            let text: String = (0..length)
                .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
                .collect();
            let frame = match rng.next() % 4 {
                0 => Message::binary(text.into_bytes()),
                _ => Message::text(text),
            };
            if socket.send(frame).await.is_err() {
                break;
            }
        }
        let _ = socket.close(None).await;
    }
    // Raw garbage after a valid handshake: the session ends, nothing else does.
    for _ in 0..10 {
        let socket = connect(&server, "board").await;
        let mut stream = match socket.into_inner() {
            MaybeTlsStream::Plain(stream) => stream,
            _ => unreachable!("plain TCP"),
        };
        let garbage: Vec<u8> = (0..256).map(|_| rng.next() as u8).collect();
        let _ = stream.write_all(&garbage).await;
    }
    assert_eq!(
        server.get("/board/text").await.status,
        hyper::StatusCode::OK
    );
    let mut socket = connect(&server, "board").await;
    send(&mut socket, "addPropertyObservation", json!({"text": true})).await;
    until_subscribed(&mut socket, &board, "alive").await;
}
