// Not yet routed: the routes land with the server layout of #9 (this allow goes then).
#![allow(dead_code)]

//! Push: what a client hears without asking again — property writes, events and invocation
//! status — over the WebSocket at `T` + `ws` and over Server-Sent Events.
//!
//! [`hub`] is the fan-out and knows nothing of HTTP (the invocation runtime publishes into
//! it); `ws_protocol` and `ws_session` speak the reference's WebSocket; `sse` frames
//! event streams.

pub mod hub;
pub mod sse;
pub mod ws_protocol;
pub mod ws_session;
