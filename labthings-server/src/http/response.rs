//! Building responses in the reference's shapes: compact JSON, `{"detail": …}` errors,
//! FastAPI's 422 bodies and RFC 9457 ProblemDetails.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::{Response, StatusCode};
use labthings_core::{LocSegment, ValidationErrors, ValidationIssue};
use serde::Serialize;
use serde_json::Value;

pub type Body = Full<Bytes>;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response with a JSON body already serialised.
pub fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}

/// A response with `value` as compact JSON.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, body),
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
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// 422 from validation errors, each path prefixed with `location` (e.g. `"body"`).
pub fn unprocessable(errors: ValidationErrors, location: &str) -> Response<Body> {
    unprocessable_issues(errors.prefixed(LocSegment::Field(location.to_owned())).0)
}

/// 422 with FastAPI's body: `{"detail": [issue, …]}`.
pub fn unprocessable_issues(detail: Vec<ValidationIssue>) -> Response<Body> {
    json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &serde_json::json!({ "detail": detail }),
    )
}

/// 422 for a body that isn't JSON (FastAPI's `json_invalid`), `position` in bytes.
pub fn json_invalid(position: usize, error: &str) -> Response<Body> {
    unprocessable_issues(vec![ValidationIssue {
        kind: "json_invalid",
        loc: vec![
            LocSegment::Field("body".into()),
            LocSegment::Index(position),
        ],
        msg: "JSON decode error".into(),
        input: Value::Object(Default::default()),
        ctx: Some(serde_json::json!({ "error": error })),
    }])
}

/// RFC 9457 ProblemDetails, in the reference's field order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub detail: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: u16,
    pub title: String,
    pub instance: Option<String>,
}

/// The `type` the Python client recognises for a cancelled invocation.
pub const CANCELLED_TYPE: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError";

/// The `type` the Python client recognises for a busy global lock.
pub const LOCK_BUSY_TYPE: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.GlobalLockBusyError";

impl Problem {
    pub fn lock_busy() -> Self {
        Self {
            detail: "The global lock could not be acquired.".into(),
            kind: Some(LOCK_BUSY_TYPE.into()),
            status: 409,
            title: "GlobalLockBusyError".into(),
            instance: None,
        }
    }

    pub fn internal(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            kind: None,
            status: 500,
            title: title.into(),
            instance: None,
        }
    }

    pub fn cancelled() -> Self {
        Self {
            detail: "The action was cancelled.".into(),
            kind: Some(CANCELLED_TYPE.into()),
            status: 500,
            title: "InvocationCancelledError".into(),
            instance: None,
        }
    }

    pub fn service_unavailable(title: &str, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            kind: None,
            status: 503,
            title: title.into(),
            instance: None,
        }
    }
}

pub fn problem(problem: &Problem) -> Response<Body> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, problem);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
