//! A smoke test of the client against any counter Thing (ours, or the Python reference's
//! `PeerCounter` / `bench/peer_thing.py`): `cargo run -p labthings-client --example smoke --
//! http://127.0.0.1:5000/counter [CAMERA_URL]`.
//!
//! With a second URL, that Thing's `capture()` action must return a JPEG blob (the reference's
//! camera does), which is downloaded.
//!
//! Prints one `ok: …` line per check and `smoke: all ok` at the end; the first failed check
//! prints `FAILED: …` and exits with status 1. Observation over SSE is reported as `ok:`
//! when it works and as `skip:` when the server has no event streams (the reference).

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use labthings_client::{BlobLink, Error, InvocationStatus, ThingClient};
use serde_json::{Value, json};

fn check(condition: bool, what: String) -> Result<(), String> {
    if condition {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(what)
    }
}

async fn smoke(url: &str) -> Result<(), String> {
    let counter = ThingClient::from_url(url)
        .await
        .map_err(|e| format!("fetching the TD at {url}: {e}"))?;
    let properties: Vec<&str> = counter.properties().collect();
    let actions: Vec<&str> = counter.actions().collect();
    check(
        ["count", "serial"].iter().all(|p| properties.contains(p))
            && ["increment", "slow", "fail"]
                .iter()
                .all(|a| actions.contains(a)),
        format!(
            "TD of {} at {}: properties {properties:?}, actions {actions:?}",
            counter.description().title,
            counter.url()
        ),
    )?;

    counter
        .write("count", &41)
        .await
        .map_err(|e| format!("write count: {e}"))?;
    let count: i64 = counter
        .read("count")
        .await
        .map_err(|e| format!("read count: {e}"))?;
    check(count == 41, format!("write then read count = {count}"))?;

    match counter.write("count", &"abc").await {
        Err(Error::Validation(issues)) => check(
            issues.first().is_some_and(|i| {
                i.kind == "int_parsing" && i.msg.starts_with("Input should be a valid integer")
            }),
            format!("write count \"abc\" refused: {}", Error::Validation(issues)),
        )?,
        other => return Err(format!("write count \"abc\": {other:?}")),
    }

    match counter.write("serial", &"X").await {
        Err(Error::Http { status, body }) => check(
            status.as_u16() == 405,
            format!("write read-only serial refused: {status} {body}"),
        )?,
        other => return Err(format!("write serial: {other:?}")),
    }

    let count: i64 = counter
        .invoke("increment", &())
        .await
        .map_err(|e| format!("invoke increment: {e}"))?;
    check(count == 42, format!("invoke increment = {count}"))?;

    let steps: u64 = counter
        .invoke("slow", &json!({"duration": 0.2, "step": 0.1}))
        .await
        .map_err(|e| format!("invoke slow: {e}"))?;
    check(steps == 2, format!("invoke slow(0.2, 0.1) = {steps}"))?;

    match counter.invoke::<Value, _>("fail", &()).await {
        Err(Error::Problem(problem)) => check(
            problem.detail == "deliberate failure from fail()",
            format!("invoke fail: problem {problem}"),
        )?,
        other => return Err(format!("invoke fail: {other:?}")),
    }

    let mut slow = counter
        .start("slow", &json!({"duration": 30.0, "step": 0.1}))
        .await
        .map_err(|e| format!("start slow: {e}"))?;
    let mut log = Vec::new();
    for _ in 0..100 {
        log = slow.log().await.map_err(|e| format!("slow's log: {e}"))?;
        if log.iter().any(|r| r.message.contains("step 1/")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check(
        log.iter().any(|r| r.message.contains("step 1/")),
        format!(
            "slow {} logs: {:?}",
            slow.id(),
            log.iter().map(|r| &r.message).collect::<Vec<_>>()
        ),
    )?;
    slow.cancel()
        .await
        .map_err(|e| format!("cancel slow: {e}"))?;
    let outcome = slow.wait::<u64>().await;
    check(
        matches!(outcome, Err(Error::Cancelled)) && slow.status() == InvocationStatus::Cancelled,
        format!("cancel slow: {outcome:?}"),
    )?;

    match counter.observe::<i64>("count").await {
        Ok(mut counts) => {
            counter
                .write("count", &7)
                .await
                .map_err(|e| format!("write count: {e}"))?;
            let pushed = tokio::time::timeout(Duration::from_secs(5), counts.next()).await;
            match pushed {
                Ok(Some(Ok(7))) => println!("ok: observe count over SSE: 7"),
                other => return Err(format!("observe count: {other:?}")),
            }
        }
        Err(Error::Unsupported(why)) => println!("skip: observe count: {why}"),
        Err(other) => return Err(format!("observe count: {other}")),
    }
    Ok(())
}

async fn blob(url: &str) -> Result<(), String> {
    let camera = ThingClient::from_url(url)
        .await
        .map_err(|e| format!("fetching the TD at {url}: {e}"))?;
    let link: BlobLink = camera
        .invoke("capture", &())
        .await
        .map_err(|e| format!("invoke capture: {e}"))?;
    let blob = camera
        .download_link(&link)
        .await
        .map_err(|e| format!("download {}: {e}", link.href))?;
    let jpeg = blob.bytes.starts_with(&[0xff, 0xd8]) && blob.bytes.ends_with(&[0xff, 0xd9]);
    check(
        jpeg && link.media_type == "image/jpeg" && blob.media_type.as_deref() == Some("image/jpeg"),
        format!(
            "capture blob: {} bytes of {} ({:?}) from {}",
            blob.bytes.len(),
            link.media_type,
            blob.media_type,
            link.href
        ),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: smoke <URL of a counter Thing>");
        return ExitCode::from(2);
    };
    let camera = std::env::args().nth(2);
    let outcome = match smoke(&url).await {
        Ok(()) => match camera {
            Some(camera) => blob(&camera).await,
            None => Ok(()),
        },
        Err(what) => Err(what),
    };
    match outcome {
        Ok(()) => {
            println!("smoke: all ok");
            ExitCode::SUCCESS
        }
        Err(what) => {
            println!("FAILED: {what}");
            ExitCode::FAILURE
        }
    }
}
