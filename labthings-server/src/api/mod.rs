//! The HTTP API of the served Things: the route table and a handler per route.

pub mod actions;
pub mod blobs;
pub mod endpoints;
pub mod history;
pub mod invocation_page;
pub mod invocation_view;
pub mod invocations;
pub mod properties;
pub mod push;
pub mod router;
pub mod streams;
pub mod sync_invoke;
pub mod things;
