//! The MJPEG and blob benchmarks' server: one Thing, `feed`, served by our server.
//!
//! `lt-feed [--port N] [--width W] [--height H] [--fps F]`
//!
//! `feed.video` is an MJPEG stream playing pre-encoded frames of the demo camera's test
//! pattern (W × H, 30 distinct frames encoded once at start), F a second while watched, so
//! the benchmark measures the fan-out alone; the encoding cost is measured here once and
//! printed. `feed.big_blob(megabytes)` returns that many MB of bytes as a blob (made once per
//! size and shared, as the reference peer's is). Prints `lt-feed listening on http://ADDR`,
//! then one JSON line: `{"encode_ms": …, "frame_bytes": …, "width": …, "height": …}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use labthings_core::prelude::*;
use labthings_examples::test_pattern::Picture;
use labthings_server::ThingServer;

/// Pre-encoded video and big blobs for the benchmarks.
#[thing]
pub struct Feed {
    /// Pre-encoded test pattern frames.
    #[stream]
    video: MjpegStream,
    big: Mutex<HashMap<u32, Bytes>>,
}

#[thing]
impl Feed {
    /// Return `megabytes` MB of bytes as a blob.
    #[action]
    fn big_blob(
        &self,
        #[param(default = 100, minimum = 1, maximum = 2000)] megabytes: u32,
    ) -> Blob {
        let mut big = self.big.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = big.entry(megabytes).or_insert_with(|| {
            let size = megabytes as usize * 1_000_000;
            Bytes::from((0..size).map(|i| i as u8).collect::<Vec<u8>>())
        });
        Blob::new("application/octet-stream", bytes.clone())
    }
}

fn arg(args: &[String], name: &str, default: u32) -> u32 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("lt-feed: {name} takes a number"))
        })
        .unwrap_or(default)
}

/// Play `frames` on `video` at `fps` while someone watches; sleeps on the watcher wait
/// otherwise.
fn play(video: MjpegStream, frames: Vec<Vec<u8>>, fps: u32) {
    let period = Duration::from_secs_f64(1.0 / f64::from(fps.max(1)));
    let mut next = Instant::now();
    for frame in frames.iter().cycle() {
        if video.watchers() == 0 {
            if !video.wait_for_watcher() {
                return;
            }
            next = Instant::now();
        }
        if video.add_frame(frame).is_err() {
            return;
        }
        next += period;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = arg(&args, "--port", 0);
    let (width, height) = (arg(&args, "--width", 640), arg(&args, "--height", 480));
    let fps = arg(&args, "--fps", 30);
    let (w, h) = (
        u16::try_from(width).expect("width ≤ 65535"),
        u16::try_from(height).expect("height ≤ 65535"),
    );
    let started = Instant::now();
    let frames: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            Picture::render(w, h, i, Some([i as i64 * 50, 0, 0]), 1.0)
                .to_jpeg(75)
                .expect("encodes")
        })
        .collect();
    let encode_ms = started.elapsed().as_secs_f64() * 1000.0 / 30.0;
    let frame_bytes = frames.iter().map(Vec::len).sum::<usize>() / frames.len();

    let feed = std::sync::Arc::new(Feed {
        video: MjpegStream::new(),
        big: Mutex::new(HashMap::new()),
    });
    let video = feed.video.clone();
    std::thread::spawn(move || play(video, frames, fps));
    let server = ThingServer::new()
        .shared_thing("feed", feed)
        .port(u16::try_from(port).expect("port"))
        .start()
        .await
        .expect("lt-feed: server starts");
    println!("lt-feed listening on http://{}", server.local_addr());
    println!(
        "{}",
        serde_json::json!({
            "encode_ms": (encode_ms * 100.0).round() / 100.0,
            "frame_bytes": frame_bytes,
            "width": width,
            "height": height,
        })
    );
    server.wait().await;
}
