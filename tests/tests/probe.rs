//! The defects a hostile probe found (issue #20, D1–D10, `shared/research/security-probe-2.md`),
//! each tried again over a real socket: absurd `?fps=`, revoked tokens on live streams, clients
//! that stop reading SSE or MJPEG, a flood of blocking endpoint calls, a cookie header of
//! thousands of token pairs, bad WebSocket handshakes, a Range above 2^64, a `Last-Event-ID`
//! older than the replay ring, a frame naming thousands of unknown properties, and the
//! invocation list's pagination.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hyper::{Method, StatusCode};
use labthings_core::prelude::*;
use labthings_server::{ThingServer, Tokens};
use serde_json::{Value, json};
use support::{TestServer, demo_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A Thing for these tests: a property of any size, a stream fed by the test, and a blocking
/// endpoint that waits at a gate the test opens.
#[thing]
pub struct Probe {
    /// Any text, as long as you like.
    #[property]
    text: Property<String>,
    /// Frames come from the test.
    #[stream]
    feed: MjpegStream,
    /// Calls of `held` that have started.
    entered: AtomicUsize,
    /// Open (`true`) lets `held` return.
    gate: Arc<(Mutex<bool>, Condvar)>,
}

#[thing]
impl Probe {
    /// Wait until the test opens the gate.
    #[endpoint(get)]
    fn held(&self) -> String {
        self.entered.fetch_add(1, Ordering::SeqCst);
        let (open, changed) = &*self.gate;
        let mut open = open.lock().unwrap();
        while !*open {
            open = changed.wait(open).unwrap();
        }
        "done".to_owned()
    }
}

fn probe() -> Arc<Probe> {
    Arc::new(Probe {
        text: Property::new(String::new()),
        feed: MjpegStream::new(),
        entered: AtomicUsize::new(0),
        gate: Arc::new((Mutex::new(false), Condvar::new())),
    })
}

impl Probe {
    fn open_gate(&self) {
        let (open, changed) = &*self.gate;
        *open.lock().unwrap() = true;
        changed.notify_all();
    }
}

/// A JPEG-framed frame of `size` bytes (SOI … EOI).
fn frame(size: usize) -> Vec<u8> {
    let mut bytes = vec![0; size.max(4)];
    bytes[..2].copy_from_slice(&[0xFF, 0xD8]);
    let end = bytes.len();
    bytes[end - 2..].copy_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// Feeds `stream` a frame of `size` bytes every 10 ms until dropped.
struct Feeder(Arc<AtomicBool>);

impl Feeder {
    fn start(stream: &MjpegStream, size: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (stream, stopping) = (stream.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let _ = stream.add_frame(frame(size));
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Self(stop)
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Send `GET path` with `headers` (each `Name: value\r\n`) on a fresh socket, whose receive
/// buffer is shrunk to `recv_buffer` if given (a client that reads slowly or not at all).
async fn raw_get(
    addr: SocketAddr,
    path: &str,
    headers: &str,
    recv_buffer: Option<u32>,
) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Read until `done(all read so far)` or the connection ends, for at most `limit`. Returns
/// what was read and whether the connection ended (EOF or reset).
async fn read_until(
    stream: &mut TcpStream,
    limit: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> (Vec<u8>, bool) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut all = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        if done(&all) {
            return (all, false);
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (all, true),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => return (all, false),
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

// D1 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d1_any_fps_is_served_or_refused_never_a_dropped_connection() {
    let thing = probe();
    let _feeder = Feeder::start(&thing.feed, 1000);
    let server = TestServer::start(ThingServer::new().shared_thing("probe", thing.clone())).await;
    for fps in ["1e-300", "5e-324", "5e-20", "1e-19", "1e-10", "0.5"] {
        let mut stream = raw_get(server.addr, &format!("/probe/feed?fps={fps}"), "", None).await;
        let (head, ended) = read_until(&mut stream, Duration::from_secs(5), |read| {
            contains(read, "--frame\r\n")
        })
        .await;
        assert!(
            !ended && head.starts_with(b"HTTP/1.1 200"),
            "fps={fps}: {:?}",
            String::from_utf8_lossy(&head)
        );
    }
    for fps in ["0", "-1e-300", "NaN", "inf", "x"] {
        let reply = server.get(&format!("/probe/feed?fps={fps}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "fps={fps}");
    }
}

#[tokio::test]
async fn d1_prefer_wait_with_any_number_answers() {
    let server = TestServer::demo().await;
    for wait in [
        "wait=1e300",
        "wait=1e-300",
        "wait=-5",
        "wait=NaN",
        "wait=5e-324",
    ] {
        let reply = server
            .request(
                Method::POST,
                "/counter/increment",
                &[("content-type", "application/json"), ("prefer", wait)],
                None,
            )
            .await;
        assert!(reply.status.is_success(), "{wait}: {}", reply.status);
    }
}

// D2 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d2_revoking_a_token_ends_its_websocket_sse_and_mjpeg_streams_within_a_second() {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("probe-revoke-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("tokens");
    std::fs::write(&file, "token-a\ntoken-b\n").unwrap();
    let thing = probe();
    let _feeder = Feeder::start(&thing.feed, 1000);
    let server = ThingServer::new()
        .shared_thing("probe", thing.clone())
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .tokens(Tokens::from_file(&file).unwrap())
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();

    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/probe/ws?access_token=token-a"))
            .await
            .expect("WebSocket with token A");
    let subscribe = json!({"messageType": "addPropertyObservation", "data": {"text": true}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let stream_a = "Authorization: Bearer token-a\r\n";
    let mut sse_a = raw_get(
        addr,
        "/probe/text",
        &format!("{stream_a}Accept: text/event-stream\r\n"),
        None,
    )
    .await;
    let mut sse_b = raw_get(
        addr,
        "/probe/text",
        "Authorization: Bearer token-b\r\nAccept: text/event-stream\r\n",
        None,
    )
    .await;
    let mut mjpeg_a = raw_get(addr, "/probe/feed", stream_a, None).await;
    for stream in [&mut sse_a, &mut sse_b] {
        let (head, _) = read_until(stream, Duration::from_secs(5), |r| {
            contains(r, "retry: 3000")
        })
        .await;
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&head)
        );
    }
    let (head, _) = read_until(&mut mjpeg_a, Duration::from_secs(5), |r| {
        contains(r, "--frame\r\n")
    })
    .await;
    assert!(head.starts_with(b"HTTP/1.1 200"));

    std::fs::write(&file, "token-b\n").unwrap();
    assert_eq!(server.reload_tokens().unwrap(), 1);
    let revoked = Instant::now();

    // The WebSocket: a close frame with 1008 (policy violation).
    let close = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Close(close)) => return close.map(|c| c.code),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the WebSocket closes");
    assert_eq!(close, Some(CloseCode::Policy));
    assert!(
        revoked.elapsed() < Duration::from_secs(1),
        "{:?}",
        revoked.elapsed()
    );

    // SSE and MJPEG with token A end; SSE with token B goes on.
    let (_, ended) = read_until(&mut sse_a, Duration::from_secs(1), |_| false).await;
    assert!(ended, "the SSE stream of the revoked token ended");
    let (_, ended) = read_until(&mut mjpeg_a, Duration::from_secs(1), |_| false).await;
    assert!(ended, "the MJPEG stream of the revoked token ended");
    assert!(revoked.elapsed() < Duration::from_secs(2));
    thing.text.set("still here".into()).unwrap();
    let (rest, ended) = read_until(&mut sse_b, Duration::from_secs(5), |r| {
        contains(r, "still here")
    })
    .await;
    assert!(
        !ended && contains(&rest, "still here"),
        "token B's stream lives on"
    );
    server.shutdown().await;
}

// D3 -------------------------------------------------------------------------------------------

/// Write 100 KB values until `sent` MB went out, so that a client that doesn't read fills up.
fn flood(thing: &Probe, megabytes: usize) {
    for i in 0..megabytes * 10 {
        thing
            .text
            .set(format!("{i}{}", "x".repeat(100_000)))
            .unwrap();
    }
}

#[tokio::test]
async fn d3_an_sse_client_that_stops_reading_is_dropped_within_ten_seconds() {
    let thing = probe();
    let server = TestServer::start(ThingServer::new().shared_thing("probe", thing.clone())).await;
    let mut stuck = raw_get(
        server.addr,
        "/probe/text",
        "Accept: text/event-stream\r\n",
        Some(2048),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let writer = {
        let thing = thing.clone();
        tokio::task::spawn_blocking(move || flood(&thing, 8))
    };
    writer.await.unwrap();
    // Stay stuck past the limit, then read: what was queued arrives, then the end.
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(started.elapsed())).await;
    let (_, ended) = read_until(&mut stuck, Duration::from_secs(5), |_| false).await;
    assert!(ended, "the stuck SSE client was never dropped");
}

#[tokio::test]
async fn d3_an_mjpeg_client_that_stops_reading_is_dropped_and_encoding_stops() {
    let thing = probe();
    let _feeder = Feeder::start(&thing.feed, 200_000);
    let server = TestServer::start(ThingServer::new().shared_thing("probe", thing.clone())).await;
    let mut stuck = raw_get(server.addr, "/probe/feed", "", Some(2048)).await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while thing.feed.watchers() == 0 {
        assert!(Instant::now() < deadline, "the client never watched");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(14);
    while thing.feed.watchers() > 0 {
        assert!(
            Instant::now() < deadline,
            "the stuck client still watches after 14 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, ended) = read_until(&mut stuck, Duration::from_secs(5), |_| false).await;
    assert!(ended, "the stuck MJPEG client was never dropped");
}

#[tokio::test]
async fn d3_shutdown_does_not_wait_for_stuck_stream_clients() {
    let thing = probe();
    let _feeder = Feeder::start(&thing.feed, 200_000);
    let server = ThingServer::new()
        .shared_thing("probe", thing.clone())
        .port(0)
        .shutdown_grace(Duration::from_secs(8))
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();
    let _sse = raw_get(
        addr,
        "/probe/text",
        "Accept: text/event-stream\r\n",
        Some(2048),
    )
    .await;
    let _mjpeg = raw_get(addr, "/probe/feed", "", Some(2048)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let writer = thing.clone();
    tokio::task::spawn_blocking(move || flood(&writer, 4))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        started.elapsed()
    );
}

// D4 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d4_blocking_endpoints_beyond_the_limit_get_503_with_retry_after() {
    let thing = probe();
    let server = TestServer::start(ThingServer::new().shared_thing("probe", thing.clone())).await;
    let addr = server.addr;
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(tokio::spawn(async move {
            support::request(addr, Method::GET, "/probe/held", &[], None).await
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while thing.entered.load(Ordering::SeqCst) < 64 {
        assert!(Instant::now() < deadline, "64 calls never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let extra = tokio::time::timeout(Duration::from_secs(3), server.get("/probe/held")).await;
    thing.open_gate();
    let extra = extra.expect("a call beyond the limit is answered at once");
    assert_eq!(extra.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(extra.header("retry-after"), Some("1"));
    assert_eq!(
        extra.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(extra.json()["title"], "EndpointBusy");
    for call in held {
        assert_eq!(call.await.unwrap().status, StatusCode::OK);
    }
    // The slots come back.
    assert_eq!(server.get("/probe/held").await.status, StatusCode::OK);
}

// D5 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d5_only_the_first_few_token_carriers_are_tried() {
    const TOKEN: &str = "correct-horse";
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token(TOKEN))).await;
    let status = |headers: Vec<(&'static str, String)>, path: String| {
        let addr = server.addr;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            support::request(addr, Method::GET, &path, &headers, None)
                .await
                .status
        }
    };
    // Every documented carrier still works, also beside other cookies.
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        status(
            vec![("authorization", bearer.clone())],
            "/counter/count".into()
        )
        .await,
        StatusCode::OK
    );
    let cookie = format!("theme=dark; lt_token={TOKEN}; other=1");
    assert_eq!(
        status(vec![("cookie", cookie)], "/counter/count".into()).await,
        StatusCode::OK
    );
    let query = format!("/counter/count?access_token={TOKEN}");
    assert_eq!(status(vec![], query).await, StatusCode::OK);

    // 30,000 cookie pairs: the token at the end is not looked for, and the answer is quick.
    let many = format!("{}lt_token={TOKEN}", "lt_token=x; ".repeat(30_000));
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(
            status(vec![("cookie", many.clone())], "/counter/count".into()).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let took = started.elapsed();
    eprintln!("5 requests with 30,000 cookie pairs took {took:?}");
}

// D6 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d6_bad_websocket_handshakes_get_426_or_400() {
    let server = TestServer::demo().await;
    let handshake = |version: Option<&'static str>, key: Option<&'static str>| {
        let addr = server.addr;
        async move {
            let mut headers = vec![("upgrade", "websocket"), ("connection", "Upgrade")];
            headers.extend(version.map(|v| ("sec-websocket-version", v)));
            headers.extend(key.map(|k| ("sec-websocket-key", k)));
            support::request(addr, Method::GET, "/counter/ws", &headers, None).await
        }
    };
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    for version in [None, Some("8"), Some("13, 8"), Some("")] {
        let reply = handshake(version, Some(KEY)).await;
        assert_eq!(reply.status, StatusCode::UPGRADE_REQUIRED, "{version:?}");
        assert_eq!(reply.header("sec-websocket-version"), Some("13"));
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(reply.json()["status"], 426);
    }
    for key in [
        None,
        Some(""),
        Some("!!!"),
        Some("dGhlIHNhbXBsZSBub25j"),
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ] {
        let reply = handshake(Some("13"), key).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{key:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(reply.json()["status"], 400);
    }
    let reply = handshake(Some("13"), Some(KEY)).await;
    assert_eq!(reply.status, StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        reply.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
}

// D7 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d7_range_numbers_above_2_to_the_64_are_read_saturating() {
    let server = TestServer::demo().await;
    let invocation = server.run_action("/lab/blob", None).await;
    let href = invocation["output"]["href"].as_str().expect("a blob href");
    let path = href
        .strip_prefix(&server.url(""))
        .expect("on this server")
        .to_owned();
    let whole = server.get(&path).await;
    assert_eq!(whole.status, StatusCode::OK);
    let length = whole.body.len();
    let range = |value: &'static str| {
        let path = path.clone();
        let addr = server.addr;
        async move { support::request(addr, Method::GET, &path, &[("range", value)], None).await }
    };
    let first_too_big = range("bytes=99999999999999999999-").await;
    assert_eq!(first_too_big.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        first_too_big.header("content-range"),
        Some(format!("bytes */{length}").as_str())
    );
    for to_the_end in [
        "bytes=0-99999999999999999999",
        "bytes=-99999999999999999999",
    ] {
        let reply = range(to_the_end).await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{to_the_end}");
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes 0-{}/{length}", length - 1).as_str())
        );
    }
}

// D8 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d8_a_last_event_id_older_than_the_replay_ring_is_told_what_was_dropped() {
    let thing = probe();
    let server = TestServer::start(ThingServer::new().shared_thing("probe", thing.clone())).await;
    for i in 1..=100 {
        thing.text.set(format!("v{i}")).unwrap();
    }
    // 100 notifications, the ring keeps the last 64 (37..=100): 2..=36 are gone.
    let mut old = raw_get(
        server.addr,
        "/probe/text",
        "Accept: text/event-stream\r\nLast-Event-ID: 1\r\n",
        None,
    )
    .await;
    let (read, _) = read_until(&mut old, Duration::from_secs(5), |r| {
        contains(r, "id: 100\n")
    })
    .await;
    let text = String::from_utf8_lossy(&read);
    let notice = text.find(": 35 messages dropped\n\n").expect(&text);
    let first = text.find("id: 37\n").expect("the oldest kept is replayed");
    assert!(notice < first, "the notice comes before the replay");
    // A client that missed nothing the ring lost hears no notice.
    let mut recent = raw_get(
        server.addr,
        "/probe/text",
        "Accept: text/event-stream\r\nLast-Event-ID: 36\r\n",
        None,
    )
    .await;
    let (read, _) = read_until(&mut recent, Duration::from_secs(5), |r| {
        contains(r, "id: 100\n")
    })
    .await;
    assert!(
        !contains(&read, "dropped"),
        "{:?}",
        String::from_utf8_lossy(&read)
    );
}

// D9 -------------------------------------------------------------------------------------------

#[tokio::test]
async fn d9_a_frame_naming_thousands_of_unknown_properties_gets_a_bounded_reply() {
    let server = TestServer::demo().await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/counter/ws", server.addr))
            .await
            .unwrap();
    let names: serde_json::Map<String, Value> =
        (0..5000).map(|i| (format!("n{i}"), json!(1))).collect();
    let request = json!({"messageType": "addPropertyObservation", "data": names});
    socket
        .send(Message::text(request.to_string()))
        .await
        .unwrap();
    let mut replies = Vec::new();
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(700), socket.next()).await
    {
        if let Message::Text(text) = frame {
            replies.push(text.to_string());
        }
    }
    let bytes: usize = replies.iter().map(String::len).sum();
    assert!(replies.len() <= 10, "{} replies", replies.len());
    assert!(bytes < 8 * 1024, "{bytes} bytes of replies");
    let last: Value = serde_json::from_str(replies.last().expect("a reply")).unwrap();
    assert_eq!(last["error"]["status"], "404");
    assert!(
        last["error"]["detail"].as_str().unwrap().contains("5000"),
        "{last}"
    );
    // A single unknown name still gets the reference's reply.
    let request = json!({"messageType": "addPropertyObservation", "data": {"nope": true}});
    socket
        .send(Message::text(request.to_string()))
        .await
        .unwrap();
    let Some(Ok(Message::Text(text))) = socket.next().await else {
        panic!("a reply");
    };
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["name"], "nope");
    assert_eq!(reply["operation"], "observeproperty");
}

// D10 ------------------------------------------------------------------------------------------

#[tokio::test]
async fn d10_the_invocation_list_pages_with_limit_and_after_and_stays_bare_without() {
    let server = TestServer::demo().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let invocation = server.run_action("/counter/increment", None).await;
        ids.push(invocation["id"].as_str().unwrap().to_owned());
    }
    let all = server.get("/action_invocations").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.header("link").is_none());
    let listed: Vec<String> = all
        .json()
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids);

    let mut path = "/action_invocations?limit=2".to_owned();
    let mut paged = Vec::new();
    let mut pages = 0;
    loop {
        let page = server.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let items = page.json();
        let items = items.as_array().expect("a bare array");
        assert!(items.len() <= 2);
        paged.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        pages += 1;
        let Some(link) = page.header("link") else {
            break;
        };
        let target = link
            .strip_prefix('<')
            .and_then(|l| l.split_once(">; rel=\"next\""))
            .map(|(url, _)| url.to_owned())
            .unwrap_or_else(|| panic!("a next link: {link}"));
        path = target
            .strip_prefix(&server.url(""))
            .expect("absolute, on this server")
            .to_owned();
        assert!(pages < 5, "too many pages");
    }
    assert_eq!(paged, ids);
    assert_eq!(pages, 3);

    for bad in [
        "limit=0",
        "limit=x",
        "limit=-1",
        "limit=",
        "after=nope",
        "after=00000000-0000-0000-0000-000000000000",
    ] {
        let reply = server.get(&format!("/action_invocations?{bad}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(reply.json()["detail"][0]["loc"][0] == "query", "{bad}");
    }
    let openapi = server.get("/openapi.json").await.json();
    let parameters = &openapi["paths"]["/action_invocations"]["get"]["parameters"];
    let names: Vec<&str> = parameters
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["limit", "after"]);
}
