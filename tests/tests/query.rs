//! The query string on a real server: every route that reads one decodes it the one way (as a
//! form: `+` a space, `%XX` a byte) and answers a bad escape, or bytes that aren't UTF-8, with a
//! 400 problem; the token check too, for `?access_token=`.

mod support;

use hyper::{Method, StatusCode};
use labthings_server::Tokens;
use support::{Reply, TestServer, demo_server};

/// Each kind of route that reads a query, with `{}` where a parameter's value goes.
const READERS: [(Method, &str); 4] = [
    (Method::GET, "/action_invocations?limit={}"),
    (Method::POST, "/counter/increment?sync={}"),
    (Method::GET, "/camera/preview?fps={}"),
    (Method::GET, "/history/invocations?thing={}"),
];

fn assert_bad_request(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{what}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    let problem = reply.json();
    assert_eq!(problem["status"], 400, "{what}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("query")),
        "{what}: {problem}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_escape_or_bytes_not_utf8_are_a_400_on_every_route_that_reads_a_query() {
    let folder = support::scratch("query-bad-escape");
    let server = TestServer::start(demo_server().settings_folder(&folder)).await;
    for (method, path) in READERS {
        for bad in ["%zz", "1%", "%FF", "%C3%28"] {
            let path = path.replace("{}", bad);
            let reply = server.request(method.clone(), &path, &[], None).await;
            assert_bad_request(&reply, &format!("{method} {path}"));
        }
    }
    assert_eq!(
        server.get("/action_invocations").await.json(),
        serde_json::json!([]),
        "no refused POST started an invocation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_references_routes_read_only_their_own_parameters() {
    // FastAPI reads the parameters a route declares and ignores the rest, however they are
    // spelled: so do the reference's routes here.
    let server = TestServer::start(demo_server()).await;
    let post = server.post("/counter/increment?note=%zz", None).await;
    assert_eq!(post.status, StatusCode::CREATED, "{:?}", post.body);
    let sync = server
        .post("/counter/increment?x=%FF&sync=true", None)
        .await;
    assert_eq!(sync.status, StatusCode::OK, "{:?}", sync.body);
    let page = server.get("/action_invocations?x=%zz&limit=1").await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(page.json().as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn escapes_and_plus_signs_are_decoded_as_a_form_is() {
    let folder = support::scratch("query-decoded");
    let server = TestServer::start(demo_server().settings_folder(&folder)).await;
    // `%74rue` is `true`: the synchronous answer (200, the output) rather than the invocation.
    let sync = server.post("/counter/increment?sync=%74rue", None).await;
    assert_eq!(sync.status, StatusCode::OK, "{:?}", sync.body);
    server.post_and_wait("/counter/increment", None).await;
    // `%31` is `1`: a page of one, and the link to the next.
    let page = server.get("/action_invocations?%6Cimit=%31").await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(page.json().as_array().map(Vec::len), Some(1));
    assert!(page.header("link").is_some_and(|l| l.contains("limit=1")));
    server.flush_history().await;
    let rows = server
        .get("/history/invocations?thing=%63ounter&action=incr%65ment")
        .await;
    assert_eq!(rows.status, StatusCode::OK, "{:?}", rows.body);
    assert_eq!(rows.json().as_array().map(Vec::len), Some(2));
    // `+` is a space: RFC 3339 allows one between date and time; kept as `+`, the time is
    // no time at all (422).
    let since = server
        .get("/history/invocations?thing=counter&since=2000-01-01+00:00:00Z")
        .await;
    assert_eq!(since.status, StatusCode::OK, "{:?}", since.body);
    assert_eq!(since.json().as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_token_that_does_not_decode_is_invalid_request() {
    const TOKEN: &str = "s3cret/+=";
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token(TOKEN))).await;
    let reply = server.get("/counter/count?access_token=s3cret%zz").await;
    assert_bad_request(&reply, "access_token=s3cret%zz");
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer realm="labthings", error="invalid_request""#)
    );
    let encoded = server
        .get("/counter/count?access_token=s3cret%2F%2B%3D")
        .await;
    assert_eq!(encoded.status, StatusCode::OK, "{:?}", encoded.body);
    // The query is looked at only when no carrier before it let the request in.
    let bearer = server
        .request(
            Method::GET,
            "/counter/count?access_token=%zz",
            &[("authorization", &format!("Bearer {TOKEN}"))],
            None,
        )
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{:?}", bearer.body);
}
