pub mod invocation;
pub mod lock;
pub mod pool;
pub mod store;
