//! What can go wrong talking to a Thing, typed after the wire protocol's error shapes.
//!
//! A server answers a refused request in one of three shapes, and each has its variant:
//! FastAPI's 422 body (`{"detail":[{"type","loc","msg","input"}]}`) becomes
//! [`Error::Validation`]; an RFC 9457 problem (`application/problem+json`, or a JSON object with
//! `title` and `status`) becomes [`Error::Problem`]; anything else, such as
//! `{"detail":"Not Found"}`, is kept as [`Error::Http`] with its status and body. An
//! invocation that ends in `error` is an [`Error::Problem`] too, one that ends `cancelled` is
//! [`Error::Cancelled`].

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderMap};
use labthings_protocol::validation::IssueList;
use labthings_protocol::{Problem, ValidationIssue};
use serde::Deserialize;
use serde_json::Value;

/// The result of every client operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from the transport (connecting, reading, writing).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an operation on a Thing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request's body (422): one [`ValidationIssue`] per problem.
    #[error("the server refused the input: {}", IssueList(.0))]
    Validation(Vec<ValidationIssue>),
    /// An RFC 9457 problem: a failed invocation, or a `problem+json` answer.
    #[error("{0}")]
    Problem(Problem),
    /// The invocation was cancelled before it finished.
    #[error("the invocation was cancelled")]
    Cancelled,
    /// Any other unsuccessful answer, with its body as text.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The response's status.
        status: StatusCode,
        /// The response's body, decoded lossily as UTF-8.
        body: String,
    },
    /// The request never got an answer: connecting, sending or receiving failed.
    #[error("transport error: {0}")]
    Transport(#[source] BoxError),
    /// No complete answer arrived within the client's timeout.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// An answer that is not the JSON expected (`what` says what was being decoded).
    #[error("could not decode {what}: {source}")]
    Decode {
        /// What was being decoded, such as `property 'count'`.
        what: String,
        /// Why it failed.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be encoded as JSON for sending.
    #[error("could not encode the request body: {0}")]
    Encode(#[source] serde_json::Error),
    /// The server does not offer what was asked, such as an event stream.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A URL (given, or built from the Thing Description) or a header value is not usable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The mDNS browser could not start or browse (feature `discovery`).
    #[error("mDNS discovery failed: {0}")]
    Discovery(#[source] BoxError),
}

impl Error {
    /// The HTTP status the server answered with, when the error came from an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Validation(_) => Some(StatusCode::UNPROCESSABLE_ENTITY),
            Error::Problem(problem) => StatusCode::from_u16(problem.status).ok(),
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error for an unsuccessful answer, from its status, headers and body.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> Self {
        let problem_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim_start().starts_with("application/problem+json"));
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            if status == StatusCode::UNPROCESSABLE_ENTITY
                && let Some(detail) = json.get("detail").filter(|d| d.is_array())
                && let Ok(issues) = Vec::<ValidationIssue>::deserialize(detail)
            {
                return Error::Validation(issues);
            }
            let looks_like_problem = json.get("title").is_some_and(Value::is_string)
                && json.get("status").is_some_and(Value::is_number);
            if (problem_type || looks_like_problem)
                && let Ok(problem) = Problem::deserialize(&json)
            {
                return Error::Problem(problem);
            }
        }
        Error::Http {
            status,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    pub(crate) fn decode(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Decode {
            what: what.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            hyper::header::HeaderValue::from_str(content_type).expect("header"),
        );
        headers
    }

    #[test]
    fn a_422_body_is_a_validation_error() {
        // Capture 13 of the reference.
        let body = Bytes::from_static(
            br#"{"detail":[{"type":"int_parsing","loc":["body"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}"#,
        );
        let error = Error::from_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json_headers("application/json"),
            &body,
        );
        let Error::Validation(issues) = error else {
            panic!("not a validation error: {error:?}");
        };
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].kind, "int_parsing");
        assert_eq!(issues[0].location(), "body");
        assert_eq!(issues[0].input, Value::from("abc"));
    }

    #[test]
    fn problem_json_is_a_problem_and_detail_strings_stay_http() {
        let body = Bytes::from_static(
            br#"{"type":null,"title":"Panic","status":500,"detail":"boom","instance":null}"#,
        );
        let error = Error::from_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json_headers("application/problem+json"),
            &body,
        );
        assert!(
            matches!(&error, Error::Problem(p) if p.title == "Panic"),
            "{error:?}"
        );
        assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));

        let body = Bytes::from_static(br#"{"detail":"Not Found"}"#);
        let error = Error::from_response(
            StatusCode::NOT_FOUND,
            &json_headers("application/json"),
            &body,
        );
        assert!(
            matches!(&error, Error::Http { status, body } if *status == StatusCode::NOT_FOUND && body.contains("Not Found")),
            "{error:?}"
        );
    }
}
