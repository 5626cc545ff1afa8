//! The MQTT binding's benchmark (issue #24 item 6): a server of `Panel`s, and the loads that
//! measure what the binding costs and delivers. Prints one JSON object on stdout.
//!
//! ```text
//! lt-mqtt serve THINGS [BROKER PREFIX]     serve THINGS panels (10 number properties each),
//!                                           with --mqtt BROKER when given; prints the URL
//! lt-mqtt latency BASE BROKER PREFIX N      N sequential PUTs of panel0/p0: PUT sent → the
//!                                           value seen by an MQTT subscriber, p50/p99
//! lt-mqtt fleet BASE BROKER PREFIX THINGS HZ SECS PID
//!                                           every property of THINGS panels written HZ times a
//!                                           second for SECS: deliveries / expected, the server's
//!                                           CPU share, PUT latency (BROKER `-`: no subscriber)
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use labthings_bench::{Conn, Error, finish, server_addr};
use labthings_core::prelude::*;
use labthings_server::{MqttConfig, ThingServer};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// Properties per panel.
const PROPS: usize = 10;
/// Connections the fleet load uses.
const CONNECTIONS: usize = 32;

/// A control panel: ten numbers.
#[thing]
struct Panel {
    #[property]
    p0: Property<f64>,
    #[property]
    p1: Property<f64>,
    #[property]
    p2: Property<f64>,
    #[property]
    p3: Property<f64>,
    #[property]
    p4: Property<f64>,
    #[property]
    p5: Property<f64>,
    #[property]
    p6: Property<f64>,
    #[property]
    p7: Property<f64>,
    #[property]
    p8: Property<f64>,
    #[property]
    p9: Property<f64>,
}

#[thing]
impl Panel {}

impl Panel {
    fn new() -> Self {
        let p = || Property::new(0.0);
        Self {
            p0: p(),
            p1: p(),
            p2: p(),
            p3: p(),
            p4: p(),
            p5: p(),
            p6: p(),
            p7: p(),
            p8: p(),
            p9: p(),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return finish("lt-mqtt", Err(error.into())),
    };
    let result = runtime.block_on(async {
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["serve", things, ref mqtt @ ..] => serve(things.parse()?, mqtt).await,
            ["latency", base, broker, prefix, n] => latency(base, broker, prefix, n.parse()?).await,
            ["fleet", base, broker, prefix, things, hz, secs, pid] => {
                fleet(
                    base,
                    broker,
                    prefix,
                    things.parse()?,
                    hz.parse()?,
                    secs.parse()?,
                    pid.parse()?,
                )
                .await
            }
            _ => Err("usage: see the doc comment of bench/ceiling/src/bin/lt-mqtt.rs".into()),
        }
    });
    finish("lt-mqtt", result)
}

async fn serve(things: usize, mqtt: &[&str]) -> Result<Value, Error> {
    let mut server = ThingServer::new().port(0);
    for i in 0..things {
        server = server.thing(&format!("panel{i}"), Panel::new());
    }
    if let [broker, prefix] = mqtt {
        let mut config = MqttConfig::url(*broker);
        config.prefix = Some((*prefix).to_owned());
        server = server.mqtt(config);
    }
    let running = server.start().await?;
    println!("lt-mqtt listening on {}", running.url());
    running.wait().await;
    Ok(json!({"served": things}))
}

/// A subscriber to `filter`: each message's topic, payload and arrival time.
async fn subscribe(
    broker: &str,
    filter: &str,
) -> Result<mpsc::UnboundedReceiver<(String, String, Instant)>, Error> {
    let address = broker.trim_start_matches("mqtt://");
    let (host, port) = address
        .rsplit_once(':')
        .ok_or("BROKER is mqtt://host:port")?;
    let mut options = MqttOptions::new(
        format!("lt-mqtt-{}", std::process::id()),
        host,
        port.parse()?,
    );
    options.set_max_packet_size(1 << 24, 1 << 16);
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let (sender, received) = mpsc::unbounded_channel();
    let (subscribed, mut acked) = watch::channel(false);
    let filter = filter.to_owned();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = subscribed.send(true);
                }
                Ok(Event::Incoming(Packet::Publish(p))) if !p.retain => {
                    let payload = String::from_utf8_lossy(&p.payload).into_owned();
                    if sender.send((p.topic, payload, Instant::now())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), acked.wait_for(|a| *a))
        .await
        .map_err(|_| "the broker did not acknowledge the subscription")??;
    Ok(received)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn millis(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    json!({"p50_ms": percentile(samples, 0.5), "p99_ms": percentile(samples, 0.99)})
}

