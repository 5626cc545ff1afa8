//! `labthings_server::testing::TestServer`, as a driver author's test uses it: Things served
//! on a free port, driven through their typed clients and the untyped one.

use labthings_examples::{Counter, CounterClient};
use labthings_server::ThingServer;
use labthings_server::testing::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn serves_on_a_free_port_and_hands_out_typed_clients() {
    // Two at once: each gets its own port.
    let first = TestServer::start(ThingServer::new().thing("counter", Counter::new()))
        .await
        .unwrap();
    let second = TestServer::start(ThingServer::new().thing("counter", Counter::new()))
        .await
        .unwrap();
    let (a, b) = (first.running().local_addr(), second.running().local_addr());
    assert!(
        a.ip().is_loopback() && a.port() != 0 && a.port() != b.port(),
        "{a} {b}"
    );
    assert_eq!(first.url("/counter/"), format!("http://{a}/counter/"));

    let counter: CounterClient = first.typed("counter").await.unwrap();
    assert_eq!(counter.increment().await.unwrap(), 1);
    assert_eq!(counter.count().await.unwrap(), 1);
    // The other server's Thing is another Thing.
    let other = second.client("counter").await.unwrap();
    assert_eq!(other.read::<i64>("count").await.unwrap(), 0);

    first.shutdown().await;
    assert!(
        counter.count().await.is_err(),
        "a stopped server answers nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_thing_is_an_error_not_a_panic() {
    let server = TestServer::start(ThingServer::new().thing("counter", Counter::new()))
        .await
        .unwrap();
    assert!(server.client("nothing").await.is_err());
}
