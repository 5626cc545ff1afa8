//! Property routes: `GET`/`PUT T<prop>` and `POST T<prop>/reset`.
//!
//! Data properties live in memory and are read and written inline. Functional properties call
//! the Thing's getter and setter, which may block on hardware, so they run on tokio's blocking
//! pool and never stall the async runtime (`ops/property.rs`, shared with MQTT writes).

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::{PropertyError, PropertyMetadata, ValidationErrors};
use labthings_protocol::problem::Problem;
use serde_json::Value;

use crate::http::error::ApiError;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::ops::property::{self as op, OpError, on_thing};
use crate::runtime::provenance::WriteSource;
use crate::state::{ServedThing, ServerState};

impl From<OpError> for ApiError {
    fn from(error: OpError) -> Self {
        match error {
            OpError::Property(error) => error.into(),
            OpError::Problem(problem) => problem.into(),
        }
    }
}

impl From<PropertyError> for ApiError {
    fn from(error: PropertyError) -> Self {
        match error {
            PropertyError::NotFound => ApiError::NotFound,
            PropertyError::ReadOnly => ApiError::MethodNotAllowed(&["GET"]),
            PropertyError::Invalid(errors) => ApiError::unprocessable(errors, "body"),
            PropertyError::Failed(failure) => {
                ApiError::Problem(Problem::internal(failure.title, failure.detail))
            }
        }
    }
}

/// The 406 for `Accept: text/event-stream` on a getter read only on demand: a stream of it
/// would never say anything, so say why and how to make it observable instead.
pub fn not_observable(name: &str) -> Problem {
    Problem::about_blank(
        406,
        "Not Acceptable",
        format!(
            "Property '{name}' is read on demand (its getter runs for each GET), so it has no \
             event stream: read it with Accept: application/json, or make it observable by \
             polling its getter while observed, with #[property(observe_every = \"1s\")]."
        ),
    )
}

pub async fn get(
    served: &ServedThing,
    property: &PropertyMetadata,
) -> Result<Response<Body>, ApiError> {
    let name = property.name;
    let value = on_thing(served, property.kind, None, move |thing| {
        thing.read_property(name)
    })
    .await?;
    Ok(response::json(StatusCode::OK, &value))
}

/// `PUT T<prop>` on a writable property (the router answers 405 for read-only ones).
pub async fn put(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
    request: &Parts,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    let bytes = request_body::read(&request.headers, body, state.body_limit).await?;
    let Some(value) = request_body::json(&bytes)? else {
        return Err(ApiError::unprocessable(
            ValidationErrors::single("missing", "Field required", Value::Null),
            "body",
        ));
    };
    op::write(state, served, property, value, WriteSource::Http).await?;
    Ok(response::json(StatusCode::CREATED, &Value::Null))
}

/// `POST T<prop>/reset`: a write like PUT, so it takes the global lock too.
pub async fn reset(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
) -> Result<Response<Body>, ApiError> {
    op::reset(state, served, property).await?;
    Ok(response::json(StatusCode::OK, &Value::Null))
}
