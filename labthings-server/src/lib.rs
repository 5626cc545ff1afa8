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
//! this list (a module imports only modules below it, and no two import each other):
//!
//! | module | owns |
//! |---|---|
//! | `guide/` | the guide: documentation only (`#[cfg(any(doc, doctest))]`), one markdown chapter per topic, every example a doctest |
//! | `testing/` | a server on a free port for a driver author's tests, with clients for its Things (feature `testing`) |
//! | `cli/` | the shared command line (`mod.rs`), the config file (`config.rs`), the registry of Thing types a binary can build (`registry.rs`), the `--fallback` error page (`fallback.rs`), where tokens (`tokens.rs`) and TLS files (`tls.rs`) come from |
//! | `app/` | putting a server together: the builder (`builder.rs`) and what it holds (`options.rs`), the checks a Thing passes before it is served (`checks.rs`), start errors (`error.rs`), slot wiring (`slots.rs`), on-start/on-stop hooks and the observer fan-out (`lifecycle.rs`), the start-up security checks (`security.rs`), SIGHUP token reloads (`hangup.rs`), the Things' stable TD ids (`thing_id.rs`), the running server and its shutdown (`running.rs`) |
//! | `api/` | the API of the served Things: the route table (`router.rs`), one file of handlers per resource (`properties.rs`, `actions.rs`, `invocations.rs`, `blobs.rs`, `things.rs`, `endpoints.rs`, `push.rs` for SSE and WebSocket, `streams.rs` for MJPEG), an invocation as the API shows it, with its links (`invocation_view.rs`) |
//! | `mqtt/` | the W3C WoT MQTT binding (`--mqtt`): a connection per Thing with backoff and a Last Will (`link.rs`, whose event loop with backoff the sweep shares), the hub → broker pump (`publish.rs`) through a newest-value queue per topic (`outbox.rs`), command topics → `ops/` (`commands.rs`), the TD's MQTT forms (`td_forms.rs`), `--mqtt`/`"mqtt"` (`config.rs`), clearing the retained topics of Things no longer served (`sweep.rs`), `mqtts://` (`tls.rs`, feature `tls`) |
//! | `ops/` | what a binding does to a Thing whichever protocol asked: write a property, start an invocation (shared by `api/` and `mqtt/`) |
//! | `docs/` | the API described: the OpenAPI 3.1 document built from the TDs (`openapi/`: the document, its path items, its components, the schema dialect), Swagger UI from inside the binary (`swagger.rs`, feature `docs-ui`) |
//! | `discovery/` | the `/.well-known/wot` directory TD (`directory.rs`), mDNS advertisements (`mdns.rs`) |
//! | `ui/` | the web UI: its embedded files with ETags and gzip (`assets.rs`), its routes (`pages.rs`); the pages themselves are in `assets/ui/` |
//! | `state.rs` | what every handler shares: the served Things (with their cached TDs, made by the one `ServedAs` that `--print-td` and the history use too) and the server's state |
//! | `net/` | sockets: serving a listener until stop (`serve.rs`), the one accept loop with axum's accept-error policy (`listener.rs`), serving an HTTP/1.1 connection (`connection.rs`), the TLS handshake (`tls.rs`, feature `tls`); knows no route |
//! | `live/` | live readings: a poller per `observe_every` getter (`poller.rs`), calling it on the blocking pool only while the hub counts an observer, and handing its readings to the hub |
//! | `push/` | what clients hear without asking: the per-Thing fan-out (`hub.rs`, an `InvocationObserver`, which publishes a polled getter's reading only when it changed), who observes which property (`observed.rs`: the `ObserverGuard` every binding holds while it listens), the WebSocket protocol and sessions (`ws_protocol.rs`, `ws_session.rs`), SSE streams (`sse.rs`), which write their own body on a socket taken from hyper once their head is out (`handover.rs`, also a stream's hang-up of its connection), what ends a long-lived response (`lifeline.rs`) |
//! | `history/` | the durable history in SQLite or PostgreSQL: the SQLite file, its schema and migrations (`store.rs`), the statements' one seam over both databases (`sql.rs`), PostgreSQL's connection, schema and readers (`postgres.rs`, feature `postgres`) and its local spool while unreachable (`spool.rs`), what a row is (`record.rs`), the observer that makes rows (`recorder.rs`), the one writer thread with group commit (`writer.rs`), size and age limits (`retention.rs`), reads (`query.rs`); its routes are `api/history.rs` |
//! | `runtime/` | invocations without HTTP or URLs: records (with the blobs their outputs hold) and the `InvocationObserver` that hears their statuses, starting them (`start.rs`), their store and expiry timer, the action pool, the global lock, a Thing's blocking method run under it (`blocking.rs`) |
//! | `http/` | HTTP plumbing that knows no Thing: bearer tokens (`auth.rs`), responses, the handlers' `ApiError`, request bodies, path parameters, the query string decoded one way (`query.rs`), the client's origin, CORS |
//! | `settings/` | settings files: the background writer, one Thing's file, the atomic write |
//!
//! The protocol itself (route words and paths, reserved names, the invocation status,
//! `Problem`, validation issues, TD types) lives in the `labthings-protocol` crate, shared with
//! the macros, the core and the client. A new feature gets a folder of its own on the floor
//! its imports put it, and its routes a `Route` in `api/router.rs`.

#![warn(missing_docs)]

mod api;
mod app;
pub mod cli;
mod discovery;
mod docs;
#[cfg(any(doc, doctest))]
pub mod guide;
#[cfg(test)]
mod hand_written;
mod history;
mod http;
mod live;
mod mqtt;
mod net;
mod ops;
mod push;
mod runtime;
mod settings;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod ui;

pub use app::builder::ThingServer;
pub use app::error::ServerError;
pub use app::options::ServerOptions;
pub use app::running::{RunningServer, shutdown_signal};
pub use cli::config;
pub use history::HistoryLocation;
pub use http::auth::{TokenError, Tokens, generate_token};
pub use http::cors::Cors;
pub use mqtt::config::MqttConfig;
#[cfg(feature = "tls")]
pub use net::tls::{Tls, TlsError};
pub use settings::atomic::write_atomically;
