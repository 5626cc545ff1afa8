//! The MJPEG and blob-download benchmark client. Prints one JSON object.
//!
//! ```text
//! lt-stream mjpeg URL N SECS PID [SLOW]  N clients of the MJPEG stream at URL, counted for
//!                                       SECS after a 1 s warm-up; SLOW=1 adds one client that
//!                                       reads a frame a second through a 4 KiB receive buffer.
//!                                       Server PID's CPU and RSS over the counted window.
//! lt-stream blob ACTION_URL MB N PID    invoke the action (`{"megabytes": MB}`), follow the
//!                                       invocation to its blob, download it once alone (best
//!                                       of two) and N times at once; server PID's peak RSS.
//! ```
//!
//! HTTP/1.0 requests: the server then sends bodies without chunked framing, so a part is
//! `--frame`, headers, `Content-Length` bytes and CRLF straight off the socket.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// `http://host:port/path` → (`host:port`, `/path`).
fn split_url(url: &str) -> Result<(String, String), Error> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("URL must start with http://")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Ok((
        host.to_owned(),
        if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    ))
}

async fn connect(host: &str, recv_buffer: Option<u32>) -> Result<TcpStream, Error> {
    let addr = tokio::net::lookup_host(host)
        .await?
        .next()
        .ok_or("no address")?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    Ok(socket.connect(addr).await?)
}

/// Send an HTTP/1.0 request and read the status line and headers.
async fn request(
    url: &str,
    method: &str,
    body: &str,
    recv_buffer: Option<u32>,
) -> Result<(u16, BufReader<TcpStream>), Error> {
    let (host, path) = split_url(url)?;
    let mut stream = connect(&host, recv_buffer).await?;
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    Ok((status, reader))
}

async fn get_json(url: &str, method: &str, body: &str) -> Result<Value, Error> {
    let (_, mut reader) = request(url, method, body, None).await?;
    let mut text = Vec::new();
    reader.read_to_end(&mut text).await?;
    Ok(serde_json::from_slice(&text)?)
}

/// Read one part; its JPEG's length.
async fn read_part(reader: &mut BufReader<TcpStream>, sink: &mut Vec<u8>) -> Result<usize, Error> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    if line != "--frame\r\n" {
        return Err(format!("expected a boundary, got {line:?}").into());
    }
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if line == "\r\n" {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = Some(n.trim().parse::<usize>()?);
        }
    }
    let length = length.ok_or("a part without Content-Length")?;
    sink.resize(length + 2, 0);
    reader.read_exact(sink).await?;
    Ok(length)
}

/// /proc/PID: (utime + stime ticks, VmRSS kB, VmHWM kB).
fn proc_stats(pid: u32) -> (u64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = fields
        .get(11)
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (ticks, kb("VmRSS:"), kb("VmHWM:"))
}

fn clk_tck() -> f64 {
    std::env::var("CLK_TCK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0)
}

async fn mjpeg(url: &str, clients: usize, secs: f64, pid: u32, slow: bool) -> Result<Value, Error> {
    let warm = Duration::from_secs(1);
    let window = Duration::from_secs_f64(secs);
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let (status, mut reader) = request(&url, "GET", "", None).await?;
            if status != 200 {
                return Err::<(u64, u64), Error>(format!("status {status}").into());
            }
            let mut sink = Vec::new();
            let (mut frames, mut bytes) = (0u64, 0u64);
            loop {
                let length = read_part(&mut reader, &mut sink).await?;
                let now = Instant::now();
                if now >= start + warm + window {
                    return Ok((frames, bytes));
                }
                if now >= start + warm {
                    frames += 1;
                    bytes += length as u64;
                }
            }
        }));
    }
    let slow_task = slow.then(|| {
        let url = url.to_owned();
        tokio::spawn(async move {
            let (_, mut reader) = request(&url, "GET", "", Some(4096)).await?;
            let mut sink = Vec::new();
            let mut frames = 0u64;
            while Instant::now() < start + warm + window {
                read_part(&mut reader, &mut sink).await?;
                frames += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok::<u64, Error>(frames)
        })
    });
    tokio::time::sleep_until((start + warm).into()).await;
    let before = proc_stats(pid);
    tokio::time::sleep(window).await;
    let after = proc_stats(pid);
    let mut rates = Vec::new();
    let mut frame_bytes = 0;
    for task in tasks {
        let (frames, bytes) = task.await??;
        rates.push(frames as f64 / secs);
        frame_bytes = frame_bytes.max(bytes / frames.max(1));
    }
    let slow_frames = match slow_task {
        Some(task) => Some(task.await??),
        None => None,
    };
    rates.sort_by(f64::total_cmp);
    let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "clients": clients,
        "secs": secs,
        "fps_min": round(rates.first().copied().unwrap_or(0.0)),
        "fps_mean": round(mean),
        "fps_max": round(rates.last().copied().unwrap_or(0.0)),
        "frame_bytes": frame_bytes,
        "server_cpu": round((after.0 - before.0) as f64 / clk_tck() / secs),
        "rss_start_kb": before.1,
        "rss_end_kb": after.1,
        "slow_frames": slow_frames,
    }))
}

