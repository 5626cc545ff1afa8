//! Server-Sent Events: a Thing's notifications as `text/event-stream`, shaped for node-wot.
//!
//! Per-affordance streams (one property, one event, one action's invocations) send *unnamed*
//! messages — node-wot's SSE client listens to `onmessage` only and drops named events — while
//! the Thing-level streams (`T` + `properties`, `T` + `events`) name each message after its
//! affordance, as the WoT SSE profile says. Every message has an `id:` (the Thing's sequence
//! number), so a client that reconnects with `Last-Event-ID` gets what it missed from the
//! hub's replay ring. `retry: 3000` opens the stream; a comment every 15 s keeps proxies and
//! idle-timeouts from closing it.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::hub::{Listener, Notification, NotificationKind, ThingHub};
use super::lifeline::{End, Lifeline, SEND_TIMEOUT, STOP_FLUSH};
use super::ws_protocol;

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Frames waiting for a slow client, beyond which its stream skips to the hub's newest.
const BUFFERED_FRAMES: usize = 8;

/// Which notifications a stream carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    Property(String),
    Event(String),
    /// Status and progress of every invocation of one action.
    Action(String),
    AllProperties,
    AllEvents,
}

impl Stream {
    /// The SSE message for `notification`, if this stream carries it.
    fn message(&self, notification: &Notification, invocations_url: &str) -> Option<String> {
        let (name, data, named) = match (&notification.kind, self) {
            (NotificationKind::Property { name, value }, Stream::Property(wanted))
                if **name == **wanted =>
            {
                (&**name, value.to_string(), false)
            }
            (NotificationKind::Property { name, value }, Stream::AllProperties) => {
                (&**name, value.to_string(), true)
            }
            (NotificationKind::Event { name, data }, Stream::Event(wanted))
                if **name == **wanted =>
            {
                (&**name, data.to_string(), false)
            }
            (NotificationKind::Event { name, data }, Stream::AllEvents) => {
                (&**name, data.to_string(), true)
            }
            (NotificationKind::Action(status), Stream::Action(wanted))
                if status.action == wanted =>
            {
                let href = format!("{invocations_url}{}", status.id);
                (
                    status.action,
                    ws_protocol::action_status_data(status, &href),
                    false,
                )
            }
            _ => return None,
        };
        let mut message = format!("id: {}\n", notification.seq);
        if named {
            let _ = writeln!(message, "event: {name}");
        }
        // JSON text has no raw newlines, so one `data:` line holds it.
        let _ = write!(message, "data: {data}\n\n");
        Some(message)
    }
}

/// Start streaming `stream` of `hub` to a client: the frames arrive on the returned channel,
/// which ends when the server stops (or the client goes, dropping the receiver).
pub fn open(
    hub: &Arc<ThingHub>,
    stream: Stream,
    last_event_id: Option<u64>,
    invocations_url: String,
    mut lifeline: Lifeline,
) -> mpsc::Receiver<Bytes> {
    // A property stream observes: it keeps the pollers of the getters it covers running, and
    // opens with their last readings. The Thing-level stream counts as observing every
    // property, because it promises every change of every observable property.
    let observe = |property| {
        let (listener, guard) = hub.listen_observing(last_event_id, property);
        (listener, Some(guard))
    };
    let (listener, guard) = match &stream {
        Stream::Property(name) => observe(Some(name.as_str())),
        Stream::AllProperties => observe(None),
        _ => (hub.listen(last_event_id), None),
    };
    let Listener {
        missed,
        lost,
        mut live,
    } = listener;
    let (frames, receiver) = mpsc::channel(BUFFERED_FRAMES);
    tokio::spawn(async move {
        // Observing until this stream ends.
        let _guard = guard;
        let opening = missed
            .iter()
            .filter_map(|n| stream.message(n, &invocations_url))
            // A `Last-Event-ID` older than the replay ring: say so, as a lagging stream is told.
            .fold(opening(lost), |mut all, message| {
                all.push_str(&message);
                all
            });
        if !deliver(&frames, Bytes::from(opening), &mut lifeline).await {
            return;
        }
        let mut keep_alive = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let frame = tokio::select! {
                notification = live.recv() => match notification {
                    Ok(notification) => match stream.message(&notification, &invocations_url) {
                        Some(message) => message,
                        None => continue,
                    },
                    Err(RecvError::Lagged(missed)) => format!(": {missed} messages dropped\n\n"),
                    Err(RecvError::Closed) => break,
                },
                _ = keep_alive.tick() => ":\n\n".to_owned(),
                _ = frames.closed() => break,
                end = lifeline.ended() => {
                    match end {
                        End::Revoked => lifeline.hang_up(),
                        // Close cleanly, unless the client doesn't take what it has.
                        End::Stopping => {
                            let taken = frames.reserve_many(BUFFERED_FRAMES);
                            if tokio::time::timeout(STOP_FLUSH, taken).await.is_err() {
                                lifeline.hang_up();
                            }
                        }
                    }
                    break;
                }
            };
            if !deliver(&frames, Bytes::from(frame), &mut lifeline).await {
                break;
            }
        }
    });
    receiver
}

