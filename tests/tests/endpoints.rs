//! Custom endpoints (`#[endpoint]`) on a real server: the request reaches the method whole
//! (method, headers, query, body), every kind of response comes back as built (JSON, bytes with
//! the declared type, text, a blob, a stream), methods share a path (405 with `Allow` for the
//! rest), errors and panics are 500 and the server lives on, endpoints stay out of the TD, and
//! tokens guard them like every route.

mod support;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::{Method, StatusCode};
use labthings_core::prelude::*;
use labthings_core::{EndpointMetadata, Thing};
use labthings_server::{ThingServer, Tokens};
use serde_json::{Value, json};
use support::{Reply, TestServer};

/// A Thing with one endpoint of each shape.
#[thing]
pub struct Exporter {
    /// Rows exported so far.
    #[property(read_only)]
    rows: Property<u64>,
    calls: AtomicU64,
}

#[thing]
impl Exporter {
    /// Echo the request.
    ///
    /// Answers with what arrived, as JSON.
    #[endpoint(get, path = "echo")]
    fn echo_get(&self, request: EndpointRequest) -> EndpointResponse {
        self.calls.fetch_add(1, Ordering::SeqCst);
        EndpointResponse::json(&json!({
            "method": request.method().as_str(),
            "query": request.query_pairs(),
            "raw_query": request.query_string(),
            "client": request.header("x-client"),
        }))
        .with_header("x-served-by", "echo_get")
    }

    /// Store a JSON document.
    #[endpoint(post, path = "echo")]
    fn echo_post(&self, request: EndpointRequest) -> Result<EndpointResponse, serde_json::Error> {
        let document: Value = request.json()?;
        Ok(EndpointResponse::json(&json!({
            "received": document,
            "bytes": request.body().len(),
            "content_type": request.header("content-type"),
        }))
        .with_status(StatusCode::CREATED))
    }

    /// A CSV export, as bytes of the declared type.
    #[endpoint(get, path = "export/rows.csv", content_type = "text/csv")]
    fn csv(&self) -> Vec<u8> {
        let _ = self.rows.update(|n| *n += 2);
        b"x,y\n1,2\n3,4\n".to_vec()
    }

    /// Raw bytes without a declared type.
    #[endpoint(get)]
    fn raw(&self) -> Vec<u8> {
        vec![0, 1, 2, 255]
    }

