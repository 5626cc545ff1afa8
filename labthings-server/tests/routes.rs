//! The route table against the handlers: every route answers exactly the methods its `Allow`
//! list names (`HEAD` with `GET`), and every other method gets 405 with that list; redirects
//! answer every method.

use std::net::SocketAddr;

use labthings_core::prelude::*;
use labthings_server::ThingServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[thing]
struct Probe {
    #[property]
    level: Property<i64>,
    #[property(read_only)]
    serial: Property<String>,
}

#[thing]
impl Probe {
    #[action]
    fn ping(&self) -> bool {
        true
    }
}

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"];

/// Status and `Allow` header of a bodiless request.
async fn send(addr: SocketAddr, method: &str, path: &str) -> (u16, Option<String>, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    let allow = response
        .lines()
        .find_map(|l| l.strip_prefix("allow: "))
        .map(str::to_owned);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, allow, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_route_answers_exactly_its_allowed_methods() {
    let probe = Probe {
        level: Property::new(1),
        serial: Property::new("P-1".into()),
    };
    let server = ThingServer::new()
        .thing("probe", probe)
        .port(0)
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();
    let (status, _, body) = send(addr, "POST", "/probe/ping").await;
    assert_eq!(status, 201, "{body}");
    let invocation: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = invocation["id"].as_str().unwrap().to_owned();

    let routes: Vec<(String, &[&str])> = vec![
        ("/things/".into(), &["GET"]),
        ("/thing_descriptions/".into(), &["GET"]),
        ("/action_invocations".into(), &["GET"]),
        (format!("/action_invocations/{id}"), &["GET", "DELETE"]),
        (format!("/action_invocations/{id}/output"), &["GET"]),
        ("/probe/".into(), &["GET"]),
        ("/probe/level".into(), &["GET", "PUT"]),
        ("/probe/serial".into(), &["GET"]),
        ("/probe/ping".into(), &["GET", "POST"]),
        ("/probe/level/reset".into(), &["POST"]),
    ];
    for (path, allowed) in &routes {
        for method in METHODS {
            let answers =
                allowed.contains(&method) || (method == "HEAD" && allowed.contains(&"GET"));
            let (status, allow, body) = send(addr, method, path).await;
            if answers {
                assert_ne!(status, 405, "{method} {path}: {body}");
            } else {
                assert_eq!(
                    (status, allow.as_deref()),
                    (405, Some(allowed.join(", ").as_str())),
                    "{method} {path}: {body}"
                );
            }
        }
    }
    for path in [
        "/things",
        "/thing_descriptions",
        "/action_invocations/",
        "/probe",
    ] {
        for method in METHODS {
            let (status, _, body) = send(addr, method, path).await;
            assert_eq!(status, 307, "{method} {path}: {body}");
        }
    }
    for path in [
        "/nope",
        "/probe/nope",
        "/probe/serial/reset",
        "/probe/level/reset/x",
    ] {
        let (status, _, body) = send(addr, "GET", path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    server.shutdown().await;
}
