//! What can go wrong talking to a Thing, typed after the wire protocol's error shapes.
//!
//! A server answers a refused request in one of three shapes, and each has its variant:
//! FastAPI's 422 body (`{"detail":[{"type","loc","msg","input"}]}`) becomes
//! [`Error::Validation`]; an RFC 9457 problem (`application/problem+json`, or a JSON object with
//! `title` and `status`) becomes [`Error::Problem`]; anything else, such as
//! `{"detail":"Not Found"}`, is kept as [`Error::Http`] with its status and body. An
//! invocation that ends in `error` is an [`Error::Problem`] too, one that ends `cancelled` is
//! [`Error::Cancelled`].

use std::fmt;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The result of every client operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from the transport (connecting, reading, writing).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an operation on a Thing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request's body (422): one [`Issue`] per problem.
    #[error("the server refused the input: {}", Issues(.0))]
    Validation(Vec<Issue>),
    /// An RFC 9457 problem: a failed invocation, or a `problem+json` answer.
    #[error("{0}")]
    Problem(ProblemDetails),
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
            Error::Problem(problem) => problem.status.and_then(|s| StatusCode::from_u16(s).ok()),
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
                && let Ok(issues) = Vec::<Issue>::deserialize(detail)
            {
                return Error::Validation(issues);
            }
            let looks_like_problem = json.get("title").is_some_and(Value::is_string)
                && json.get("status").is_some_and(Value::is_number);
            if (problem_type || looks_like_problem)
                && let Ok(problem) = ProblemDetails::deserialize(&json)
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

/// One problem with a refused input, as in FastAPI's 422 body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// The machine-readable kind, such as `int_parsing` or `extra_forbidden`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["body"]` for a property value, `["body", "<field>"]` for an action input.
    pub loc: Vec<Value>,
    /// The human-readable message, such as `Input should be a valid integer`.
    pub msg: String,
    /// The offending input, when the server sent it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
}

impl Issue {
    /// `loc` joined with dots, as `body.duration`.
    pub fn location(&self) -> String {
        self.loc
            .iter()
            .map(|part| match part {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.location(), self.msg, self.kind)
    }
}

struct Issues<'a>(&'a [Issue]);

impl fmt::Display for Issues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// An RFC 9457 problem, as the server sends for failures (and puts in an invocation's `error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// A URL naming the kind of problem (`null` for errors raised by Rust actions).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// A short name for the problem, such as the error's type name.
    #[serde(default)]
    pub title: String,
    /// The HTTP status the problem stands for.
    #[serde(default)]
    pub status: Option<u16>,
    /// The explanation, such as the error's message.
    #[serde(default)]
    pub detail: Option<String>,
    /// A URL naming this occurrence.
    #[serde(default)]
    pub instance: Option<String>,
}

impl fmt::Display for ProblemDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)?;
        if let Some(status) = self.status {
            write!(f, " ({status})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
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
        assert_eq!(issues[0].input, Some(Value::from("abc")));
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
