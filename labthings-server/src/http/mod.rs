//! HTTP plumbing that knows no Thing: bearer tokens, the `Host` check, the response body, response builders, the handlers' error type, request
//! bodies, conditional and compressed answers, the client's origin, CORS.

pub mod auth;
pub mod body;
pub mod conditional;
pub mod cors;
pub mod error;
pub mod host_check;
pub mod origin;
pub mod request_body;
pub mod response;
