//! Serving one HTTP/1.1 connection of the API until it closes or the server stops. (An HTTP
//! upgrade, e.g. for WebSocket, is taken over from here; a response that never ends, an SSE
//! stream, takes the socket from hyper once its head is out — `push/handover.rs` — and this
//! task then runs that stream.)

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::http::response::Body;
use crate::push::handover::{ConnectionHandle, Needed, Watched};

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
    handle_request: H,
    mut stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    // A stream that finds its client stuck (or its token revoked) drops the connection with
    // this: hyper alone would wait for the full socket forever, and at shutdown for the grace.
    // An SSE stream takes the socket over with it.
    let handle = ConnectionHandle::default();
    let service = Service {
        handle_request,
        connection: handle.clone(),
        peer,
    };
    // Boxed, so that its buffers and state are freed when a stream takes the socket (this
    // task lives on as that stream). Never `pipeline_flush`: the hand-over relies on hyper
    // flushing the socket only once its write buffer is empty.
    let mut connection = Box::new(
        hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(Watched::new(stream, handle.clone())), service)
            .with_upgrades(),
    );
    let mut stopping = false;
    let result = loop {
        tokio::select! {
            result = &mut *connection => break result,
            needed = handle.needed() => {
                let Needed::Socket(taker) = needed else {
                    return;
                };
                // The response head has left hyper's buffers (see `push/handover.rs`); what
                // else hyper held (its read buffer, the service) is dropped here.
                let socket = (*connection)
                    .into_parts()
                    .map(|parts| parts.io.into_inner().into_inner());
                if let Some(socket) = socket {
                    // The stream lives on in this task: keep nothing of the connection's.
                    drop((handle, stopped));
                    taker.run(Box::new(socket)).await;
                }
                return;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                std::pin::Pin::new(&mut *connection).graceful_shutdown();
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// The connection's service: each request gets the connection's handle (and the client's
/// address) as extensions, then goes to the handler.
struct Service<H> {
    handle_request: H,
    connection: ConnectionHandle,
    peer: Option<std::net::SocketAddr>,
}

impl<H, F> hyper::service::Service<Request<Incoming>> for Service<H>
where
    H: Fn(Request<Incoming>) -> F,
    F: Future<Output = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future =
        futures_util::future::Map<F, fn(Response<Body>) -> Result<Response<Body>, Infallible>>;

    // Inlined into hyper's dispatcher, so that the handler's future (several kB) is built
    // where hyper keeps it instead of being copied there: left to itself, the compiler stopped
    // inlining it once this connection task grew (+670 instructions, 3.7 %, per GET).
    #[inline(always)]
    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(self.connection.clone());
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(PeerAddr(peer));
        }
        futures_util::FutureExt::map((self.handle_request)(request), Ok)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::push::handover::{Socket, Taker};

    /// Writes its bytes on the socket it takes, then closes it.
    struct Tail(&'static [u8]);

    impl Taker for Tail {
        fn run(
            self: Box<Self>,
            mut socket: Box<dyn Socket>,
        ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            Box::pin(async move {
                let _ = socket.write_all(self.0).await;
                let _ = socket.shutdown().await;
            })
        }
    }

    /// The client's pipe holds 16 bytes, so hyper can't send a 2 kB head at once: the socket
    /// must not be taken before the rest has gone (what a full socket buffer does in life).
    #[tokio::test]
    async fn the_socket_is_taken_only_once_hyper_has_sent_the_whole_head() {
        let (mut client, server) = tokio::io::duplex(16);
        let (_stop, stopped) = watch::channel(false);
        let long = "v".repeat(2000);
        let header = long.clone();
        let answer = move |request: Request<Incoming>| {
            let connection = request.extensions().get::<ConnectionHandle>().cloned();
            let header = header.clone();
            async move {
                let connection = connection.expect("every request carries its connection");
                let mut response = Response::new(connection.take_socket(Box::new(Tail(b"tail"))));
                let value = header.parse().expect("a header value");
                response.headers_mut().insert("x-long", value);
                response
            }
        };
        let serving = tokio::spawn(serve_connection(server, None, answer, stopped));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: here\r\n\r\n")
            .await
            .unwrap();
        let mut all = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut all))
            .await
            .expect("the tail, then the close")
            .unwrap();
        let all = String::from_utf8(all).unwrap();
        assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
        assert!(all.contains(&format!("\r\nx-long: {long}\r\n")), "{all}");
        assert!(all.ends_with("\r\n\r\ntail"), "{all}");
        serving.await.unwrap();
    }
}
