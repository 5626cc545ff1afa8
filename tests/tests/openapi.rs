//! `/openapi.json` and `/docs` over a real socket, and `--print-openapi` / `--print-td` on the
//! real binary: the document is OpenAPI 3.1, lists every route of every TD with the right
//! method, carries the TD's own schemas, and describes what the server really answers (real
//! responses are validated against it); Swagger UI is served from inside the binary.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::process::{Command, Stdio};

use hyper::{Method, StatusCode};
use labthings_server::Tokens;
use serde_json::{Map, Value, json};
use support::{Reply, TestServer, demo_server};

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every operation: (path, method) → operation.
fn operations(document: &Value) -> HashMap<(String, String), Value> {
    let mut found = HashMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                found.insert((path.clone(), method.clone()), operation.clone());
            }
        }
    }
    found
}

/// A TD `href` (relative to the TD's `base`, or an absolute `ws://` URL) as a path.
fn href_path(href: &str) -> String {
    // The query (the synchronous invoke form's `?sync=true`) is no part of the path.
    let href = href.split_once('?').map_or(href, |(path, _)| path);
    match href.split_once("://") {
        Some((_, rest)) => rest[rest.find('/').expect("a path")..].to_owned(),
        None => href.to_owned(),
    }
}

/// The methods a TD form's operations need.
fn methods_for(op: &str) -> &'static str {
    match op {
        "writeproperty" => "put",
        "invokeaction" => "post",
        _ => "get",
    }
}

/// A TD DataSchema as JSON Schema 2020-12: a tuple's `items: [..]` is `prefixItems` there.
fn tuples_as_prefix_items(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let mut converted = Map::new();
            for (key, value) in object {
                let value = match key.as_str() {
                    // Names → schemas: the names are not keywords.
                    "properties" | "patternProperties" | "$defs" => Value::Object(
                        value
                            .as_object()
                            .expect("a map")
                            .iter()
                            .map(|(k, v)| (k.clone(), tuples_as_prefix_items(v)))
                            .collect(),
                    ),
                    _ => tuples_as_prefix_items(value),
                };
                if key == "items" && value.is_array() {
                    converted.insert("prefixItems".into(), value);
                } else {
                    converted.insert(key.clone(), value);
                }
            }
            Value::Object(converted)
        }
        Value::Array(items) => Value::Array(items.iter().map(tuples_as_prefix_items).collect()),
        other => other.clone(),
    }
}

/// Validate `instance` against `schema`, resolving `#/components/…` in `document`.
fn assert_fits(document: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut rooted = json!({ "components": document["components"].clone() });
    rooted["allOf"] = json!([schema]);
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&rooted)
        .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}\n{schema}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the real answer doesn't fit the document: {errors:?}\nanswer: {instance}\nschema: {schema}"
    );
}

fn json_schema<'v>(operation: &'v Value, status: &str) -> &'v Value {
    let schema = &operation["responses"][status]["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "no {status} JSON schema in {operation}");
    schema
}

async fn document(server: &TestServer) -> Value {
    let reply = server.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_a_real_info_and_this_server() {
    let server = TestServer::demo().await;
    let document = document(&server).await;
    assert_eq!(document["openapi"], "3.1.0");
    let title = document["info"]["title"].as_str().expect("a title");
    for thing in ["Counter", "MockStage", "MockCamera"] {
        assert!(title.contains(thing), "{title}");
    }
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        document["servers"][0]["url"],
        format!("http://{}", server.addr)
    );
    // One tag per Thing, and every operation tagged and uniquely, readably named.
    let tags: BTreeSet<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for thing in ["counter", "stage", "camera", "lab"] {
        assert!(tags.contains(thing), "{tags:?}");
    }
    let operations = operations(&document);
    let ids: Vec<&str> = operations
        .values()
        .map(|op| op["operationId"].as_str().expect("an operationId"))
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate operationIds: {ids:?}");
    for op in operations.values() {
        let tag = op["tags"][0].as_str().expect("a tag");
        assert!(tags.contains(tag), "{tag} is not declared");
    }
    for (path, method, id) in [
        ("/counter/count", "get", "counter.count.read"),
        ("/counter/count", "put", "counter.count.write"),
        ("/counter/count/reset", "post", "counter.count.reset"),
        ("/counter/slow", "post", "counter.slow.invoke"),
        ("/counter/slow", "get", "counter.slow.invocations"),
        (
            "/action_invocations/{id}",
            "delete",
            "action_invocations.cancel",
        ),
    ] {
        assert_eq!(
            operations[&(path.to_owned(), method.to_owned())]["operationId"],
            id
        );
    }
    // No security without tokens.
    assert!(document.get("security").is_none());
    assert!(document["components"].get("securitySchemes").is_none());
}

