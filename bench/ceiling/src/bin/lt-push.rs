//! The benchmark's client for push: many observers of one property, over the WebSocket at
//! `T` + `ws` (ours or the Python reference's: same messages) or over SSE (ours only), while a
//! writer PUTs a new value at a steady rate. Prints one JSON object on stdout.
//!
//! ```text
//! lt-push observe BASE N RATE SECS ws|sse   N observers of /counter/count; RATE PUT/s for SECS s
//! lt-push idle BASE N PID [ws|sse|both]     N idle observers (both: half WS, half SSE); server RSS
//! ```
//! Every observer must hear every written value (values are distinct, so a missing one is
//! counted); write→delivery latency is the time from just before a PUT is sent to the moment
//! an observer has parsed that value, on this process's monotonic clock. Before measuring, the
//! writer repeats a warm-up value until every observer has heard it, so that no observer is
//! still subscribing when the measured writes start.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::header::{ACCEPT, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use labthings_bench::{Conn, Error, finish, proc_status, server_addr};

const PATH: &str = "/counter/count";
/// The value written until every observer has heard it (measured values count from 1).
const WARM_UP: i64 = -1;
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSocket,
    Sse,
}

/// An observer reports each value it hears, with when it heard it.
type Heard = mpsc::UnboundedSender<(usize, i64, Instant)>;

async fn open_ws(addr: SocketAddr, id: usize, heard: Heard) -> Result<(), Error> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{addr}/counter/ws");
    // tungstenite zero-fills its whole read buffer before each read; at its default 128 KiB
    // that memset was 63 % of this client's CPU (perf), so with 1000 observers on one core
    // the client, not the server, set the delivery p99. Messages here are ~80 bytes.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    socket
        .send(Message::text(
            r#"{"messageType":"addPropertyObservation","data":{"count":true}}"#,
        ))
        .await?;
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let now = Instant::now();
            if let Message::Text(text) = message
                && let Ok(value) = serde_json::from_str::<Value>(&text)
                && let Some(count) = value["data"]["count"].as_i64()
                && heard.send((id, count, now)).is_err()
            {
                break;
            }
        }
    });
    Ok(())
}

async fn open_sse(addr: SocketAddr, id: usize, heard: Heard) -> Result<(), Error> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::builder()
        .uri(PATH)
        .header(HOST, addr.to_string())
        .header(ACCEPT, "text/event-stream")
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    if response.status() != StatusCode::OK {
        return Err(format!("SSE: {}", response.status()).into());
    }
    let mut body = response.into_body();
    tokio::spawn(async move {
        let mut pending = String::new();
        while let Some(Ok(frame)) = body.frame().await {
            let now = Instant::now();
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let message: String = pending.drain(..end + 2).collect();
                let value = message
                    .lines()
                    .find_map(|line| line.strip_prefix("data: ")?.parse::<i64>().ok());
                if let Some(value) = value
                    && heard.send((id, value, now)).is_err()
                {
                    return;
                }
            }
        }
    });
    Ok(())
}

async fn open(
    addr: SocketAddr,
    transport: Transport,
    id: usize,
    heard: Heard,
) -> Result<(), Error> {
    match transport {
        Transport::WebSocket => open_ws(addr, id, heard).await,
        Transport::Sse => open_sse(addr, id, heard).await,
    }
}

/// PUT `value` to the observed property; how long the answer took.
async fn put(writer: &mut Conn, value: i64) -> Result<Duration, Error> {
    let started = Instant::now();
    let (status, _) = writer
        .send(Method::PUT, PATH, Some(&value.to_string()))
        .await?;
    if !status.is_success() {
        return Err(format!("PUT: {status}").into());
    }
    Ok(started.elapsed())
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[rank.min(sorted.len() - 1)])
}

fn summary(mut samples: Vec<f64>) -> Value {
    samples.sort_by(f64::total_cmp);
    json!({
        "n": samples.len(),
        "p50": percentile(&samples, 50.0),
        "p99": percentile(&samples, 99.0),
        "max": samples.last(),
    })
}

