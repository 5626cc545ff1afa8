//! The web UI on a real server: where browsers land (`/` → `P/ui/`, JSON clients still 404),
//! the pages and their files with a strict Content-Security-Policy, ETag revalidation, gzip,
//! the TD's link to the page, access with a token, and that the served JavaScript parses
//! (`node --check`). What the pages *do* is tested in a real browser: tests/browser/.

mod support;

use std::io::Read as _;
use std::process::Command;

use hyper::{Method, StatusCode};
use labthings_server::{ServerError, ThingServer, Tokens};
use serde_json::json;
use support::{Reply, TestServer, demo_server};

const HTML: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    server.request(Method::GET, path, headers, None).await
}

/// The files a page loads (`src="assets/…"`, `href="assets/…"`), as paths under `P/ui/`.
fn assets_of(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|piece| piece.starts_with("assets/"))
        .map(str::to_owned)
        .collect()
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.to_vec()).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_asking_for_the_root_go_to_the_ui_and_json_clients_still_get_404() {
    let server = TestServer::demo().await;
    let page = get(&server, "/", &[HTML]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/ui/"));
    for headers in [&[("accept", "application/json")][..], &[]] {
        let api = get(&server, "/", headers).await;
        assert_eq!(api.status, StatusCode::NOT_FOUND);
        assert_eq!(api.json(), json!({"detail": "Not Found"}));
    }
    // Only a browser's navigation is redirected.
    let post = server.request(Method::POST, "/", &[HTML], Some("{}")).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    let slash = get(&server, "/ui", &[]).await;
    assert_eq!(slash.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(slash.header("location"), Some(&*server.url("/ui/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_api_prefix_the_ui_lives_under_it() {
    let server = TestServer::start(demo_server().api_prefix("/api/v1")).await;
    for root in ["/", "/api/v1", "/api/v1/"] {
        let page = get(&server, root, &[HTML]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{root}");
        assert_eq!(page.header("location"), Some("/api/v1/ui/"), "{root}");
        assert_eq!(get(&server, root, &[]).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        get(&server, "/api/v1/ui/", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&server, "/api/v1/ui/stage", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&server, "/ui/", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let td = server.get("/api/v1/stage/").await.json();
    let page = json!({"rel": "alternate", "type": "text/html", "href": "/api/v1/ui/stage"});
    assert!(td["links"].as_array().unwrap().contains(&page), "{td:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_their_files_are_served_with_a_strict_content_security_policy() {
    let server = TestServer::demo().await;
    let csp_connects = format!("connect-src 'self' ws://{}", server.addr);
    for page in ["/ui/", "/ui/counter", "/ui/camera"] {
        let reply = get(&server, page, &[HTML]).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let csp = reply.header("content-security-policy").expect("a CSP");
        assert!(csp.starts_with("default-src 'self';"), "{csp}");
        assert!(csp.contains(&csp_connects), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        let html = text(&reply);
        // Nothing the policy would block: no inline script or style, nothing from elsewhere.
        assert!(
            !html.contains("<style") && !html.contains("style="),
            "{page}"
        );
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"assets/").count(),
            "{page}"
        );
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{page}"
        );
        let files = assets_of(&html);
        assert!(files.len() >= 3, "{files:?}");
        for file in files {
            let asset = get(&server, &format!("/ui/{file}"), &[]).await;
            assert_eq!(asset.status, StatusCode::OK, "{file}");
            let kind = asset.header("content-type").unwrap();
            let expected = match file.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                other => panic!("unexpected file type {other:?}"),
            };
            assert_eq!(kind, expected, "{file}");
            assert!(asset.header("content-security-policy").is_some(), "{file}");
        }
    }
    // Unknown Things and files are the API's 404; the pages answer GET only.
    for missing in ["/ui/nope", "/ui/assets/nope.js", "/ui/counter/extra"] {
        let reply = get(&server, missing, &[HTML]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(reply.json(), json!({"detail": "Not Found"}));
    }
    let post = server.post("/ui/counter", Some("{}")).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_revalidate_with_etags() {
    let server = TestServer::demo().await;
    for path in [
        "/ui/",
        "/ui/counter",
        "/ui/assets/thing.js",
        "/ui/assets/ui.css",
    ] {
        let first = get(&server, path, &[]).await;
        assert_eq!(first.status, StatusCode::OK);
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        assert_eq!(first.header("cache-control"), Some("no-cache"));
        let again = get(&server, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(&*etag));
        let weak = format!("\"other\", W/{etag}");
        let again = get(&server, path, &[("if-none-match", &weak)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        let stale = get(&server, path, &[("if-none-match", "\"stale\"")]).await;
        assert_eq!(stale.status, StatusCode::OK);
        assert_eq!(stale.body, first.body);
    }
    // The two pages are different files.
    let index = get(&server, "/ui/", &[]).await;
    let thing = get(&server, "/ui/counter", &[]).await;
    assert_ne!(index.header("etag"), thing.header("etag"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_gzipped_for_clients_that_accept_it() {
    let server = TestServer::demo().await;
    for path in [
        "/ui/",
        "/ui/stage",
        "/ui/assets/thing.js",
        "/ui/assets/ui.css",
    ] {
        let plain = get(&server, path, &[]).await;
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
        let packed = get(&server, path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(packed.status, StatusCode::OK);
        assert_eq!(packed.header("content-encoding"), Some("gzip"), "{path}");
        assert!(packed.body.len() < plain.body.len());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&packed.body[..])
            .read_to_end(&mut unpacked)
            .expect("valid gzip");
        assert_eq!(unpacked, plain.body, "{path}");
        // Refused explicitly: sent as it is.
        let refused = get(&server, path, &[("accept-encoding", "gzip;q=0")]).await;
        assert_eq!(refused.header("content-encoding"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_td_links_its_page() {
    let server = TestServer::demo().await;
    for name in ["counter", "stage", "camera", "lab"] {
        let td = server.get(&format!("/{name}/")).await.json();
        let pages: Vec<_> = td["links"]
            .as_array()
            .expect("links")
            .iter()
            .filter(|link| link["type"] == "text/html")
            .collect();
        assert_eq!(
            pages,
            [&json!({"rel": "alternate", "type": "text/html", "href": format!("/ui/{name}")})]
        );
        let page = get(&server, &format!("/ui/{name}"), &[HTML]).await;
        assert_eq!(page.status, StatusCode::OK);
    }
    // The camera's stream stays the first link.
    let camera = server.get("/camera/").await.json();
    assert_eq!(camera["links"][0]["type"], "multipart/x-mixed-replace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_javascript_parses() {
    let server = TestServer::demo().await;
    let folder = std::env::temp_dir().join(format!("labthings-web-ui-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let node_check = |name: &str, source: &[u8]| {
        let file = folder.join(name);
        std::fs::write(&file, source).unwrap();
        // node is on every machine this project is built on (the interop suite needs it too).
        Command::new("node")
            .arg("--check")
            .arg(&file)
            .output()
            .expect("node runs")
    };
    // The check can fail: a syntax error is reported.
    let broken = node_check("broken.js", b"function ( {");
    assert!(!broken.status.success());
    let mut checked = 0;
    for page in ["/ui/", "/ui/counter"] {
        let html = text(&get(&server, page, &[]).await);
        for file in assets_of(&html).iter().filter(|f| f.ends_with(".js")) {
            let script = get(&server, &format!("/ui/{file}"), &[]).await;
            assert_eq!(script.status, StatusCode::OK);
            let name = file.trim_start_matches("assets/");
            let result = node_check(name, &script.body);
            assert!(
                result.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&result.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} scripts checked");
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tokens_the_page_opens_with_one_and_keeps_it_in_a_cookie() {
    const TOKEN: &str = "correct-horse-battery-staple";
    let server = TestServer::start(demo_server().tokens(Tokens::new().with_token(TOKEN))).await;
    assert_eq!(
        get(&server, "/ui/counter", &[HTML]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&server, "/ui/counter?access_token=wrong", &[HTML])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = format!("lt_token={TOKEN}; Path=/; HttpOnly; SameSite=Strict");
    let page = get(
        &server,
        &format!("/ui/counter?access_token={TOKEN}"),
        &[HTML],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("set-cookie"), Some(&*cookie));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // The root's redirect keeps it too, so `/?access_token=…` is a link to the lab.
    let root = get(&server, &format!("/?access_token={TOKEN}"), &[HTML]).await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.header("set-cookie"), Some(&*cookie));
    // With the cookie the page's files and API calls are let in; a header token sets none.
    let with_cookie = [("cookie", &*format!("lt_token={TOKEN}"))];
    let script = get(&server, "/ui/assets/thing.js", &with_cookie).await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(script.header("set-cookie"), None);
    assert_eq!(
        get(&server, "/counter/", &with_cookie).await.status,
        StatusCode::OK
    );
    let bearer = format!("Bearer {TOKEN}");
    let page = get(&server, "/ui/", &[("authorization", &bearer)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("set-cookie"), None);
}

#[tokio::test]
async fn no_thing_may_be_called_ui() {
    let refused = ThingServer::new()
        .thing("ui", labthings_examples::Counter::new())
        .port(0)
        .start()
        .await;
    assert!(matches!(refused, Err(ServerError::ReservedName(name)) if name == "ui"));
}
