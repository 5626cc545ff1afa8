//! Server-Sent Events: a Thing's notifications as `text/event-stream`, shaped for node-wot.
//!
//! Per-affordance streams (one property, one event, one action's invocations) send *unnamed*
//! messages — node-wot's SSE client listens to `onmessage` only and drops named events — while
//! the Thing-level streams (`T` + `properties`, `T` + `events`) name each message after its
//! affordance, as the WoT SSE profile says. Every message has an `id:` (the Thing's sequence
//! number), so a client that reconnects with `Last-Event-ID` gets what it missed from the
//! hub's replay ring. `retry: 3000` opens the stream; a comment every 15 s keeps proxies and
//! idle-timeouts from closing it.
//!
//! The head goes out through hyper; the body doesn't: the stream is a [`Writer`] that takes the
//! connection's socket once the head has left (see [`handover`](super::handover)) and writes
//! its messages as hyper would have framed them (chunks, or bare until the close for
//! HTTP/1.0). So an idle stream holds no HTTP buffers — one task, its hub subscription and a
//! timer — and it does what the connection did: it reads to see the client leave, ends with the
//! last chunk and a close when the server stops, and drops the socket when the client stops
//! reading or its token is revoked.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};

use super::handover::{Socket, Taker};
use super::hub::{Listener, Notification, NotificationKind, ThingHub};
use super::lifeline::{End, Lifeline, SEND_TIMEOUT, STOP_FLUSH};
use super::observed::ObserverGuard;
use super::ws_protocol;

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

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

/// How the body is framed on the wire, as hyper chose when it wrote the head of a body of
/// unknown length: chunked for HTTP/1.1, until the connection closes for HTTP/1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Chunked,
    UntilClose,
}

impl Framing {
    /// `message` as it goes on the wire (never empty: an empty chunk would end the body).
    fn frame(self, message: String) -> Vec<u8> {
        match self {
            Framing::Chunked => format!("{:X}\r\n{message}\r\n", message.len()).into_bytes(),
            Framing::UntilClose => message.into_bytes(),
        }
    }

    /// What ends the body: the last chunk (chunked), nothing but the close (until close).
    fn end(self) -> &'static [u8] {
        match self {
            Framing::Chunked => b"0\r\n\r\n",
            Framing::UntilClose => b"",
        }
    }
}

/// One client's stream, subscribed to its Thing's hub when the request came (so nothing
/// published while its head goes out is missed), written on the connection's socket once the
/// head is out (see [`handover`](super::handover)).
pub struct Writer {
    stream: Stream,
    listener: Listener,
    /// Observing (a property stream) until the stream ends.
    guard: Option<ObserverGuard>,
    invocations_url: String,
    lifeline: Lifeline,
    framing: Framing,
}

/// Subscribe a client to `stream` of `hub`, resuming after `last_event_id` if given; the
/// returned writer sends it on the socket it is given.
pub fn open(
    hub: &Arc<ThingHub>,
    stream: Stream,
    last_event_id: Option<u64>,
    invocations_url: String,
    lifeline: Lifeline,
    framing: Framing,
) -> Writer {
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
    Writer {
        stream,
        listener,
        guard,
        invocations_url,
        // It hangs up by dropping its socket; see `without_connection`.
        lifeline: lifeline.without_connection(),
        framing,
    }
}

impl Taker for Writer {
    fn run(self: Box<Self>, socket: Box<dyn Socket>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(self.write_to(socket))
    }
}

impl Writer {
    /// Write the stream's body on `socket` (its head already sent) until the client leaves,
    /// stops reading, loses its token, or the server stops; then drop the socket.
    pub async fn write_to<S>(self, mut socket: S)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Writer {
            stream,
            listener:
                Listener {
                    missed,
                    lost,
                    mut live,
                },
            guard,
            invocations_url,
            mut lifeline,
            framing,
        } = self;
        let _observing = guard;
        let opening = missed
            .into_iter()
            .filter_map(|n| stream.message(&n, &invocations_url))
            // A `Last-Event-ID` older than the replay ring: say so, as a lagging stream is told.
            .fold(opening(lost), |mut all, message| {
                all.push_str(&message);
                all
            });
        if !deliver(&mut socket, framing.frame(opening), &mut lifeline).await {
            return;
        }
        let mut keep_alive = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Reading tells when the client leaves (a read of 0 bytes), as hyper did.
        let mut watching = true;
        let mut probe = [0u8; 1];
        loop {
            let frame = tokio::select! {
                read = socket.read(&mut probe), if watching => match read {
                    Ok(0) | Err(_) => return,
                    // It sent more after its request: nothing will answer that. Stop reading,
                    // as hyper does; a departure then shows at the next write.
                    Ok(_) => {
                        watching = false;
                        continue;
                    }
                },
                notification = live.recv() => match notification {
                    Ok(notification) => match stream.message(&notification, &invocations_url) {
                        Some(message) => message,
                        None => continue,
                    },
                    Err(RecvError::Lagged(missed)) => format!(": {missed} messages dropped\n\n"),
                    Err(RecvError::Closed) => break,
                },
                _ = keep_alive.tick() => ":\n\n".to_owned(),
                end = lifeline.ended() => {
                    // Revoked: hang up. Stopping: close cleanly (below), unless the client
                    // doesn't take what it has.
                    if end == End::Stopping {
                        break;
                    }
                    return;
                }
            };
            if !deliver(&mut socket, framing.frame(frame), &mut lifeline).await {
                return;
            }
        }
        let _ = tokio::time::timeout(STOP_FLUSH, finish(&mut socket, framing)).await;
    }
}

