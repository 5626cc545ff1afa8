//! What a long-lived response can do to the connection it is on: hang it up (a stuck or
//! revoked client), or take its socket away from hyper once the response head is out.
//!
//! Why take it: hyper keeps an 8 KiB read buffer and an 8 KiB write buffer for each HTTP/1.1
//! connection for as long as the connection lives, and a Server-Sent Events response never
//! ends — so ten thousand idle SSE observers held 160 MB of hyper's buffers. Once the head is
//! out, writing the body is trivial (chunked framing), so the stream writes it itself and the
//! buffers are freed.
//!
//! How, without losing a byte: the response's body is [parked](Body::parked): it never yields,
//! and hyper first polls it only once the head is in its write buffer (it arms the hand-over).
//! The connection's socket is wrapped in [`Watched`], which sees hyper call `poll_flush` on
//! it — hyper 1 does that only when its write buffer is empty (`proto/h1/io.rs`,
//! `Buffered::poll_flush`; we never turn on `pipeline_flush`, its one exception). A flush
//! after arming therefore proves the head has left hyper, and since a parked body gives hyper
//! nothing more to write, nothing can follow it. The connection task (`net/connection.rs`)
//! is woken, takes the socket back with `into_parts` and runs the [`Taker`] on it. Bytes the
//! client sent after its request (a pipelined request, which would never have been answered
//! behind a stream that doesn't end) are dropped.
//!
//! A parked body that hyper drops unpolled (the answer to `HEAD`) gives up the hand-over: the
//! taker is dropped and the connection serves its next request as usual.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use crate::http::body::{Body, Parked};

/// A connection's socket, once it has left hyper: plain TCP or TLS over TCP.
pub trait Socket: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Socket for T {}

/// What runs on a connection's socket once hyper has let go of it, until the connection
/// should close (dropping the socket closes it).
pub trait Taker: Send {
    /// Write on `socket` (the response head is already out).
    fn run(self: Box<Self>, socket: Box<dyn Socket>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// No hand-over asked for.
const IDLE: u8 = 0;
/// A taker waits; hyper has not polled its body yet.
const WAITING: u8 = 1;
/// Hyper has polled the body: the head is in its write buffer.
const ARMED: u8 = 2;
/// Hyper flushed after arming: its write buffer is empty, the socket can be taken.
const READY: u8 = 3;

/// One connection's handle, shared by its task and every request on it (a request extension):
/// cheap to clone.
#[derive(Clone, Default)]
pub struct ConnectionHandle(Arc<Shared>);

#[derive(Default)]
struct Shared {
    /// Wakes the connection task: a hang-up was asked for, or the socket can be taken.
    wake: Notify,
    hung_up: AtomicBool,
    state: AtomicU8,
    taker: Mutex<Option<Box<dyn Taker>>>,
}

/// What the connection task must do (see [`ConnectionHandle::needed`]).
pub enum Needed {
    /// Drop the connection.
    HangUp,
    /// Take the socket from hyper (its write buffer is empty) and run this on it.
    Socket(Box<dyn Taker>),
}

impl Shared {
    fn taker(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn Taker>>> {
        // Only ever replaced whole: a panic can't leave it torn.
        self.taker.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConnectionHandle {
    /// Drop the connection (also if its task isn't waiting yet: the permit is kept).
    pub fn hang_up(&self) {
        self.0.hung_up.store(true, Ordering::Release);
        self.0.wake.notify_one();
    }

    /// Resolve once the connection task must act: a stream hung up, or a taker's response
    /// head has left hyper (one future for both, so that the connection task, which polls it
    /// on every wake-up, pays for one).
    pub async fn needed(&self) -> Needed {
        loop {
            self.0.wake.notified().await;
            if self.0.hung_up.load(Ordering::Acquire) {
                return Needed::HangUp;
            }
            if self
                .0
                .state
                .compare_exchange(READY, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
                && let Some(taker) = self.0.taker().take()
            {
                return Needed::Socket(taker);
            }
        }
    }

    /// The body of a response whose body `taker` will write once the head is out: it hands
    /// the socket over as the module says. One per connection at a time (a response that
    /// never ends is its connection's last).
    pub fn take_socket(&self, taker: Box<dyn Taker>) -> Body {
        *self.0.taker() = Some(taker);
        self.0.state.store(WAITING, Ordering::Release);
        Body::parked(Box::new(Arm(self.clone())))
    }

    /// Hyper is about to flush the socket, which it does only with its write buffer empty.
    fn flushing(&self) {
        // One load on every flush of every connection; the rest only when armed.
        if self.0.state.load(Ordering::Acquire) == ARMED
            && self
                .0
                .state
                .compare_exchange(ARMED, READY, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.0.wake.notify_one();
        }
    }
}

/// The parked body's side: arms the hand-over when first polled, gives it up when dropped
/// unpolled.
struct Arm(ConnectionHandle);

impl Parked for Arm {
    fn polled(&mut self) {
        let _ =
            self.0
                .0
                .state
                .compare_exchange(WAITING, ARMED, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl Drop for Arm {
    fn drop(&mut self) {
        // Never polled, or dropped before its flush (the connection failed): no hand-over.
        // Once READY the connection task takes the taker; dropping the body comes after.
        let shared = &self.0.0;
        for from in [WAITING, ARMED] {
            if shared
                .state
                .compare_exchange(from, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                shared.taker().take();
                return;
            }
        }
    }
}

/// A connection's socket as hyper sees it: everything passes through, and a flush tells the
/// connection's handle (see the module).
pub struct Watched<S> {
    socket: S,
    handle: ConnectionHandle,
}

impl<S> Watched<S> {
    pub fn new(socket: S, handle: ConnectionHandle) -> Self {
        Self { socket, handle }
    }

    /// The socket itself.
    pub fn into_inner(self) -> S {
        self.socket
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.handle.flushing();
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}
