//! The security checks made once at start-up: warn about a server anyone on the network can
//! drive, and keep credentials from being usable across origins the operator didn't name.

use std::net::SocketAddr;

use crate::app::options::ServerOptions;
use crate::http::cors::Cors;

/// Adjust `options` for the address actually bound, and log what an operator should know.
pub fn check(options: &mut ServerOptions, addr: SocketAddr) {
    match &options.tokens {
        None if !addr.ip().is_loopback() => {
            tracing::warn!(
                %addr,
                "serving without authentication on a non-loopback address: anyone on that \
                 network can drive the instruments (configure tokens with --tokens-file)"
            );
        }
        None => {}
        Some(tokens) => {
            if tokens.is_empty() {
                tracing::warn!("no token is configured yet: every request will be refused");
            }
            // A browser page on any site could otherwise use a visitor's `lt_token` cookie.
            if options.cors == Cors::AnyOrigin {
                options.cors = Cors::Origins(Vec::new());
                tracing::info!(
                    "tokens are on: cross-origin requests are allowed from listed origins only"
                );
            }
        }
    }
}
