//! Blobs over HTTP, black-box: actions of the test-only `lab` Thing return blobs of known
//! bytes (`blob_bytes`), in memory (`blob`) and in a temporary file (`blob_file`).

mod support;

use std::time::Duration;

use hyper::{Method, StatusCode};
use labthings_tests::{blob_bytes, blob_file_path};
use serde_json::{Value, json};
use support::{Reply, TestServer, demo_server};

const LINK_DESCRIPTION: &str = "The output from this action is not serialised to JSON, so it \
must be retrieved as a file. This link will return the file.";

/// Run `action` and return its invocation, which must have completed.
async fn completed(server: &TestServer, action: &str, body: Option<&str>) -> Value {
    let invocation = server.run_action(action, body).await;
    assert_eq!(invocation["status"], "completed", "{invocation}");
    invocation
}

/// The path of an absolute `href` on `server`.
fn path_of(server: &TestServer, href: &str) -> String {
    href.strip_prefix(&server.url(""))
        .unwrap_or_else(|| panic!("{href} is not on the server"))
        .to_owned()
}

async fn get_with(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    server.request(Method::GET, path, headers, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_output_is_a_link_to_its_bytes() {
    // `example.org` is listed: the href follows the Host the client used.
    let server = TestServer::start(demo_server().allowed_host("example.org")).await;
    let invocation = completed(&server, "/lab/blob", None).await;
    let output = &invocation["output"];
    let href = output["href"].as_str().expect("href");
    assert!(
        href.starts_with(&server.url("/blob/")),
        "absolute, from the request's Host: {href}"
    );
    assert_eq!(
        output,
        &json!({"href": href, "media_type": "application/octet-stream", "rel": "output",
                "description": LINK_DESCRIPTION})
    );

    let path = path_of(&server, href);
    let download = server.get(&path).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(
        download.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(download.header("content-length"), Some("1000"));
    assert_eq!(download.header("accept-ranges"), Some("bytes"));
    assert_eq!(&download.body[..], &blob_bytes(1000)[..]);
    let etag = download.header("etag").expect("an ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );

    // Unchanged: 304, no body.
    let again = get_with(&server, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = get_with(&server, &path, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(other.status, StatusCode::OK);

    // HEAD: the headers of a GET, no body.
    let head = server.request(Method::HEAD, &path, &[], None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("1000"));
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    assert!(head.body.is_empty());

    // Another Host, another href.
    let id = invocation["id"].as_str().unwrap();
    let seen = server
        .request(
            Method::GET,
            &format!("/action_invocations/{id}"),
            &[("host", "example.org:8080")],
            None,
        )
        .await
        .json();
    let blob_id = href.rsplit('/').next().unwrap();
    assert_eq!(
        seen["output"]["href"],
        format!("http://example.org:8080/blob/{blob_id}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn single_ranges_are_served_and_unsatisfiable_ones_refused() {
    let server = TestServer::demo().await;
    let invocation = completed(&server, "/lab/blob", None).await;
    let path = path_of(&server, invocation["output"]["href"].as_str().unwrap());
    let bytes = blob_bytes(1000);
    for (range, start, end) in [
        ("bytes=10-19", 10, 20),
        ("bytes=990-", 990, 1000),
        ("bytes=-5", 995, 1000),
        ("bytes=900-5000", 900, 1000),
    ] {
        let part = get_with(&server, &path, &[("range", range)]).await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes {start}-{}/1000", end - 1).as_str())
        );
        assert_eq!(
            part.header("content-length"),
            Some((end - start).to_string().as_str())
        );
        assert_eq!(&part.body[..], &bytes[start..end], "{range}");
    }
    let refused = get_with(&server, &path, &[("range", "bytes=1000-")]).await;
    assert_eq!(refused.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(refused.header("content-range"), Some("bytes */1000"));
    // Several ranges: the whole blob.
    let whole = get_with(&server, &path, &[("range", "bytes=0-1,5-6")]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body.len(), 1000);
    // An `If-Range` naming an old version: the whole blob.
    let stale = get_with(
        &server,
        &path,
        &[("range", "bytes=0-1"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_output_route_answers_with_the_bytes() {
    let server = TestServer::demo().await;
    let invocation = completed(&server, "/lab/blob", None).await;
    let id = invocation["id"].as_str().unwrap();
    let output = server
        .get(&format!("/action_invocations/{id}/output"))
        .await;
    assert_eq!(output.status, StatusCode::OK);
    assert_eq!(
        output.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(&output.body[..], &blob_bytes(1000)[..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_inside_an_output_is_linked_and_kept() {
    let server = TestServer::demo().await;
    let invocation = completed(&server, "/lab/labelled_blob", None).await;
    assert_eq!(invocation["output"][0], "ten bytes");
    let href = invocation["output"][1]["href"].as_str().unwrap();
    assert!(href.starts_with(&server.url("/blob/")), "{href}");
    // The output route answers JSON (the output is not itself a blob), links absolute too.
    let id = invocation["id"].as_str().unwrap();
    let output = server
        .get(&format!("/action_invocations/{id}/output"))
        .await;
    assert_eq!(output.header("content-type"), Some("application/json"));
    assert_eq!(output.json(), invocation["output"]);
    let download = server.get(&path_of(&server, href)).await;
    assert_eq!(download.header("content-type"), Some("text/plain"));
    assert_eq!(&download.body[..], &blob_bytes(10)[..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_ids() {
    let server = TestServer::demo().await;
    let unknown = server
        .get("/blob/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json(), json!({"detail": "Blob not found"}));
    let malformed = server.get("/blob/not-a-uuid").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        malformed.json()["detail"][0]["loc"],
        json!(["path", "blob_id"])
    );
    let post = server
        .post("/blob/00000000-0000-0000-0000-000000000000", None)
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_blob_streams_and_goes_with_its_invocation() {
    let server =
        TestServer::start(support::demo_server().retention(Duration::from_millis(300))).await;
    let invocation = completed(&server, "/lab/blob_file", None).await;
    let id = invocation["id"].as_str().unwrap();
    let file = blob_file_path(id);
    assert!(file.exists());
    assert_eq!(invocation["output"]["media_type"], "image/x-test");
    let path = path_of(&server, invocation["output"]["href"].as_str().unwrap());

    let whole = server.get(&path).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("content-type"), Some("image/x-test"));
    assert_eq!(whole.header("content-length"), Some("150000"));
    assert_eq!(&whole.body[..], &blob_bytes(150_000)[..]);
    assert!(whole.header("etag").is_some());
    // Across the reader's chunk boundary.
    let part = get_with(&server, &path, &[("range", "bytes=65530-65545")]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&part.body[..], &blob_bytes(150_000)[65530..65546]);
    let head = server.request(Method::HEAD, &path, &[], None).await;
    assert_eq!(head.header("content-length"), Some("150000"));
    assert!(head.body.is_empty());

    // The invocation expires (on the timer): the blob and its file go with it.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let gone = server.get(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json(), json!({"detail": "Blob not found"}));
    assert!(!file.exists(), "the temporary file is deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_link_sent_back_as_input_resolves_to_the_blob() {
    let server = TestServer::demo().await;
    let invocation = completed(&server, "/lab/blob", None).await;
    let link = &invocation["output"];
    let sized = completed(
        &server,
        "/lab/blob_size",
        Some(&json!({ "blob": link }).to_string()),
    )
    .await;
    assert_eq!(sized["output"], json!([1000, "application/octet-stream"]));

    let missing = "00000000-0000-0000-0000-000000000000";
    let refused = server
        .post(
            "/lab/blob_size",
            Some(
                &json!({"blob": {"href": format!("http://x/blob/{missing}"),
                                 "media_type": "*/*"}})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let issue = &refused.json()["detail"][0];
    assert_eq!(
        issue["msg"],
        format!("Value error, Blob ID {missing} wasn't found on this server.")
    );
    assert_eq!(issue["type"], "value_error");
    assert_eq!(issue["loc"], json!(["body", "blob"]), "at the parameter");
    assert_eq!(issue["input"]["href"], format!("http://x/blob/{missing}"));
    let no_id = server
        .post(
            "/lab/blob_size",
            Some(r#"{"blob": {"href": "http://x/nothing", "media_type": "*/*"}}"#),
        )
        .await;
    assert_eq!(no_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        no_id.json()["detail"][0]["msg"],
        "Value error, Blob URLs must contain a Blob ID."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_td_describes_a_blob_output_as_the_reference() {
    let server = TestServer::demo().await;
    let td = server.get("/lab/").await.json();
    let output = &td["actions"]["blob"]["output"];
    assert_eq!(output["title"], "blob_output");
    assert_eq!(output["type"], "object");
    assert_eq!(output["required"], json!(["href", "media_type"]));
    assert_eq!(
        output["properties"]["rel"],
        json!({"title": "Rel", "const": "output", "default": "output", "type": "string"})
    );
    assert_eq!(
        output["properties"]["description"]["default"],
        LINK_DESCRIPTION
    );
    // `Result<Blob, E>` has the same output.
    let file_output = &td["actions"]["blob_file"]["output"];
    assert_eq!(file_output["properties"], output["properties"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_count_cap_takes_blobs_with_their_invocations() {
    let server = TestServer::start(support::demo_server().max_invocations(1)).await;
    let first = completed(&server, "/lab/blob", None).await;
    let path = path_of(&server, first["output"]["href"].as_str().unwrap());
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
    // The next invocation makes room by evicting the finished first one, and its blob.
    completed(&server, "/lab/zero", None).await;
    assert_eq!(server.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_live_under_the_api_prefix() {
    let server = TestServer::start(support::demo_server().api_prefix("/api/v1")).await;
    let invocation = server.post_and_wait("/api/v1/lab/blob", None).await.json();
    assert_eq!(invocation["status"], "completed", "{invocation}");
    let href = invocation["output"]["href"].as_str().unwrap();
    assert!(href.starts_with(&server.url("/api/v1/blob/")), "{href}");
    let download = server.get(&path_of(&server, href)).await;
    assert_eq!(&download.body[..], &blob_bytes(1000)[..]);
    let unprefixed = server
        .get(&path_of(&server, href).replace("/api/v1", ""))
        .await;
    assert_eq!(unprefixed.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_deletes_temporary_blob_files() {
    let server = support::demo_server()
        .port(0)
        .shutdown_grace(Duration::from_millis(100))
        .start()
        .await
        .expect("server starts");
    let started = support::request(
        server.local_addr(),
        Method::POST,
        "/lab/blob_file",
        &[("prefer", "wait=10")],
        None,
    )
    .await
    .json();
    assert_eq!(started["status"], "completed", "{started}");
    let file = blob_file_path(started["id"].as_str().unwrap());
    assert!(file.exists());
    server.shutdown().await;
    assert!(
        !file.exists(),
        "deleted at shutdown, long before the retention"
    );
}
