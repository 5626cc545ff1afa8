pub mod actions;
pub mod invocations;
pub mod properties;
pub mod router;
pub mod state;
pub mod things;
