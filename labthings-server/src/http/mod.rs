//! HTTP plumbing that knows no Thing: response builders, the handlers' error type, request
//! bodies, the client's origin, CORS.

pub mod cors;
pub mod error;
pub mod origin;
pub mod request_body;
pub mod response;
