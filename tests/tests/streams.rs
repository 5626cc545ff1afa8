//! MJPEG streams over real sockets (issue #11), read by a strict client of our own: HTTP/1.1
//! chunked framing undone by hand, then each multipart part checked byte for byte (boundary,
//! exactly the two headers, `Content-Length`, a complete JPEG from `FF D8` to `FF D9`, CRLF),
//! up to the close delimiter. Covers the TD link and the viewer, `?fps=`, a slow client
//! beside a fast one, clients that vanish mid-frame, shutdown, and the demo camera's real
//! JPEG preview and capture.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use labthings_core::prelude::*;
use labthings_server::ThingServer;
use support::{Chunked, TestServer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// A Thing with one stream the tests feed directly.
#[thing]
pub struct Screen {
    /// What the screen shows.
    ///
    /// Frames come from the test.
    #[stream]
    feed: MjpegStream,
}

#[thing]
impl Screen {}

fn screen() -> Arc<Screen> {
    Arc::new(Screen {
        feed: MjpegStream::new(),
    })
}

/// A minimal well-framed "JPEG" of `size` bytes carrying `seq`: SOI, seq, zeros, EOI.
fn frame(seq: u32, size: usize) -> Vec<u8> {
    let mut bytes = vec![0; size.max(8)];
    bytes[..2].copy_from_slice(&[0xFF, 0xD8]);
    bytes[2..6].copy_from_slice(&seq.to_be_bytes());
    let end = bytes.len();
    bytes[end - 2..].copy_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn seq_of(jpeg: &[u8]) -> u32 {
    u32::from_be_bytes([jpeg[2], jpeg[3], jpeg[4], jpeg[5]])
}

/// Adds frames of `size` bytes to `stream` every `period` until dropped; counts them.
struct Producer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u32>>,
}

impl Producer {
    fn start(stream: &MjpegStream, size: usize, period: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (stream, stopping) = (stream.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut seq = 0;
            while !stopping.load(Ordering::Relaxed) {
                seq += 1;
                let started = Instant::now();
                stream.add_frame(frame(seq, size)).expect("a JPEG frame");
                assert!(
                    started.elapsed() < Duration::from_millis(100),
                    "add_frame waited"
                );
                std::thread::sleep(period);
            }
            seq
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop, returning how many frames were added.
    fn finish(mut self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a strict reader finds next in the stream.
#[derive(Debug, PartialEq)]
enum Part {
    Jpeg(Vec<u8>),
    /// `--frame--` and then the end of the body.
    Closed,
}

/// An HTTP/1.1 client of one MJPEG response, undoing the chunked encoding itself (strictly:
/// `support::Chunked`).
struct MjpegClient {
    reader: BufReader<TcpStream>,
    body: Chunked,
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

impl MjpegClient {
    /// GET `path`; `recv_buffer` shrinks the socket's receive buffer (a slow reader).
    async fn open(addr: SocketAddr, path: &str, recv_buffer: Option<u32>) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let mut stream = socket.connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reader = BufReader::with_capacity(4096, stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let status = line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            let header = line.strip_suffix("\r\n").expect("CRLF after a header");
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(": ").expect("name: value");
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        Self {
            reader,
            body: Chunked::default(),
            headers,
            status,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Up to `buf.len()` body bytes; 0 at the end of the body.
    async fn read_body(&mut self, buf: &mut [u8]) -> usize {
        self.body.read(&mut self.reader, buf).await
    }

    async fn body_exact(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        let mut filled = 0;
        while filled < n {
            let read = self.read_body(&mut out[filled..]).await;
            assert!(read > 0, "body ended {filled} bytes into {n}");
            filled += read;
        }
        out
    }

    /// One line of the body, without its CRLF (which must be there).
    async fn body_line(&mut self) -> String {
        let mut line = Vec::new();
        while !line.ends_with(b"\r\n") {
            assert!(
                line.len() < 200,
                "no CRLF in {:?}",
                String::from_utf8_lossy(&line)
            );
            let mut byte = [0];
            assert_eq!(self.read_body(&mut byte).await, 1, "body ended mid-line");
            line.push(byte[0]);
        }
        line.truncate(line.len() - 2);
        String::from_utf8(line).expect("ASCII headers")
    }

    /// The next part, checked strictly.
    async fn next_part(&mut self) -> Part {
        match self.body_line().await.as_str() {
            "--frame" => {}
            "--frame--" => {
                assert_eq!(
                    self.read_body(&mut [0; 16]).await,
                    0,
                    "bytes after the close"
                );
                return Part::Closed;
            }
            other => panic!("expected a boundary, got {other:?}"),
        }
        assert_eq!(self.body_line().await, "Content-Type: image/jpeg");
        let length = self.body_line().await;
        let length: usize = length
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("expected Content-Length, got {length:?}"));
        assert_eq!(self.body_line().await, "", "exactly two part headers");
        let jpeg = self.body_exact(length).await;
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a part starts with SOI");
        assert_eq!(&jpeg[length - 2..], &[0xFF, 0xD9], "a part ends with EOI");
        assert_eq!(self.body_line().await, "", "CRLF after the JPEG");
        Part::Jpeg(jpeg)
    }

    async fn next_jpeg(&mut self) -> Vec<u8> {
        match tokio::time::timeout(Duration::from_secs(10), self.next_part()).await {
            Ok(Part::Jpeg(jpeg)) => jpeg,
            Ok(Part::Closed) => panic!("stream closed"),
            Err(_) => panic!("no frame within 10 s"),
        }
    }
}

async fn serve(screen: &Arc<Screen>) -> TestServer {
    TestServer::start(ThingServer::new().shared_thing("screen", screen.clone())).await
}

/// Wait (briefly sleeping) until `done`; the producer side has no event to wait on here.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_are_strict_multipart_and_the_td_links_the_stream() {
    let screen = screen();
    let server = serve(&screen).await;
    let td = server.get("/screen/").await.json();
    assert_eq!(
        td["links"],
        serde_json::json!([
            {"rel": "alternate", "type": "multipart/x-mixed-replace", "href": "/screen/feed"},
            {"rel": "alternate", "type": "text/html", "href": "/ui/screen"},
            {"rel": "alternate", "type": "text/event-stream", "href": "/screen/properties"}
        ])
    );
    // A frame there before the client comes is its first.
    screen.feed.add_frame(frame(1, 1000)).unwrap();
    let mut client = MjpegClient::open(server.addr, "/screen/feed", None).await;
    assert_eq!(client.status, 200);
    assert_eq!(
        client.header("content-type"),
        Some("multipart/x-mixed-replace; boundary=frame")
    );
    assert_eq!(client.header("transfer-encoding"), Some("chunked"));
    assert!(client.header("cache-control").unwrap().contains("no-cache"));
    assert_eq!(client.next_jpeg().await, frame(1, 1000));
    eventually("the client is counted", || screen.feed.watchers() == 1).await;
    for (seq, size) in [(2, 10), (3, 100_000), (4, 3)] {
        screen.feed.add_frame(frame(seq, size)).unwrap();
        assert_eq!(client.next_jpeg().await, frame(seq, size.max(8)));
    }
    assert_eq!(screen.feed.grab_frame().unwrap(), frame(4, 8));
    drop(client);
    eventually("a gone client is not counted", || {
        screen.feed.watchers() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_unknown_streams_and_bad_fps() {
    let screen = screen();
    let server = serve(&screen).await;
    let viewer = server.get("/screen/feed/viewer").await;
    assert_eq!(viewer.status, 200);
    assert_eq!(
        viewer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = String::from_utf8(viewer.body.to_vec()).unwrap();
    assert!(page.contains("<img src=\"/screen/feed\""), "{page}");
    assert!(
        !page.contains("http"),
        "nothing loaded from elsewhere: {page}"
    );
    assert_eq!(server.get("/screen/nope/viewer").await.status, 404);
    assert_eq!(server.get("/screen/feed/other").await.status, 404);
    let posted = server.post("/screen/feed", None).await;
    assert_eq!(posted.status, 405);
    assert_eq!(posted.header("allow"), Some("GET"));
    for bad in ["0", "-2", "x"] {
        let refused = server.get(&format!("/screen/feed?fps={bad}")).await;
        assert_eq!(refused.status, 422, "fps={bad}");
        assert_eq!(
            refused.json()["detail"][0]["loc"],
            serde_json::json!(["query", "fps"])
        );
    }
    assert_eq!(screen.feed.watchers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fps_caps_one_client_only() {
    let screen = screen();
    let server = serve(&screen).await;
    let producer = Producer::start(&screen.feed, 2_000, Duration::from_millis(10));
    let capped = MjpegClient::open(server.addr, "/screen/feed?fps=5", None).await;
    let free = MjpegClient::open(server.addr, "/screen/feed", None).await;
    let count = |mut client: MjpegClient| async move {
        let started = Instant::now();
        let mut frames = 0;
        while started.elapsed() < Duration::from_secs(2) {
            client.next_jpeg().await;
            frames += 1;
        }
        (frames, started.elapsed())
    };
    let (capped, free) = tokio::join!(tokio::spawn(count(capped)), tokio::spawn(count(free)));
    let ((capped, capped_time), (free, _)) = (capped.unwrap(), free.unwrap());
    producer.finish();
    // 5 fps for ~2 s: 10 frames, 11 with the one sent at once; never more.
    let allowed = 1 + (capped_time.as_secs_f64() * 5.0).floor() as u32;
    assert!(
        capped <= allowed + 1 && capped >= 5,
        "capped client got {capped}"
    );
    assert!(
        free > capped * 3,
        "uncapped client got {free}, capped {capped}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_skips_frames_and_does_not_slow_a_fast_one() {
    let screen = screen();
    let server = serve(&screen).await;
    // 1 MiB frames, 20 a second; the slow client reads one every 400 ms through a small
    // receive buffer. Loopback's send buffer (up to 4 MiB) holds a few frames, the server at
    // most one: once those are read, each frame the slow client gets is the newest there was.
    let producer = Producer::start(&screen.feed, 1 << 20, Duration::from_millis(50));
    let mut slow = MjpegClient::open(server.addr, "/screen/feed", Some(4096)).await;
    let mut fast = MjpegClient::open(server.addr, "/screen/feed", None).await;
    let reading_fast = tokio::spawn(async move {
        let started = Instant::now();
        let mut seqs = Vec::new();
        while started.elapsed() < Duration::from_secs(3) {
            seqs.push(seq_of(&fast.next_jpeg().await));
        }
        seqs
    });
    let mut slow_seqs = Vec::new();
    for _ in 0..9 {
        slow_seqs.push(seq_of(&slow.next_jpeg().await));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let fast_seqs = reading_fast.await.unwrap();
    let produced = producer.finish();
    let skipped = slow_seqs.windows(2).filter(|p| p[1] > p[0] + 3).count();
    assert!(
        skipped >= 2,
        "the slow client skipped no frames: {slow_seqs:?}"
    );
    // The fast one kept up with the producer, in order.
    assert!(fast_seqs.windows(2).all(|p| p[1] > p[0]));
    // It read for 3 s of the producer's ~3.6.
    assert!(
        fast_seqs.len() as f64 > 0.5 * f64::from(produced) * 3.0 / 3.6,
        "fast client read {} of {produced} frames",
        fast_seqs.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_vanish_mid_frame_leave_nothing_behind() {
    let screen = screen();
    let server = serve(&screen).await;
    let producer = Producer::start(&screen.feed, 256 * 1024, Duration::from_millis(5));
    for _ in 0..20 {
        let mut client = MjpegClient::open(server.addr, "/screen/feed", None).await;
        let mut some = [0; 1000];
        let read = client.read_body(&mut some).await;
        assert!(read > 0);
        drop(client);
    }
    eventually("every vanished client is dropped", || {
        screen.feed.watchers() == 0
    })
    .await;
    // The server still serves a well-formed stream.
    let mut client = MjpegClient::open(server.addr, "/screen/feed", None).await;
    client.next_jpeg().await;
    client.next_jpeg().await;
    producer.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_close_end_the_stream_cleanly() {
    let screen = screen();
    let server = ThingServer::new()
        .shared_thing("screen", screen.clone())
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .start()
        .await
        .expect("server starts");
    screen.feed.add_frame(frame(1, 100)).unwrap();
    let mut client = MjpegClient::open(server.local_addr(), "/screen/feed", None).await;
    client.next_jpeg().await;
    let ending = tokio::spawn(async move { client.next_part().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown finishes with a stream open");
    let ending = tokio::time::timeout(Duration::from_secs(5), ending)
        .await
        .expect("the stream ends");
    assert_eq!(ending.unwrap(), Part::Closed);

    // The Thing closing its stream ends it the same way.
    let screen = self::screen();
    let server = serve(&screen).await;
    let mut client = MjpegClient::open(server.addr, "/screen/feed", None).await;
    eventually("the client is counted", || screen.feed.watchers() == 1).await;
    screen.feed.close();
    assert_eq!(client.next_part().await, Part::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_camera_previews_and_captures_real_jpegs_only_when_asked() {
    let server = TestServer::demo().await;
    let td = server.get("/camera/").await.json();
    assert_eq!(td["links"][0]["href"], "/camera/preview");
    let mut preview = MjpegClient::open(server.addr, "/camera/preview", None).await;
    let first = preview.next_jpeg().await;
    let second = preview.next_jpeg().await;
    // JFIF, and the pattern moves from one frame to the next.
    assert_eq!(&first[2..4], &[0xFF, 0xE0]);
    assert_ne!(first, second);
    drop(preview);

    let capture = server.run_action("/camera/capture", None).await;
    assert_eq!(capture["status"], "completed", "{capture}");
    assert_eq!(capture["output"]["media_type"], "image/jpeg");
    let href = capture["output"]["href"].as_str().unwrap();
    let path = &href[href.find("/blob/").unwrap()..];
    let blob = server.get(path).await;
    assert_eq!(blob.header("content-type"), Some("image/jpeg"));
    assert_eq!(&blob.body[..2], &[0xFF, 0xD8]);
    assert_eq!(&blob.body[blob.body.len() - 2..], &[0xFF, 0xD9]);
    assert!(blob.body.len() > 10_000, "a 640x480 test pattern");
}
