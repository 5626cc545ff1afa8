//! The benchmark of live readings (issue #21): 100 Things, each with one getter the server
//! polls every 100 ms while observed, against the same Things' data properties written at
//! 10 Hz each; observers over SSE. Prints one JSON object on stdout.
//!
//! ```text
//! lt-live serve PORT                     100 Gauges g0..g99 (prints its URL, runs until killed)
//! lt-live observe BASE N SECS polled|written
//!                                        N SSE observers, spread over the 100 Gauges, for
//!                                        SECS s; `written` also writes every Gauge at 10 Hz;
//!                                        delivery latency and the server's CPU share
//! lt-live idle BASE SECS                 getter calls in SECS s with no observer
//! ```
//! A reading (and a written value) is the wall-clock time in µs when it was taken, so its
//! delivery latency is the time an observer parsed it minus its value (one host, one clock).
//! The server's CPU share comes from `/proc/<pid>/stat` (utime + stime over wall time, in
//! cores), its pid from `/proc` via the port's owner (`lt-live serve` prints it too).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use labthings_bench::{Error, finish, server_addr};
use labthings_core::prelude::*;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const THINGS: usize = 100;

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A gauge: a polled reading (the time it was read) and a data property the writer sets.
#[thing]
pub struct Gauge {
    /// Written at 10 Hz by `lt-live observe … written`.
    #[property]
    stamp: Property<u64>,
    calls: AtomicU64,
}

#[thing]
impl Gauge {
    /// The time of reading, in µs since the epoch: polled every 100 ms while observed.
    #[property(observe_every = "100ms")]
    fn reading(&self) -> u64 {
        self.calls.fetch_add(1, Ordering::Relaxed);
        now_micros()
    }

    /// How often `reading` has been called (not polled: read on demand).
    #[property]
    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

async fn serve(port: u16) -> Result<Value, Error> {
    let mut server = labthings_server::ThingServer::new().port(port);
    for i in 0..THINGS {
        server = server.thing(
            &format!("g{i}"),
            Gauge {
                stamp: Property::new(0),
                calls: AtomicU64::new(0),
            },
        );
    }
    let running = server.start().await?;
    println!(
        "lt-live listening on http://{} pid {}",
        running.local_addr(),
        std::process::id()
    );
    running.wait().await;
    Ok(json!({}))
}

/// One SSE observer of `path`: sends the latency (µs) of each value it parses.
async fn observer(
    addr: std::net::SocketAddr,
    path: String,
    heard: mpsc::UnboundedSender<u64>,
) -> Result<(), Error> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::get(path)
        .header("host", addr.to_string())
        .header("accept", "text/event-stream")
        .body(Empty::<Bytes>::new())?;
    let mut body = sender.send_request(request).await?.into_body();
    let mut pending = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            let now = now_micros();
            pending.push_str(std::str::from_utf8(&data)?);
            while let Some(end) = pending.find("\n\n") {
                let message: String = pending.drain(..end + 2).collect();
                if let Some(value) = message.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(value) = value.parse::<u64>()
                    && value > 0
                {
                    let _ = heard.send(now.saturating_sub(value));
                }
            }
        }
    }
    Ok(())
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn observe(base: &str, n: usize, secs: u64, mode: &str, pid: u32) -> Result<Value, Error> {
    let addr = server_addr(base).ok_or("bad base URL")?;
    let property = if mode == "written" {
        "stamp"
    } else {
        "reading"
    };
    let (heard, mut latencies) = mpsc::unbounded_channel();
    for i in 0..n {
        let path = format!("/g{}/{property}", i % THINGS);
        let heard = heard.clone();
        tokio::spawn(async move {
            let _ = observer(addr, path, heard).await;
        });
    }
    drop(heard);
    if mode == "written" {
        // 10 Hz per Gauge: 100 PUTs every 100 ms, over a few kept-alive connections.
        for lane in 0..4 {
            tokio::spawn(async move {
                let mut conn = labthings_bench::Conn::open(addr).await?;
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    for i in (lane..THINGS).step_by(4) {
                        let body = now_micros().to_string();
                        conn.send(hyper::Method::PUT, &format!("/g{i}/stamp"), Some(&body))
                            .await?;
                    }
                }
                // The loop ends only by an error.
                #[expect(unreachable_code)]
                Ok::<(), Error>(())
            });
        }
    }
    // Let every observer subscribe, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    while latencies.try_recv().is_ok() {}
    let ticks_before = cpu_ticks(pid).ok_or("no such server pid")?;
    let started = std::time::Instant::now();
    let mut all = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while let Ok(Some(latency)) = tokio::time::timeout_at(deadline, latencies.recv()).await {
        all.push(latency);
    }
    let wall = started.elapsed().as_secs_f64();
    let ticks = cpu_ticks(pid).ok_or("the server went away")? - ticks_before;
    all.sort_unstable();
    Ok(json!({
        "mode": mode,
        "observers": n,
        "deliveries_per_s": (all.len() as f64 / wall).round(),
        "latency_ms": {"p50": percentile(&all, 0.5), "p99": percentile(&all, 0.99), "max": percentile(&all, 1.0)},
        // Clock ticks are 1/100 s on Linux.
        "server_cpu_cores": ticks as f64 / 100.0 / wall,
    }))
}

async fn idle(base: &str, secs: u64) -> Result<Value, Error> {
    let addr = server_addr(base).ok_or("bad base URL")?;
    let mut conn = labthings_bench::Conn::open(addr).await?;
    let mut before = 0;
    for i in 0..THINGS {
        let (_, calls) = conn
            .json(hyper::Method::GET, &format!("/g{i}/calls"), None)
            .await?;
        before += calls.as_u64().unwrap_or_default();
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let mut after = 0;
    for i in 0..THINGS {
        let (_, calls) = conn
            .json(hyper::Method::GET, &format!("/g{i}/calls"), None)
            .await?;
        after += calls.as_u64().unwrap_or_default();
    }
    Ok(json!({"getter_calls_without_observers": after - before, "secs": secs}))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        return ExitCode::FAILURE;
    };
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let result = runtime.block_on(async {
        match arg(1) {
            "serve" => serve(arg(2).parse()?).await,
            "observe" => observe(arg(2), arg(3).parse()?, arg(4).parse()?, arg(5), arg(6).parse()?).await,
            "idle" => idle(arg(2), arg(3).parse()?).await,
            _ => Err("usage: lt-live serve PORT | observe BASE N SECS polled|written PID | idle BASE SECS".into()),
        }
    });
    finish("lt-live", result)
}
