//! The history across crashes: a real `test-lab` process killed with SIGKILL 20 times while
//! actions run. After each kill the database opens (not moved aside as corrupt), every row the
//! history had answered before the kill is still there, and the invocations the dead server
//! left `running` are `error` ("server stopped").

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");
const KILLS: usize = 20;

struct Lab {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no shutdown, no flush
        let _ = self.child.wait();
    }
}

impl Lab {
    /// `port` 0: a free one. A restart keeps the port: the server's identity in the history
    /// is its host and port, and a start closes only its own identity's unfinished rows.
    fn start(folder: &Path, port: u16) -> Self {
        let config = json!({
            "things": {"counter": "Counter"},
            "settings_folder": folder,
        })
        .to_string();
        let mut command = Command::new(BINARY);
        command.args(["-j", &config, "--port", &port.to_string()]);
        let (child, addr, _stderr) = support::spawn_server(command);
        Self { child, addr }
    }

    async fn request(&self, method: Method, path: &str, body: Option<&str>) -> support::Reply {
        let headers = [("content-type", "application/json")];
        support::request(
            self.addr,
            method,
            path,
            &headers,
            body.map(|b| b.to_owned().into()),
        )
        .await
    }

    async fn recorded(&self, id: &str) -> Option<Value> {
        let reply = self
            .request(Method::GET, &format!("/history/invocations/{id}"), None)
            .await;
        (reply.status == StatusCode::OK).then(|| reply.json())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_load_of_actions_loses_nothing_committed() {
    let folder = support::scratch("history-crash");
    // What the history had answered before a kill: (id, status it had then).
    let mut committed: Vec<(String, String)> = Vec::new();
    let mut left_running: Vec<String> = Vec::new();
    let mut port = 0;
    for round in 0..=KILLS {
        let lab = Lab::start(&folder, port);
        port = lab.addr.port();
        // Everything seen committed before earlier kills is still there …
        for (id, status) in &committed {
            let record = lab.recorded(id).await;
            let record = record.unwrap_or_else(|| panic!("round {round}: {id} lost"));
            if status == "completed" {
                assert_eq!(record["status"], "completed", "round {round}: {record}");
            }
        }
        // … and what was left running is closed as an error, and counted (with any of the
        // burst below the kill caught pending or running).
        let status = lab
            .request(Method::GET, "/history/status", None)
            .await
            .json();
        let closed = status["closedAtStart"].as_u64().unwrap();
        assert!(
            closed >= left_running.len() as u64,
            "round {round}: {status}"
        );
        for id in left_running.drain(..) {
            let record = lab
                .recorded(&id)
                .await
                .expect("a running invocation is kept");
            assert_eq!(record["status"], "error", "round {round}: {record}");
            assert_eq!(record["error"]["detail"], "server stopped");
        }
        if round == KILLS {
            break;
        }
        // A load: quick actions and one slow one that will still be running at the kill.
        let slow = lab
            .request(
                Method::POST,
                "/counter/slow",
                Some(r#"{"duration": 30, "step": 0.01}"#),
            )
            .await;
        assert_eq!(slow.status, StatusCode::CREATED);
        let slow = slow.json()["id"].as_str().unwrap().to_owned();
        let mut quick = Vec::new();
        for _ in 0..20 {
            let reply = lab.request(Method::POST, "/counter/increment", None).await;
            quick.push(reply.json()["id"].as_str().unwrap().to_owned());
        }
        // Read back through the history until it has them: then they are committed.
        for id in quick.iter().chain([&slow]) {
            let record = loop {
                match lab.recorded(id).await {
                    Some(record)
                        if record["status"] == "completed"
                            || (id == &slow && record["status"] == "running") =>
                    {
                        break record;
                    }
                    _ => tokio::task::yield_now().await,
                }
            };
            committed.push((id.clone(), record["status"].as_str().unwrap().to_owned()));
        }
        left_running.push(slow);
        // More load in flight at the moment of the kill.
        let burst: Vec<_> = (0..10)
            .map(|_| {
                let addr = lab.addr;
                tokio::spawn(async move {
                    support::request(addr, Method::POST, "/counter/increment", &[], None).await
                })
            })
            .collect();
        drop(lab);
        for task in burst {
            let _ = task.await;
        }
    }
    let moved_aside = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| entry.file_name().to_string_lossy().contains(".corrupt-"));
    assert!(!moved_aside, "a kill left a database SQLite called corrupt");
    let _ = std::fs::remove_dir_all(folder);
}
