//! The durable history, black-box: a real server on a socket, its SQLite file read back through
//! the `/history` routes and after a restart.

mod support;

use std::path::Path;
use std::time::Duration;

use hyper::{Method, StatusCode};
use labthings_server::ThingServer;
use serde_json::Value;
use support::TestServer;

fn lab(settings: &Path) -> ThingServer {
    support::demo_server().settings_folder(settings)
}

/// Start, run `f` against the server, flush the history and stop cleanly.
async fn with_server<F, Fut>(server: ThingServer, f: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let server = TestServer::start(server).await;
    f(server).await;
}

async fn flushed(server: &TestServer) {
    server.flush_history().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invocations_are_recorded_with_their_log_snapshot_and_requester() {
    let folder = support::scratch("history-record");
    with_server(lab(&folder), |server| async move {
        assert_eq!(
            server.put("/counter/count", "41").await.status,
            StatusCode::CREATED
        );
        let done = server
            .run_action("/counter/slow", Some(r#"{"duration": 0.02, "step": 0.01}"#))
            .await;
        assert_eq!(done["status"], "completed");
        let id = done["id"].as_str().unwrap().to_owned();
        flushed(&server).await;

        let record = server.get(&format!("/history/invocations/{id}")).await;
        assert_eq!(record.status, StatusCode::OK, "{:?}", record.body);
        let record = record.json();
        assert_eq!(record["thing"], "counter");
        assert_eq!(record["action"], "slow");
        assert_eq!(record["status"], "completed");
        assert_eq!(record["input"]["duration"], 0.02);
        assert_eq!(record["requester"], "anonymous");
        assert!(record["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert_eq!(
            record["snapshot"]["count"], 41,
            "the Thing's state at start"
        );
        assert_eq!(record["snapshot"]["gain"], 1.0, "settings too");
        assert_eq!(record["tdSha256"].as_str().unwrap().len(), 64);
        assert_eq!(record["softwareVersion"], env!("CARGO_PKG_VERSION"));
        assert!(record["timeStarted"].is_string() && record["timeCompleted"].is_string());
        let log = record["log"].as_array().unwrap();
        assert_eq!(log.len(), done["log"].as_array().unwrap().len());
        assert!(!log.is_empty());

        // The property write, with where it came from.
        let writes = server.get("/history/properties/counter/count").await.json();
        let writes = writes.as_array().unwrap();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0]["value"], 41);
        assert_eq!(writes[0]["source"], "http");
        assert_eq!(writes[0]["invocation"], Value::Null);
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_inside_an_action_names_its_invocation() {
    let folder = support::scratch("history-provenance");
    with_server(lab(&folder), |server| async move {
        let done = server.run_action("/counter/increment", None).await;
        flushed(&server).await;
        let writes = server.get("/history/properties/counter/count").await.json();
        assert_eq!(writes[0]["source"], "rust");
        assert_eq!(writes[0]["invocation"], done["id"]);
        assert_eq!(writes[0]["value"], 1);
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_inside_an_async_action_names_its_invocation() {
    let folder = support::scratch("history-provenance-async");
    with_server(lab(&folder), |server| async move {
        let done = server
            .run_action("/lab/relabel_async", Some(r#"{"label": "moved"}"#))
            .await;
        assert_eq!(done["status"], "completed", "{done}");
        flushed(&server).await;
        let writes = server.get("/history/properties/lab/label").await.json();
        assert_eq!(writes[0]["value"], "moved");
        assert_eq!(writes[0]["source"], "rust");
        assert_eq!(writes[0]["invocation"], done["id"], "{writes}");
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_applied_at_start_up_are_recorded_as_a_settings_load() {
    let folder = support::scratch("history-settings-load");
    {
        let server = TestServer::start(lab(&folder)).await;
        assert!(server.put("/counter/gain", "2.5").await.status.is_success());
        server.stop().await;
    }
    let server = TestServer::start(lab(&folder)).await;
    flushed(&server).await;
    let writes = server.get("/history/properties/counter/gain").await.json();
    let writes = writes.as_array().unwrap();
    assert_eq!(writes.len(), 2, "the PUT, then the load: {writes:?}");
    assert_eq!(writes[0]["source"], "http");
    assert_eq!(writes[1]["source"], "settings load");
    assert_eq!(writes[1]["value"], 2.5);
    assert_eq!(writes[1]["invocation"], Value::Null);
    drop(server);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_filters_pages_newest_first_and_exports_csv_and_ndjson() {
    let folder = support::scratch("history-list");
    with_server(lab(&folder), |server| async move {
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(server.run_action("/counter/increment", None).await["id"].clone());
        }
        server.run_action("/lab/zero", None).await;
        flushed(&server).await;

        let page = server
            .get("/history/invocations?thing=counter&action=increment&limit=2")
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let rows = page.json();
        assert_eq!(rows.as_array().unwrap().len(), 2);
        assert_eq!(rows[0]["id"], ids[4], "newest first");
        assert_eq!(rows[1]["id"], ids[3]);
        let next = page.header("link").expect("a next link").to_owned();
        let next = next
            .split_once(&format!("http://{}", server.addr))
            .map(|(_, rest)| rest.split_once('>').unwrap().0.to_owned())
            .unwrap();
        let rest = server.get(&next).await.json();
        let rest: Vec<&Value> = rest.as_array().unwrap().iter().map(|r| &r["id"]).collect();
        assert_eq!(rest, [&ids[2], &ids[1]]);

        let all = server
            .get("/history/invocations?status=completed")
            .await
            .json();
        assert_eq!(all.as_array().unwrap().len(), 6);
        let none = server
            .get("/history/invocations?since=2999-01-01T00:00:00Z")
            .await
            .json();
        assert_eq!(none.as_array().unwrap().len(), 0);

        let csv = server
            .request(
                Method::GET,
                "/history/invocations?action=zero",
                &[("accept", "text/csv")],
                None,
            )
            .await;
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let text = String::from_utf8(csv.body.to_vec()).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("id,server,thing,action,status")
        );
        assert!(lines.next().unwrap().contains(",lab,zero,completed,"));
        assert_eq!(lines.next(), None);

        let ndjson = server
            .request(
                Method::GET,
                "/history/invocations?thing=counter",
                &[("accept", "application/x-ndjson")],
                None,
            )
            .await;
        let text = String::from_utf8(ndjson.body.to_vec()).unwrap();
        assert_eq!(text.lines().count(), 5);
        for line in text.lines() {
            let row: Value = serde_json::from_str(line).unwrap();
            assert_eq!(row["action"], "increment");
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_queries_are_4xx_problems_not_panics() {
    let folder = support::scratch("history-bad");
    with_server(lab(&folder), |server| async move {
        for path in [
            "/history/invocations?since=yesterday",
            "/history/invocations?limit=0",
            "/history/invocations?limit=abc",
            "/history/invocations/not-a-uuid",
            "/history/invocations?thing=%FF",
        ] {
            let reply = server.get(path).await;
            assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
            assert!(reply.json().is_object(), "{path}: a JSON body");
        }
        let unknown = server
            .get("/history/invocations/00000000-0000-4000-8000-000000000000")
            .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(
            server.get("/history/nothing").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server.post("/history/invocations", None).await.status,
            StatusCode::METHOD_NOT_ALLOWED
        );
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_invocations_and_their_blobs_answer_from_the_history() {
    let folder = support::scratch("history-expired");
    let server = lab(&folder).retention(Duration::from_millis(1));
    with_server(server, |server| async move {
        let done = server.post_and_wait("/lab/blob", None).await.json();
        assert_eq!(done["status"], "completed");
        let id = done["id"].as_str().unwrap().to_owned();
        let blob_url = done["output"]["href"].as_str().unwrap().to_owned();
        let blob_path = blob_url
            .split_once(&server.addr.to_string())
            .unwrap()
            .1
            .to_owned();
        flushed(&server).await;
        // Gone from memory (retention 1 ms): wait until the list no longer holds it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while server
            .get("/action_invocations")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
        {
            assert!(tokio::time::Instant::now() < deadline, "never expired");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let old = server.get(&format!("/action_invocations/{id}")).await;
        assert_eq!(old.status, StatusCode::OK, "{:?}", old.body);
        let old = old.json();
        assert_eq!(old["status"], "completed");
        assert_eq!(old["output"]["href"], blob_url.as_str());
        let bytes = server.get(&blob_path).await;
        assert_eq!(bytes.status, StatusCode::OK);
        assert_eq!(bytes.body.to_vec(), labthings_tests::blob_bytes(1000));
    })
    .await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_history_outlives_a_restart_and_the_status_counts_rows() {
    let folder = support::scratch("history-restart");
    let id = {
        let server = TestServer::start(lab(&folder)).await;
        let done = server.run_action("/counter/increment", None).await;
        let status = server.get("/history/status").await.json();
        assert_eq!(status["dropped"], 0);
        server.stop().await;
        done["id"].as_str().unwrap().to_owned()
    };
    assert!(folder.join("history.sqlite3").exists());
    let server = TestServer::start(lab(&folder)).await;
    let record = server.get(&format!("/history/invocations/{id}")).await;
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(record.json()["status"], "completed");
    let status = server.get("/history/status").await.json();
    assert!(status["commitWindowMs"].as_u64().unwrap() > 0);
    drop(server);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_settings_folder_the_library_keeps_no_history() {
    let server = TestServer::start(support::demo_server()).await;
    let reply = server.get("/history/invocations").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("no history")
    );
    // Documented all the same.
    let document = server.get("/openapi.json").await.json();
    for path in [
        "/history/invocations",
        "/history/invocations/{id}",
        "/history/properties/{thing}/{name}",
        "/history/events/{thing}/{name}",
        "/history/status",
    ] {
        assert!(document["paths"][path]["get"].is_object(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn who_started_it_is_the_token_label_and_the_history_needs_a_token() {
    let folder = support::scratch("history-tokens");
    let file = folder.join("tokens");
    std::fs::write(&file, "s3cret-token alice's laptop\nother-token\n").unwrap();
    let tokens = labthings_server::Tokens::from_file(&file).unwrap();
    let server = TestServer::start(lab(&folder).tokens(tokens)).await;
    let auth = |token: &'static str| {
        [
            ("authorization", token),
            ("content-type", "application/json"),
            ("prefer", "wait=10"),
        ]
    };
    let mut ids = Vec::new();
    for token in ["Bearer s3cret-token", "Bearer other-token"] {
        let reply = server
            .request(Method::POST, "/counter/increment", &auth(token), None)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }
    server.flush_history().await;
    let refused = server
        .get(&format!("/history/invocations/{}", ids[0]))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let read = |id: String| {
        let server = &server;
        async move {
            let path = format!("/history/invocations/{id}");
            server
                .request(Method::GET, &path, &auth("Bearer other-token"), None)
                .await
                .json()
        }
    };
    assert_eq!(read(ids[0].clone()).await["requester"], "alice's laptop");
    assert_eq!(read(ids[1].clone()).await["requester"], "token");
    drop(server);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_recorded() {
    let folder = support::scratch("history-events");
    let server = TestServer::start(lab(&folder)).await;
    let done = server
        .run_action(
            "/stage/move_relative",
            Some(r#"{"displacement": [1, 2, 3]}"#),
        )
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    server.flush_history().await;
    let rows = server.get("/history/events/stage/arrived").await;
    assert_eq!(rows.status, StatusCode::OK);
    let rows = rows.json();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["data"], serde_json::json!([1, 2, 3]));
    drop(server);
    let _ = std::fs::remove_dir_all(folder);
}
