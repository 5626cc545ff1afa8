//! The API described for people and tools: `P/openapi.json` (OpenAPI 3.1, built from the same
//! metadata and schemas as the TDs) and `P/docs` (Swagger UI from inside the binary, behind
//! the default-on `docs-ui` feature).

pub mod openapi;
#[cfg(feature = "docs-ui")]
mod swagger;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use labthings_core::Thing;
use labthings_protocol::paths::Origin;

use crate::http::error::ApiError;
use crate::http::response::{self, Body};
use crate::state::ServerState;
use openapi::ApiSurface;

/// What `state` serves, for the OpenAPI document, as seen from `origin`.
fn surface<'a>(state: &'a ServerState, origin: &'a str) -> ApiSurface<'a> {
    ApiSurface {
        things: state
            .things
            .iter()
            .map(|served| (&*served.name, served.thing.as_ref() as &dyn Thing))
            .collect(),
        paths: &state.paths,
        bearer: state.tokens.is_some(),
        origin: Some(origin),
    }
}

/// `GET P/openapi.json`.
pub fn openapi_json(state: &ServerState, origin: &Origin) -> Response<Body> {
    response::json(
        StatusCode::OK,
        &openapi::document(&surface(state, &origin.to_string())),
    )
}

/// `GET P/docs` and `GET P/docs/<file>`: Swagger UI and its files.
#[cfg(feature = "docs-ui")]
pub fn page(
    state: &ServerState,
    file: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    swagger::response(state.paths.prefix(), file, headers)
}

/// Without the `docs-ui` feature: a 404 that says where the description is.
#[cfg(not(feature = "docs-ui"))]
pub fn page(
    state: &ServerState,
    file: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let _ = (file, headers);
    Err(ApiError::detail(
        StatusCode::NOT_FOUND,
        format!(
            "This server was built without the docs-ui feature; the API is described at {}/openapi.json",
            state.paths.prefix()
        ),
    ))
}