async fn observe(
    addr: SocketAddr,
    observers: usize,
    rate: f64,
    seconds: f64,
    transport: Transport,
) -> Result<Value, Error> {
    let (heard, mut hearing) = mpsc::unbounded_channel();
    for id in 0..observers {
        open(addr, transport, id, heard.clone()).await?;
    }
    drop(heard);
    let mut writer = Conn::open(addr).await?;

    // Warm up: repeat WARM_UP until every observer has heard it.
    let mut warm = vec![false; observers];
    let mut warmed = 0;
    let deadline = Instant::now() + PATIENCE;
    while warmed < observers {
        if Instant::now() > deadline {
            return Err(
                format!("only {warmed} of {observers} observers ever heard a value").into(),
            );
        }
        put(&mut writer, WARM_UP).await?;
        let until = tokio::time::Instant::now() + Duration::from_millis(200);
        while let Ok(Some((id, value, _))) = tokio::time::timeout_at(until, hearing.recv()).await {
            if value == WARM_UP && !warm[id] {
                warm[id] = true;
                warmed += 1;
            }
        }
    }

    let writes = (rate * seconds).round().max(1.0) as usize;
    let mut written_at = Vec::with_capacity(writes);
    let mut put_ms = Vec::with_capacity(writes);
    let delivered = Arc::new(AtomicUsize::new(0));
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let collector = tokio::spawn({
        let delivered = delivered.clone();
        async move {
            let mut seen: Vec<(i64, Instant)> = Vec::new();
            loop {
                tokio::select! {
                    heard = hearing.recv() => match heard {
                        Some((_, value, at)) if value >= 1 => {
                            seen.push((value, at));
                            delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(_) => {}
                        None => break,
                    },
                    _ = &mut stopped => break,
                }
            }
            seen
        }
    });
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut ticks = tokio::time::interval(period);
    for value in 1..=writes as i64 {
        ticks.tick().await;
        written_at.push(Instant::now());
        put_ms.push(put(&mut writer, value).await?.as_secs_f64() * 1e3);
    }
    // Let the last values arrive (bounded), then stop listening.
    let expected = writes * observers;
    let deadline = Instant::now() + Duration::from_secs(5);
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    let seen = collector.await.unwrap_or_default();
    let latencies: Vec<f64> = seen
        .iter()
        .filter_map(|(value, at)| {
            let written = written_at.get(usize::try_from(*value).ok()? - 1)?;
            Some(at.saturating_duration_since(*written).as_secs_f64() * 1e3)
        })
        .collect();
    Ok(json!({
        "transport": if transport == Transport::WebSocket { "ws" } else { "sse" },
        "observers": observers,
        "writes": writes,
        "expected_deliveries": expected,
        "delivered": latencies.len(),
        "missing": expected.saturating_sub(latencies.len()),
        "write_to_delivery_ms": summary(latencies),
        "put_ms": summary(put_ms),
    }))
}

async fn idle(
    addr: SocketAddr,
    observers: usize,
    pid: u32,
    only: Option<Transport>,
) -> Result<Value, Error> {
    let before = proc_status(pid, "VmRSS");
    let (heard, mut hearing) = mpsc::unbounded_channel();
    for id in 0..observers {
        let transport = match only {
            Some(transport) => transport,
            None if id % 2 == 0 => Transport::WebSocket,
            None => Transport::Sse,
        };
        open(addr, transport, id, heard.clone()).await?;
    }
    drop(heard);
    // One write, so every stream has carried something, then let the server settle.
    put(&mut Conn::open(addr).await?, WARM_UP).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut heard_by = 0;
    while heard_by < observers {
        match tokio::time::timeout_at(deadline, hearing.recv()).await {
            Ok(Some(_)) => heard_by += 1,
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = proc_status(pid, "VmRSS");
    Ok(json!({
        "observers": observers,
        "heard_the_write": heard_by,
        "server_rss_before_mib": before.map(|k| k as f64 / 1024.0),
        "server_rss_mib": during.map(|k| k as f64 / 1024.0),
    }))
}

fn usage() -> ! {
    eprintln!(
        "usage: lt-push observe BASE N RATE SECS ws|sse\n       lt-push idle BASE N PID [ws|sse|both]\n\
         BASE is e.g. http://127.0.0.1:5000"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| usage());
    let addr = server_addr(arg(1)).unwrap_or_else(|| usage());
    let number = |i: usize| -> f64 { arg(i).parse().unwrap_or_else(|_| usage()) };
    let result = match arg(0) {
        "observe" => {
            let transport = match arg(5) {
                "ws" => Transport::WebSocket,
                "sse" => Transport::Sse,
                _ => usage(),
            };
            observe(addr, number(2) as usize, number(3), number(4), transport).await
        }
        "idle" => {
            // Optional 5th argument: only WebSocket or only SSE observers (default: half each),
            // to tell the two transports' bytes per idle connection apart (issue #26).
            let only = match args.get(4).map(String::as_str) {
                None | Some("both") => None,
                Some("ws") => Some(Transport::WebSocket),
                Some("sse") => Some(Transport::Sse),
                Some(_) => usage(),
            };
            idle(addr, number(2) as usize, number(3) as u32, only).await
        }
        _ => usage(),
    };
    finish("lt-push", result)
}
