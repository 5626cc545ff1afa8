//! The Rust client's side of the client benchmark (`bench/net`): `labthings-client` invoking
//! an action and waiting for its output, one invocation at a time, as a script driving an
//! instrument does. Prints one JSON object on stdout.
//!
//! ```text
//! lt-client roundtrip TD_URL ACTION N [TOKEN]   N sequential invocations of ACTION (no input)
//! ```
//! Each round trip is `ThingClient::invoke`: POST the action (with `Prefer: wait`, which our
//! server honours by answering once the invocation has finished; the reference ignores it and
//! is polled), wait for it to complete, and decode its output. The client is made (the TD
//! fetched) once, before the clock starts; one warm-up invocation is not counted.

use std::time::Instant;

use labthings_client::ThingClient;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, td, action, n, rest @ ..] = args.as_slice() else {
        eprintln!("usage: lt-client roundtrip TD_URL ACTION N [TOKEN]");
        std::process::exit(2);
    };
    if mode != "roundtrip" {
        eprintln!("unknown mode {mode}");
        std::process::exit(2);
    }
    let n: usize = n.parse().expect("N is a number");
    let mut builder = ThingClient::builder();
    if let Some(token) = rest.first() {
        builder = builder.token(token.clone());
    }
    let client = builder.connect(td).await.expect("the Thing Description");
    let _: Value = client.invoke(action, &()).await.expect("warm-up");
    let mut samples_us = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let output: Value = client.invoke(action, &()).await.expect("an output");
        samples_us.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(output);
    }
    let total = started.elapsed().as_secs_f64();
    samples_us.sort_by(f64::total_cmp);
    let at = |q: f64| samples_us[((samples_us.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}",
        json!({
            "client": "rust",
            "n": n,
            "per_second": n as f64 / total,
            "p50_us": at(0.5),
            "p99_us": at(0.99),
            "mean_us": total * 1e6 / n as f64,
        })
    );
}
