//! Custom endpoints (`#[endpoint]` methods): `T<path>` answered by the Thing's own method with
//! whatever response it builds.
//!
//! The body is read first (bounded by the server's body limit, like any request's), then the
//! method runs: a plain `fn` on tokio's blocking pool, holding the global lock when the server
//! has one and the endpoint doesn't opt out; an `async fn` in a task of its own. Either way a
//! panic is caught and answered 500, and the server goes on. At most [`BLOCKING_SLOTS`] plain
//! `fn` endpoints run at once, server-wide; beyond that a call is answered 503 `EndpointBusy`
//! with `Retry-After` at once, as actions are beyond their pool and queue, rather than each
//! taking one more thread of tokio's 512 (a flood of snapshots once cost 261 threads, 367 MB).

use std::collections::HashSet;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use labthings_core::{
    EndpointBody, EndpointCall, EndpointMetadata, EndpointRequest, EndpointResponse, Failure,
    Thing, ThingMetadata,
};

use crate::api::blobs;
use crate::api::state::{ServedThing, ServerState};
use crate::app::error::ServerError;
use crate::http::error::ApiError;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::problem::Problem;
use crate::runtime::lock::ACQUIRE_TIMEOUT;

/// How many blocking endpoint calls may run at once, across the server.
pub const BLOCKING_SLOTS: usize = 64;

/// The server's permits for blocking endpoint calls; a call holds one until its method returns
/// (even if the client has gone: the thread is busy until then).
pub struct EndpointSlots(Arc<tokio::sync::Semaphore>);

impl Default for EndpointSlots {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(BLOCKING_SLOTS)))
    }
}

fn endpoint_busy() -> Problem {
    Problem::service_unavailable(
        "EndpointBusy",
        "Too many endpoint calls are running; try again later.",
    )
}

/// The Thing's endpoints at `path` (what follows the Thing's path), if it has any there.
pub fn at(served: &ServedThing, path: &str) -> Option<&'static str> {
    let endpoints = served.thing.endpoints();
    endpoints.iter().find(|e| e.path == path).map(|e| e.path)
}

/// Answer a request to `T<path>`: the endpoint for its method, or 405 with the methods the
/// path answers.
pub async fn handle(
    state: &ServerState,
    served: &ServedThing,
    path: &str,
    request: &Parts,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    let here = || {
        served
            .thing
            .endpoints()
            .iter()
            .filter(move |e| e.path == path)
    };
    let Some(endpoint) = here().find(|e| e.method.answers(&request.method)) else {
        let allowed: Vec<&str> = here().map(|e| e.method.as_str()).collect();
        return Ok(response::method_not_allowed(&allowed));
    };
    let bytes = request_body::read(&request.headers, body, state.body_limit).await?;
    let endpoint_request = EndpointRequest::new(
        request.method.clone(),
        request.headers.clone(),
        request.uri.query(),
        bytes,
    );
    let call = served
        .thing
        .clone()
        .call_endpoint(endpoint.name, endpoint_request)
        .ok_or(ApiError::NotFound)?;
    let answer = match call {
        EndpointCall::Blocking(call) => {
            let slot = state
                .endpoint_slots
                .0
                .clone()
                .try_acquire_owned()
                .map_err(|_| endpoint_busy())?;
            let lock = state.lock_for(endpoint.uses_global_lock);
            let run = move || {
                let _slot = slot;
                let _guard = match &lock {
                    Some(lock) => match lock.try_acquire(ACQUIRE_TIMEOUT) {
                        Some(guard) => Some(guard),
                        None => return Err(Problem::lock_busy()),
                    },
                    None => None,
                };
                Ok(call())
            };
            tokio::task::spawn_blocking(run).await
        }
        EndpointCall::Async(future) => tokio::spawn(async move { Ok(future.await) }).await,
    };
    let answer = answer.map_err(|error| {
        let detail = if error.is_panic() {
            format!("the endpoint `{}` panicked", endpoint.name)
        } else {
            format!("the endpoint `{}` was stopped", endpoint.name)
        };
        tracing::error!(thing = &*served.name, "{detail}");
        Problem::internal("Panic", detail)
    })??;
    into_response(answer, endpoint, request).await
}