/// Download `url` to nowhere; bytes read.
async fn download(url: &str) -> Result<u64, Error> {
    let (status, mut reader) = request(url, "GET", "", None).await?;
    if status != 200 {
        return Err(format!("download: status {status}").into());
    }
    Ok(tokio::io::copy(&mut reader, &mut tokio::io::sink()).await?)
}

async fn blob(action_url: &str, megabytes: u64, n: usize, pid: u32) -> Result<Value, Error> {
    let mut invocation = get_json(
        action_url,
        "POST",
        &json!({"megabytes": megabytes}).to_string(),
    )
    .await?;
    let href = invocation["href"]
        .as_str()
        .ok_or("no invocation href")?
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    while invocation["status"] != "completed" {
        if Instant::now() > deadline || invocation["status"] == "error" {
            return Err(format!("blob action did not complete: {invocation}").into());
        }
        // The reference has no way to wait for an invocation but asking again.
        tokio::time::sleep(Duration::from_millis(50)).await;
        invocation = get_json(&href, "GET", "").await?;
    }
    let blob = invocation["output"]["href"]
        .as_str()
        .ok_or("no blob href")?
        .to_owned();
    let mut best = 0.0_f64;
    let mut size = 0;
    for _ in 0..2 {
        let started = Instant::now();
        size = download(&blob).await?;
        best = best.max(size as f64 / started.elapsed().as_secs_f64());
    }
    let before = proc_stats(pid);
    let started = Instant::now();
    let downloads: Vec<_> = (0..n)
        .map(|_| {
            let blob = blob.clone();
            tokio::spawn(async move { download(&blob).await })
        })
        .collect();
    let mut total = 0;
    for d in downloads {
        total += d.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = proc_stats(pid);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "bytes": size,
        "single_gb_s": round(best / 1e9),
        "concurrent": n,
        "concurrent_gb_s": round(total as f64 / elapsed / 1e9),
        "rss_before_mb": round(before.1 as f64 / 1024.0),
        "hwm_before_mb": round(before.2 as f64 / 1024.0),
        "hwm_after_mb": round(after.2 as f64 / 1024.0),
        "hwm_growth_mb": round(after.2.saturating_sub(before.2.max(before.1)) as f64 / 1024.0),
    }))
}

fn usage() -> ! {
    eprintln!(
        "usage: lt-stream mjpeg URL N SECS PID [SLOW]\n       lt-stream blob ACTION_URL MB N PID"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> f64 {
        args.get(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let result = match args.first().map(String::as_str) {
        Some("mjpeg") if args.len() >= 5 => {
            let slow = args.get(5).is_some_and(|s| s == "1");
            mjpeg(&args[1], num(2) as usize, num(3), num(4) as u32, slow).await
        }
        Some("blob") if args.len() == 5 => {
            blob(&args[1], num(2) as u64, num(3) as usize, num(4) as u32).await
        }
        _ => usage(),
    };
    match result {
        Ok(value) => println!("{value}"),
        Err(error) => {
            eprintln!("lt-stream: {error}");
            std::process::exit(1);
        }
    }
}
