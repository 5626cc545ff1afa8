//! Push: what a client hears without asking again — property writes, events and invocation
//! status — over the WebSocket at `T` + `ws` and over Server-Sent Events.
//!
//! [`hub`] is the fan-out and knows nothing of HTTP (it observes the invocation runtime
//! through `runtime::invocation::InvocationObserver`); [`observed`] counts who observes which
//! property (the pollers of getters run only while someone does); `ws_protocol` and
//! `ws_session` speak the reference's WebSocket; `sse` writes event streams, on a socket
//! `handover` takes from hyper once their head is out; `lifeline` is what ends a long-lived
//! response.

pub mod handover;
pub mod hub;
pub mod lifeline;
pub mod observed;
pub mod sse;
pub mod ws_handshake;
pub mod ws_protocol;
pub mod ws_session;

/// Resolve once the server is stopping (or its stop signal is gone).
pub(crate) async fn stopping(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not across the caller's awaits.
    let _ = stopped.wait_for(|stopped| *stopped).await;
}
