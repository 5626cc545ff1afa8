//! The client against a server that requires a bearer token: `.token(..)` opens everything
//! (TD, properties, actions, the SSE observation), no token or a wrong one gets the 401.

use std::time::Duration;

use futures_util::StreamExt;
use hyper::StatusCode;
use labthings_client::ThingClient;
use labthings_server::{ThingServer, Tokens};

const TOKEN: &str = "correct-horse-battery-staple";

#[tokio::test]
async fn a_token_opens_a_secured_server_and_no_token_does_not() {
    let server = ThingServer::new()
        .thing("counter", labthings_examples::Counter::new())
        .tokens(Tokens::new().with_token(TOKEN))
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .start()
        .await
        .expect("server starts");
    let url = format!("http://{}/counter/", server.local_addr());

    let refused = ThingClient::from_url(&url).await.unwrap_err();
    assert_eq!(
        refused.status(),
        Some(StatusCode::UNAUTHORIZED),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("A valid bearer token is required."),
        "{refused}"
    );
    let wrong = ThingClient::builder()
        .token("nope")
        .connect(&url)
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!wrong.to_string().contains("nope"));

    let client = ThingClient::builder()
        .token(TOKEN)
        .connect(&url)
        .await
        .expect("the TD, with the token");
    let td = client.description();
    assert_eq!(
        td.other["securityDefinitions"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(td.other["security"], "bearer");
    client.write("gain", &2.5).await.expect("a write");
    assert_eq!(client.read::<f64>("gain").await.unwrap(), 2.5);
    let mut changes = client.observe::<f64>("gain").await.expect("an SSE stream");
    client.write("gain", &3.5).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(5), changes.next())
        .await
        .expect("a change within 5 s")
        .expect("the stream is open")
        .expect("a value");
    assert!(seen == 2.5 || seen == 3.5, "{seen}");
    let count: i64 = client
        .invoke("increment", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(count, 1);
    // Without the token, the same client's handle is refused.
    let anonymous = ThingClient::from_url(&url).await;
    assert!(anonymous.is_err());
    drop(changes);
    server.shutdown().await;
}
