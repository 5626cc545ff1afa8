//! The body of every response: bytes already in hand (nearly every answer, with an exact
//! `Content-Length`), a stream of frames from a channel (file blobs: a reader task sends, and
//! the body ends when it stops or the client goes, dropping the receiver), a stream pulled
//! only when the connection wants the next chunk (MJPEG: what to send is decided as late as
//! possible, so a slow client gets the newest frame), or a *parked* body that hyper never
//! gets a byte of (Server-Sent Events: once the response head is out, the stream takes the
//! socket from hyper and writes its body itself; see `push/handover.rs`).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};
use tokio::sync::mpsc;

pub struct Body(Kind);

enum Kind {
    Full(Full<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
    Pulled(Pin<Box<dyn Stream<Item = Bytes> + Send>>),
    Parked(Box<dyn Parked>),
}

/// Told when hyper first asks a parked body for data, which it does only after it has put
/// the response head in its write buffer. (Dropping it says that moment will never come.)
pub trait Parked: Send {
    /// Hyper asked for the first time.
    fn polled(&mut self);
}

impl Body {
    /// A body of these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self(Kind::Full(Full::new(bytes.into())))
    }

    /// No body.
    pub fn empty() -> Self {
        Self::full(Bytes::new())
    }

    /// A body streamed from `frames`, ending when the sender is dropped.
    pub fn channel(frames: mpsc::Receiver<Bytes>) -> Self {
        Self(Kind::Channel(frames))
    }

    /// A body of unknown length that never yields (nor ends): its bytes are written past
    /// hyper, by whoever takes the socket. `parked` hears when hyper first polls it.
    pub fn parked(parked: Box<dyn Parked>) -> Self {
        Self(Kind::Parked(parked))
    }

    /// A body of the chunks `stream` yields, each polled for only when the connection is
    /// ready for it; ends when the stream does or the client goes (dropping it).
    pub fn pulled(stream: impl Stream<Item = Bytes> + Send + 'static) -> Self {
        Self(Kind::Pulled(Box::pin(stream)))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().0 {
            Kind::Full(full) => Pin::new(full).poll_frame(cx),
            Kind::Channel(frames) => frames
                .poll_recv(cx)
                .map(|frame| frame.map(|bytes| Ok(Frame::data(bytes)))),
            Kind::Pulled(stream) => stream
                .as_mut()
                .poll_next(cx)
                .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes)))),
            // Nothing ever comes here, so no waker is kept; hyper may poll again meanwhile.
            Kind::Parked(parked) => {
                parked.polled();
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(full) => full.is_end_stream(),
            Kind::Channel(_) | Kind::Pulled(_) | Kind::Parked(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Full(full) => full.size_hint(),
            Kind::Channel(_) | Kind::Pulled(_) | Kind::Parked(_) => SizeHint::default(),
        }
    }
}
