//! Property routes: `GET`/`PUT T<prop>` and `POST T<prop>/reset`.
//!
//! Data properties live in memory and are read and written inline. Functional properties call
//! the Thing's getter and setter, which may block on hardware, so they run on tokio's blocking
//! pool and never stall the async runtime.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use labthings_core::{PropertyError, PropertyKind, PropertyMetadata, Thing, ValidationErrors};
use serde_json::Value;

use crate::api::state::{ServedThing, ServerState};
use crate::http::request_body as body;
use crate::http::response::{self, Body, Problem};
use crate::runtime::lock::{ACQUIRE_TIMEOUT, GlobalLock};

/// Run `operation` on the Thing: inline for data properties, off the runtime for functional
/// ones and for anything that must first take the global `lock` (which may wait 50 ms).
async fn on_thing<T: Send + 'static>(
    served: &ServedThing,
    kind: PropertyKind,
    lock: Option<Arc<GlobalLock>>,
    operation: impl FnOnce(&dyn Thing) -> T + Send + 'static,
) -> Result<T, Response<Body>> {
    let thing = served.thing.clone();
    if kind != PropertyKind::Functional && lock.is_none() {
        return Ok(operation(thing.as_ref()));
    }
    let run = move || {
        let _guard = match &lock {
            Some(lock) => Some(lock.try_acquire(ACQUIRE_TIMEOUT).ok_or(())?),
            None => None,
        };
        Ok(operation(thing.as_ref()))
    };
    let result = tokio::task::spawn_blocking(run).await.map_err(|error| {
        let detail = if error.is_panic() {
            "the property method panicked"
        } else {
            "the property method was stopped"
        };
        response::problem(&Problem::internal("Panic", detail))
    })?;
    result.map_err(|()| response::problem(&Problem::lock_busy()))
}

fn error_response(error: PropertyError) -> Response<Body> {
    match error {
        PropertyError::NotFound => response::not_found(),
        PropertyError::ReadOnly => response::method_not_allowed(&["GET"]),
        PropertyError::Invalid(errors) => response::unprocessable(errors, "body"),
        PropertyError::Failed(failure) => {
            response::problem(&Problem::internal(failure.title, failure.detail))
        }
    }
}

pub async fn get(served: &ServedThing, property: &PropertyMetadata) -> Response<Body> {
    let name = property.name;
    match on_thing(served, property.kind, None, move |thing| {
        thing.read_property(name)
    })
    .await
    {
        Ok(Ok(value)) => response::json(StatusCode::OK, &value),
        Ok(Err(error)) => error_response(error),
        Err(response) => response,
    }
}

/// `PUT T<prop>` on a writable property (the router answers 405 for read-only ones).
pub async fn put(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
    request: Request<Incoming>,
) -> Response<Body> {
    let bytes = match body::read(request, state.body_limit).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let value = match body::json(&bytes) {
        Ok(Some(value)) => value,
        Ok(None) => {
            return response::unprocessable(
                ValidationErrors::single("missing", "Field required", Value::Null),
                "body",
            );
        }
        Err(response) => return response,
    };
    let name = property.name;
    let lock = state
        .global_lock
        .clone()
        .filter(|_| property.uses_global_lock);
    match on_thing(served, property.kind, lock, move |thing| {
        thing.write_property(name, value)
    })
    .await
    {
        Ok(Ok(())) => response::json(StatusCode::CREATED, &Value::Null),
        Ok(Err(error)) => error_response(error),
        Err(response) => response,
    }
}

/// `POST T<prop>/reset`: a write like PUT, so it takes the global lock too.
pub async fn reset(
    state: &ServerState,
    served: &ServedThing,
    property: &PropertyMetadata,
) -> Response<Body> {
    let name = property.name;
    let lock = state
        .global_lock
        .clone()
        .filter(|_| property.uses_global_lock);
    match on_thing(served, property.kind, lock, move |thing| {
        thing.reset_property(name)
    })
    .await
    {
        Ok(Ok(())) => response::json(StatusCode::OK, &Value::Null),
        Ok(Err(error)) => error_response(error),
        Err(response) => response,
    }
}
