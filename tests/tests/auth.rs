//! Bearer tokens on a real server: every route, method and protocol (HTTP, Server-Sent Events,
//! the WebSocket handshake, `/.well-known/wot`) with a missing, a wrong and a right token in
//! each carrier; the 401's shape; CORS with credentials; the TDs' security; and the Rust
//! client with `.token(..)`.

mod support;

use std::net::SocketAddr;

use hyper::{Method, StatusCode};
use labthings_server::{Cors, Tokens};
use serde_json::{Value, json};
use support::{Reply, TestServer, demo_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TOKEN: &str = "correct-horse-battery-staple";
const WRONG: &str = "wrong-horse-battery-staple";
const ORIGIN: &str = "http://ui.example";

async fn secured() -> TestServer {
    TestServer::start(
        demo_server()
            .tokens(Tokens::new().with_token(TOKEN))
            .cors(Cors::Origins(vec![ORIGIN.into()])),
    )
    .await
}

/// How a request carries its token.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    None,
    Header(&'static str),
    Cookie(&'static str),
    Query(&'static str),
}

impl Carrier {
    fn headers(self) -> Vec<(&'static str, String)> {
        match self {
            Carrier::Header(token) => vec![("authorization", format!("Bearer {token}"))],
            Carrier::Cookie(token) => vec![("cookie", format!("theme=dark; lt_token={token}"))],
            Carrier::None | Carrier::Query(_) => vec![],
        }
    }

    fn path(self, path: &str) -> String {
        match self {
            Carrier::Query(token) => {
                let joiner = if path.contains('?') { '&' } else { '?' };
                format!("{path}{joiner}access_token={token}")
            }
            _ => path.to_owned(),
        }
    }
}

async fn send(
    server: &TestServer,
    carrier: Carrier,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let mut headers = carrier.headers();
    headers.push(("content-type", "application/json".into()));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    server
        .request(method, &carrier.path(path), &headers, body)
        .await
}

fn assert_refused(reply: &Reply, invalid: bool, what: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
    let challenge = if invalid {
        r#"Bearer realm="labthings", error="invalid_token""#
    } else {
        r#"Bearer realm="labthings""#
    };
    assert_eq!(reply.header("www-authenticate"), Some(challenge), "{what}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    if what.starts_with("HEAD") {
        assert!(reply.body.is_empty(), "{what}");
        return;
    }
    let body = reply.json();
    assert_eq!(body["status"], 401, "{what}");
    assert_eq!(body["title"], "Unauthorized", "{what}");
    assert_eq!(
        body["detail"], "A valid bearer token is required.",
        "{what}"
    );
    let text = String::from_utf8_lossy(&reply.body);
    assert!(!text.contains(TOKEN) && !text.contains(WRONG), "{what}");
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
}

/// Every HTTP route the demo serves, with the status a valid token gets.
fn routes() -> Vec<(Method, &'static str, Option<&'static str>, StatusCode)> {
    let unknown_invocation = "/action_invocations/00000000-0000-4000-8000-000000000000";
    vec![
        (Method::GET, "/things/", None, StatusCode::OK),
        (Method::GET, "/thing_descriptions/", None, StatusCode::OK),
        (Method::GET, "/things", None, StatusCode::TEMPORARY_REDIRECT),
        (Method::GET, "/counter/", None, StatusCode::OK),
        (Method::HEAD, "/counter/", None, StatusCode::OK),
        (
            Method::GET,
            "/counter",
            None,
            StatusCode::TEMPORARY_REDIRECT,
        ),
        (Method::GET, "/counter/gain", None, StatusCode::OK),
        (
            Method::PUT,
            "/counter/gain",
            Some("2.5"),
            StatusCode::CREATED,
        ),
        (
            Method::POST,
            "/counter/increment",
            None,
            StatusCode::CREATED,
        ),
        (Method::GET, "/counter/increment", None, StatusCode::OK),
        (Method::GET, "/action_invocations", None, StatusCode::OK),
        (Method::GET, unknown_invocation, None, StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            unknown_invocation,
            None,
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/.well-known/wot", None, StatusCode::OK),
        (Method::HEAD, "/.well-known/wot", None, StatusCode::OK),
        (
            Method::GET,
            "/blob/00000000-0000-4000-8000-000000000000",
            None,
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/no/such/route", None, StatusCode::NOT_FOUND),
        (
            Method::POST,
            "/counter/",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_needs_a_token_in_any_carrier() {
    let server = secured().await;
    for (method, path, body, expected) in routes() {
        let what = format!("{method} {path}");
        let missing = send(&server, Carrier::None, method.clone(), path, body).await;
        assert_refused(&missing, false, &format!("{what} without a token"));
        for wrong in [
            Carrier::Header(WRONG),
            Carrier::Cookie(WRONG),
            Carrier::Query(WRONG),
        ] {
            let reply = send(&server, wrong, method.clone(), path, body).await;
            assert_refused(&reply, true, &format!("{what} with {wrong:?}"));
        }
        for right in [
            Carrier::Header(TOKEN),
            Carrier::Cookie(TOKEN),
            Carrier::Query(TOKEN),
        ] {
            let reply = send(&server, right, method.clone(), path, body).await;
            assert_eq!(reply.status, expected, "{what} with {right:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_schemes_and_malformed_headers_are_refused() {
    let server = secured().await;
    for value in [
        format!("Basic {TOKEN}"),
        TOKEN.to_owned(),
        "Bearer".to_owned(),
        format!("Bearer {TOKEN}x"),
    ] {
        let reply = server
            .request(Method::GET, "/things/", &[("authorization", &value)], None)
            .await;
        assert_refused(&reply, true, &value);
    }
    let empty_query = server
        .request(Method::GET, "/things/?access_token=", &[], None)
        .await;
    assert_refused(&empty_query, true, "an empty access_token");
}

/// The status line and headers of a streaming response (its body never ends).
async fn stream_head(addr: SocketAddr, path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("a response head within 5 s")
            .unwrap();
        if read == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_sent_events_need_a_token() {
    let server = secured().await;
    for path in [
        "/counter/gain",
        "/counter/properties",
        "/stage/events",
        "/counter/increment",
    ] {
        let head = stream_head(server.addr, path, "").await;
        assert!(head.starts_with("HTTP/1.1 401"), "{path}: {head}");
        let head = stream_head(server.addr, &format!("{path}?access_token={WRONG}"), "").await;
        assert!(
            head.starts_with("HTTP/1.1 401") && head.contains("invalid_token"),
            "{path}: {head}"
        );
        for carrier in [format!("{path}?access_token={TOKEN}"), path.to_owned()] {
            let headers = if carrier == path {
                format!("Cookie: lt_token={TOKEN}\r\n")
            } else {
                String::new()
            };
            let head = stream_head(server.addr, &carrier, &headers).await;
            assert!(head.starts_with("HTTP/1.1 200"), "{carrier}: {head}");
            assert!(head.contains("text/event-stream"), "{carrier}: {head}");
        }
        let head = stream_head(
            server.addr,
            path,
            &format!("Authorization: Bearer {TOKEN}\r\n"),
        )
        .await;
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_websocket_is_checked_before_the_upgrade() {
    let server = secured().await;
    let url = format!("ws://{}/counter/ws", server.addr);
    let status = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Ok(_) => StatusCode::SWITCHING_PROTOCOLS,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status(),
        Err(other) => panic!("unexpected handshake error: {other}"),
    };
    let no_token = tokio_tungstenite::connect_async(url.clone()).await;
    assert_eq!(status(no_token.map(|_| ())), StatusCode::UNAUTHORIZED);
    let wrong = tokio_tungstenite::connect_async(format!("{url}?access_token={WRONG}")).await;
    assert_eq!(status(wrong.map(|_| ())), StatusCode::UNAUTHORIZED);
    let by_query = tokio_tungstenite::connect_async(format!("{url}?access_token={TOKEN}")).await;
    assert_eq!(
        status(by_query.map(|_| ())),
        StatusCode::SWITCHING_PROTOCOLS
    );
    for (name, value) in [
        ("authorization", format!("Bearer {TOKEN}")),
        ("cookie", format!("lt_token={TOKEN}")),
    ] {
        let mut request = url.clone().into_client_request().unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
        let result = tokio_tungstenite::connect_async(request).await;
        assert_eq!(
            status(result.map(|_| ())),
            StatusCode::SWITCHING_PROTOCOLS,
            "{name}"
        );
    }
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {WRONG}").parse().unwrap());
    let result = tokio_tungstenite::connect_async(request).await;
    assert_eq!(status(result.map(|_| ())), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn preflights_pass_and_only_listed_origins_get_cors_headers() {
    let server = secured().await;
    let preflight = |origin: &'static str| {
        let server = &server;
        async move {
            server
                .request(
                    Method::OPTIONS,
                    "/counter/gain",
                    &[
                        ("origin", origin),
                        ("access-control-request-method", "PUT"),
                        ("access-control-request-headers", "authorization"),
                    ],
                    None,
                )
                .await
        }
    };
    let allowed = preflight(ORIGIN).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        allowed.header("access-control-allow-headers"),
        Some("authorization")
    );
    let other = preflight("http://evil.example").await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(other.header("access-control-allow-origin"), None);

    let auth = format!("Bearer {TOKEN}");
    for (origin, allowed) in [(ORIGIN, true), ("http://evil.example", false)] {
        let reply = server
            .request(
                Method::GET,
                "/counter/gain",
                &[("origin", origin), ("authorization", &auth)],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            allowed.then_some(origin),
            "{origin}"
        );
    }
    // Refusals carry the CORS headers too, so a listed page can read the 401.
    let refused = server
        .request(Method::GET, "/counter/gain", &[("origin", ORIGIN)], None)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_without_listed_origins_allow_no_cross_origin_use() {
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token(TOKEN))).await;
    let reply = server
        .request(
            Method::GET,
            "/counter/gain",
            &[
                ("origin", "http://any.example"),
                ("authorization", &format!("Bearer {TOKEN}")),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

fn security(td: &Value) -> (Value, Value) {
    (td["securityDefinitions"].clone(), td["security"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn descriptions_declare_bearer_when_tokens_are_on_and_nosec_otherwise() {
    let server = secured().await;
    let auth = format!("Bearer {TOKEN}");
    let get = |path: &'static str| {
        let auth = auth.clone();
        let server = &server;
        async move {
            server
                .request(Method::GET, path, &[("authorization", &auth)], None)
                .await
                .json()
        }
    };
    let (definitions, required) = security(&get("/counter/").await);
    assert_eq!(required, json!("bearer"));
    assert_eq!(definitions["bearer"]["scheme"], "bearer");
    assert_eq!(definitions["bearer"]["in"], "header");
    assert_eq!(definitions["bearer"]["name"], "Authorization");
    let all = get("/thing_descriptions/").await;
    assert_eq!(security(&all["stage"]).1, json!("bearer"));
    let directory = get("/.well-known/wot").await;
    assert_eq!(security(&directory).1, json!("bearer"));

    let open = TestServer::demo().await;
    let (definitions, required) = security(&open.get("/counter/").await.json());
    assert_eq!(required, json!("no_security"));
    assert_eq!(definitions["no_security"]["scheme"], "nosec");
    assert_eq!(
        security(&open.get("/.well-known/wot").await.json()).1,
        json!("no_security")
    );
    assert_eq!(open.get("/counter/").await.header("referrer-policy"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_with_no_token_yet_refuses_everyone() {
    let server = TestServer::start(demo_server().tokens(Tokens::new())).await;
    let reply = server
        .request(
            Method::GET,
            "/things/",
            &[("authorization", "Bearer anything")],
            None,
        )
        .await;
    assert_refused(&reply, true, "no tokens configured");
}

#[tokio::test(flavor = "multi_thread")]
async fn digests_in_a_tokens_file_open_the_api_and_reloads_replace_them() {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tokens-reload-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("tokens");
    // sha256("abc"), so the file holds no secret.
    std::fs::write(
        &file,
        "# digests only\nsha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad laptop\n",
    )
    .unwrap();
    let server = demo_server()
        .port(0)
        .tokens(Tokens::from_file(&file).unwrap())
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();
    let get = |token: &'static str| async move {
        support::request(
            addr,
            Method::GET,
            "/things/",
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
        .status
    };
    assert_eq!(get("abc").await, StatusCode::OK);
    assert_eq!(get("new").await, StatusCode::UNAUTHORIZED);
    std::fs::write(&file, "new\n").unwrap();
    assert_eq!(server.reload_tokens().unwrap(), 1);
    assert_eq!(get("new").await, StatusCode::OK);
    assert_eq!(get("abc").await, StatusCode::UNAUTHORIZED);
    std::fs::write(&file, "sha256:nothex\n").unwrap();
    let error = server.reload_tokens().unwrap_err().to_string();
    assert!(error.contains("line 1"), "{error}");
    assert_eq!(
        get("new").await,
        StatusCode::OK,
        "a bad file keeps the old tokens"
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_links_every_thing_and_reads_them_all() {
    let server = TestServer::demo().await;
    let reply = server.get("/.well-known/wot").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/td+json"));
    let td = reply.json();
    assert_eq!(td["@type"], "discovery:ThingDirectory");
    assert_eq!(td["base"], format!("http://{}/", server.addr));
    let links: Vec<(String, String, String)> = td["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["rel"].as_str().unwrap().to_owned(),
                l["href"].as_str().unwrap().to_owned(),
                l["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names = ["counter", "stage", "camera", "lab"];
    assert_eq!(links.len(), names.len());
    for ((rel, href, kind), name) in links.iter().zip(names) {
        assert_eq!(
            (rel.as_str(), kind.as_str()),
            ("item", "application/td+json")
        );
        assert_eq!(href, &format!("/{name}/"));
        assert_eq!(server.get(href).await.status, StatusCode::OK);
    }
    let form = &td["properties"]["things"]["forms"][0];
    assert_eq!(form["op"], json!(["readproperty"]));
    let all = server.get(form["href"].as_str().unwrap()).await.json();
    assert_eq!(all.as_object().unwrap().len(), names.len());
    assert_eq!(
        server
            .request(Method::POST, "/.well-known/wot", &[], None)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_is_at_the_root_whatever_the_prefix() {
    let server = TestServer::start(demo_server().api_prefix("/api")).await;
    let td = server.get("/.well-known/wot").await.json();
    assert_eq!(td["links"][0]["href"], "/api/counter/");
    assert_eq!(
        td["properties"]["things"]["forms"][0]["href"],
        "/api/thing_descriptions/"
    );
    assert_eq!(
        server.get("/api/.well-known/wot").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_downloads_need_a_token_in_any_carrier() {
    let server = secured().await;
    let started = send(
        &server,
        Carrier::Header(TOKEN),
        Method::POST,
        "/lab/blob",
        None,
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let href = loop {
        let invocation = send(
            &server,
            Carrier::Header(TOKEN),
            Method::GET,
            &format!("/action_invocations/{id}"),
            None,
        )
        .await
        .json();
        if let Some(href) = invocation["output"]["href"].as_str() {
            break href.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "{invocation}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let path = href
        .strip_prefix(&format!("http://{}", server.addr))
        .unwrap()
        .to_owned();
    for (carrier, expected) in [
        (Carrier::None, StatusCode::UNAUTHORIZED),
        (Carrier::Query(WRONG), StatusCode::UNAUTHORIZED),
        (Carrier::Header(TOKEN), StatusCode::OK),
        (Carrier::Cookie(TOKEN), StatusCode::OK),
        (Carrier::Query(TOKEN), StatusCode::OK),
    ] {
        let reply = send(&server, carrier, Method::GET, &path, None).await;
        assert_eq!(reply.status, expected, "{carrier:?}");
        if expected == StatusCode::OK {
            assert_eq!(reply.body.len(), 1000, "{carrier:?}");
        }
    }
    let output = send(
        &server,
        Carrier::None,
        Method::GET,
        &format!("/action_invocations/{id}/output"),
        None,
    )
    .await;
    assert_refused(&output, false, "the invocation's output");
}

#[tokio::test]
async fn a_cookie_carried_change_must_come_from_a_trusted_page() {
    let server = secured().await;
    let own = format!("http://{}", server.addr);
    // Another port of the same host: the browser would attach the cookie (SameSite doesn't
    // separate ports), and a text/plain POST needs no preflight.
    let other_port = "http://127.0.0.1:1";
    let post = |headers: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            server
                .request(Method::POST, "/counter/increment", &headers, Some("{}"))
                .await
        }
    };
    let cookie = ("cookie", format!("lt_token={TOKEN}"));
    let refused = post(vec![cookie.clone(), ("origin", other_port.into())]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["title"], "CrossSiteRequest");
    let refused = post(vec![cookie.clone(), ("sec-fetch-site", "same-site".into())]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // From the server's own pages, from a listed CORS origin, from a client that is no
    // browser, or with the token in the header: accepted.
    for headers in [
        vec![cookie.clone(), ("origin", own.clone())],
        vec![cookie.clone(), ("sec-fetch-site", "same-origin".into())],
        vec![cookie.clone(), ("origin", ORIGIN.into())],
        vec![cookie.clone()],
        vec![
            ("authorization", format!("Bearer {TOKEN}")),
            ("origin", other_port.into()),
        ],
    ] {
        let reply = post(headers.clone()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{headers:?}");
    }
    // Reads with the cookie stay open to any page (CORS decides what the page may see).
    let read = server
        .request(
            Method::GET,
            "/counter/count",
            &[("cookie", &cookie.1), ("origin", other_port)],
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
}
