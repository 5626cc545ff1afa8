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

mod api;
mod app;
pub mod cli;
mod http;
mod net;
mod problem;
mod runtime;
mod settings;

pub use app::builder::{RESERVED_NAMES, ServerOptions, ThingServer};
pub use app::error::ServerError;
pub use app::running::{RunningServer, shutdown_signal};
pub use cli::config;
pub use http::cors::Cors;
pub use settings::atomic::write_atomically;
