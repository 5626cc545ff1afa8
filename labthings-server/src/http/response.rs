//! Building responses in the reference's shapes: compact JSON, `{"detail": …}` errors,
//! FastAPI's 422 bodies and RFC 9457 ProblemDetails.

use bytes::Bytes;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use hyper::{Response, StatusCode};
use labthings_core::ValidationIssue;
use serde::Serialize;

use labthings_protocol::problem::Problem;

pub use super::body::Body;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response with a JSON body already serialised.
pub fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::full(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}

/// A response with `value` as compact JSON.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    // Room for an invocation's answer (~600 bytes) at once: `to_vec` starts at 128 bytes and
    // grew three times for each POST's answer (`bench/profiles/`). Small bodies lose nothing:
    // the allocator serves both sizes from its per-thread cache.
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => json_bytes(status, body),
        Err(error) => problem(&Problem::internal("SerializationError", error.to_string())),
    }
}

/// `{"detail": "<message>"}`, FastAPI's shape for HTTP errors.
pub fn detail(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "detail": message }))
}

pub fn not_found() -> Response<Body> {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

/// 405 with the methods the path does allow.
pub fn method_not_allowed(allowed: &[&str]) -> Response<Body> {
    let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// 307 to `location`, as Starlette redirects between slash and no-slash paths.
pub fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// 422 with FastAPI's body: `{"detail": [issue, …]}`.
pub fn unprocessable_issues(detail: Vec<ValidationIssue>) -> Response<Body> {
    json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &serde_json::json!({ "detail": detail }),
    )
}

/// RFC 9457 ProblemDetails as `application/problem+json`, with the problem's status.
pub fn problem(problem: &Problem) -> Response<Body> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, problem);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    // Every 503 here is a full queue or pool that frees up quickly: say when to come back.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
