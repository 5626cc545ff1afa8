//! Every TD carries an `id` (`urn:uuid:…`) that stays the same across restarts when the server
//! has a settings folder: WoT consumers (node-wot) key a Thing's credentials by it.

mod support;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use support::{TestServer, demo_server};

async fn ids(server: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for thing in ["counter", "stage", "camera", "lab"] {
        let td = server.get(&format!("/{thing}/")).await.json();
        let id = td["id"].as_str().expect("the TD has an id").to_owned();
        let uuid = id.strip_prefix("urn:uuid:").expect("a urn:uuid id");
        assert_eq!(uuid.len(), 36, "{id}");
        ids.push(id);
    }
    ids
}

fn scratch_folder() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    std::env::temp_dir().join(format!("lt-thing-id-{}-{nanos}", std::process::id()))
}

#[tokio::test]
async fn ids_are_kept_next_to_the_settings_across_restarts() {
    let folder = scratch_folder();
    let first = TestServer::start(demo_server().settings_folder(&folder)).await;
    let before = ids(&first).await;
    drop(first);
    let mut unique = before.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), before.len(), "every Thing has its own id");
    let kept = std::fs::read_to_string(folder.join("counter").join("thing-id")).expect("id file");
    assert_eq!(kept.trim(), before[0]);

    let second = TestServer::start(demo_server().settings_folder(&folder)).await;
    assert_eq!(ids(&second).await, before, "the same ids after a restart");
    drop(second);
    std::fs::remove_dir_all(&folder).expect("clean up");
}

#[tokio::test]
async fn without_a_settings_folder_ids_are_derived_and_distinct() {
    let server = TestServer::demo().await;
    let ids = ids(&server).await;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    // Derived ids are name-based UUIDs of version 8 (`urn:uuid:xxxxxxxx-xxxx-8xxx-…`).
    assert!(ids.iter().all(|id| id.as_bytes()[23] == b'8'), "{ids:?}");
}

#[tokio::test]
async fn an_unwritable_settings_folder_stops_the_start_naming_the_file() {
    // A file where the folder should be: the id can't be saved under it.
    let blocker = scratch_folder();
    std::fs::write(&blocker, "not a folder").expect("write");
    let error = demo_server()
        .port(0)
        .settings_folder(&blocker)
        .start()
        .await
        .err()
        .expect("start-up fails");
    let message = error.to_string();
    assert!(
        message.contains("thing-id") && message.contains(&*blocker.to_string_lossy()),
        "{message}"
    );
    std::fs::remove_file(&blocker).expect("clean up");
}