/// Queue `frame` for the client; false when it's gone or hasn't taken a frame for
/// [`SEND_TIMEOUT`] (stopped reading: then its connection is dropped, as a WebSocket's is). A
/// stream that must end while its client is this far behind hangs up too.
async fn deliver(frames: &mpsc::Sender<Bytes>, frame: Bytes, lifeline: &mut Lifeline) -> bool {
    tokio::select! {
        sent = tokio::time::timeout(SEND_TIMEOUT, frames.send(frame)) => {
            if let Ok(sent) = sent {
                return sent.is_ok();
            }
        }
        _ = lifeline.ended() => {}
    }
    lifeline.hang_up();
    false
}

/// The first frame: the reconnection delay, and how many messages a resuming client lost.
fn opening(lost: u64) -> String {
    let mut opening = String::from("retry: 3000\n\n");
    if lost > 0 {
        let _ = write!(opening, ": {lost} messages dropped\n\n");
    }
    opening
}

#[cfg(test)]
mod tests {
    use labthings_core::{InvocationId, PropertyObserver};
    use serde_json::json;

    use tokio::sync::watch;

    use super::super::hub::ActionStatus;
    use super::*;

    async fn next(frames: &mut mpsc::Receiver<Bytes>) -> String {
        let frame = tokio::time::timeout(Duration::from_secs(2), frames.recv())
            .await
            .expect("a frame within 2 s")
            .expect("the stream is open");
        String::from_utf8(frame.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn per_affordance_streams_are_unnamed_thing_streams_named() {
        let hub = Arc::new(ThingHub::new());
        let (_stop, stopped) = watch::channel(false);
        let url = "http://h/action_invocations/".to_owned();
        let mut count = open(
            &hub,
            Stream::Property("count".into()),
            None,
            url.clone(),
            Lifeline::detached(stopped.clone()),
        );
        let mut all = open(
            &hub,
            Stream::AllProperties,
            None,
            url.clone(),
            Lifeline::detached(stopped.clone()),
        );
        let mut actions = open(
            &hub,
            Stream::Action("slow".into()),
            None,
            url,
            Lifeline::detached(stopped),
        );
        assert_eq!(next(&mut count).await, "retry: 3000\n\n");
        assert_eq!(next(&mut all).await, "retry: 3000\n\n");
        assert_eq!(next(&mut actions).await, "retry: 3000\n\n");

        hub.property_changed("t", "other", &json!("x"));
        hub.property_changed("t", "count", &json!(7));
        assert_eq!(next(&mut count).await, "id: 2\ndata: 7\n\n");
        assert_eq!(next(&mut all).await, "id: 1\nevent: other\ndata: \"x\"\n\n");
        assert_eq!(next(&mut all).await, "id: 2\nevent: count\ndata: 7\n\n");

        let id = InvocationId::new();
        hub.action_status(ActionStatus {
            action: "slow",
            id,
            status: labthings_protocol::InvocationStatus::Running,
            progress: Some(0.5),
        });
        let message = next(&mut actions).await;
        assert!(
            message.starts_with("id: 3\ndata: {\"action name\":\"slow\",\"status\":\"running\""),
            "{message}"
        );
        assert!(
            message.contains(&format!("\"href\":\"http://h/action_invocations/{id}\"")),
            "{message}"
        );
        assert!(message.contains("\"progress\":0.5"), "{message}");
    }

    #[tokio::test]
    async fn last_event_id_replays_what_was_missed_and_shutdown_ends_the_stream() {
        let hub = Arc::new(ThingHub::new());
        for i in 0..5 {
            hub.property_changed("t", "count", &json!(i));
        }
        let (stop, stopped) = watch::channel(false);
        let mut resumed = open(
            &hub,
            Stream::Property("count".into()),
            Some(3),
            String::new(),
            Lifeline::detached(stopped),
        );
        assert_eq!(
            next(&mut resumed).await,
            "retry: 3000\n\nid: 4\ndata: 3\n\nid: 5\ndata: 4\n\n"
        );
        stop.send_replace(true);
        let end = tokio::time::timeout(Duration::from_secs(2), resumed.recv()).await;
        assert_eq!(end.expect("ends within 2 s"), None);
    }
}
