//! The benchmark's client for what `wrk` can't measure: action start and cancel latency, and
//! a burst of long actions. It speaks HTTP/1.1 keep-alive to one LabThings server (ours or the
//! Python reference) and prints one JSON object on stdout.
//!
//! ```text
//! lt-bench latency BASE N            start + cancel latency of N `slow` invocations, one at a time
//! lt-bench burst BASE N [PID]        N concurrent `slow(duration=60)`: all running, then all cancelled
//! lt-bench sample BASE PATH SECS     GET PATH once a second for SECS seconds: [[t, value], ...]
//! lt-bench settle BASE PATH          GET PATH until its value stops changing; prints it
//! ```
//! BASE is e.g. `http://127.0.0.1:5000`. Times are in seconds unless a name ends in `_us`.
//! "Server clock" figures come from the invocation JSON: `timeStarted − timeRequested` for
//! start, and `timeCompleted −` the `created` time of the server's "Cancellation of invocation
//! … requested." log record for cancel (the Python reference logs no such record: `null`).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use labthings_bench::{Conn, Error, finish, proc_status, server_addr};

/// The body of every `slow` POST: long enough never to end by itself during a measurement.
const SLOW_BODY: &str = r#"{"duration":60,"step":0.5}"#;
/// Connections the burst uses, as wrk's load does.
const CONNECTIONS: usize = 32;
/// Give up waiting for a state after this long.
const PATIENCE: Duration = Duration::from_secs(180);

/// Microseconds since the epoch of an RFC 3339 time, `Z` or naive UTC (the reference's).
fn micros(value: &Value) -> Option<i64> {
    let text = value.as_str()?;
    let text = text.strip_suffix('Z').unwrap_or(text);
    let text = text.split('+').next()?;
    let owned;
    let text = if text.contains('.') {
        text
    } else {
        owned = format!("{text}.0");
        &owned
    };
    let time = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(time.and_utc().timestamp_micros())
}

fn status_of(invocation: &Value) -> &str {
    invocation["status"].as_str().unwrap_or("?")
}

/// `created` of the server's record of the cancel request, if it logs one.
fn cancel_requested_at(invocation: &Value) -> Option<i64> {
    invocation["log"].as_array()?.iter().find_map(|record| {
        let message = record["message"].as_str()?;
        (message.starts_with("Cancellation of invocation") && message.ends_with("requested."))
            .then(|| micros(&record["created"]))?
    })
}

/// Poll `GET /action_invocations/{id}` until its status is `want`.
async fn wait_status(conn: &mut Conn, id: &str, want: &str) -> Result<Value, Error> {
    let path = format!("/action_invocations/{id}");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, invocation) = conn.json(Method::GET, &path, None).await?;
        let status = status_of(&invocation);
        if status == want {
            return Ok(invocation);
        }
        if Instant::now() > deadline || (status != "pending" && status != "running") {
            return Err(format!("{id}: waited for {want}, got {status}").into());
        }
    }
}

