//! RFC 9457 ProblemDetails: the error shape of both HTTP error responses and finished
//! invocation records (their `error` field), as the server writes it and the client reads it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// RFC 9457 ProblemDetails, in the reference's field order. Read leniently: a member that is
/// missing or `null` reads as empty (`status` 0), so any server's problem can be shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The explanation, such as the error's message.
    #[serde(default, deserialize_with = "null_as_default")]
    pub detail: String,
    /// A URL naming the kind of problem (`null` for errors raised by Rust actions).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The HTTP status the problem stands for.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: u16,
    /// A short name for the problem, such as the error's type name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub title: String,
    /// A URL naming this occurrence.
    #[serde(default)]
    pub instance: Option<String>,
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `title (status): detail`, leaving out what is empty.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)?;
        if self.status != 0 {
            write!(f, " ({})", self.status)?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The `type` the Python client recognises for a cancelled invocation.
pub const CANCELLED_TYPE: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError";

/// The `type` the Python client recognises for a busy global lock.
pub const LOCK_BUSY_TYPE: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.GlobalLockBusyError";

impl Problem {
    /// A problem with no `type` of its own (`about:blank`, RFC 9457 §4.2.1): the status and
    /// title say it all.
    pub fn about_blank(status: u16, title: &str, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            kind: Some("about:blank".into()),
            status,
            title: title.into(),
            instance: None,
        }
    }

    /// The global lock was busy (`GlobalLockBusyError`).
    pub fn lock_busy() -> Self {
        Self {
            detail: "The global lock could not be acquired.".into(),
            kind: Some(LOCK_BUSY_TYPE.into()),
            status: 409,
            title: "GlobalLockBusyError".into(),
            instance: None,
        }
    }

    /// A 500 with this title and detail.
    pub fn internal(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            kind: None,
            status: 500,
            title: title.into(),
            instance: None,
        }
    }

    /// The invocation was cancelled (`InvocationCancelledError`).
    pub fn cancelled() -> Self {
        Self {
            detail: "The action was cancelled.".into(),
            kind: Some(CANCELLED_TYPE.into()),
            status: 500,
            title: "InvocationCancelledError".into(),
            instance: None,
        }
    }

    /// A 503 with this title and detail.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_in_the_reference_order_and_read_leniently() {
        let written = serde_json::to_string(&Problem::lock_busy()).unwrap();
        assert!(
            written.starts_with(r#"{"detail":"The global lock could not be acquired.","type":"#),
            "{written}"
        );
        assert!(
            written.ends_with(r#","status":409,"title":"GlobalLockBusyError","instance":null}"#)
        );
        let read: Problem = serde_json::from_str(r#"{"title": "Oops", "detail": null}"#).unwrap();
        assert_eq!((read.status, read.detail.as_str()), (0, ""));
        assert_eq!(read.to_string(), "Oops");
        assert_eq!(
            Problem::lock_busy().to_string(),
            "GlobalLockBusyError (409): The global lock could not be acquired."
        );
    }
}
