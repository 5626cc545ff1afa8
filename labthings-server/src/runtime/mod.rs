//! Running actions, independent of HTTP: invocation records, their store and expiry timer, the
//! action thread pool and the global lock. Nothing here imports `crate::http` or `crate::api`.

pub mod expiry;
pub mod invocation;
pub mod lock;
pub mod pool;
pub mod store;
