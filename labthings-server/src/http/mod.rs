//! HTTP plumbing that knows no Thing: bearer tokens, the `Host` check, the response body, response builders, the handlers' error type, request
//! bodies, conditional and compressed answers, files built into the binary, the client's origin, path parameters, the query string, CORS.

pub mod auth;
pub mod body;
pub mod conditional;
pub mod cors;
pub mod error;
pub mod grant;
pub mod host_check;
pub mod origin;
pub mod path_param;
pub mod query;
pub mod request_body;
pub mod response;
pub mod static_file;