#[tokio::test]
async fn every_form_of_every_td_is_an_operation_with_its_method() {
    let server = TestServer::demo().await;
    let document = document(&server).await;
    let operations = operations(&document);
    let descriptions = server.get("/thing_descriptions/").await.json();
    let mut checked = 0;
    for (name, td) in descriptions.as_object().expect("TDs") {
        let mut forms: Vec<&Value> = Vec::new();
        for kind in ["properties", "actions", "events"] {
            for affordance in td[kind].as_object().into_iter().flat_map(|a| a.values()) {
                forms.extend(affordance["forms"].as_array().expect("forms"));
            }
        }
        for form in forms {
            let path = href_path(form["href"].as_str().expect("href"));
            for op in form["op"].as_array().expect("op is an array") {
                let op = op.as_str().expect("op");
                if op.starts_with("un") {
                    continue; // Closing the stream or socket: no request of its own.
                }
                let method = methods_for(op);
                let operation = operations
                    .get(&(path.clone(), method.to_owned()))
                    .unwrap_or_else(|| panic!("{name}: {op} at {path} ({method}) is missing"));
                assert_eq!(operation["tags"][0], name.as_str());
                let href = form["href"].as_str().unwrap_or_default();
                if form["subprotocol"] == "sse" {
                    assert!(
                        operation["responses"]["200"]["content"]
                            .get("text/event-stream")
                            .is_some(),
                        "{name}: {path} doesn't say it streams events"
                    );
                } else if href.starts_with("ws:") || href.starts_with("wss:") {
                    assert!(
                        operation["responses"].get("101").is_some(),
                        "{name}: the WebSocket {path} has no 101"
                    );
                }
                checked += 1;
            }
        }
        // The MJPEG streams, and the streams of all properties and all events, are links.
        for link in td["links"].as_array().into_iter().flatten() {
            if link["type"] == "text/event-stream" {
                let path = href_path(link["href"].as_str().expect("href"));
                let operation = &operations[&(path.clone(), "get".to_owned())];
                assert!(
                    operation["responses"]["200"]["content"]
                        .get("text/event-stream")
                        .is_some(),
                    "{name}: {path} doesn't say it streams events"
                );
                checked += 1;
            }
            if link["type"] == "multipart/x-mixed-replace" {
                let path = href_path(link["href"].as_str().expect("href"));
                let operation = &operations[&(path.clone(), "get".to_owned())];
                assert!(
                    operation["responses"]["200"]["content"]
                        .get("multipart/x-mixed-replace")
                        .is_some()
                );
                assert!(operations.contains_key(&(format!("{path}/viewer"), "get".to_owned())));
                checked += 1;
            }
        }
        // The TD's own route.
        assert!(operations.contains_key(&(format!("/{name}/"), "get".to_owned())));
    }
    assert!(checked > 50, "only {checked} forms checked");
    // The fixed routes.
    for (path, method) in [
        ("/things/", "get"),
        ("/thing_descriptions/", "get"),
        ("/action_invocations", "get"),
        ("/action_invocations/{id}", "get"),
        ("/action_invocations/{id}", "delete"),
        ("/action_invocations/{id}/output", "get"),
        ("/blob/{id}", "get"),
        ("/.well-known/wot", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
    ] {
        assert!(
            operations.contains_key(&(path.to_owned(), method.to_owned())),
            "{method} {path} is missing"
        );
    }
    let blob = &operations[&("/blob/{id}".to_owned(), "get".to_owned())];
    for status in ["200", "206", "304", "404", "416"] {
        assert!(blob["responses"].get(status).is_some(), "blob {status}");
    }
    // Resettable properties only.
    assert!(operations.contains_key(&("/counter/count/reset".to_owned(), "post".to_owned())));
    let read_only = descriptions["counter"]["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .find(|(_, p)| p["readOnly"] == true)
        .map(|(name, _)| name.clone())
        .expect("the counter has a read-only property");
    assert!(!operations.contains_key(&(format!("/counter/{read_only}"), "put".to_owned())));
    assert!(!operations.contains_key(&(format!("/counter/{read_only}/reset"), "post".to_owned())));
}

#[tokio::test]
async fn schemas_are_the_tds_own() {
    let server = TestServer::demo().await;
    let document = document(&server).await;
    let operations = operations(&document);
    let descriptions = server.get("/thing_descriptions/").await.json();
    for (name, td) in descriptions.as_object().expect("TDs") {
        for (property, affordance) in td["properties"].as_object().expect("properties") {
            let mut expected = affordance.clone();
            let object = expected.as_object_mut().expect("an object");
            object.remove("forms");
            object.remove("observable");
            let expected = tuples_as_prefix_items(&expected);
            let path = format!("/{name}/{property}");
            let read = &operations[&(path.clone(), "get".to_owned())];
            assert_eq!(json_schema(read, "200"), &expected, "{path}");
            if let Some(write) = operations.get(&(path.clone(), "put".to_owned())) {
                assert_eq!(
                    write["requestBody"]["content"]["application/json"]["schema"], expected,
                    "{path}"
                );
            }
        }
        for (action, affordance) in td["actions"].as_object().expect("actions") {
            let path = format!("/{name}/{action}");
            let invoke = &operations[&(path.clone(), "post".to_owned())];
            assert_eq!(
                invoke["requestBody"]["content"]["application/json"]["schema"],
                tuples_as_prefix_items(&affordance["input"]),
                "{path} input"
            );
            let invocation = &invoke["responses"]["201"]["content"]["application/json"]["schema"];
            assert_eq!(
                invocation["allOf"][1]["properties"]["output"]["anyOf"][0],
                tuples_as_prefix_items(&affordance["output"]),
                "{path} output"
            );
        }
    }
}

#[tokio::test]
async fn real_answers_fit_the_documented_schemas() {
    let server = TestServer::demo().await;
    let document = document(&server).await;
    let operations = operations(&document);
    let op = |path: &str, method: &str| operations[&(path.to_owned(), method.to_owned())].clone();

    let value = server.get("/counter/count").await;
    assert_fits(
        &document,
        json_schema(&op("/counter/count", "get"), "200"),
        &value.json(),
        "GET /counter/count",
    );
    let refused = server.put("/counter/count", "\"abc\"").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fits(
        &document,
        json_schema(&op("/counter/count", "put"), "422"),
        &refused.json(),
        "422",
    );
    // The 422 schema is not vacuous: a bare string is refused.
    let validation = json_schema(&op("/counter/count", "put"), "422").clone();
    let mut rooted = json!({"components": document["components"].clone()});
    rooted["allOf"] = json!([validation]);
    let validator = jsonschema::draft202012::new(&rooted).expect("compiles");
    assert!(!validator.is_valid(&json!({"detail": "abc"})));

    let started = server
        .post_and_wait("/counter/slow", Some(r#"{"duration": 0.01}"#))
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let invocation = started.json();
    let invoke = op("/counter/slow", "post");
    assert_fits(
        &document,
        &invoke["responses"]["201"]["content"]["application/json"]["schema"],
        &invocation,
        "POST /counter/slow",
    );
    let id = invocation["id"].as_str().expect("id");
    let get = op("/action_invocations/{id}", "get");
    assert_fits(
        &document,
        json_schema(&get, "200"),
        &server
            .get(&format!("/action_invocations/{id}"))
            .await
            .json(),
        "GET invocation",
    );
    assert_fits(
        &document,
        json_schema(&op("/counter/slow", "get"), "200"),
        &server.get("/counter/slow").await.json(),
        "GET /counter/slow",
    );
    assert_fits(
        &document,
        json_schema(&op("/action_invocations", "get"), "200"),
        &server.get("/action_invocations").await.json(),
        "GET /action_invocations",
    );
    let missing = server
        .get("/action_invocations/7e36a07a-3e1b-432c-ae06-a6be8be997aa")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_fits(&document, json_schema(&get, "404"), &missing.json(), "404");
    let bad_id = server.get("/action_invocations/not-a-uuid").await;
    assert_fits(
        &document,
        json_schema(&get, "422"),
        &bad_id.json(),
        "bad id",
    );
    let cancel_finished = server.delete(&format!("/action_invocations/{id}")).await;
    assert_eq!(cancel_finished.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_fits(
        &document,
        json_schema(&op("/action_invocations/{id}", "delete"), "503"),
        &cancel_finished.json(),
        "cancel a finished invocation",
    );
    assert_fits(
        &document,
        json_schema(&op("/things/", "get"), "200"),
        &server.get("/things/").await.json(),
        "GET /things/",
    );
}

#[tokio::test]
async fn with_tokens_the_document_declares_bearer_and_401() {
    const TOKEN: &str = "openapi-test-token";
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token(TOKEN))).await;
    let refused = server.get("/openapi.json").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let authorization = format!("Bearer {TOKEN}");
    let reply = server
        .request(
            Method::GET,
            "/openapi.json",
            &[("authorization", &authorization)],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.json();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "opaque",
            "description": document["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    assert_eq!(
        document["security"],
        json!([{"bearer": []}, {"access_token": []}, {"lt_token": []}])
    );
    for ((path, method), operation) in operations(&document) {
        assert!(
            operation["responses"].get("401").is_some(),
            "{method} {path} has no 401"
        );
    }
    // The documented 401 is the one the server sends.
    let unauthorized = &document["components"]["responses"]["Unauthorized"]["content"]["application/problem+json"]
        ["schema"];
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert_fits(&document, unauthorized, &refused.json(), "401");
}

#[tokio::test]
async fn the_api_prefix_is_in_every_path_but_the_well_known_one() {
    let server = TestServer::start(demo_server().api_prefix("/api/v1")).await;
    assert_eq!(
        server.get("/openapi.json").await.status,
        StatusCode::NOT_FOUND
    );
    let reply = server.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.json();
    for path in document["paths"].as_object().expect("paths").keys() {
        assert!(
            path.starts_with("/api/v1/") || path == "/.well-known/wot",
            "{path}"
        );
    }
    assert!(document["paths"].get("/api/v1/counter/count").is_some());
    let initializer = server.get("/api/v1/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&initializer.body);
    assert!(text.contains(r#"url: "/api/v1/openapi.json""#), "{text}");
    let page = server.get("/api/v1/docs").await;
    assert!(String::from_utf8_lossy(&page.body).contains("/api/v1/docs/swagger-ui-bundle.js"));
}

fn header<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", reply.headers))
}

#[tokio::test]
async fn docs_serves_swagger_ui_from_the_binary() {
    let server = TestServer::demo().await;
    let page = server.get("/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let csp = header(&page, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains(r#"<script src="/docs/swagger-ui-bundle.js""#),
        "{html}"
    );
    assert!(
        !html.contains("http"),
        "the page loads nothing from elsewhere: {html}"
    );
    assert_eq!(server.get("/docs/").await.body, page.body);

    let initializer = server.get("/docs/swagger-initializer.js").await;
    assert_eq!(
        header(&initializer, "content-type"),
        "text/javascript; charset=utf-8"
    );
    let text = String::from_utf8_lossy(&initializer.body);
    assert!(text.contains(r#"url: "/openapi.json""#), "{text}");
    assert!(text.contains("validatorUrl: null"), "{text}");

    // The bundle: plain, or the zip's deflate stream as gzip when the client takes it.
    let plain = server.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        header(&plain, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(plain.header("content-encoding").is_none());
    assert!(plain.body.len() > 1_000_000, "{}", plain.body.len());
    assert!(plain.body.starts_with(b"/*!"));
    let gzip = server
        .request(
            Method::GET,
            "/docs/swagger-ui-bundle.js",
            &[("accept-encoding", "gzip, deflate, br")],
            None,
        )
        .await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    assert!(header(&gzip, "vary").contains("Accept-Encoding"));
    assert_eq!(&gzip.body[..3], &[0x1f, 0x8b, 8]);
    let size = u32::from_le_bytes(
        gzip.body[gzip.body.len() - 4..]
            .try_into()
            .expect("4 bytes"),
    );
    assert_eq!(size as usize, plain.body.len());
    assert!(gzip.body.len() * 3 < plain.body.len());

    // Revalidation by ETag.
    let etag = header(&plain, "etag").to_owned();
    assert_eq!(header(&gzip, "etag"), etag);
    let again = server
        .request(
            Method::GET,
            "/docs/swagger-ui-bundle.js",
            &[("if-none-match", &etag)],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let css = server.get("/docs/swagger-ui.css").await;
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
    assert!(css.body.len() > 100_000);
    let icon = server.get("/docs/favicon-32x32.png").await;
    assert_eq!(header(&icon, "content-type"), "image/png");
    assert!(icon.body.starts_with(b"\x89PNG"));

    let unknown = server.get("/docs/nope.js").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json(), json!({"detail": "Not Found"}));
    let post = server.post("/docs", None).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&post, "allow"), "GET");
    let head = server
        .request(Method::HEAD, "/openapi.json", &[], None)
        .await;
    assert_eq!(head.status, StatusCode::OK);
}

/// A scratch folder for a process's settings.
fn scratch(name: &str) -> std::path::PathBuf {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("scratch folder");
    folder
}

/// Run the binary to completion: exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn print_flags_print_what_the_server_serves_without_binding() {
    let settings = scratch("print-flags");
    let config = json!({
        "things": {"counter": "Counter", "stage": "MockStage"},
        "settings_folder": settings,
    })
    .to_string();
    let mut command = Command::new(BINARY);
    command.args(["-j", &config, "--port", "0"]);
    let (mut child, addr, _stderr) = support::spawn_server(command);
    let port = addr.port().to_string();
    let served_openapi = support::request(addr, Method::GET, "/openapi.json", &[], None).await;
    let served_td = support::request(addr, Method::GET, "/counter/", &[], None).await;

    // The same port the running server holds: printing must not bind it.
    let (code, stdout, stderr) = run(&["-j", &config, "--port", &port, "--print-openapi"]);
    assert_eq!(code, Some(0), "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(printed, served_openapi.json());
    assert!(stdout.ends_with("}\n") && stdout.contains("\n  \"openapi\": \"3.1.0\""));

    let (code, stdout, stderr) = run(&["-j", &config, "--port", &port, "--print-td", "counter"]);
    assert_eq!(code, Some(0), "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(printed, served_td.json());

    let (code, stdout, stderr) = run(&["-j", &config, "--print-td", "nope"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("\"nope\"") && stderr.contains("counter, stage"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["-j", &config, "--print-openapi", "--print-td", "counter"]);
    assert_eq!(code, Some(2), "clap refuses both: {stderr}");
    let (code, _, stderr) = run(&[
        "-j",
        r#"{"things": {"x": "NoSuchType"}}"#,
        "--print-openapi",
    ]);
    assert_eq!(code, Some(3), "{stderr}");

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(settings);
}

#[tokio::test]
async fn custom_endpoints_are_operations_but_not_affordances() {
    let server = TestServer::demo().await;
    let document = document(&server).await;
    let operations = operations(&document);
    let snapshot = operations
        .get(&("/camera/snapshot.jpg".to_owned(), "get".to_owned()))
        .unwrap_or_else(|| panic!("no GET /camera/snapshot.jpg in {:?}", operations.keys()));
    assert_eq!(snapshot["operationId"], "camera.snapshot.get");
    assert_eq!(snapshot["tags"][0], "camera");
    assert!(
        snapshot["responses"]["200"]["content"]["image/jpeg"].is_object(),
        "{snapshot}"
    );
    // No affordance, form or link of the TD leads there.
    let td = server.get("/camera/").await.json();
    let mut hrefs = Vec::new();
    collect_hrefs(&td, &mut hrefs);
    assert!(hrefs.len() > 10, "{hrefs:?}");
    assert!(!hrefs.iter().any(|h| h.contains("snapshot")), "{hrefs:?}");
    for kind in ["properties", "actions", "events"] {
        assert!(td[kind].get("snapshot").is_none(), "{kind}: {}", td[kind]);
    }
}

/// Every `href` anywhere in `value`.
fn collect_hrefs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("href", Value::String(href)) => into.push(href.clone()),
                    _ => collect_hrefs(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_hrefs(item, into)),
        _ => {}
    }
}
