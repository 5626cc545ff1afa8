//! Running actions, independent of HTTP: invocation records, starting them, their store and
//! expiry timer, the action thread pool, the global lock and blocking calls under it. Nothing
//! here imports `crate::http` or `crate::api`, and nothing here knows a URL.

pub mod blocking;
pub mod expiry;
pub mod free_memory;
pub mod invocation;
pub mod lock;
pub mod pool;
pub mod provenance;
pub mod start;
pub mod store;
