//! A server without tokens and the web pages its operator opens: DNS rebinding (the `Host`
//! check) and requests that other sites' pages make (the cross-site check), on a real server.

mod support;

use hyper::{Method, StatusCode};
use labthings_server::{Cors, Tokens};
use support::{Reply, TestServer, demo_server};

/// A page on another port of the same host (Jupyter's, say): same-site, not same-origin.
const OTHER_PAGE: &str = "http://127.0.0.1:1";

async fn send(server: &TestServer, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    let body = (method != Method::GET).then_some("{}");
    let mut all = vec![("content-type", "text/plain")];
    all.extend_from_slice(headers);
    server.request(method, path, &all, body).await
}

fn assert_problem(reply: &Reply, status: StatusCode, title: &str, flag: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(body["title"], title);
    assert!(body["detail"].as_str().unwrap().contains(flag), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_tokens_only_known_host_names_are_answered() {
    let server = TestServer::start(demo_server().allowed_host("lab.example.org")).await;
    let port = server.addr.port();
    let get = |host: String| {
        let server = &server;
        async move { send(server, Method::GET, "/counter/count", &[("host", &host)]).await }
    };
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("LAB.example.org:{port}"),
    ] {
        assert_eq!(get(host.clone()).await.status, StatusCode::OK, "{host}");
    }
    // A page whose name was rebound to 127.0.0.1: refused before anything, preflights too.
    let rebound = get(format!("rebind.example:{port}")).await;
    assert_problem(
        &rebound,
        StatusCode::MISDIRECTED_REQUEST,
        "MisdirectedRequest",
        "--allowed-host",
    );
    let preflight = send(
        &server,
        Method::OPTIONS,
        "/counter/increment",
        &[
            ("host", "rebind.example"),
            ("origin", "http://rebind.example"),
            ("access-control-request-method", "POST"),
        ],
    )
    .await;
    assert_eq!(preflight.status, StatusCode::MISDIRECTED_REQUEST);
    let post = send(
        &server,
        Method::POST,
        "/counter/increment",
        &[("host", "rebind.example")],
    )
    .await;
    assert_eq!(post.status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(server.get("/counter/count").await.json(), 0, "nothing ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tokens_the_token_guards_every_host_name() {
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token("t0ken"))).await;
    let reply = send(
        &server,
        Method::GET,
        "/counter/count",
        &[
            ("host", "lab.example.org"),
            ("authorization", "Bearer t0ken"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_tokens_other_sites_pages_may_read_but_not_change() {
    let server = TestServer::demo().await;
    let own = format!("http://{}", server.addr);
    // A text/plain POST needs no preflight: the browser sends it from any page.
    let refused = send(
        &server,
        Method::POST,
        "/counter/increment",
        &[("origin", OTHER_PAGE)],
    )
    .await;
    assert_problem(
        &refused,
        StatusCode::FORBIDDEN,
        "CrossSiteRequest",
        "--cors-origin",
    );
    // Other sites: by Sec-Fetch-Site alone, a PUT, a WebSocket.
    let refused = send(
        &server,
        Method::POST,
        "/counter/increment",
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let put = server
        .request(
            Method::PUT,
            "/counter/count",
            &[("content-type", "application/json"), ("origin", OTHER_PAGE)],
            Some("5"),
        )
        .await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    let ws = send(
        &server,
        Method::GET,
        "/counter/ws",
        &[
            ("origin", OTHER_PAGE),
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    .await;
    assert_eq!(ws.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.get("/counter/count").await.json(),
        0,
        "nothing changed"
    );

    // Reads stay open to any origin, with CORS headers as the reference sends them.
    let read = send(
        &server,
        Method::GET,
        "/counter/count",
        &[("origin", OTHER_PAGE)],
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), Some(OTHER_PAGE));
    // The server's own pages, and clients that are no browser (no Origin), change things.
    for headers in [
        vec![("origin", own.as_str())],
        vec![("sec-fetch-site", "same-origin"), ("origin", own.as_str())],
        vec![],
    ] {
        let started = send(&server, Method::POST, "/counter/increment", &headers).await;
        assert_eq!(started.status, StatusCode::CREATED, "{headers:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cors_origin_may_change_things() {
    let listed = "http://lab-ui.example";
    let server = TestServer::start(demo_server().cors(Cors::Origins(vec![listed.into()]))).await;
    let started = send(
        &server,
        Method::POST,
        "/counter/increment",
        &[("origin", listed), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let refused = send(
        &server,
        Method::POST,
        "/counter/increment",
        &[("origin", OTHER_PAGE)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
