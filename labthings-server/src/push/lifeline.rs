//! What ends a long-lived response (SSE, MJPEG) other than its client leaving: the server
//! stopping, the token that opened it being revoked, or the client no longer reading.
//!
//! A client that stops reading can't be told anything — the response is stuck behind its full
//! socket buffer, and hyper stops polling the body — so a stream that sees it stuck (a frame
//! not taken within [`SEND_TIMEOUT`], the WebSocket's rule) *hangs up*: the connection task
//! drops the connection (an SSE stream, which owns its socket once its head is out, just
//! drops the socket). The same goes at shutdown for a stream whose last frame isn't taken
//! within [`STOP_FLUSH`], so shutdown doesn't wait the whole grace for it.

use std::time::Duration;

use hyper::http::Extensions;
use tokio::sync::watch;

use super::handover::ConnectionHandle;
use crate::http::grant::{self, Grant};

pub(crate) use super::ws_session::SEND_TIMEOUT;

/// At shutdown, how long a stream waits for what it already sent to be taken.
pub const STOP_FLUSH: Duration = Duration::from_secs(1);

/// Why a stream must end.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The server is stopping: close cleanly if the client keeps up.
    Stopping,
    /// The token that opened the stream was revoked: hang up.
    Revoked,
}

/// A long-lived response's ties to its server and connection.
pub struct Lifeline {
    stopped: watch::Receiver<bool>,
    grant: Option<Grant>,
    connection: Option<ConnectionHandle>,
}

impl Lifeline {
    /// For a request with these `extensions` (its [`Grant`] and [`ConnectionHandle`], if any).
    pub fn new(stopped: watch::Receiver<bool>, extensions: &Extensions) -> Self {
        Self {
            stopped,
            grant: extensions.get::<Grant>().cloned(),
            connection: extensions.get::<ConnectionHandle>().cloned(),
        }
    }

    /// The same ties but the connection's: for a stream that owns its socket (SSE after the
    /// hand-over), which hangs up by dropping it. (It must not keep the handle either: until
    /// the hand-over the handle holds the stream, and the pair would keep each other alive if
    /// the connection failed just then.)
    pub fn without_connection(mut self) -> Self {
        self.connection = None;
        self
    }

    /// Tied to the server's stop signal only.
    #[cfg(test)]
    pub fn detached(stopped: watch::Receiver<bool>) -> Self {
        Self::new(stopped, &Extensions::new())
    }

    /// Resolve when the stream must end, saying why.
    pub async fn ended(&mut self) -> End {
        tokio::select! {
            () = super::stopping(&mut self.stopped) => End::Stopping,
            () = grant::revoked(&mut self.grant) => End::Revoked,
        }
    }

    /// Drop the connection the stream is on (a stuck or revoked client).
    pub fn hang_up(&self) {
        if let Some(connection) = &self.connection {
            connection.hang_up();
        }
    }
}
