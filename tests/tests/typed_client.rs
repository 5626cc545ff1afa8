//! The typed clients `#[thing]` generates, end to end against the demo lab served in-process:
//! typed inputs and outputs, refused inputs as `Error::Validation`, failures, cancellation,
//! observation and events.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use labthings_core::client::{Error, InvocationStatus, ThingClient};
use labthings_examples::{CounterClient, MockCameraClient, MockStageClient};
use labthings_tests::LabClient;
use support::TestServer;

const PATIENCE: Duration = Duration::from_secs(10);

async fn next<T>(stream: &mut labthings_core::client::Observation<T>) -> T {
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("a value within 10 s")
        .expect("the stream goes on")
        .expect("a value that decodes")
}

#[tokio::test]
async fn actions_and_properties_have_the_things_types() {
    let server = TestServer::demo().await;
    let counter = CounterClient::connect(&server.url("/counter/"))
        .await
        .unwrap();

    counter.set_count(&41).await.unwrap();
    let count: i64 = counter.increment().await.unwrap();
    assert_eq!(count, 42);
    assert_eq!(counter.count().await.unwrap(), 42);
    assert_eq!(counter.serial().await.unwrap(), "LTRS-0001");
    counter.set_gain(&2.5).await.unwrap();
    assert_eq!(counter.gain().await.unwrap(), 2.5);
    assert!(counter.uptime().await.unwrap() >= 0.0);
    // Parameters with defaults are plain parameters; the output is the `Ok` type.
    let steps: u64 = counter.slow(0.02, 0.01).await.unwrap();
    assert_eq!(steps, 2);

    let stage = MockStageClient::connect(&server.url("/stage/"))
        .await
        .unwrap();
    let arrived: [i64; 3] = stage.move_relative([30, 0, -20]).await.unwrap();
    assert_eq!(arrived, [30, 0, -20]);
    assert_eq!(stage.position().await.unwrap(), [30, 0, -20]);
    assert_eq!(stage.move_absolute([0, 5, 0]).await.unwrap(), [0, 5, 0]);

    let camera = MockCameraClient::connect(&server.url("/camera/"))
        .await
        .unwrap();
    // `capture` returns a JPEG blob, which the typed client does not decode yet (see the
    // README); its metadata comes back typed.
    let metadata = camera.capture_metadata().await.unwrap();
    assert_eq!(metadata["frames"], 0);

    // Optional and defaulted parameters, and an action whose output is a `&'static str`
    // (its client method exists; calling it would not compile, as a `&str` can't be decoded).
    let lab = LabClient::connect(&server.url("/lab/")).await.unwrap();
    assert_eq!(lab.echo(Some("ab".into()), 3).await.unwrap(), "ababab");
    assert_eq!(lab.echo(None, 3).await.unwrap(), "");
}

#[tokio::test]
async fn refused_inputs_failures_and_cancellation_are_typed_errors() {
    let server = TestServer::demo().await;
    let counter = CounterClient::from(
        ThingClient::builder()
            .connect(&server.url("/counter"))
            .await
            .unwrap(),
    );

    match counter.set_limit(&5000).await {
        Err(Error::Validation(issues)) => assert_eq!(issues[0].location(), "body"),
        other => panic!("expected a 422, got {other:?}"),
    }
    match counter.slow(-1.0, 0.5).await {
        Err(Error::Validation(issues)) => {
            assert!(issues[0].location().ends_with("duration"), "{issues:?}")
        }
        other => panic!("expected a 422, got {other:?}"),
    }
    match counter.fail().await {
        Err(Error::Problem(problem)) => {
            assert!(
                format!("{problem}").contains("deliberate failure"),
                "{problem}"
            )
        }
        other => panic!("expected a failed invocation, got {other:?}"),
    }

    let mut slow = counter.start_slow(30.0, 0.05).await.unwrap();
    slow.cancel().await.unwrap();
    assert!(matches!(slow.wait::<u64>().await, Err(Error::Cancelled)));
    assert_eq!(slow.status(), InvocationStatus::Cancelled);
}

#[tokio::test]
async fn observations_and_events_are_streams_of_the_things_types() {
    let server = TestServer::demo().await;
    let counter = CounterClient::connect(&server.url("/counter/"))
        .await
        .unwrap();
    let mut counts = counter.observe_count().await.unwrap();
    for expected in 1..=3 {
        assert_eq!(counter.increment().await.unwrap(), expected);
        assert_eq!(next(&mut counts).await, expected);
    }

    let stage = MockStageClient::connect(&server.url("/stage/"))
        .await
        .unwrap();
    let mut arrivals = stage.subscribe_arrived().await.unwrap();
    stage.move_absolute([7, 8, 9]).await.unwrap();
    assert_eq!(next(&mut arrivals).await, [7, 8, 9]);
}