/// The HTTP response an endpoint's answer makes.
async fn into_response(
    answer: EndpointResponse,
    endpoint: &EndpointMetadata,
    request: &Parts,
) -> Result<Response<Body>, ApiError> {
    let (status, headers, body) = answer
        .into_parts()
        .map_err(|Failure { title, detail }| Problem::internal(title, detail))?;
    // A body without a declared type is sent as the endpoint declares, else as bytes.
    let fallback_type = match &body {
        EndpointBody::Bytes(bytes) if bytes.is_empty() => None,
        EndpointBody::Bytes(_) | EndpointBody::Stream(_) => {
            Some(endpoint.content_type.unwrap_or("application/octet-stream"))
        }
        EndpointBody::Blob(_) => endpoint.content_type,
    };
    let mut response = match body {
        // A blob is served as a download is (`Range`, `ETag`, a file streamed from disk), and
        // its own 206, 304 or 416 wins over the endpoint's status.
        EndpointBody::Blob(blob)
            if request.method == Method::GET || request.method == Method::HEAD =>
        {
            blobs::serve(blob, request).await?
        }
        // An unsafe method's answer is the whole blob: never a 304 or a part (RFC 9110
        // §13.1.2, §14.2), whatever conditional or range headers came with it.
        EndpointBody::Blob(blob) => {
            let (unconditional, ()) = hyper::Request::new(()).into_parts();
            blobs::serve(blob, &unconditional).await?
        }
        EndpointBody::Bytes(bytes) => Response::new(Body::full(bytes)),
        EndpointBody::Stream(stream) => Response::new(Body::pulled(stream)),
    };
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response.headers_mut().extend(headers);
    if !response.headers().contains_key(CONTENT_TYPE)
        && let Some(media_type) = fallback_type
        && let Ok(value) = HeaderValue::from_str(media_type)
    {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    Ok(response)
}

/// Refuse, at start-up, endpoints a hand-written `Thing` declares that `#[thing]` would have
/// refused at compile time: a path that isn't plain, one under an affordance or a route the
/// server reserves, two endpoints for one method and path.
pub fn check(thing_name: &str, thing: &dyn Thing) -> Result<(), ServerError> {
    let metadata = thing.metadata();
    let mut seen = HashSet::new();
    for endpoint in thing.endpoints() {
        let problem = |problem: String| ServerError::Endpoint {
            thing: thing_name.to_owned(),
            path: endpoint.path.to_owned(),
            problem,
        };
        let plain = !endpoint.path.is_empty()
            && endpoint
                .path
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..")
            && endpoint
                .path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
        if !plain {
            return Err(problem(
                "a path is segments of letters, digits, `-`, `.`, `_` and `~` joined by `/`".into(),
            ));
        }
        let first = endpoint.path.split('/').next().unwrap_or_default();
        if ["properties", "events", "ws", "ui"].contains(&first) || is_affordance(metadata, first) {
            return Err(problem(format!(
                "`{first}` is an affordance or one of the server's own routes"
            )));
        }
        if !seen.insert((endpoint.method, endpoint.path)) {
            return Err(problem(format!(
                "two endpoints answer {} at this path",
                endpoint.method
            )));
        }
    }
    Ok(())
}

fn is_affordance(metadata: &ThingMetadata, name: &str) -> bool {
    metadata.property(name).is_some()
        || metadata.action(name).is_some()
        || metadata.event(name).is_some()
        || metadata.stream(name).is_some()
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::sync::{Arc, OnceLock};

    use labthings_core::{
        EndpointMethod, PrepareError, PreparedAction, PropertyError, PropertyKind,
        PropertyMetadata, PropertyObserver, WrongSlotType,
    };
    use serde_json::Value;

    use super::*;

    /// A hand-written `Thing` with a property `gain` and the endpoints it is given.
    struct HandWritten(&'static [EndpointMetadata]);

    impl Thing for HandWritten {
        fn metadata(&self) -> &'static ThingMetadata {
            static METADATA: OnceLock<ThingMetadata> = OnceLock::new();
            METADATA.get_or_init(|| ThingMetadata {
                type_name: "HandWritten",
                title: "HandWritten".into(),
                description: None,
                properties: vec![PropertyMetadata {
                    name: "gain",
                    title: "gain".into(),
                    description: None,
                    schema: serde_json::json!({"type": "number"}),
                    read_only: false,
                    kind: PropertyKind::Data,
                    constrained: false,
                    uses_global_lock: true,
                }],
                actions: Vec::new(),
                events: Vec::new(),
                slots: Vec::new(),
                streams: Vec::new(),
            })
        }
        fn endpoints(&self) -> &'static [EndpointMetadata] {
            self.0
        }
        fn read_property(&self, _: &str) -> Result<Value, PropertyError> {
            Err(PropertyError::NotFound)
        }
        fn write_property(&self, _: &str, _: Value) -> Result<(), PropertyError> {
            Err(PropertyError::NotFound)
        }
        fn reset_property(&self, _: &str) -> Result<(), PropertyError> {
            Err(PropertyError::NotFound)
        }
        fn restore_setting(&self, _: &str, _: Value) -> Result<(), PropertyError> {
            Err(PropertyError::NotFound)
        }
        fn property_default(&self, _: &str) -> Option<Value> {
            None
        }
        fn prepare_action(
            self: Arc<Self>,
            _: &str,
            _: Option<Value>,
        ) -> Result<PreparedAction, PrepareError> {
            Err(PrepareError::NotFound)
        }
        fn attach(&self, _: &str, _: Arc<dyn PropertyObserver>) {}
        fn wire_slot(&self, _: &str, _: Arc<dyn Any + Send + Sync>) -> Result<(), WrongSlotType> {
            Ok(())
        }
    }

    const fn endpoint(method: EndpointMethod, path: &'static str) -> EndpointMetadata {
        EndpointMetadata {
            name: path,
            method,
            path,
            title: None,
            description: None,
            content_type: None,
            is_async: false,
            uses_global_lock: true,
        }
    }

    fn problem(endpoints: &'static [EndpointMetadata]) -> Option<String> {
        check("sensor", &HandWritten(endpoints))
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn start_up_refuses_endpoints_the_macro_would_refuse() {
        use EndpointMethod::{Get, Post};
        const FINE: &[EndpointMetadata] = &[endpoint(Get, "a/b.csv"), endpoint(Post, "a/b.csv")];
        assert_eq!(problem(FINE), None);
        const UNDER_PROPERTY: &[EndpointMetadata] = &[endpoint(Get, "gain/raw")];
        assert_eq!(
            problem(UNDER_PROPERTY).as_deref(),
            Some(
                "Thing `sensor`, endpoint `gain/raw`: `gain` is an affordance or one of the \
                 server's own routes"
            )
        );
        const RESERVED: &[EndpointMetadata] = &[endpoint(Get, "ws")];
        assert!(problem(RESERVED).is_some_and(|p| p.contains("endpoint `ws`")));
        const TWICE: &[EndpointMetadata] = &[endpoint(Get, "x"), endpoint(Get, "x")];
        assert!(
            problem(TWICE).is_some_and(|p| p.ends_with("two endpoints answer GET at this path"))
        );
        for bad in [
            &[endpoint(Get, "a//b")][..],
            &[endpoint(Get, "a b")],
            &[endpoint(Get, "../x")],
            &[endpoint(Get, "")],
        ] {
            let bad: &'static [EndpointMetadata] = Box::leak(bad.to_vec().into_boxed_slice());
            assert!(
                problem(bad).is_some_and(|p| p.contains("a path is segments")),
                "{bad:?}"
            );
        }
    }
}
