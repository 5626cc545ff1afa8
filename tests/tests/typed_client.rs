//! The typed clients `#[thing]` generates, end to end against the demo lab served in-process:
//! typed inputs and outputs, refused inputs as `Error::Validation`, failures, cancellation,
//! observation and events.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use labthings_core::client::{Error, InvocationStatus, RemoteBlob, ThingClient};
use labthings_examples::{CounterClient, MockCameraClient, MockStageClient, MockThermometerClient};
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

#[tokio::test]
async fn a_blob_output_comes_back_as_a_link_that_downloads_itself() {
    let server = TestServer::demo().await;
    let camera = MockCameraClient::connect(&server.url("/camera/"))
        .await
        .unwrap();
    // `capture` returns `Result<Blob, CaptureError>`: the typed client gives a `RemoteBlob`.
    let image: RemoteBlob = camera.capture().await.unwrap();
    assert_eq!(image.media_type(), "image/jpeg");
    assert!(
        image.href().starts_with(&server.url("/")) && image.href().contains("/blob/"),
        "{}",
        image.href()
    );
    let jpeg = image.bytes().await.unwrap();
    assert!(jpeg.len() > 100, "{} bytes", jpeg.len());
    assert_eq!(&jpeg[..2], [0xFF, 0xD8], "JPEG start of image");
    assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9], "JPEG end of image");
    let whole = image.download().await.unwrap();
    assert_eq!(whole.media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(whole.bytes, jpeg);
    // A second capture is another blob.
    let second = camera.capture().await.unwrap();
    assert_ne!(second.href(), image.href());
    assert_eq!(camera.capture_metadata().await.unwrap()["frames"], 2);

    // Started, then waited for: the same decoding.
    let mut started = camera.start_capture().await.unwrap();
    let third: RemoteBlob = started.wait().await.unwrap();
    assert_eq!(&third.bytes().await.unwrap()[..2], [0xFF, 0xD8]);
}

#[tokio::test]
async fn a_remote_blob_downloads_with_the_token_of_its_client() {
    let server = TestServer::start(
        support::demo_server().tokens(labthings_server::Tokens::new().with_token("camera-token")),
    )
    .await;
    let camera = MockCameraClient::from(
        ThingClient::builder()
            .token("camera-token")
            .connect(&server.url("/camera/"))
            .await
            .unwrap(),
    );
    let image = camera.capture().await.unwrap();
    let jpeg = image.bytes().await.unwrap();
    assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
    // Without the token the same href is refused: the blob used its client's.
    let anonymous = server.get(&image.href()[server.url("").len()..]).await;
    assert_eq!(anonymous.status.as_u16(), 401);
}

#[tokio::test]
async fn a_polled_getter_is_observed_through_the_typed_client() {
    let server = support::TestServer::start(
        labthings_server::ThingServer::new()
            .thing("thermometer", labthings_examples::MockThermometer::new()),
    )
    .await;
    let thermometer = MockThermometerClient::connect(&server.url("/thermometer/"))
        .await
        .unwrap();
    let mut readings = thermometer.observe_temperature().await.unwrap();
    let first: f64 = next(&mut readings).await;
    assert!((20.0..22.0).contains(&first), "{first}");
    let second = next(&mut readings).await;
    assert_ne!(first, second, "only changed readings are pushed");
}
