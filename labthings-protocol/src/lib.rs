//! # The LabThings wire protocol, spelled once
//!
//! What the macros, the core, the server and the client must agree on to speak the
//! `labthings-fastapi` 0.3.0 protocol:
//!
//! - [`paths`]: the route words, the URL of every resource under an API prefix
//!   ([`ApiPaths`]), the names a Thing or an affordance can't have, and the rule for an
//!   `#[endpoint]` path (checked by the macros at compile time and by the server at start-up);
//! - [`status`]: an invocation's status and its wire spelling;
//! - [`problem`]: RFC 9457 ProblemDetails, the error shape of HTTP answers and invocation
//!   records, with the `type`s the Python client recognises;
//! - [`validation`]: pydantic's validation issues, the `detail[]` of a 422 body;
//! - [`td`]: the typed parts of a Thing Description a client reads (ours and the reference's);
//! - [`mqtt`]: the MQTT binding's topics and the `mqv` vocabulary of its TD forms.
//!
//! It is a crate of its own, not a module of `labthings-core`, because the proc-macro crate
//! needs the names and the path rule at compile time and `labthings-core` depends on the
//! macros (it re-exports them); and because the client must share the wire types without
//! depending on the server. It depends on `serde` and `serde_json` only.

#![warn(missing_docs)]

pub mod mqtt;
pub mod paths;
pub mod problem;
pub mod status;
pub mod td;
pub mod units;
pub mod validation;

pub use paths::ApiPaths;
pub use problem::Problem;
pub use status::InvocationStatus;
pub use validation::{LocSegment, ValidationErrors, ValidationIssue};
