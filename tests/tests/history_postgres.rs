//! The history in PostgreSQL, black-box: a throwaway cluster (`support/postgres.rs`), real
//! servers writing into it, the `/history` routes answering from it, and an outage under load
//! spooled to the local file and forwarded when the database is back — the database stopped,
//! a table locked by another session (statements time out), or a relay that stops answering
//! (connection attempts hang while the writer goes on spooling).

#[path = "support/postgres.rs"]
mod postgres;
mod support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hyper::StatusCode;
use labthings_server::{HistoryLocation, ThingServer};
use postgres::Postgres;
use serde_json::Value;
use support::TestServer;

fn lab(settings: &Path, database: &Postgres) -> ThingServer {
    support::demo_server()
        .settings_folder(settings)
        .history(HistoryLocation::Postgres(database.url()))
}

/// `database` stopped, off the runtime's threads (`pg_ctl` waits), and handed back.
async fn stopped(mut database: Postgres) -> Postgres {
    tokio::task::spawn_blocking(move || {
        database.stop();
        database
    })
    .await
    .unwrap()
}

/// `database` started again, off the runtime's threads, and handed back.
async fn resumed(mut database: Postgres) -> Postgres {
    tokio::task::spawn_blocking(move || {
        database.resume();
        database
    })
    .await
    .unwrap()
}

