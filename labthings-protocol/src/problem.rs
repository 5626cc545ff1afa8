//! RFC 9457 ProblemDetails: the error shape of both HTTP error responses and finished
//! invocation records (their `error` field). A leaf: it knows nothing of HTTP or the runtime,
//! so both can use it without depending on each other.

use serde::Serialize;

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