async fn latency(base: &str, broker: &str, prefix: &str, n: usize) -> Result<Value, Error> {
    let addr = server_addr(base).ok_or("BASE is http://host:port")?;
    let topic = format!("{prefix}/panel0/properties/p0");
    let mut messages = subscribe(broker, &topic).await?;
    let mut conn = Conn::open(addr).await?;
    let (mut delivery, mut put) = (Vec::new(), Vec::new());
    for i in 1..=n {
        let value = format!("{i}.5");
        let sent = Instant::now();
        let (status, _) = conn.send(Method::PUT, "/panel0/p0", Some(&value)).await?;
        put.push(sent.elapsed().as_secs_f64() * 1e3);
        if status != StatusCode::CREATED {
            return Err(format!("PUT answered {status}").into());
        }
        loop {
            let (_, payload, at) = tokio::time::timeout(Duration::from_secs(5), messages.recv())
                .await
                .map_err(|_| format!("value {value} never reached the subscriber"))?
                .ok_or("the subscriber stopped")?;
            if payload == value {
                delivery.push(at.duration_since(sent).as_secs_f64() * 1e3);
                break;
            }
        }
    }
    Ok(json!({"n": n, "delivery": millis(&mut delivery), "put": millis(&mut put)}))
}

/// CPU seconds (user + system) the process `pid` has used.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let per_second: f64 = std::env::var("CLK_TCK")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(100.0);
    Some(ticks as f64 / per_second)
}

#[allow(clippy::too_many_arguments)]
async fn fleet(
    base: &str,
    broker: &str,
    prefix: &str,
    things: usize,
    hz: f64,
    secs: f64,
    pid: u32,
) -> Result<Value, Error> {
    let addr = server_addr(base).ok_or("BASE is http://host:port")?;
    // How many values the subscriber has seen so far.
    let (count, mut counted) = watch::channel(0u64);
    let subscribed = broker != "-";
    if subscribed {
        let mut messages = subscribe(broker, &format!("{prefix}/+/properties/+")).await?;
        tokio::spawn(async move {
            while messages.recv().await.is_some() {
                count.send_modify(|n| *n += 1);
            }
        });
    }
    // Every (thing, property) pair, dealt out to the connections.
    let pairs: Vec<String> = (0..things)
        .flat_map(|t| (0..PROPS).map(move |p| format!("/panel{t}/p{p}")))
        .collect();
    let period = Duration::from_secs_f64(1.0 / hz);
    let ticks = (secs * hz).round() as u64;
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let mine: Vec<String> = pairs.iter().skip(c).step_by(CONNECTIONS).cloned().collect();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut latencies = Vec::with_capacity(mine.len() * ticks as usize);
            let mut late = 0u64;
            let mut clock = tokio::time::interval(period);
            clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            for tick in 0..ticks {
                clock.tick().await;
                for path in &mine {
                    let value = format!("{tick}.25");
                    let sent = Instant::now();
                    let (status, _) = conn.send(Method::PUT, path, Some(&value)).await?;
                    if status != StatusCode::CREATED {
                        return Err::<_, Error>(format!("PUT {path} answered {status}").into());
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                }
                if clock_behind(&started, period, tick) {
                    late += 1;
                }
            }
            Ok((latencies, late))
        }));
    }
    let mut latencies = Vec::new();
    let mut late_ticks = 0;
    for task in tasks {
        let (mine, late) = task.await??;
        latencies.extend(mine);
        late_ticks += late;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, cpu_seconds(pid)) {
        (Some(before), Some(after)) => Some((after - before) / elapsed),
        _ => None,
    };
    let written = latencies.len() as u64;
    // Let the last deliveries arrive (at most 5 s more).
    let delivered = if subscribed {
        let all = counted.wait_for(|n| *n >= written);
        let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
        Some(*counted.borrow())
    } else {
        None
    };
    Ok(json!({
        "things": things, "properties": things * PROPS, "hz": hz, "seconds": elapsed,
        "written": written, "expected": (things * PROPS) as u64 * ticks,
        "delivered": delivered, "late_ticks": late_ticks,
        "writes_per_s": written as f64 / elapsed, "server_cpu": cpu,
        "put": millis(&mut latencies),
    }))
}

/// Whether a connection finished tick `tick` after the next one was due.
fn clock_behind(started: &Instant, period: Duration, tick: u64) -> bool {
    started.elapsed() > period * (tick as u32 + 1)
}
