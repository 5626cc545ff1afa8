//! Putting a server together: the builder, slot wiring, start/stop hooks, the security checks
//! and token reloading, the running server.

pub mod builder;
pub mod checks;
pub mod error;
pub mod hangup;
pub mod lifecycle;
pub mod options;
pub mod running;
pub mod security;
pub mod slots;
pub mod thing_id;
