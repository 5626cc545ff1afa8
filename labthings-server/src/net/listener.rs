//! The one accept loop, shared by the server and the `--fallback` error page.
//!
//! Accept errors are sorted as axum sorts them: an error about one connection (the client
//! reset or aborted it before it was accepted) says nothing about the server, so the loop goes
//! straight on; any other error (typically out of file descriptors) is logged and backed off
//! from, so the loop does not spin while nothing can be accepted.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long to wait after an accept error that is not about one connection. Short: file
/// descriptors come back as soon as any connection closes.
const BACK_OFF: Duration = Duration::from_millis(50);

/// Accept connections on `listener` until `stop` resolves, running `serve` for each on its own
/// task. Closes the listener, then returns the connections still open: the server waits for
/// them, the fallback page drops (aborts) them.
pub async fn accept_until<F>(
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    mut serve: impl FnMut(TcpStream) -> F,
) -> JoinSet<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    // Tracked, so that the caller can let each connection finish its current request.
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream));
                }
                Err(error) => on_accept_error(error).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut stop => break,
        }
    }
    drop(listener);
    connections
}

async fn on_accept_error(error: io::Error) {
    if is_connection_error(&error) {
        return;
    }
    tracing::error!(%error, "could not accept a connection; backing off");
    tokio::time::sleep(BACK_OFF).await;
}

/// Errors about the one connection being accepted, not about the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_per_connection_errors_skip_the_back_off() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionReset,
        ] {
            assert!(is_connection_error(&io::Error::from(kind)), "{kind:?}");
        }
        // EMFILE ("Too many open files") is about the whole process.
        assert!(!is_connection_error(&io::Error::from_raw_os_error(24)));
        assert!(!is_connection_error(&io::Error::from(
            io::ErrorKind::OutOfMemory
        )));
    }
}
