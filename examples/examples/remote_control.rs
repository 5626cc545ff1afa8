//! Drive the demo lab from another process with the typed clients `#[thing]` generates: the
//! same `Counter`, `MockStage` and `MockCamera` types the server serves, so a call that doesn't
//! match the Thing (a wrong argument, a write of a read-only property) doesn't compile.
//!
//! ```text
//! cargo run -p labthings-examples --bin demo-lab &
//! cargo run -p labthings-examples --features client --example remote_control -- http://127.0.0.1:5000
//! ```
//!
//! The server URL is the first argument (default `$LABTHINGS_URL`, else
//! `http://127.0.0.1:5000`); a bearer token is the second (default `$LABTHINGS_TOKEN`).

use std::time::Duration;

use futures_util::StreamExt;
use labthings_core::client::{Error, ThingClient};
use labthings_examples::{CounterClient, MockCameraClient, MockStageClient};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .or_else(|| std::env::var("LABTHINGS_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:5000".to_owned());
    let base = base.trim_end_matches('/').to_owned();
    let token = args
        .next()
        .or_else(|| std::env::var("LABTHINGS_TOKEN").ok());
    let connect = |thing: &str| {
        let mut builder = ThingClient::builder();
        if let Some(token) = &token {
            builder = builder.token(token.clone());
        }
        let url = format!("{base}/{thing}/");
        async move { builder.connect(&url).await }
    };

    let counter = CounterClient::from(connect("counter").await?);
    let stage = MockStageClient::from(connect("stage").await?);
    let camera = MockCameraClient::from(connect("camera").await?);

    // Watch `count` while incrementing it.
    let mut counts = counter.observe_count().await?;
    println!("count is {}", counter.count().await?);
    for _ in 0..3 {
        let count: i64 = counter.increment().await?;
        println!("increment -> {count}");
    }
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(2), counts.next()).await {
            Ok(Some(count)) => println!("observed count = {}", count?),
            Ok(None) | Err(_) => break,
        }
    }
    drop(counts);
    println!(
        "serial {}, limit {}",
        counter.serial().await?,
        counter.limit().await?
    );

    // A typed output: the position the stage arrived at.
    let arrived: [i64; 3] = stage.move_relative([100, 0, -50]).await?;
    println!(
        "stage arrived at {arrived:?}; position reads {:?}",
        stage.position().await?
    );
    // `stage.set_position(&[0; 3])` would not compile: `position` is read-only.

    // A blob output: `capture` returns a `Blob`, which comes back as a `RemoteBlob`, a link
    // that downloads itself (with the token).
    let image = camera.capture().await?;
    let jpeg = image.bytes().await?;
    println!(
        "captured {} bytes of {} from {}",
        jpeg.len(),
        image.media_type(),
        image.href()
    );
    let metadata = camera.capture_metadata().await?;
    println!("camera: {metadata}");

    // A refused input is typed too.
    match counter.set_limit(&5000).await {
        Err(Error::Validation(issues)) => println!("limit 5000 refused: {}", issues[0].msg),
        other => println!("limit 5000: {other:?}"),
    }
    Ok(())
}