    /// Streamed in chunks from a producer thread.
    #[endpoint(get, path = "chunks")]
    fn chunks(&self, request: EndpointRequest) -> EndpointResponse {
        let count: u32 = request
            .query("count")
            .and_then(|n| n.parse().ok())
            .unwrap_or(3);
        let (response, sender) = EndpointResponse::channel("text/plain", 1);
        std::thread::spawn(move || {
            for i in 0..count {
                if sender.send(format!("chunk {i}\n")).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        response
    }

    /// A blob's data, served like a download.
    #[endpoint(get, path = "report.txt")]
    fn report(&self) -> Blob {
        Blob::new("text/plain", &b"hello, blob"[..])
    }

    /// Computed on the async runtime.
    #[endpoint(get)]
    async fn status(&self) -> Value {
        tokio::time::sleep(Duration::from_millis(1)).await;
        json!({"calls": self.calls.load(Ordering::SeqCst)})
    }

    /// Forget everything: nothing to send back.
    #[endpoint(delete, path = "echo")]
    fn clear(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }

    /// Always fails.
    #[endpoint(get)]
    fn broken(&self) -> Result<String, io::Error> {
        Err(io::Error::other("the disk is on fire"))
    }

    /// Always panics.
    #[endpoint(post)]
    fn explode(&self) -> String {
        panic!("kaboom")
    }

    /// The same data, made by a POST (an export, say).
    #[endpoint(post, path = "report.txt")]
    fn make_report(&self) -> Blob {
        self.report()
    }
}

fn exporter() -> Exporter {
    Exporter {
        rows: Property::new(0),
        calls: AtomicU64::new(0),
    }
}

async fn server() -> TestServer {
    TestServer::start(ThingServer::new().thing("exporter", exporter())).await
}

#[test]
fn endpoints_are_listed_with_their_documentation() {
    let endpoints = exporter().endpoints();
    let names: Vec<&str> = endpoints.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "echo_get",
            "echo_post",
            "csv",
            "raw",
            "chunks",
            "report",
            "status",
            "clear",
            "broken",
            "explode",
            "make_report"
        ]
    );
    assert_eq!(
        endpoints[0],
        EndpointMetadata {
            name: "echo_get",
            method: EndpointMethod::Get,
            path: "echo",
            title: Some("Echo the request."),
            description: Some("Echo the request.\n\nAnswers with what arrived, as JSON."),
            content_type: None,
            is_async: false,
            uses_global_lock: true,
        }
    );
    assert_eq!(
        (endpoints[2].path, endpoints[2].content_type),
        ("export/rows.csv", Some("text/csv"))
    );
    assert_eq!(
        (endpoints[3].path, endpoints[3].method),
        ("raw", EndpointMethod::Get)
    );
    assert!(endpoints[6].is_async && !endpoints[6].uses_global_lock);
}

#[tokio::test]
async fn the_request_arrives_whole_and_headers_go_both_ways() {
    let server = server().await;
    let reply = server
        .request(
            Method::GET,
            "/exporter/echo?quality=80&name=a+b%21&quality=10",
            &[("x-client", "pytest")],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-served-by"), Some("echo_get"));
    assert_eq!(
        reply.json(),
        json!({
            "method": "GET",
            "query": [["quality", "80"], ["name", "a b!"], ["quality", "10"]],
            "raw_query": "quality=80&name=a+b%21&quality=10",
            "client": "pytest",
        })
    );

    let posted = server
        .post("/exporter/echo", Some(r#"{"exposure": 12.5}"#))
        .await;
    assert_eq!(posted.status, StatusCode::CREATED);
    assert_eq!(
        posted.json(),
        json!({"received": {"exposure": 12.5}, "bytes": 18, "content_type": "application/json"})
    );

    let cleared = server.delete("/exporter/echo").await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert!(cleared.body.is_empty());
    assert_eq!(
        server.get("/exporter/status").await.json(),
        json!({"calls": 0})
    );
}

#[tokio::test]
async fn bytes_blobs_and_streams_come_back_as_built() {
    let server = server().await;
    let csv = server.get("/exporter/export/rows.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv"));
    assert_eq!(&csv.body[..], b"x,y\n1,2\n3,4\n");
    // The endpoint ran on the Thing: the property it changed says so.
    assert_eq!(server.get("/exporter/rows").await.json(), json!(2));

    let raw = server.get("/exporter/raw").await;
    assert_eq!(raw.header("content-type"), Some("application/octet-stream"));
    assert_eq!(&raw.body[..], &[0, 1, 2, 255]);

    let report = server.get("/exporter/report.txt").await;
    assert_eq!(report.header("content-type"), Some("text/plain"));
    assert_eq!(&report.body[..], b"hello, blob");
    let part = server
        .request(
            Method::GET,
            "/exporter/report.txt",
            &[("range", "bytes=7-10")],
            None,
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&part.body[..], b"blob");
    // A POST's answer is never a 304 or a part (RFC 9110 §13.1.2, §14.2): the whole blob.
    let made = server
        .request(
            Method::POST,
            "/exporter/report.txt",
            &[("range", "bytes=7-10"), ("if-none-match", "*")],
            None,
        )
        .await;
    assert_eq!(made.status, StatusCode::OK);
    assert_eq!(&made.body[..], b"hello, blob");

    let streamed = server.get("/exporter/chunks?count=4").await;
    assert_eq!(streamed.status, StatusCode::OK);
    assert_eq!(streamed.header("content-type"), Some("text/plain"));
    assert_eq!(
        streamed.header("content-length"),
        None,
        "a stream is chunked"
    );
    assert_eq!(
        String::from_utf8_lossy(&streamed.body),
        "chunk 0\nchunk 1\nchunk 2\nchunk 3\n"
    );

    let head = server
        .request(Method::HEAD, "/exporter/export/rows.csv", &[], None)
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("12"));
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn methods_share_a_path_and_the_others_get_405() {
    let server = server().await;
    let reply = server.put("/exporter/echo", "{}").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET, POST, DELETE"));
    assert_eq!(reply.json(), json!({"detail": "Method Not Allowed"}));
    let reply = server.get("/exporter/explode").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("POST"));
    for missing in [
        "/exporter/export",
        "/exporter/export/",
        "/exporter/echo/x",
        "/nobody/echo",
    ] {
        assert_eq!(
            server.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn errors_and_panics_are_500_and_the_server_lives_on() {
    let server = server().await;
    let broken = server.get("/exporter/broken").await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        broken.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(broken.json()["detail"], "the disk is on fire");
    assert_eq!(broken.json()["title"], "Error");

    let bad_json = server.post("/exporter/echo", Some("{not json")).await;
    assert_eq!(bad_json.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        bad_json.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("key must be a string")),
        "{bad_json:?}"
    );

    for _ in 0..3 {
        let exploded = server.post("/exporter/explode", None).await;
        assert_eq!(exploded.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(exploded.json()["title"], "Panic");
        assert_eq!(exploded.json()["detail"], "the endpoint `explode` panicked");
    }
    assert_eq!(server.get("/exporter/status").await.status, StatusCode::OK);
}

#[tokio::test]
async fn endpoints_are_not_in_the_thing_description() {
    let server = server().await;
    let td = server.get("/exporter/").await.json();
    let text = td.to_string();
    for path in [
        "echo",
        "rows.csv",
        "raw",
        "chunks",
        "report.txt",
        "broken",
        "explode",
    ] {
        assert!(!text.contains(path), "`{path}` in the TD: {td}");
    }
    assert!(td["properties"]["rows"].is_object(), "{td}");
    assert_eq!(td["actions"], json!({}));
}

#[tokio::test]
async fn request_bodies_are_bounded_by_the_server_limit() {
    let server = TestServer::start(
        ThingServer::new()
            .thing("exporter", exporter())
            .body_limit(16),
    )
    .await;
    let fits = server.post("/exporter/echo", Some("[1, 2, 3]")).await;
    assert_eq!(fits.status, StatusCode::CREATED);
    let too_big = server
        .post(
            "/exporter/echo",
            Some(r#"{"far": "too long for sixteen bytes"}"#),
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tokens_guard_endpoints_like_every_route() {
    const TOKEN: &str = "endpoint-token";
    let server = TestServer::start(
        ThingServer::new()
            .thing("exporter", exporter())
            .tokens(Tokens::new().with_token(TOKEN)),
    )
    .await;
    let refused: Reply = server.get("/exporter/echo").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {TOKEN}");
    let allowed = server
        .request(
            Method::GET,
            "/exporter/echo",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    let by_query = server
        .get(&format!("/exporter/report.txt?access_token={TOKEN}"))
        .await;
    assert_eq!(&by_query.body[..], b"hello, blob");
}

// The demo camera: its snapshot endpoint and its persisted frame rate.

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9])
}

#[tokio::test]
async fn the_camera_snapshot_is_a_jpeg_at_the_quality_asked_for() {
    let server = TestServer::start(
        ThingServer::new().thing("camera", labthings_examples::MockCamera::new(320, 240)),
    )
    .await;
    let snapshot = server.get("/camera/snapshot.jpg").await;
    assert_eq!(snapshot.status, StatusCode::OK);
    assert_eq!(snapshot.header("content-type"), Some("image/jpeg"));
    assert_eq!(snapshot.header("cache-control"), Some("no-store"));
    assert!(is_jpeg(&snapshot.body), "{:?}", &snapshot.body[..8]);

    let low = server.get("/camera/snapshot.jpg?quality=5").await;
    let high = server.get("/camera/snapshot.jpg?quality=100").await;
    assert!(is_jpeg(&low.body) && is_jpeg(&high.body));
    assert!(
        low.body.len() * 2 < high.body.len(),
        "quality 5: {} bytes, quality 100: {} bytes",
        low.body.len(),
        high.body.len()
    );
    for bad in ["0", "101", "high", ""] {
        let reply = server
            .get(&format!("/camera/snapshot.jpg?quality={bad}"))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(
            reply.json(),
            json!({"detail": "`quality` must be a whole number from 1 to 100"})
        );
    }
    let td = server.get("/camera/").await.json();
    assert!(hrefs(&td).iter().all(|h| !h.contains("snapshot")), "{td}");
}

/// Every `href` in a TD.
fn hrefs(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("href", Value::String(href)) => vec![href.clone()],
                _ => hrefs(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(hrefs).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_camera_frame_rate_is_a_persisted_setting() {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("camera-frame-rate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let serve = || {
        ThingServer::new()
            .thing("camera", labthings_examples::MockCamera::new(64, 48))
            .settings_folder(&folder)
    };
    let server = TestServer::start(serve()).await;
    assert_eq!(server.get("/camera/frame_rate").await.json(), json!(15.0));
    let td = server.get("/camera/").await.json();
    assert_eq!(td["properties"]["frame_rate"]["maximum"], json!(60));
    assert_eq!(
        server.put("/camera/frame_rate", "61").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        server.put("/camera/frame_rate", "30").await.status,
        StatusCode::CREATED
    );
    let file = folder.join("camera/Settings-MockCamera.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let saved: Value = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        if saved["frame_rate"] == json!(30.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not saved: {saved}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(server);

    let restarted = TestServer::start(serve()).await;
    assert_eq!(
        restarted.get("/camera/frame_rate").await.json(),
        json!(30.0)
    );
}
