//! Sockets: accepting connections and serving HTTP/1.1 on them. Knows nothing of routes.

pub mod connection;
pub mod listener;
