//! Property routes: `GET`/`PUT T<prop>` and `POST T<prop>/reset`.
//!
//! Data properties live in memory and are read and written inline. Functional properties call
//! the Thing's getter and setter, which may block on hardware, so they run on tokio's blocking
//! pool and never stall the async runtime.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::{PropertyError, PropertyKind, PropertyMetadata, Thing, ValidationErrors};
use labthings_protocol::problem::Problem;
use serde_json::Value;

use crate::http::error::ApiError;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::runtime::blocking::on_thread;
use crate::runtime::lock::GlobalLock;
use crate::runtime::provenance::{self, Provenance, WriteSource};
use crate::state::{ServedThing, ServerState};

/// Run `operation` on the Thing: inline for data properties, off the runtime for functional
/// ones and for anything that must first take the global `lock` (which may wait 50 ms).
async fn on_thing<T: Send + 'static>(
    served: &ServedThing,
    kind: PropertyKind,
    lock: Option<Arc<GlobalLock>>,
    operation: impl FnOnce(&dyn Thing) -> Result<T, PropertyError> + Send + 'static,
) -> Result<T, ApiError> {
    if kind != PropertyKind::Functional && lock.is_none() {
        return Ok(operation(served.thing.as_ref())?);
    }
    let thing = served.thing.clone();
    let call = move || operation(thing.as_ref());
    Ok(on_thread(lock, "the property method", call).await??)
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
    let name = property.name;
    let lock = state.lock_for(property.uses_global_lock);
    on_thing(served, property.kind, lock, move |thing| {
        provenance::with(from(WriteSource::Http), || {
            thing.write_property(name, value)
        })
    })
    .await?;
    Ok(response::json(StatusCode::CREATED, &Value::Null))
}

/// `POST T<prop>/reset`: a write like PUT, so it takes the global lock too.
pub async fn reset(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
) -> Result<Response<Body>, ApiError> {
    let name = property.name;
    let lock = state.lock_for(property.uses_global_lock);
    on_thing(served, property.kind, lock, move |thing| {
        provenance::with(from(WriteSource::Reset), || thing.reset_property(name))
    })
    .await?;
    Ok(response::json(StatusCode::OK, &Value::Null))
}

/// A write a client made directly (not inside an invocation).
fn from(source: WriteSource) -> Provenance {
    Provenance {
        source,
        invocation: None,
    }
}
