//! Serving one HTTP/1.1 connection of the API until it closes or the server stops. (An HTTP
//! upgrade, e.g. for WebSocket, is taken over from here.)

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::http::response::Body;
use crate::push::lifeline::Hangup;

/// The address of the client that sent a request (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Answer each request on `stream` (TCP, or TLS over TCP) with `handle`; when `stopped`
/// changes, finish the request in flight and close.
pub async fn serve_connection<S, H, F>(
    stream: S,
    peer: Option<std::net::SocketAddr>,
    handle: H,
    mut stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    // A stream that finds its client stuck (or its token revoked) drops the connection with
    // this: hyper alone would wait for the full socket forever, and at shutdown for the grace.
    let hangup = Hangup::default();
    let switch = hangup.clone();
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(switch.clone());
        if let Some(peer) = peer {
            request.extensions_mut().insert(PeerAddr(peer));
        }
        let answer = handle(request);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = hangup.requested() => return,
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = hangup.requested() => return,
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
}
