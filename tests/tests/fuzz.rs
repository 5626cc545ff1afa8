//! Bounded fault injection: many malformed requests against every route. Each must get a
//! 4xx (or an ordinary success) with a JSON body, never a 5xx or a dropped connection, and the
//! server must answer normally afterwards.

mod support;

use hyper::{Method, StatusCode};
use support::TestServer;

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const PATHS: &[&str] = &[
    "/counter/count",
    "/counter/limit",
    "/counter/serial",
    "/counter/uptime",
    "/counter/gain",
    "/counter/count/reset",
    "/counter/increment",
    "/counter/slow",
    "/stage/move_relative",
    "/stage/position",
    "/camera/autofocus",
    "/lab/echo",
    "/lab/label",
    "/action_invocations",
    "/action_invocations/%00",
    "/action_invocations/00000000-0000-0000-0000-00000000000g",
    "/action_invocations/../counter/count",
    "/counter/%2e%2e/",
    "//counter//count",
    "/counter/count?x=%ff",
];

const BODIES: &[&str] = &[
    "",
    "null",
    "{}",
    "[]",
    "1e400",
    "-0",
    "1.0e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\\ud800\"",
    "NaN",
    "{\"duration\": 1e308, \"step\": 1e-308}",
    "{\"duration\": -1}",
    "{\"displacement\": [9223372036854775807, 1, 1]}",
    "{\"displacement\": [1, 2]}",
    "{\"text\": null, \"times\": 4294967296}",
    "{\"range\": 0}",
    "{\"a\": {\"b\": {\"c\": [1, {\"d\": null}]}}}",
    "\"x\"",
    "true",
    "{\"duration\": \"0x10\"}",
];

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_clean_errors() {
    let server = TestServer::demo().await;
    let mut rng = Rng(0x5eed_1ab5);
    let methods = [
        Method::GET,
        Method::PUT,
        Method::POST,
        Method::DELETE,
        Method::PATCH,
    ];
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut checked = 0;
    for round in 0..400 {
        let path = *rng.pick(PATHS);
        let method = rng.pick(&methods).clone();
        let body: String = match round % 4 {
            0 => (0..rng.next() % 64)
                .map(|_| char::from((rng.next() % 96 + 32) as u8))
                .collect(),
            1 if round % 40 == 1 => deep.clone(),
            _ => (*rng.pick(BODIES)).to_owned(),
        };
        let reply = server.request(method.clone(), path, &[], Some(&body)).await;
        assert!(
            reply.status.is_success()
                || reply.status.is_client_error()
                || reply.status.is_redirection(),
            "{method} {path} {:?}: {} {:?}",
            body.chars().take(80).collect::<String>(),
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        if !reply.body.is_empty() {
            let _ = reply.json();
        }
        checked += 1;
    }
    assert_eq!(checked, 400);
    // Cancel whatever the fuzzing started, then check the server still works normally.
    let running = server.get("/action_invocations").await.json();
    for invocation in running.as_array().unwrap() {
        if invocation["status"] == "running" || invocation["status"] == "pending" {
            server
                .delete(&format!(
                    "/action_invocations/{}",
                    invocation["id"].as_str().unwrap()
                ))
                .await;
        }
    }
    assert_eq!(
        server.put("/counter/count", "5").await.status,
        StatusCode::CREATED
    );
    assert_eq!(server.get("/counter/count").await.body, "5");
}
