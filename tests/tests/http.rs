//! Black-box HTTP tests: a real server on a free port, real sockets, and the reference's
//! status codes and JSON shapes (`shared/reference/labthings-fastapi-0.3.0`).

mod support;

use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use serde_json::json;
use support::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn thing_descriptions_and_directory() {
    let server = TestServer::demo().await;
    let td = server.get("/counter/").await;
    assert_eq!(td.status, StatusCode::OK);
    assert_eq!(td.header("content-type"), Some("application/json"));
    let td = td.json();
    assert_eq!(td["title"], "Counter");
    assert_eq!(td["base"], server.url("/"));
    assert_eq!(
        td["properties"]["count"]["forms"][0]["href"],
        "/counter/count"
    );
    assert_eq!(td["properties"]["limit"]["maximum"], 1000);
    assert_eq!(
        td["actions"]["slow"]["input"]["properties"]["step"]["default"],
        0.5
    );
    assert_eq!(
        td["@context"],
        serde_json::json!([
            "https://www.w3.org/2019/wot/td/v1",
            "https://www.w3.org/2022/wot/td/v1.1"
        ])
    );

    let redirect = server.get("/counter").await;
    assert_eq!(redirect.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        redirect.header("location"),
        Some(server.url("/counter/").as_str())
    );

    let things = server.get("/things/").await.json();
    assert_eq!(things["counter"], server.url("/counter/"));
    assert_eq!(things.as_object().map(|o| o.len()), Some(4));
    let all = server.get("/thing_descriptions/").await.json();
    assert_eq!(all["stage"]["title"], "MockStage");
    assert_eq!(
        server.get("/things").await.status,
        StatusCode::TEMPORARY_REDIRECT
    );
    assert_eq!(
        server.get("/nothing/").await.json(),
        json!({"detail": "Not Found"})
    );
    assert_eq!(server.get("/").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn property_reads_writes_and_resets() {
    let server = TestServer::demo().await;
    assert_eq!(server.get("/counter/count").await.body, "0");
    let put = server.put("/counter/count", "42").await;
    assert_eq!(
        (put.status, put.body.as_ref()),
        (StatusCode::CREATED, &b"null"[..])
    );
    assert_eq!(server.get("/counter/count").await.body, "42");
    // Lax integers, as pydantic: a whole float and a numeric string are integers.
    assert_eq!(
        server.put("/counter/count", "3.0").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        server.put("/counter/count", "\"7\"").await.status,
        StatusCode::CREATED
    );
    assert_eq!(server.get("/counter/count").await.body, "7");
    // Content-Type is not checked, as in the reference.
    let plain = server
        .request(
            Method::PUT,
            "/counter/count",
            &[("content-type", "text/plain")],
            Some("5"),
        )
        .await;
    assert_eq!(plain.status, StatusCode::CREATED);
    let bare = server
        .request(Method::PUT, "/counter/count", &[], Some("6"))
        .await;
    assert_eq!(bare.status, StatusCode::CREATED);

    let reset = server.post("/counter/count/reset", None).await;
    assert_eq!(
        (reset.status, reset.body.as_ref()),
        (StatusCode::OK, &b"null"[..])
    );
    assert_eq!(server.get("/counter/count").await.body, "0");

    assert_eq!(server.get("/counter/serial").await.json(), "LTRS-0001");
    let uptime = server.get("/counter/uptime").await.json();
    assert!(uptime.as_f64().is_some_and(|t| t >= 0.0));
    assert_eq!(
        server.put("/counter/gain", "2.5").await.status,
        StatusCode::CREATED
    );
    assert_eq!(server.get("/counter/gain").await.json(), 2.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn property_errors_have_the_reference_shapes() {
    let server = TestServer::demo().await;
    let cases = [
        ("\"abc\"", "int_parsing", json!("abc")),
        ("1.5", "int_from_float", json!(1.5)),
        ("{\"value\": 5}", "int_type", json!({"value": 5})),
    ];
    for (body, kind, input) in cases {
        let reply = server.put("/counter/count", body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let detail = &reply.json()["detail"][0];
        assert_eq!(detail["type"], kind);
        assert_eq!(detail["loc"], json!(["body"]));
        assert_eq!(detail["input"], input);
    }
    let malformed = server.put("/counter/count", "{\"oops").await.json();
    assert_eq!(malformed["detail"][0]["type"], "json_invalid");
    assert_eq!(malformed["detail"][0]["loc"][0], "body");
    let empty = server.put("/counter/count", "").await.json();
    assert_eq!(
        empty,
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})
    );
    let invalid_utf8 = support::request(
        server.addr,
        Method::PUT,
        "/lab/label",
        &[],
        Some(bytes::Bytes::from_static(b"\"\xff\"")),
    )
    .await;
    assert_eq!(invalid_utf8.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_utf8.json()["detail"][0]["type"], "json_invalid");

    let limit = server.put("/counter/limit", "5000").await.json();
    assert_eq!(
        limit,
        json!({"detail": [{"type": "less_than_equal", "loc": ["body"], "msg": "Input should be less than or equal to 1000", "input": 5000, "ctx": {"le": 1000}}]})
    );
    assert_eq!(
        server.get("/counter/limit").await.body,
        "100",
        "a refused write changes nothing"
    );
    let pattern = server.put("/lab/label", "\"ABC\"").await.json();
    assert_eq!(pattern["detail"][0]["type"], "string_pattern_mismatch");

    let read_only = server.put("/counter/serial", "\"X\"").await;
    assert_eq!(read_only.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(read_only.header("allow"), Some("GET"));
    assert_eq!(read_only.json(), json!({"detail": "Method Not Allowed"}));
    assert_eq!(
        server.put("/counter/uptime", "1").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let post = server.post("/counter/count", Some("1")).await;
    assert_eq!(
        (post.status, post.header("allow")),
        (StatusCode::METHOD_NOT_ALLOWED, Some("GET, PUT"))
    );
    assert_eq!(
        server.delete("/counter/count").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        server.get("/counter/nope").await.status,
        StatusCode::NOT_FOUND
    );
    // Read-only and functional properties have no reset route.
    assert_eq!(
        server.post("/counter/serial/reset", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.post("/counter/uptime/reset", None).await.status,
        StatusCode::NOT_FOUND
    );

    let broken = server.get("/lab/broken").await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(broken.json()["detail"], "sensor unplugged");
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_run_as_tracked_invocations() {
    let server = TestServer::demo().await;
    let started = server.post("/counter/increment", None).await;
    assert_eq!(started.status, StatusCode::CREATED);
    let invocation = started.json();
    let id = invocation["id"].as_str().unwrap().to_owned();
    let href = server.url(&format!("/action_invocations/{id}"));
    assert_eq!(started.header("location"), Some(href.as_str()));
    assert_eq!(invocation["href"], href);
    assert_eq!(invocation["action"], "/counter/increment");
    assert_eq!(invocation["input"], json!(null));
    assert_eq!(
        invocation["links"][1],
        json!({"href": format!("{href}/output"), "type": null, "rel": "output", "anchor": null})
    );
    let keys: Vec<&str> = invocation
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "status",
            "id",
            "action",
            "href",
            "timeStarted",
            "timeRequested",
            "timeCompleted",
            "links",
            "input",
            "output",
            "log",
            "error",
            "progress"
        ]
    );
    assert_eq!(
        invocation["progress"],
        json!(null),
        "increment reports no progress"
    );

    let done = server.wait_for(&id, |s| s == "completed").await;
    assert_eq!(done["output"], 1);
    assert!(done["timeCompleted"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        server
            .get(&format!("/action_invocations/{id}/output"))
            .await
            .body,
        "1"
    );
    assert_eq!(server.get("/counter/count").await.body, "1");

    let empty_object = server.post("/counter/increment", Some("{}")).await.json();
    assert_eq!(empty_object["input"], json!({}));
    assert_eq!(
        server.post("/counter/increment", Some("null")).await.status,
        StatusCode::CREATED
    );

    let listed = server.get("/counter/increment").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(
        listed[0].as_object().unwrap().len(),
        8,
        "summaries carry the first eight fields"
    );
    let all = server.get("/action_invocations").await.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(
        server.get("/action_invocations/").await.status,
        StatusCode::TEMPORARY_REDIRECT
    );

    let with_input = server
        .run_action("/counter/slow", Some(r#"{"duration": 0.02}"#))
        .await;
    assert_eq!(
        with_input["input"],
        json!({"duration": 0.02, "step": 0.5}),
        "defaults filled in"
    );
    assert_eq!(with_input["output"], 1);
    // No body is accepted when every input has a default.
    let defaults = server.run_action("/lab/echo", None).await;
    assert_eq!(defaults["input"], json!({"times": 2}));
    let echoed = server
        .run_action("/lab/echo", Some(r#"{"text": "ab", "times": 3}"#))
        .await;
    assert_eq!(echoed["output"], "ababab");
}

#[tokio::test(flavor = "multi_thread")]
async fn action_input_errors_name_the_field() {
    let server = TestServer::demo().await;
    let extra = server.post("/counter/increment", Some(r#"{"x": 1}"#)).await;
    assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        extra.json(),
        json!({"detail": [{"type": "extra_forbidden", "loc": ["body", "x"], "msg": "Extra inputs are not permitted", "input": 1}]})
    );
    let wrong = server
        .post("/counter/slow", Some(r#"{"duration": "abc"}"#))
        .await
        .json();
    assert_eq!(wrong["detail"][0]["loc"], json!(["body", "duration"]));
    assert_eq!(wrong["detail"][0]["type"], "float_parsing");
    let array = server.post("/counter/slow", Some("[1,2]")).await.json();
    assert_eq!(array["detail"][0]["type"], "model_attributes_type");
    let malformed = server
        .post("/counter/slow", Some(r#"{"duration": "#))
        .await
        .json();
    assert_eq!(malformed["detail"][0]["type"], "json_invalid");
    let missing = server.post("/stage/move_relative", None).await.json();
    assert_eq!(
        missing["detail"][0],
        json!({"type": "missing", "loc": ["body"], "msg": "Field required", "input": null})
    );
    let constrained = server
        .post("/counter/slow", Some(r#"{"step": 0}"#))
        .await
        .json();
    assert_eq!(constrained["detail"][0]["type"], "greater_than");
    assert_eq!(
        server.post("/counter/nope", Some("{}")).await.status,
        StatusCode::NOT_FOUND
    );
    let put = server.put("/counter/increment", "{}").await;
    assert_eq!(
        (put.status, put.header("allow")),
        (StatusCode::METHOD_NOT_ALLOWED, Some("GET, POST"))
    );
    assert!(
        server
            .get("/action_invocations")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing started"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_running_action_is_prompt() {
    let server = TestServer::demo().await;
    let id = hold_the_thread(&server, 30).await;
    let output = server
        .get(&format!("/action_invocations/{id}/output"))
        .await;
    assert_eq!(output.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        output.json(),
        json!({"detail": "No result is available for this invocation"})
    );

    let cancel_sent = Instant::now();
    let cancel = server.delete(&format!("/action_invocations/{id}")).await;
    assert_eq!(
        (cancel.status, cancel.body.as_ref()),
        (StatusCode::OK, &b"null"[..])
    );
    let cancelled = server.wait_for(&id, |s| s == "cancelled").await;
    assert!(
        cancel_sent.elapsed() < Duration::from_secs(2),
        "the 10 s sleep was woken"
    );
    assert_eq!(cancelled["error"]["title"], "InvocationCancelledError");
    assert_eq!(
        cancelled["error"]["type"],
        "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError"
    );
    assert_eq!(cancelled["error"]["detail"], "The action was cancelled.");
    let log = cancelled["log"].as_array().unwrap();
    assert!(
        log[0]["message"].as_str().unwrap().contains(&id),
        "the log names the invocation id"
    );

    let again = server.delete(&format!("/action_invocations/{id}")).await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        again.json(),
        json!({"detail": "The invocation is cancelled and may not be cancelled."})
    );
    let done = server.run_action("/counter/increment", None).await;
    let finished = server
        .delete(&format!(
            "/action_invocations/{}",
            done["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        finished.json(),
        json!({"detail": "The invocation is completed and may not be cancelled."})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_invocation_ids() {
    let server = TestServer::demo().await;
    let zero = "00000000-0000-0000-0000-000000000000";
    for reply in [
        server.get(&format!("/action_invocations/{zero}")).await,
        server.delete(&format!("/action_invocations/{zero}")).await,
        server
            .get(&format!("/action_invocations/{zero}/output"))
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(
            reply.json(),
            json!({"detail": format!("No action invocation found with ID {zero}")})
        );
    }
    let bad = server.get("/action_invocations/not-a-uuid").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["detail"][0]["loc"], json!(["path", "id"]));
    assert_eq!(bad.json()["detail"][0]["type"], "uuid_parsing");
    assert_eq!(
        bad.json()["detail"][0]["msg"],
        "Input should be a valid UUID, invalid character: found `n` at 0",
        "capture 77"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_and_panics_end_as_errors_and_the_server_carries_on() {
    let server = TestServer::demo().await;
    let failed = server.run_action("/counter/fail", None).await;
    assert_eq!(failed["status"], "error");
    assert_eq!(failed["error"]["title"], "RuntimeError");
    assert_eq!(failed["error"]["detail"], "deliberate failure from fail()");
    assert_eq!(failed["log"][0]["levelname"], "ERROR");
    let output = server
        .get(&format!(
            "/action_invocations/{}/output",
            failed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(output.status, StatusCode::SERVICE_UNAVAILABLE);

    for _ in 0..3 {
        let panicked = server.run_action("/lab/boom", None).await;
        assert_eq!(panicked["status"], "error");
        assert_eq!(panicked["error"]["title"], "Panic");
        assert_eq!(panicked["error"]["detail"], "the motor controller exploded");
        let panicked_async = server.run_action("/lab/boom_async", None).await;
        assert_eq!(panicked_async["status"], "error");
        assert_eq!(panicked_async["error"]["title"], "Panic");
        assert_eq!(
            panicked_async["error"]["detail"],
            "the async motor controller exploded"
        );
        assert_eq!(panicked_async["output"], serde_json::Value::Null);
    }
    assert_eq!(
        server.run_action("/counter/increment", None).await["output"],
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn falsy_outputs_are_returned() {
    let server = TestServer::demo().await;
    for (action, expected) in [("/lab/zero", "0"), ("/lab/no", "false")] {
        let done = server.run_action(action, None).await;
        let output = server
            .get(&format!(
                "/action_invocations/{}/output",
                done["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            (output.status, output.body.as_ref()),
            (StatusCode::OK, expected.as_bytes())
        );
    }
}

/// A demo server whose action pool has one thread and room for `queue` waiting invocations.
async fn one_thread_pool(queue: usize) -> TestServer {
    TestServer::start(support::demo_server().action_threads(1).action_queue(queue)).await
}

/// Start `counter/slow` for `seconds`, holding a pool thread (running when this returns); its id.
async fn hold_the_thread(server: &TestServer, seconds: u32) -> String {
    let input = format!(r#"{{"duration": {seconds}, "step": 10}}"#);
    server.start_running("/counter/slow", Some(&input)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn async_actions_run_on_the_runtime_and_cancel() {
    let server = one_thread_pool(0).await;
    let done = server
        .run_action("/lab/wait_async", Some(r#"{"seconds": 0.01}"#))
        .await;
    assert_eq!(done["status"], "completed");
    let messages = support::log_messages(&done);
    assert_eq!(
        messages,
        ["waiting", "done waiting"],
        "tracing events of async actions are captured"
    );

    // Async actions don't need the action pool: they run while its one thread is busy.
    let blocker_id = hold_the_thread(&server, 30).await;
    let beside = server
        .post_and_wait("/lab/wait_async", Some(r#"{"seconds": 0.01}"#))
        .await;
    assert_eq!(beside.json()["status"], "completed");
    server
        .delete(&format!("/action_invocations/{blocker_id}"))
        .await;

    let started = server
        .post("/lab/wait_async", Some(r#"{"seconds": 60}"#))
        .await
        .json();
    let id = started["id"].as_str().unwrap().to_owned();
    server.wait_for(&id, |s| s == "running").await;
    server.delete(&format!("/action_invocations/{id}")).await;
    assert_eq!(
        server.wait_for(&id, |s| s != "running").await["status"],
        "cancelled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_actions_have_finished_when_answered_and_need_no_pool_thread() {
    // The pool's one thread busy and no queue: a pool action would be refused with 503.
    let server = one_thread_pool(0).await;
    let blocker_id = hold_the_thread(&server, 30).await;
    assert_eq!(server.post("/lab/zero", None).await.status, 503);

    // No wait asked for, yet the answer is the finished invocation, with its log.
    let answer = server.post("/lab/where_inline", None).await;
    assert_eq!(answer.status, 201);
    let done = answer.json();
    assert_eq!(done["status"], "completed");
    let thread = done["output"].as_str().unwrap();
    assert!(
        !thread.starts_with("labthings-action"),
        "ran on {thread}, a pool thread"
    );
    let messages = support::log_messages(&done);
    assert_eq!(messages, ["inline", "traced inline"]);
    // It is an ordinary invocation: listed and fetched like any other.
    let href = done["href"].as_str().unwrap();
    let path = href.split_once(&server.addr.to_string()).unwrap().1;
    assert_eq!(server.get(path).await.json()["status"], "completed");

    // A panic inline ends that invocation as an error; the server and its thread go on.
    let boom = server.post("/lab/boom_inline", None).await;
    assert_eq!(boom.status, 201);
    assert_eq!(boom.json()["status"], "error");
    let again = server.post("/lab/where_inline", None).await.json();
    assert_eq!(again["status"], "completed");
    server
        .delete(&format!("/action_invocations/{blocker_id}"))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_wait_answers_with_the_finished_invocation() {
    let server = TestServer::demo().await;
    let reply = server
        .post_and_wait("/counter/slow", Some(r#"{"duration": 0.05, "step": 0.01}"#))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json()["status"], "completed");
    assert_eq!(reply.json()["output"], 5);
    // A huge wait is clamped rather than overflowing.
    let huge = server
        .request(
            Method::POST,
            "/counter/increment",
            &[("prefer", "wait=1e20")],
            None,
        )
        .await;
    assert_eq!(huge.json()["status"], "completed");
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_invocations_expire_on_a_timer() {
    let server =
        TestServer::start(support::demo_server().retention(Duration::from_millis(200))).await;
    let done = server.run_action("/counter/increment", None).await;
    let path = format!("/action_invocations/{}", done["id"].as_str().unwrap());
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        server.get(&path).await.status,
        StatusCode::NOT_FOUND,
        "expired without another request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_pool_queues_then_refuses() {
    let server = one_thread_pool(1).await;
    let running_id = hold_the_thread(&server, 10).await;
    let queued = server.post("/counter/increment", None).await.json();
    assert_eq!(queued["status"], "pending");
    let refused = server.post("/counter/increment", None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.json()["status"], 503);

    // A pending invocation is cancelled at once and never runs.
    let queued_id = queued["id"].as_str().unwrap();
    server
        .delete(&format!("/action_invocations/{queued_id}"))
        .await;
    assert_eq!(
        server
            .get(&format!("/action_invocations/{queued_id}"))
            .await
            .json()["status"],
        "cancelled"
    );
    server
        .delete(&format!("/action_invocations/{running_id}"))
        .await;
    server.wait_for(&running_id, |s| s == "cancelled").await;
    // The single worker takes the cancelled job off the queue before it runs this one.
    let after = server.post_and_wait("/counter/increment", None).await;
    assert_eq!(
        after.json()["output"],
        1,
        "the cancelled increment never ran"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_before_reading() {
    let server = TestServer::start(support::demo_server().body_limit(64)).await;
    let big = format!("\"{}\"", "x".repeat(100));
    let reply = server.put("/lab/label", &big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.json()["detail"].as_str().unwrap().contains("64"));

    // Declared larger than the limit, never sent: the answer must not wait for the body.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"PUT /counter/count HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100000000\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 413"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_preflight_and_origin() {
    let server = TestServer::demo().await;
    let preflight = server
        .request(
            Method::OPTIONS,
            "/counter/count",
            &[
                ("origin", "http://example.test"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://example.test")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    let get = server
        .request(
            Method::GET,
            "/counter/count",
            &[("origin", "http://example.test")],
            None,
        )
        .await;
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some("http://example.test")
    );
    assert_eq!(get.header("access-control-allow-credentials"), Some("true"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_prefix_and_host_shape_every_url() {
    let server = TestServer::start(
        support::demo_server()
            .api_prefix("/api/v1")
            .allowed_host("lab.example"),
    )
    .await;
    assert_eq!(server.get("/counter/").await.status, StatusCode::NOT_FOUND);
    let td = server
        .request(
            Method::GET,
            "/api/v1/counter/",
            &[("host", "lab.example:8080")],
            None,
        )
        .await
        .json();
    assert_eq!(td["base"], "http://lab.example:8080/");
    assert_eq!(
        td["properties"]["count"]["forms"][0]["href"],
        "/api/v1/counter/count"
    );
    let started = server.post("/api/v1/counter/increment", None).await.json();
    let href = started["href"].as_str().unwrap();
    assert!(
        href.starts_with(&server.url("/api/v1/action_invocations/")),
        "{href}"
    );
    assert_eq!(started["action"], "/api/v1/counter/increment");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stage_moves_and_stops_where_it_is_when_cancelled() {
    let server = TestServer::demo().await;
    assert_eq!(
        server.put("/stage/speed", "100").await.status,
        StatusCode::CREATED
    );
    let started = server
        .post(
            "/stage/move_relative",
            Some(r#"{"displacement": [1000, 0, 0]}"#),
        )
        .await
        .json();
    let id = started["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.delete(&format!("/action_invocations/{id}")).await;
    let stopped = server.wait_for(&id, |s| s == "cancelled").await;
    let x = server.get("/stage/position").await.json()[0]
        .as_i64()
        .unwrap();
    assert!(x > 0 && x < 1000, "stopped part-way: {x}");
    let warned = stopped["log"].as_array().unwrap().iter().any(|record| {
        record["levelname"] == "WARNING"
            && record["message"]
                .as_str()
                .unwrap()
                .starts_with("stopped at")
    });
    assert!(warned, "{stopped}");
    assert_eq!(
        server.put("/stage/speed", "0").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_and_vanished_clients_hold_no_worker() {
    use tokio::io::AsyncWriteExt;
    let server = one_thread_pool(0).await;
    // Five clients promise a body and send only part of it.
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(
                b"POST /counter/increment HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10\r\n\r\n{}",
            )
            .await
            .unwrap();
        stalled.push(stream);
    }
    // The one worker is free: a complete request runs at once.
    let reply = server.post_and_wait("/counter/increment", None).await;
    assert_eq!(reply.json()["status"], "completed");
    drop(stalled); // vanish mid-body
    let again = server.post_and_wait("/counter/increment", None).await;
    assert_eq!(again.json()["output"], 2, "only the complete requests ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_true_answers_the_output_itself() {
    let server = TestServer::demo().await;
    // The TD's first invokeaction form is the synchronous one (node-wot takes the first).
    let td = server.get("/counter/").await.json();
    assert_eq!(
        td["actions"]["increment"]["forms"][0]["href"],
        "/counter/increment?sync=true"
    );
    let answer = server.post("/counter/increment?sync=true", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), 1, "the output alone, not the invocation");
    // A JSON object (a `serde_json::Value` output: its TD schema names the JSON types).
    let metadata = server
        .post("/camera/capture_metadata?sync=true", None)
        .await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert!(metadata.json()["frames"].is_u64(), "{:?}", metadata.body);
    let td = server.get("/camera/").await.json();
    assert!(td["actions"]["capture_metadata"]["output"]["oneOf"].is_array());
    // A blob output is its JSON link; a failure is the invocation's problem.
    let blob = server.post("/lab/blob?sync=true", None).await;
    assert_eq!(blob.status, StatusCode::OK);
    assert!(blob.json()["href"].as_str().unwrap().contains("/blob/"));
    let failed = server.post("/counter/fail?sync=true", None).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        failed.header("content-type"),
        Some("application/problem+json")
    );
    // Without it: the reference's 201 and the invocation, as ever; both were recorded.
    let started = server.post("/counter/increment", None).await;
    assert_eq!(started.status, StatusCode::CREATED);
    assert_eq!(started.json()["action"], "/counter/increment");
    let increments = server.get("/counter/increment").await.json();
    assert_eq!(increments.as_array().unwrap().len(), 2);
}