/// Every invocation id the history lists (`query`: the list's filters), page by page.
async fn listed(server: &TestServer, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let page = server
            .get(&format!("/history/invocations?limit=1000{query}{after}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let rows = page.json();
        let rows = rows.as_array().unwrap();
        ids.extend(
            rows.iter()
                .map(|row| row["id"].as_str().unwrap().to_owned()),
        );
        match rows.last() {
            Some(last) if rows.len() == 1000 => {
                after = format!("&after={}", last["id"].as_str().unwrap());
            }
            _ => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_share_one_database_and_each_reads_both() {
    let database = Postgres::start();
    let (folder_a, folder_b) = (
        support::scratch("history-pg-a"),
        support::scratch("history-pg-b"),
    );
    let a = TestServer::start(lab(&folder_a, &database)).await;
    let b = TestServer::start(lab(&folder_b, &database)).await;

    assert!(a.put("/counter/count", "7").await.status.is_success());
    let from_a = a.run_action("/counter/increment", None).await;
    let from_b = b
        .run_action(
            "/counter/slow",
            Some(r#"{"duration": 0.01, "step": 0.005}"#),
        )
        .await;
    a.flush_history().await;
    b.flush_history().await;

    // Each record carries its server's identity.
    let record_b = a
        .get(&format!(
            "/history/invocations/{}",
            from_b["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(record_b.status, StatusCode::OK, "A reads B's record whole");
    let record_b = record_b.json();
    assert_eq!(record_b["action"], "slow");
    assert_eq!(record_b["status"], "completed");
    assert!(
        !record_b["log"].as_array().unwrap().is_empty(),
        "with its log"
    );
    assert_eq!(record_b["snapshot"]["gain"], 1.0, "and its snapshot");
    let record_a = b
        .get(&format!(
            "/history/invocations/{}",
            from_a["id"].as_str().unwrap()
        ))
        .await
        .json();
    let (server_a, server_b) = (record_a["server"].clone(), record_b["server"].clone());
    assert_ne!(server_a, server_b, "two identities");
    assert_eq!(record_a["snapshot"]["count"], 7);

    // The list is the lab's: both servers' invocations, narrowed by `server=`.
    let all = listed(&a, "").await;
    assert_eq!(all.len(), 2, "{all:?}");
    let only_b = listed(&a, &format!("&server={}", server_b.as_str().unwrap())).await;
    assert_eq!(only_b, [from_b["id"].as_str().unwrap()]);
    let counters = b
        .get("/history/invocations?thing=counter&action=increment")
        .await
        .json();
    assert_eq!(counters[0]["id"], from_a["id"]);

    // The property series, with where each write came from.
    let writes = b.get("/history/properties/counter/count").await.json();
    let writes = writes.as_array().unwrap();
    let values: Vec<(&Value, &Value)> =
        writes.iter().map(|w| (&w["value"], &w["source"])).collect();
    assert_eq!(
        values,
        [
            (&Value::from(7), &Value::from("http")),
            (&Value::from(8), &Value::from("rust"))
        ]
    );
    assert_eq!(writes[1]["invocation"], from_a["id"]);
    assert_eq!(writes[1]["server"], server_a);

    let status = a.get("/history/status").await.json();
    assert_eq!(status["database"], database.url());
    assert_eq!(status["spooled"], 0);
    assert_eq!(status["dropped"], 0);
    a.stop().await;
    b.stop().await;
    let _ = std::fs::remove_dir_all(folder_a);
    let _ = std::fs::remove_dir_all(folder_b);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_stopped_under_load_then_restarted_loses_nothing() {
    let database = Postgres::start();
    let folder = support::scratch("history-pg-outage");
    let server = Arc::new(TestServer::start(lab(&folder, &database)).await);

    // Load: quick actions, one after another, until told to stop.
    let done = Arc::new(AtomicBool::new(false));
    let load = load(&server, &done);
    let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    pause(300).await;
    let database = stopped(database).await;
    pause(400).await;
    // While it is down, rows wait in the local spool (none dropped).
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    assert!(status["spooled"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(status["dropped"], 0);
    let database = resumed(database).await;
    pause(300).await;
    let posted = end_load(&server, &done, load).await;

    let recorded = listed(&server, "&thing=counter").await;
    let unique: HashSet<&String> = recorded.iter().collect();
    assert_eq!(unique.len(), recorded.len(), "each once");
    let expected: HashSet<&String> = posted.iter().collect();
    assert_eq!(unique, expected, "every invocation, none lost");
    let completed = listed(&server, "&thing=counter&status=completed").await;
    assert_eq!(completed.len(), posted.len(), "each with its final state");

    // The property writes kept their order: the counter's values climb one by one.
    let writes = server
        .get("/history/properties/counter/count?limit=1000")
        .await
        .json();
    let values: Vec<i64> = writes
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["value"].as_i64().unwrap())
        .collect();
    let climbing: Vec<i64> = (1..=values.len() as i64).collect();
    assert_eq!(values, climbing);
    drop(database);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_starts_while_postgres_is_down_and_forwards_when_it_is_up() {
    let database = stopped(Postgres::start()).await;
    let folder = support::scratch("history-pg-late");
    let server = TestServer::start(lab(&folder, &database)).await;
    let done = server.run_action("/counter/increment", None).await;
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    // The invocation (one row, or up to three if its changes fell in different batches) and
    // its property write.
    let spooled = status["spooled"].as_u64().unwrap();
    assert!((2..=4).contains(&spooled), "{status}");
    assert_eq!(status["dropped"], 0);
    let unavailable = server.get("/history/invocations").await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        unavailable.header("content-type"),
        Some("application/problem+json")
    );
    assert!(unavailable.json()["detail"].is_string());

    let database = resumed(database).await;
    server.flush_history().await;
    assert_eq!(server.get("/history/status").await.json()["spooled"], 0);
    assert_eq!(listed(&server, "").await, [done["id"].as_str().unwrap()]);
    drop(server);
    drop(database);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_postgres_cannot_take_is_dropped_and_counted_not_spooled_for_ever() {
    let database = Postgres::start();
    // A first server makes the schema; then the administrator changes a column to a type the
    // server's text values can't be sent as: the client refuses the statement (no server
    // code), which is that batch's fault, not an outage.
    let first = support::scratch("history-pg-refused-a");
    TestServer::start(lab(&first, &database)).await.stop().await;
    database.sql("ALTER TABLE property_writes ALTER COLUMN value TYPE jsonb USING value::jsonb");
    let folder = support::scratch("history-pg-refused-b");
    let server = TestServer::start(lab(&folder, &database)).await;

    assert!(server.put("/counter/count", "5").await.status.is_success());
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    assert_eq!(status["spooled"], 0, "not kept for a retry: {status}");
    assert!(status["dropped"].as_u64().unwrap() >= 1, "{status}");

    // The batches after it are not held back (`fail` writes no property).
    let failed = server.run_action("/counter/fail", None).await;
    server.flush_history().await;
    assert_eq!(
        listed(&server, "&action=fail").await,
        [failed["id"].as_str().unwrap()]
    );
    assert_eq!(server.get("/history/status").await.json()["spooled"], 0);

    // The same batch spooled during an outage: forwarded when the database is back, refused,
    // dropped and counted, and what was spooled after it goes on.
    let database = stopped(database).await;
    assert!(server.put("/counter/count", "6").await.status.is_success());
    server.flush_history().await;
    let failed_later = server.run_action("/counter/fail", None).await;
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    assert!(status["spooled"].as_u64().unwrap() >= 2, "{status}");
    let dropped = status["dropped"].as_u64().unwrap();
    let database = resumed(database).await;
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    assert_eq!(status["spooled"], 0, "{status}");
    assert_eq!(status["dropped"].as_u64().unwrap(), dropped + 1, "{status}");
    let listed = listed(&server, "&action=fail").await;
    assert!(
        listed.contains(&failed_later["id"].as_str().unwrap().to_owned()),
        "{listed:?}"
    );
    server.stop().await;
    drop(database);
    let _ = std::fs::remove_dir_all(first);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_at_start_counts_the_invocations_closed_in_postgres() {
    let database = Postgres::start();
    let folder = support::scratch("history-pg-closed");
    let first = TestServer::start(lab(&folder, &database)).await;
    let port = first.addr.port();
    let done = first.run_action("/counter/increment", None).await;
    let id = done["id"].as_str().unwrap().to_owned();
    first.flush_history().await;
    first.stop().await;
    // As if the server had been killed while the invocation ran.
    database.sql(&format!(
        "UPDATE invocations SET status = 'running', time_completed = NULL WHERE id = '{id}'"
    ));

    // The same server (host and port) again.
    let again = TestServer::start_on(lab(&folder, &database), port).await;
    again.flush_history().await;
    let status = again.get("/history/status").await.json();
    assert_eq!(status["closedAtStart"], 1, "{status}");
    let record = again
        .get(&format!("/history/invocations/{id}"))
        .await
        .json();
    assert_eq!(record["status"], "error", "{record}");
    again.stop().await;
    let _ = std::fs::remove_dir_all(folder);
}

/// Quick actions, one after another, until `done`; their ids.
fn load(server: &Arc<TestServer>, done: &Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<String>> {
    let (server, done) = (server.clone(), done.clone());
    tokio::spawn(async move {
        let mut ids = Vec::new();
        while !done.load(Ordering::Relaxed) {
            let reply = server.post("/counter/increment", None).await;
            assert_eq!(reply.status, StatusCode::CREATED);
            ids.push(reply.json()["id"].as_str().unwrap().to_owned());
        }
        ids
    })
}

/// End the `load` and wait until every invocation it made has ended, then for the writer
/// (which forwards the spool): nothing waits in the spool, nothing was dropped. Its ids.
async fn end_load(
    server: &TestServer,
    done: &AtomicBool,
    load: tokio::task::JoinHandle<Vec<String>>,
) -> Vec<String> {
    done.store(true, Ordering::Relaxed);
    let posted = load.await.unwrap();
    assert!(posted.len() > 20, "under load: {} actions", posted.len());
    for id in &posted {
        server.wait_for(id, |status| status == "completed").await;
    }
    server.flush_history().await;
    let status = server.get("/history/status").await.json();
    assert_eq!(status["spooled"], 0, "{status}");
    assert_eq!(status["dropped"], 0, "{status}");
    posted
}

/// [`end_load`], then each invocation (the load's and `before`) is recorded once, completed.
async fn all_recorded_once(
    server: Arc<TestServer>,
    done: &AtomicBool,
    load: tokio::task::JoinHandle<Vec<String>>,
    before: &Value,
) {
    let mut posted = end_load(&server, done, load).await;
    posted.push(before["id"].as_str().unwrap().to_owned());
    let recorded = listed(&server, "&thing=counter&status=completed").await;
    let unique: HashSet<&String> = recorded.iter().collect();
    assert_eq!(unique.len(), recorded.len(), "each once");
    assert_eq!(
        unique,
        posted.iter().collect(),
        "every invocation, none lost"
    );
    let server = Arc::into_inner(server).expect("the load is done");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_table_holds_neither_the_writer_nor_the_reads_and_loses_nothing() {
    use std::time::{Duration, Instant};
    let database = Postgres::start();
    let folder = support::scratch("history-pg-locked");
    let server = Arc::new(TestServer::start(lab(&folder, &database)).await);
    let before = server.run_action("/counter/increment", None).await;
    server.flush_history().await;

    // Another session takes the table and keeps it while actions run.
    let lock = database.session("LOCK TABLE invocations IN ACCESS EXCLUSIVE MODE");
    let done = Arc::new(AtomicBool::new(false));
    let load = load(&server, &done);

    // A read waits on the lock no longer than its statement timeout (5 s), then answers 503
    // with a problem; meanwhile the writer's own statements have timed out (2 s) and its
    // batches are spooled.
    let asked = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(30), server.get("/history/invocations"))
        .await
        .expect("a read on a locked table answers");
    let waited = asked.elapsed();
    assert_eq!(
        read.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        read.body
    );
    assert_eq!(
        read.header("content-type"),
        Some("application/problem+json")
    );
    assert!(read.json()["detail"].is_string());
    assert!(
        waited < Duration::from_secs(9),
        "within the read's bound: {waited:?}"
    );
    let status = server.get("/history/status").await.json();
    assert!(status["spooled"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(status["dropped"], 0, "{status}");

    lock.end();
    all_recorded_once(server, &done, load, &before).await;
    drop(database);
    let _ = std::fs::remove_dir_all(folder);
}

/// A "database" that accepts connections and never answers: a hung server, or a host whose
/// traffic goes nowhere once connected.
fn silent_database() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://postgres@{}/postgres",
        listener.local_addr().unwrap()
    );
    (listener, url)
}

/// A listener on a free port for a relay, and the database URL that points at it.
fn relay_address() -> (tokio::net::TcpListener, String) {
    let (listener, url) = silent_database();
    listener.set_nonblocking(true).unwrap();
    (tokio::net::TcpListener::from_std(listener).unwrap(), url)
}

/// What a relay does to the connections it relays when its outage begins.
#[derive(Clone, Copy)]
enum Outage {
    /// Cut them, like a host that went away.
    Cut,
    /// Keep them open carrying nothing, like a server that stopped answering mid-statement;
    /// count those the server side closes.
    Freeze,
}

/// A TCP relay to the database on `port` with an outage switch (`true`): connections it relays
/// are cut or frozen (`outage`), new ones are held without a byte, like a hung server or a host
/// whose traffic goes nowhere; switched back (`false`), it relays new connections again. The
/// counter: frozen connections the server side has closed.
async fn relay(
    port: u16,
    outage: Outage,
) -> (String, tokio::sync::watch::Sender<bool>, Arc<AtomicU64>) {
    use tokio::io::AsyncReadExt as _;
    let (listener, url) = relay_address();
    let (switch, watching) = tokio::sync::watch::channel(false);
    let closed = Arc::new(AtomicU64::new(0));
    let counted = closed.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut client, _)) = listener.accept().await {
            let mut down = watching.clone();
            if *down.borrow() {
                held.push(client);
                continue;
            }
            let counted = counted.clone();
            tokio::spawn(async move {
                let Ok(mut database) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                else {
                    return;
                };
                let begins = async {
                    let _ = down.wait_for(|down| *down).await;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut database) => {}
                    () = begins => if let Outage::Freeze = outage {
                        // Nothing relayed any more; the database's socket stays open.
                        let mut buffer = [0; 1024];
                        while matches!(client.read(&mut buffer).await, Ok(read) if read > 0) {}
                        counted.fetch_add(1, Ordering::SeqCst);
                    },
                }
            });
        }
    });
    (url, switch, closed)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_given_up_on_is_closed_not_left_open() {
    use std::time::{Duration, Instant};
    let database = Postgres::start();
    let (url, frozen, closed) = relay(database.port, Outage::Freeze).await;
    let folder = support::scratch("history-pg-frozen");
    let server = TestServer::start(
        support::demo_server()
            .settings_folder(&folder)
            .history(HistoryLocation::Postgres(url)),
    )
    .await;
    server.run_action("/counter/increment", None).await;
    server.flush_history().await;

    // The server stops answering mid-exchange: the writer gives up on its batch (spooled) after
    // its bound, and the connection it gave up on must be closed, not held by its driving task
    // for as long as the socket lives.
    frozen.send_replace(true);
    server.run_action("/counter/increment", None).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while closed.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the writer's abandoned connection is still open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = server.get("/history/status").await.json();
    assert_eq!(status["dropped"], 0, "{status}");
    drop(database);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_writer_spools_on_while_a_connection_attempt_hangs_and_loses_nothing() {
    use std::time::{Duration, Instant};
    let database = Postgres::start();
    let (url, silent, _) = relay(database.port, Outage::Cut).await;
    let folder = support::scratch("history-pg-hung");
    let server = Arc::new(
        TestServer::start(
            support::demo_server()
                .settings_folder(&folder)
                .history(HistoryLocation::Postgres(url)),
        )
        .await,
    );
    let before = server.run_action("/counter/increment", None).await;
    server.flush_history().await;

    silent.send_replace(true);
    let done = Arc::new(AtomicBool::new(false));
    let load = load(&server, &done);
    // Each connection attempt now hangs for its whole timeout (3 s), yet the writer goes on
    // spooling: over more than one attempt's time, the spool grows within a second each time
    // it is looked at.
    let spooled = || async {
        let status = server.get("/history/status").await.json();
        assert_eq!(status["dropped"], 0, "{status}");
        status["spooled"].as_u64().unwrap()
    };
    let mut last = spooled().await;
    for _ in 0..12 {
        let looked = Instant::now();
        loop {
            let now = spooled().await;
            if now > last {
                last = now;
                break;
            }
            assert!(
                looked.elapsed() < Duration::from_secs(1),
                "nothing spooled for {:?}: the writer is held",
                looked.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Reachable again: everything is forwarded, once.
    silent.send_replace(false);
    all_recorded_once(server, &done, load, &before).await;
    drop(database);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_and_stop_do_not_wait_on_a_database_that_never_answers() {
    use std::time::{Duration, Instant};
    let (_silent, url) = silent_database();
    let folder = support::scratch("history-pg-silent");
    let server = tokio::time::timeout(
        Duration::from_secs(20),
        TestServer::start(
            support::demo_server()
                .settings_folder(&folder)
                .history(HistoryLocation::Postgres(url)),
        ),
    )
    .await
    .expect("the start gives up on the database after its connection timeout");
    let server = Arc::new(server);

    // Concurrent reads: one tries to connect, the others are told at once.
    let reads: Vec<_> = (0..4)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let asked = Instant::now();
                let reply = server.get("/history/invocations").await;
                (reply.status, asked.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for read in reads {
        let answer = tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("a read answers")
            .unwrap();
        answers.push(answer);
    }
    assert!(
        answers
            .iter()
            .all(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    let mut times: Vec<Duration> = answers.iter().map(|(_, time)| *time).collect();
    times.sort();
    assert!(
        times[2] < Duration::from_secs(1),
        "at most one read waits for the connection: {times:?}"
    );
    assert!(times[3] < Duration::from_secs(5), "{times:?}");

    // Rows are waiting for the database; a stop leaves them in the spool without waiting
    // for another connection attempt (nor for the one under way).
    server.run_action("/counter/increment", None).await;
    let server = Arc::into_inner(server).expect("the reads are done");
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("the stop ends");
    assert!(
        stopping.elapsed() < Duration::from_millis(1500),
        "stop took {:?}",
        stopping.elapsed()
    );
    let _ = std::fs::remove_dir_all(folder);
}
