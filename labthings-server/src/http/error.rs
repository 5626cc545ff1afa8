//! The one error type of request handlers: each variant is an answer the reference gives, so a
//! handler returns `Result<Response<Body>, ApiError>` and uses `?`.

use std::borrow::Cow;

use hyper::{Response, StatusCode};
use labthings_core::{LocSegment, ValidationErrors, ValidationIssue};
use labthings_protocol::problem::Problem;
use serde_json::Value;

use crate::http::response::{self, Body};

#[derive(Debug)]
pub enum ApiError {
    /// 404 `{"detail": "Not Found"}`.
    NotFound,
    /// 405 `{"detail": "Method Not Allowed"}`, with `Allow` listing what the path answers.
    MethodNotAllowed(&'static [&'static str]),
    /// `{"detail": "<message>"}` with this status, FastAPI's shape for HTTP errors.
    Detail(StatusCode, Cow<'static, str>),
    /// 422 with FastAPI's body: `{"detail": [issue, …]}`.
    Unprocessable(Vec<ValidationIssue>),
    /// RFC 9457 ProblemDetails, with the problem's own status.
    Problem(Problem),
}

impl ApiError {
    /// 422 from validation errors, each path prefixed with `location` (e.g. `"body"`).
    pub fn unprocessable(errors: ValidationErrors, location: &str) -> Self {
        Self::Unprocessable(errors.prefixed(LocSegment::Field(location.to_owned())).0)
    }

    /// 422 for a body that isn't JSON (FastAPI's `json_invalid`), `position` in bytes.
    pub fn json_invalid(position: usize, error: &str) -> Self {
        Self::Unprocessable(vec![ValidationIssue {
            kind: "json_invalid".into(),
            loc: vec![
                LocSegment::Field("body".into()),
                LocSegment::Index(position),
            ],
            msg: "JSON decode error".into(),
            input: Value::Object(Default::default()),
            ctx: Some(serde_json::json!({ "error": error })),
        }])
    }

    pub fn detail(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Detail(status, message.into())
    }

    pub fn into_response(self) -> Response<Body> {
        match self {
            Self::NotFound => response::not_found(),
            Self::MethodNotAllowed(allowed) => response::method_not_allowed(allowed),
            Self::Detail(status, message) => response::detail(status, &message),
            Self::Unprocessable(issues) => response::unprocessable_issues(issues),
            Self::Problem(problem) => response::problem(&problem),
        }
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}
