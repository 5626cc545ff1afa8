//! # The LabThings guide
//!
//! How to write Things and serve them, one chapter per topic. Every example in these chapters
//! is compiled (and, where it does not serve, run) by `cargo test --doc`, so what you read here
//! works with this version of the crates.
//!
//! This module exists only in the documentation (`#[cfg(any(doc, doctest))]`): it costs your
//! build nothing.
//!
//! Start with the README's "Start your own lab" (a new crate serving a Thing in minutes), then:
//!
//! 1. [Writing Things](things): the struct and the impl block, doc comments, your own types,
//!    renamed dependencies.
//! 2. [Actions and injection](actions): inputs, injected resources, outputs, cancel, progress,
//!    `Prefer: wait=N`.
//! 3. [Properties and settings](properties): data and functional properties, constraints,
//!    sharing with a driver thread, the settings folder.
//! 4. [Events and streams](events): observation and events over SSE and WebSocket, MJPEG.
//! 5. [Blobs](blobs): binary outputs by link.
//! 6. [Endpoints](endpoints): plain HTTP routes under a Thing.
//! 7. [Serving and configuring](serving): `ThingServer`, the command line and your own flags,
//!    the config file, the web UI, API docs, TLS, reliability, the wire protocol.
//! 8. [Security and discovery](security): tokens, host names, cross-site requests, CORS,
//!    discovery.
//! 9. [Clients](clients): any Thing from Rust, typed clients, finding Things.
//! 10. [Testing your Thing](testing): a server on a free port in your tests (feature
//!     `testing`).
//! 11. [Instruments (SCPI)](instruments): talking to real instruments.
//!
//! 12. [Live readings](live_readings): getters observed while someone watches, notify, units,
//!     plots.
//! 13. [History](history): the durable record in SQLite, its routes and schema.
//! 14. [MQTT](mqtt): many servers, one broker.

pub mod things {
    #![doc = include_str!("things.md")]
}
pub mod actions {
    #![doc = include_str!("actions.md")]
}
pub mod properties {
    #![doc = include_str!("properties.md")]
}
pub mod events {
    #![doc = include_str!("events.md")]
}
pub mod blobs {
    #![doc = include_str!("blobs.md")]
}
pub mod endpoints {
    #![doc = include_str!("endpoints.md")]
}
pub mod serving {
    #![doc = include_str!("serving.md")]
}
pub mod security {
    #![doc = include_str!("security.md")]
}
pub mod clients {
    #![doc = include_str!("clients.md")]
}
/// Testing your Thing: needs the `testing` feature of `labthings-server` (on for docs.rs and in
/// this workspace's tests). Without it the chapter is a pointer, so that the docs of every
/// feature combination build (the contents' link to it resolves).
pub mod testing {
    #![cfg_attr(feature = "testing", doc = include_str!("testing.md"))]
    #![cfg_attr(
        not(feature = "testing"),
        doc = "# Testing your Thing\n\nThis chapter's examples use the `testing` feature of \
               `labthings-server`: build the documentation with `--features testing` (docs.rs \
               does) to read it."
    )]
}
pub mod instruments {
    #![doc = include_str!("instruments.md")]
}
pub mod mqtt {
    #![doc = include_str!("mqtt.md")]
}

pub mod live_readings {
    #![doc = include_str!("live_readings.md")]
}

pub mod history {
    #![doc = include_str!("history.md")]
}
