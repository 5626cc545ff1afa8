//! Against a scripted server: event subscription and reconnection (the demo Things have no
//! events yet, and our server can't be made to drop a stream on cue), a TD without forms, the
//! headers the client sends, and a blob output.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use labthings_client::{BlobLink, Error, ThingClient};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the scripted server saw: each request's path and lower-cased headers.
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

async fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<(String, String)>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<Vec<(String, String)>>();
    // Skip the body, so that a kept-alive connection's next request parses.
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((path, headers))
}

/// Serve the scripted Thing `alarm` on a free port; returns its base URL.
async fn scripted() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Seen = Arc::default();
    let streams = Arc::new(AtomicUsize::new(0));
    let td = json!({
        "title": "Alarm",
        "base": format!("http://{addr}/"),
        "properties": {
            "humidity": {"type": "number", "readOnly": true, "forms": []},
            "temperature": {"type": "number", "readOnly": true, "forms": [
                {"href": "/alarm/temperature", "op": ["readproperty"]}]}
        },
        "actions": {
            "snapshot": {"forms": [{"href": "/alarm/snapshot", "op": "invokeaction"}]}
        },
        "events": {
            "tripped": {"data": {"type": "integer"}, "forms": [
                {"href": format!("ws://{addr}/alarm/ws"), "op": ["subscribeevent"]},
                {"href": "/alarm/tripped/sse", "op": ["subscribeevent", "unsubscribeevent"],
                 "subprotocol": "sse"}
            ]}
        }
    })
    .to_string();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let td = td.clone();
            let log = log.clone();
            let streams = streams.clone();
            tokio::spawn(async move {
                while let Some((path, headers)) = read_head(&mut stream).await {
                    log.lock().expect("log").push((path.clone(), headers));
                    let (head, body, close) = match path.as_str() {
                        "/alarm/" => ("200 OK\r\ncontent-type: application/json", td.clone(), false),
                        "/alarm/temperature" => {
                            ("200 OK\r\ncontent-type: application/json", "21.5".into(), false)
                        }
                        "/alarm/humidity" => {
                            ("200 OK\r\ncontent-type: application/json", "40".into(), false)
                        }
                        // Completed at once, as `Prefer: wait` allows; the output a blob link.
                        "/alarm/snapshot" => (
                            "201 Created\r\ncontent-type: application/json",
                            json!({
                                "status": "completed", "id": "1", "action": "/alarm/snapshot",
                                "href": format!("http://{addr}/action_invocations/1"),
                                "output": {"href": format!("http://{addr}/blob/1"),
                                           "media_type": "image/jpeg", "rel": "output"},
                                "log": [], "error": null
                            })
                            .to_string(),
                            false,
                        ),
                        "/blob/1" => ("200 OK\r\ncontent-type: image/jpeg", "JPEG".into(), false),
                        "/alarm/tripped/sse" => match streams.fetch_add(1, Ordering::SeqCst) {
                            0 => (
                                "200 OK\r\ncontent-type: text/event-stream",
                                "retry: 10\n\n: keep-alive\n\nid: 1\ndata: 5\n\nid: 2\ndata: 6\n\nid: 3\ndata: 99"
                                    .into(),
                                true,
                            ),
                            1 => (
                                "200 OK\r\ncontent-type: text/event-stream",
                                "id: 3\ndata: 7\n\ndata: oops\n\nid: 4\r\ndata: 8\r\n\r\n".into(),
                                true,
                            ),
                            _ => (
                                "404 Not Found\r\ncontent-type: application/json",
                                r#"{"detail":"Not Found"}"#.into(),
                                false,
                            ),
                        },
                        _ => (
                            "404 Not Found\r\ncontent-type: application/json",
                            r#"{"detail":"Not Found"}"#.into(),
                            false,
                        ),
                    };
                    let framing = if close {
                        "connection: close".to_owned()
                    } else {
                        format!("content-length: {}", body.len())
                    };
                    let response = format!("HTTP/1.1 {head}\r\n{framing}\r\n\r\n{body}");
                    if stream.write_all(response.as_bytes()).await.is_err() || close {
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn events_stream_typed_and_resume_after_a_drop() {
    let (url, seen) = scripted().await;
    let alarm = ThingClient::builder()
        .token("t0ken")
        .connect(&format!("{url}/alarm/"))
        .await
        .expect("TD");
    assert_eq!(alarm.events().collect::<Vec<_>>(), vec!["tripped"]);

    let mut tripped = alarm.subscribe::<i64>("tripped").await.expect("subscribe");
    let mut items = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), tripped.next())
        .await
        .expect("the stream moves")
    {
        items.push(item);
    }
    // 5 and 6, the connection drops mid-message (id 3 never completes), the client
    // reconnects after `retry: 10` with `Last-Event-ID: 2`, gets 7, an undecodable message,
    // 8; the next reconnection is refused and ends the stream.
    let mut items = items.into_iter();
    for want in [5, 6, 7] {
        assert_eq!(items.next().map(|i| i.ok()), Some(Some(want)));
    }
    assert!(matches!(items.next(), Some(Err(Error::Decode { .. }))));
    assert_eq!(items.next().map(|i| i.ok()), Some(Some(8)));
    match items.next() {
        Some(Err(Error::Http { status, .. })) => assert_eq!(status.as_u16(), 404),
        other => panic!("the refused reconnection: {other:?}"),
    }
    assert!(items.next().is_none());

    let seen = seen.lock().expect("seen").clone();
    let streams: Vec<_> = seen
        .iter()
        .filter(|(path, _)| path == "/alarm/tripped/sse")
        .collect();
    assert_eq!(streams.len(), 3);
    let header = |i: usize, name: &str| {
        streams[i]
            .1
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header(0, "accept").as_deref(), Some("text/event-stream"));
    assert_eq!(header(0, "last-event-id"), None);
    assert_eq!(header(1, "last-event-id").as_deref(), Some("2"));
    assert_eq!(header(2, "last-event-id").as_deref(), Some("4"));
    // The token goes with every request, the TD's included.
    for (path, headers) in &seen {
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "authorization" && v == "Bearer t0ken"),
            "{path}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn a_server_without_streams_is_unsupported() {
    let (url, _) = scripted().await;
    let alarm = ThingClient::from_url(&format!("{url}/alarm/"))
        .await
        .expect("TD");
    assert_eq!(alarm.read::<f64>("temperature").await.expect("read"), 21.5);
    match alarm.observe::<f64>("temperature").await {
        Err(Error::Unsupported(message)) => {
            assert!(message.contains("application/json"), "{message}")
        }
        other => panic!("observing a plain JSON answer: {other:?}"),
    }
}

#[tokio::test]
async fn formless_affordances_fall_back_and_invoke_sends_prefer_wait() {
    let (url, seen) = scripted().await;
    let alarm = ThingClient::from_url(&format!("{url}/alarm/"))
        .await
        .expect("TD");
    // No form: `T<name>`, as the reference's client does.
    assert_eq!(alarm.read::<f64>("humidity").await.expect("read"), 40.0);

    let link: BlobLink = alarm.invoke("snapshot", &()).await.expect("invoke");
    assert_eq!(link.media_type, "image/jpeg");
    let blob = alarm.download_link(&link).await.expect("download");
    assert_eq!(&blob.bytes[..], b"JPEG");
    assert_eq!(blob.media_type.as_deref(), Some("image/jpeg"));

    let seen = seen.lock().expect("seen").clone();
    let (_, post) = seen
        .iter()
        .find(|(path, _)| path == "/alarm/snapshot")
        .expect("the POST");
    let header = |name: &str| {
        post.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("prefer"), Some("wait=5"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(
        header("content-length"),
        Some("2"),
        "`()` is sent as `{{}}`"
    );
    assert!(seen.iter().any(|(path, _)| path == "/alarm/humidity"));
}
