//! # LabThings server
//!
//! Serves `labthings-core` Things over HTTP with the wire protocol of the Python
//! `labthings-fastapi` 0.3.0, so its `ThingClient`, web UIs and scripts work unchanged:
//! a Thing Description per Thing, property `GET`/`PUT`, action `POST` starting tracked,
//! cancellable invocations on a bounded thread pool, and the `/action_invocations` routes.
//!
//! ```no_run
//! # async fn run(counter: impl labthings_core::Thing) -> Result<(), labthings_server::ServerError> {
//! labthings_server::ThingServer::new()
//!     .thing("counter", counter)
//!     .port(5000)
//!     .start()
//!     .await?
//!     .wait()
//!     .await;
//! # Ok(()) }
//! ```
//!
//! ## Architecture
//!
//! One rule holds the layout together: **`runtime/` never imports HTTP** (`http/`, `api/`,
//! hyper); the HTTP side calls into the runtime, never the other way. Dependencies point down
//! this list:
//!
//! | folder | owns |
//! |---|---|
//! | `cli/` | the shared command line (`mod.rs`), the config file (`config.rs`), the registry of Thing types a binary can build (`registry.rs`), the `--fallback` error page (`fallback.rs`), where tokens (`tokens.rs`) and TLS files (`tls.rs`) come from |
//! | `app/` | putting a server together: the builder and options (`builder.rs`), start errors (`error.rs`), slot wiring (`slots.rs`), on-start/on-stop hooks and the observer fan-out (`lifecycle.rs`), the start-up security checks (`security.rs`), SIGHUP token reloads (`hangup.rs`), the Things' stable TD ids (`thing_id.rs`), the running server and its shutdown (`running.rs`) |
//! | `docs/` | the API described: the OpenAPI 3.1 document built from the TDs (`openapi.rs`), Swagger UI from inside the binary (`swagger.rs`, feature `docs-ui`) |
//! | `discovery/` | the `/.well-known/wot` directory TD (`directory.rs`), mDNS advertisements (`mdns.rs`) |
//! | `net/` | sockets: the one accept loop with axum's accept-error policy (`listener.rs`), serving an HTTP/1.1 connection (`connection.rs`), the TLS handshake (`tls.rs`, feature `tls`) |
//! | `api/` | the API of the served Things: the route table (`router.rs`), what handlers share (`state.rs`), one file of handlers per resource (`properties.rs`, `actions.rs`, `invocations.rs`, `blobs.rs`, `things.rs`, `push.rs`, `streams.rs` for MJPEG) |
//! | `http/` | HTTP plumbing that knows no Thing: bearer tokens (`auth.rs`), responses, the handlers' `ApiError`, request bodies, the client's origin, CORS |
//! | `runtime/` | invocations without HTTP: records (with the blobs their outputs hold), their store and expiry timer, the action pool, the global lock |
//! | `settings/` | settings files: the background writer, one Thing's file, the atomic write |
//! | `ui/` | the web UI: its embedded files with ETags and gzip (`assets.rs`), its routes (`pages.rs`); the pages themselves are in `assets/ui/` |
//! | `problem.rs` | RFC 9457 ProblemDetails, the error shape shared by HTTP answers and invocation records |
//!
//! Where the next features go:
//! - **WebSocket** (`T` + `ws`): `ws/` (protocol messages, one session per socket), reached
//!   from an upgrade in `net/connection.rs`, routed by a `Route` in `api/router.rs`;
//! - **events and SSE**: `events/` (the bus observers subscribe to; `sse.rs` streams it),
//!   fed by the observer fan-out in `app/lifecycle.rs`;
//! - **OpenAPI docs** (done: `openapi.json`, `docs`): `docs/`; the **web UI** (done): `ui/`;
//! - **auth** (done): `http/auth.rs`, checked in `api/router.rs` before dispatch;
//! - **discovery** (done: mDNS, a Thing directory): `discovery/`, started from `app/`.

mod api;
mod app;
pub mod cli;
mod discovery;
mod docs;
mod http;
mod net;
mod problem;
mod push;
mod runtime;
mod settings;
mod ui;

pub use app::builder::{RESERVED_NAMES, ServerOptions, ThingServer};
pub use app::error::ServerError;
pub use app::running::{RunningServer, shutdown_signal};
pub use cli::config;
pub use http::auth::{TokenError, Tokens, generate_token};
pub use http::cors::Cors;
#[cfg(feature = "tls")]
pub use net::tls::{Tls, TlsError};
pub use settings::atomic::write_atomically;
