//! Serving on a listener: accept until the server stops, run each connection (TLS first, with
//! feature `tls`), then let the open connections finish their current request.

use std::future::Future;

use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::response::Body;
use crate::net::connection::serve_connection;
use crate::net::listener::accept_until;
#[cfg(feature = "tls")]
use crate::net::tls::Tls;

/// What runs on an accepted connection before HTTP: nothing, or (feature `tls`) a TLS
/// handshake.
#[derive(Clone)]
pub struct Connections {
    #[cfg(feature = "tls")]
    pub tls: Option<Tls>,
}

/// Serve `handle` on `listener` until `stopped` changes, then let each open connection finish
/// its current request.
pub async fn serve<H, F>(
    listener: TcpListener,
    connections: Connections,
    handle: H,
    stopped: watch::Receiver<bool>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let mut stop = stopped.clone();
    let stop = async move {
        let _ = stop.changed().await;
    };
    let mut connections = accept_until(listener, stop, |stream| {
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().ok();
        let handle = handle.clone();
        let (stopped, connections) = (stopped.clone(), connections.clone());
        async move {
            #[cfg(feature = "tls")]
            if let Some(tls) = &connections.tls {
                if let Some(stream) = tls.accept(stream, stopped.clone()).await {
                    serve_connection(stream, peer, handle, stopped).await;
                }
                return;
            }
            let _ = connections;
            serve_connection(stream, peer, handle, stopped).await
        }
    })
    .await;
    while connections.join_next().await.is_some() {}
}
