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

use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use labthings_core::{
    EndpointBody, EndpointCall, EndpointMetadata, EndpointRequest, EndpointResponse, Failure,
};
use labthings_protocol::problem::Problem;

use crate::api::blobs;
use crate::http::error::ApiError;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::runtime::blocking::{ended_early, on_thread};
use crate::state::{ServedThing, ServerState};

/// How many blocking endpoint calls may run at once, across the server.
pub const BLOCKING_SLOTS: usize = 64;

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
            let slot = state.endpoint_slots.try_take().ok_or_else(endpoint_busy)?;
            let lock = state.lock_for(endpoint.uses_global_lock);
            let what = format!("the endpoint `{}`", endpoint.name);
            on_thread(lock, what, move || {
                // The permit is the thread's: it is given back when the method returns.
                let _slot = slot;
                call()
            })
            .await
        }
        EndpointCall::Async(future) => tokio::spawn(future)
            .await
            .map_err(|error| ended_early(format!("the endpoint `{}`", endpoint.name), &error)),
    };
    into_response(answer?, endpoint, request).await
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