async fn latency(addr: SocketAddr, n: usize) -> Result<Value, Error> {
    let mut conn = Conn::open(addr).await?;
    let (mut start_server, mut start_client) = (Vec::new(), Vec::new());
    let (mut cancel_server, mut cancel_client) = (Vec::new(), Vec::new());
    let mut answered: HashMap<String, usize> = HashMap::new();
    for _ in 0..n {
        let t0 = Instant::now();
        let (status, posted) = conn
            .json(Method::POST, "/counter/slow", Some(SLOW_BODY))
            .await?;
        if status != StatusCode::CREATED {
            return Err(format!("POST slow: {status}: {posted}").into());
        }
        *answered.entry(status_of(&posted).to_owned()).or_default() += 1;
        let id = posted["id"].as_str().ok_or("no id")?.to_owned();
        let running = if status_of(&posted) == "running" {
            posted
        } else {
            wait_status(&mut conn, &id, "running").await?
        };
        start_client.push(t0.elapsed().as_secs_f64() * 1e6);
        if let (Some(started), Some(requested)) = (
            micros(&running["timeStarted"]),
            micros(&running["timeRequested"]),
        ) {
            start_server.push(started - requested);
        }
        // Let the action settle into its cancellable sleep.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let t2 = Instant::now();
        let (status, body) = conn
            .send(Method::DELETE, &format!("/action_invocations/{id}"), None)
            .await?;
        if !status.is_success() {
            return Err(format!("DELETE: {status}: {body:?}").into());
        }
        let cancelled = wait_status(&mut conn, &id, "cancelled").await?;
        cancel_client.push(t2.elapsed().as_secs_f64() * 1e6);
        if let (Some(completed), Some(requested)) = (
            micros(&cancelled["timeCompleted"]),
            cancel_requested_at(&cancelled),
        ) {
            cancel_server.push(completed - requested);
        }
    }
    Ok(json!({
        "n": n,
        "post_answered_status": answered,
        "start_server_us": start_server,
        "start_client_us": start_client,
        "cancel_server_us": cancel_server,
        "cancel_client_us": cancel_client,
    }))
}

/// Run `work(conn, i)` for i in 0..n over `CONNECTIONS` connections at once.
async fn fan_out<F, Fut>(addr: SocketAddr, n: usize, work: F) -> Result<Vec<Value>, Error>
where
    F: Fn(Conn, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(Conn, Value), Error>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS.min(n.max(1)) {
        let (next, work) = (next.clone(), work.clone());
        tasks.spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut results = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(results);
                }
                let (back, value) = work(conn, i).await?;
                conn = back;
                results.push((i, value));
            }
        });
    }
    let mut all = vec![Value::Null; n];
    while let Some(done) = tasks.join_next().await {
        for (i, value) in done?? {
            all[i] = value;
        }
    }
    Ok(all)
}

/// Poll the invocation list until every one of `ids` has status `want`; returns the number of
/// polls and those entries.
async fn wait_all(
    conn: &mut Conn,
    ids: &HashSet<String>,
    want: &str,
) -> Result<(f64, Vec<Value>), Error> {
    let n = ids.len();
    let started = Instant::now();
    let mut polls = 0u32;
    loop {
        let (_, list) = conn.json(Method::GET, "/action_invocations", None).await?;
        polls += 1;
        let list: Vec<Value> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["id"].as_str().is_some_and(|id| ids.contains(id)))
            .cloned()
            .collect();
        let matching = list.iter().filter(|i| status_of(i) == want).count();
        if matching >= n {
            return Ok((polls as f64, list));
        }
        if started.elapsed() > PATIENCE {
            return Err(format!("after {PATIENCE:?}: {matching}/{n} {want}").into());
        }
        // Poll gently: the list is large and the server shares one core with the actions.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn burst(addr: SocketAddr, n: usize, pid: Option<u32>) -> Result<Value, Error> {
    let mut poller = Conn::open(addr).await?;
    let t0 = Instant::now();
    let posted = fan_out(addr, n, |mut conn, _| async move {
        let (status, invocation) = conn
            .json(Method::POST, "/counter/slow", Some(SLOW_BODY))
            .await?;
        if status != StatusCode::CREATED {
            return Err(format!("POST slow: {status}: {invocation}").into());
        }
        Ok((conn, invocation["id"].clone()))
    })
    .await?;
    let posts_done = t0.elapsed().as_secs_f64();
    let ids: Arc<Vec<String>> = Arc::new(
        posted
            .iter()
            .map(|id| id.as_str().unwrap_or_default().to_owned())
            .collect(),
    );
    let id_set: HashSet<String> = ids.iter().cloned().collect();
    let (polls_running, list) = wait_all(&mut poller, &id_set, "running").await?;
    let all_running = t0.elapsed().as_secs_f64();
    let rss_running = pid.and_then(|p| proc_status(p, "VmRSS"));
    let threads_running = pid.and_then(|p| proc_status(p, "Threads"));
    let first_requested = list
        .iter()
        .filter_map(|i| micros(&i["timeRequested"]))
        .min();
    let last_started = list.iter().filter_map(|i| micros(&i["timeStarted"])).max();

    let t1 = Instant::now();
    let delete_ids = ids.clone();
    fan_out(addr, n, move |mut conn, i| {
        let path = format!("/action_invocations/{}", delete_ids[i]);
        async move {
            let (status, body) = conn.send(Method::DELETE, &path, None).await?;
            if !status.is_success() {
                return Err(format!("DELETE: {status}: {body:?}").into());
            }
            Ok((conn, Value::Null))
        }
    })
    .await?;
    let deletes_done = t1.elapsed().as_secs_f64();
    let (polls_cancelled, _) = wait_all(&mut poller, &id_set, "cancelled").await?;
    let all_cancelled = t1.elapsed().as_secs_f64();

    let get_ids = ids.clone();
    let full = fan_out(addr, n, move |mut conn, i| {
        let path = format!("/action_invocations/{}", get_ids[i]);
        async move {
            let (_, invocation) = conn.json(Method::GET, &path, None).await?;
            Ok((conn, invocation))
        }
    })
    .await?;
    let first_cancel_request = full.iter().filter_map(cancel_requested_at).min();
    let last_completed = full
        .iter()
        .filter_map(|i| micros(&i["timeCompleted"]))
        .max();
    let span = |from: Option<i64>, to: Option<i64>| match (from, to) {
        (Some(from), Some(to)) => json!((to - from) as f64 / 1e6),
        _ => Value::Null,
    };
    Ok(json!({
        "n": n,
        "posts_s": posts_done,
        "all_running_client_s": all_running,
        "all_running_server_s": span(first_requested, last_started),
        "polls_running": polls_running,
        "deletes_s": deletes_done,
        "all_cancelled_client_s": all_cancelled,
        "all_cancelled_server_s": span(first_cancel_request, last_completed),
        "polls_cancelled": polls_cancelled,
        "rss_running_kb": rss_running,
        "threads_running": threads_running,
        "hwm_kb": pid.and_then(|p| proc_status(p, "VmHWM")),
    }))
}