/// Write `frame` to the client; false when it's gone or hasn't taken it within
/// [`SEND_TIMEOUT`] (stopped reading: then its connection is dropped, as a WebSocket's is). A
/// stream that must end while its client is this far behind hangs up too.
async fn deliver<S>(socket: &mut S, frame: Vec<u8>, lifeline: &mut Lifeline) -> bool
where
    S: AsyncWrite + Unpin,
{
    let write = async {
        socket.write_all(&frame).await?;
        socket.flush().await
    };
    tokio::select! {
        // A write that can go at once goes, whatever else is ready.
        biased;
        written = tokio::time::timeout(SEND_TIMEOUT, write) => matches!(written, Ok(Ok(()))),
        _ = lifeline.ended() => false,
    }
}

/// End the body and close the connection.
async fn finish<S>(socket: &mut S, framing: Framing) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    socket.write_all(framing.end()).await?;
    socket.flush().await?;
    socket.shutdown().await
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

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, DuplexStream};
    use tokio::sync::watch;

    use super::super::hub::ActionStatus;
    use super::*;

    /// The client's end of a stream's socket, read chunk by chunk.
    struct Client(BufReader<DuplexStream>);

    impl Client {
        /// Start writing `writer` on an in-memory socket.
        fn of(writer: Writer) -> Self {
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            tokio::spawn(writer.write_to(theirs));
            Self(BufReader::new(ours))
        }

        /// The next chunk's data; `None` at the last chunk or the end of the connection.
        async fn chunk(&mut self) -> Option<String> {
            let read = async {
                let mut size = String::new();
                self.0.read_line(&mut size).await.ok()?;
                let size = usize::from_str_radix(size.strip_suffix("\r\n")?, 16).ok()?;
                let mut data = vec![0; size + 2];
                self.0.read_exact(&mut data).await.ok()?;
                assert_eq!(&data[size..], b"\r\n", "chunk data ends with CRLF");
                data.truncate(size);
                (size > 0).then(|| String::from_utf8(data).unwrap())
            };
            // Longer than the keep-alive interval, which a paused clock's test waits for.
            tokio::time::timeout(KEEP_ALIVE + Duration::from_secs(5), read)
                .await
                .expect("a chunk in time")
        }

        async fn next(&mut self) -> String {
            self.chunk().await.expect("the stream is open")
        }
    }

    fn open_detached(
        hub: &Arc<ThingHub>,
        stream: Stream,
        since: Option<u64>,
        stopped: &watch::Receiver<bool>,
    ) -> Client {
        let url = "http://h/action_invocations/".to_owned();
        let lifeline = Lifeline::detached(stopped.clone());
        Client::of(open(hub, stream, since, url, lifeline, Framing::Chunked))
    }

    #[tokio::test]
    async fn per_affordance_streams_are_unnamed_thing_streams_named() {
        let hub = Arc::new(ThingHub::new());
        let (_stop, stopped) = watch::channel(false);
        let mut count = open_detached(&hub, Stream::Property("count".into()), None, &stopped);
        let mut all = open_detached(&hub, Stream::AllProperties, None, &stopped);
        let mut actions = open_detached(&hub, Stream::Action("slow".into()), None, &stopped);
        assert_eq!(count.next().await, "retry: 3000\n\n");
        assert_eq!(all.next().await, "retry: 3000\n\n");
        assert_eq!(actions.next().await, "retry: 3000\n\n");

        hub.property_changed("t", "other", &json!("x"));
        hub.property_changed("t", "count", &json!(7));
        assert_eq!(count.next().await, "id: 2\ndata: 7\n\n");
        assert_eq!(all.next().await, "id: 1\nevent: other\ndata: \"x\"\n\n");
        assert_eq!(all.next().await, "id: 2\nevent: count\ndata: 7\n\n");

        let id = InvocationId::new();
        hub.action_status(ActionStatus {
            action: "slow",
            id,
            status: labthings_protocol::InvocationStatus::Running,
            progress: Some(0.5),
        });
        let message = actions.next().await;
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

    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_sends_a_comment_every_15_s() {
        let hub = Arc::new(ThingHub::new());
        let (_stop, stopped) = watch::channel(false);
        let opened = Instant::now();
        let mut idle = open_detached(&hub, Stream::AllEvents, None, &stopped);
        assert_eq!(idle.next().await, "retry: 3000\n\n");
        // The in-memory socket wakes its reader at once, so the paused clock stands exactly at
        // each tick when the comment is read.
        for ticks in 1..=3 {
            assert_eq!(idle.next().await, ":\n\n");
            assert_eq!(opened.elapsed(), Duration::from_secs(15) * ticks);
        }
        // A message between ticks doesn't move them.
        tokio::time::advance(Duration::from_secs(5)).await;
        hub.event_emitted("t", "e", &json!(1));
        assert_eq!(idle.next().await, "id: 1\nevent: e\ndata: 1\n\n");
        assert_eq!(idle.next().await, ":\n\n");
        assert_eq!(opened.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn last_event_id_replays_what_was_missed_and_shutdown_ends_the_body() {
        let hub = Arc::new(ThingHub::new());
        for i in 0..5 {
            hub.property_changed("t", "count", &json!(i));
        }
        let (stop, stopped) = watch::channel(false);
        let mut resumed = open_detached(&hub, Stream::Property("count".into()), Some(3), &stopped);
        assert_eq!(
            resumed.next().await,
            "retry: 3000\n\nid: 4\ndata: 3\n\nid: 5\ndata: 4\n\n"
        );
        stop.send_replace(true);
        // The last chunk, then the end of the connection.
        assert_eq!(resumed.chunk().await, None);
        let mut rest = Vec::new();
        resumed.0.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    }

    #[tokio::test]
    async fn an_http_1_0_body_is_the_bare_messages_until_the_close() {
        let hub = Arc::new(ThingHub::new());
        let (stop, stopped) = watch::channel(false);
        let (mut ours, theirs) = tokio::io::duplex(64 * 1024);
        let writer = open(
            &hub,
            Stream::Event("e".into()),
            None,
            String::new(),
            Lifeline::detached(stopped),
            Framing::UntilClose,
        );
        let writing = tokio::spawn(writer.write_to(theirs));
        hub.event_emitted("t", "e", &json!(1));
        let expected = "retry: 3000\n\nid: 1\ndata: 1\n\n";
        let mut heard = vec![0; expected.len()];
        ours.read_exact(&mut heard).await.unwrap();
        assert_eq!(String::from_utf8(heard).unwrap(), expected);
        stop.send_replace(true);
        writing.await.unwrap();
        let mut rest = Vec::new();
        ours.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "nothing but the close ends it: {rest:?}");
    }

    /// The hand-over was ready, but the connection ended before its task took the socket
    /// (it failed in the same poll): the stream, and its subscription, must go with it.
    #[tokio::test]
    async fn a_stream_never_handed_over_goes_with_its_connection() {
        use hyper::body::Body as _;
        use tokio::io::AsyncWriteExt;

        use super::super::handover::{ConnectionHandle, Watched};

        let hub = Arc::new(ThingHub::new());
        let (_stop, stopped) = watch::channel(false);
        let connection = ConnectionHandle::default();
        let mut extensions = hyper::http::Extensions::new();
        extensions.insert(connection.clone());
        let lifeline = Lifeline::new(stopped, &extensions);
        drop(extensions);
        let writer = open(
            &hub,
            Stream::AllEvents,
            None,
            String::new(),
            lifeline,
            Framing::Chunked,
        );
        let mut body = connection.take_socket(Box::new(writer));
        // Hyper polls the body (the head is buffered), then flushes: ready to be taken.
        std::future::poll_fn(|cx| {
            assert!(Pin::new(&mut body).poll_frame(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
        let (socket, _client) = tokio::io::duplex(64);
        let mut watched = Watched::new(socket, connection.clone());
        watched.flush().await.unwrap();
        assert_eq!(hub.listeners(), 1);
        drop((body, watched, connection));
        assert_eq!(hub.listeners(), 0, "the stream is gone with its connection");
    }

    #[tokio::test]
    async fn a_client_that_closes_its_socket_ends_the_stream() {
        let hub = Arc::new(ThingHub::new());
        let (_stop, stopped) = watch::channel(false);
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let writer = open(
            &hub,
            Stream::Property("count".into()),
            None,
            String::new(),
            Lifeline::detached(stopped),
            Framing::Chunked,
        );
        let writing = tokio::spawn(writer.write_to(theirs));
        assert!(
            hub.observed().borrow().observes("count"),
            "the stream observes"
        );
        assert_eq!(hub.listeners(), 1);
        drop(ours);
        tokio::time::timeout(Duration::from_secs(2), writing)
            .await
            .expect("the stream ends within 2 s")
            .unwrap();
        assert!(
            !hub.observed().borrow().observes("count"),
            "and stops observing"
        );
        assert_eq!(hub.listeners(), 0);
    }
}
