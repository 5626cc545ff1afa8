//! The long soaks' client (bench/soak): each subcommand loads one server for a bounded count
//! and prints one JSON object with the server's RSS and open descriptors before and after.
//!
//! ```text
//! lt-soak chatter BASE N PARALLEL PID   N invocations of lab/chatter (1,000 log lines each)
//! lt-soak churn BASE N PID              N connections opened and closed: keep-alive, one-shot
//!                                       (Connection: close), and dropped mid-request
//! lt-soak observers BASE N PID          N observers (half WebSocket, half SSE) that vanish
//!                                       without a close frame
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use labthings_bench::{Error, finish, proc_status, server_addr};

/// The server's RSS (MiB) and open descriptors.
fn snapshot(pid: u32) -> Value {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .ok();
    json!({
        "rss_mib": proc_status(pid, "VmRSS").map(|k| k as f64 / 1024.0),
        "fds": fds,
    })
}

/// One HTTP/1.1 request on a fresh connection; the status code.
async fn one_shot(addr: SocketAddr, request: &str) -> Result<u16, Error> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::with_capacity(512);
    stream.read_to_end(&mut answer).await?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(16)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}").into())
}

async fn chatter(addr: SocketAddr, n: usize, parallel: usize, pid: u32) -> Result<Value, Error> {
    let before = snapshot(pid);
    let request = format!(
        "POST /lab/chatter HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Prefer: wait=60\r\nConnection: close\r\nContent-Length: 15\r\n\r\n{{\"lines\": 1000}}"
    );
    let started = Instant::now();
    let mut peak: f64 = 0.0;
    let mut answered = 0;
    for batch in 0..n.div_ceil(parallel) {
        let size = parallel.min(n - batch * parallel);
        for code in join_all((0..size).map(|_| one_shot(addr, &request))).await {
            if code? == 201 {
                answered += 1;
            }
        }
        if batch % 20 == 0 {
            peak = peak.max(snapshot(pid)["rss_mib"].as_f64().unwrap_or(0.0));
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = snapshot(pid);
    peak = peak.max(after["rss_mib"].as_f64().unwrap_or(0.0));
    Ok(json!({
        "invocations": n, "answered_201": answered, "seconds": started.elapsed().as_secs_f64(),
        "before": before, "after": after, "peak_rss_mib": peak,
    }))
}

async fn churn(addr: SocketAddr, n: usize, pid: u32) -> Result<Value, Error> {
    let before = snapshot(pid);
    let started = Instant::now();
    let (mut ok, mut failed) = (0usize, 0usize);
    for batch in 0..n.div_ceil(100) {
        let jobs = (0..100.min(n - batch * 100)).map(|i| async move {
            match i % 3 {
                // keep-alive: two requests on one connection, then drop it
                0 => {
                    let mut stream = TcpStream::connect(addr).await?;
                    let get = format!("GET /counter/count HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                    let mut buffer = [0u8; 1024];
                    for _ in 0..2 {
                        stream.write_all(get.as_bytes()).await?;
                        let read = stream.read(&mut buffer).await?;
                        if read == 0 {
                            return Err::<(), Error>("closed early".into());
                        }
                    }
                    Ok(())
                }
                // one request, Connection: close
                1 => {
                    let get = format!(
                        "GET /counter/count HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                    );
                    one_shot(addr, &get).await.map(drop)
                }
                // half a request, then gone
                _ => {
                    let mut stream = TcpStream::connect(addr).await?;
                    stream.write_all(b"PUT /counter/count HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n12").await?;
                    Ok(())
                }
            }
        });
        for result in join_all(jobs).await {
            match result {
                Ok(()) => ok += 1,
                Err(_) => failed += 1,
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(json!({
        "connections": n, "ok": ok, "failed": failed, "seconds": elapsed,
        "before": before, "after": snapshot(pid),
    }))
}

async fn observers(addr: SocketAddr, n: usize, pid: u32) -> Result<Value, Error> {
    let before = snapshot(pid);
    let started = Instant::now();
    for batch in 0..n.div_ceil(200) {
        let jobs = (0..200.min(n - batch * 200)).map(|i| async move {
            if i % 2 == 0 {
                let stream = TcpStream::connect(addr).await?;
                let url = format!("ws://{addr}/counter/ws");
                let (mut socket, _) = tokio_tungstenite::client_async(url, stream).await?;
                socket
                    .send(Message::text(r#"{"messageType":"addPropertyObservation","data":{"count":true}}"#))
                    .await?;
                drop(socket.into_inner()); // no close frame
            } else {
                let mut stream = TcpStream::connect(addr).await?;
                let get = format!(
                    "GET /counter/count HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
                );
                stream.write_all(get.as_bytes()).await?;
                let mut buffer = [0u8; 256];
                let _ = stream.read(&mut buffer).await?;
            }
            Ok::<(), Error>(())
        });
        for result in join_all(jobs).await {
            result?;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // One write makes every producer still holding a dead stream notice it.
    one_shot(
        addr,
        &format!("PUT /counter/count HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1\r\nConnection: close\r\n\r\n7"),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(json!({
        "observers": n, "seconds": elapsed, "before": before, "after": snapshot(pid),
    }))
}

fn usage() -> ! {
    eprintln!(
        "usage: lt-soak chatter BASE N PARALLEL PID | churn BASE N PID | observers BASE N PID"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| usage());
    let addr = server_addr(arg(1)).unwrap_or_else(|| usage());
    let number = |i: usize| -> usize { arg(i).parse().unwrap_or_else(|_| usage()) };
    let result = match arg(0) {
        "chatter" => chatter(addr, number(2), number(3), number(4) as u32).await,
        "churn" => churn(addr, number(2), number(3) as u32).await,
        "observers" => observers(addr, number(2), number(3) as u32).await,
        _ => usage(),
    };
    finish("lt-soak", result)
}