async fn sample(addr: SocketAddr, path: &str, secs: u64) -> Result<Value, Error> {
    let mut conn = Conn::open(addr).await?;
    let t0 = Instant::now();
    let mut samples = Vec::new();
    for i in 0..=secs {
        tokio::time::sleep_until((t0 + Duration::from_secs(i)).into()).await;
        let at = t0.elapsed().as_secs_f64();
        let (_, value) = conn.json(Method::GET, path, None).await?;
        samples.push(json!([at, value]));
    }
    Ok(Value::Array(samples))
}

async fn settle(addr: SocketAddr, path: &str) -> Result<Value, Error> {
    let mut conn = Conn::open(addr).await?;
    let t0 = Instant::now();
    let (_, mut last) = conn.json(Method::GET, path, None).await?;
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_secs(1) && t0.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, value) = conn.json(Method::GET, path, None).await?;
        if value != last {
            last = value;
            since = Instant::now();
        }
    }
    Ok(json!({"value": last, "settled_after_s": since.duration_since(t0).as_secs_f64()}))
}

fn usage() -> ! {
    eprintln!(
        "usage: lt-bench latency BASE N | burst BASE N [PID] | sample BASE PATH SECS | settle BASE PATH"
    );
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args.get(1).unwrap_or_else(|| usage());
    let addr = server_addr(base).unwrap_or_else(|| usage());
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let result = match args[0].as_str() {
        "latency" => latency(addr, number(2)).await,
        "burst" => burst(addr, number(2), args.get(3).and_then(|p| p.parse().ok())).await,
        "sample" => {
            let path = args.get(2).unwrap_or_else(|| usage());
            sample(addr, path, number(3) as u64).await
        }
        "settle" => settle(addr, args.get(2).unwrap_or_else(|| usage())).await,
        _ => usage(),
    };
    finish("lt-bench", result)
}
