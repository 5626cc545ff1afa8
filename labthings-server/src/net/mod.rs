//! Sockets: accepting connections, TLS (feature `tls`) and serving HTTP/1.1 on them. Knows
//! nothing of routes.

pub mod connection;
pub mod listener;
pub mod serve;
#[cfg(feature = "tls")]
pub mod tls;
