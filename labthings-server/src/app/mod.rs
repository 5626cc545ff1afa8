//! Putting a server together: the builder, slot wiring, start/stop hooks, the running server.

pub mod builder;
pub mod error;
pub mod lifecycle;
pub mod running;
pub mod slots;
