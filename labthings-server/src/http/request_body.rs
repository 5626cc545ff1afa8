//! Reading request bodies: size-limited, time-limited, decoded as JSON the way FastAPI
//! decodes them (any or no `Content-Type` accepted).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HeaderMap};
use serde_json::Value;

use crate::http::error::ApiError;

/// How long a client may take to send its body; a stalled upload then gets 408.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole body, at most `limit` bytes. Over the limit is 413, decided from
/// `Content-Length` before reading when the client declares one.
pub async fn read(headers: &HeaderMap, body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let collected = tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, limit).collect()).await;
    match collected {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error))
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large(limit))
        }
        Ok(Err(_)) => Err(ApiError::detail(
            StatusCode::BAD_REQUEST,
            "The request body could not be read",
        )),
        Err(_) => Err(ApiError::detail(
            StatusCode::REQUEST_TIMEOUT,
            "The request body took too long to arrive",
        )),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::detail(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is larger than the limit of {limit} bytes"),
    )
}

/// Decode a body as JSON; an empty body is `None`. Malformed JSON or invalid UTF-8 is 422
/// `json_invalid`, with the position and message Python's `json` module would give where the
/// two are easy to match (a truncated document, an unterminated string).
pub fn json(bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|error| {
        let (position, message) = if error.is_eof() {
            match unterminated_string(bytes) {
                Some(start) => (start, "Unterminated string starting at".to_owned()),
                None => (bytes.len(), "Expecting value".to_owned()),
            }
        } else {
            let message = error.to_string();
            // serde_json appends " at line L column C"; the position is reported separately.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            (byte_position(bytes, error.line(), error.column()), message)
        };
        ApiError::json_invalid(position, &message)
    })
}

/// Where the string that runs off the end of `bytes` starts, if one does.
fn unterminated_string(bytes: &[u8]) -> Option<usize> {
    let mut start = None;
    let mut escaped = false;
    for (i, byte) in bytes.iter().enumerate() {
        match (start, byte) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), b'\\') => escaped = true,
            (Some(_), b'"') => start = None,
            (None, b'"') => start = Some(i),
            _ => {}
        }
    }
    start
}

/// The 0-based byte offset of serde_json's 1-based `line` and `column` (the column of the
/// offending character).
fn byte_position(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = bytes
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + column.saturating_sub(1)).min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bodies_are_none_and_positions_are_bytes() {
        assert_eq!(json(b"").unwrap(), None);
        assert_eq!(json(b" \n").unwrap(), None);
        assert_eq!(json(b"42").unwrap(), Some(serde_json::json!(42)));
        assert_eq!(byte_position(b"{\"a\":\n  x}", 2, 3), 8);
        assert_eq!(unterminated_string(br#"{"oops"#), Some(1));
        assert_eq!(unterminated_string(br#"{"a": "b\"c"#), Some(6));
        assert_eq!(unterminated_string(br#"{"duration": "#), None);
        assert!(json(b"{\"oops").is_err());
        assert!(json(&[b'"', 0xff, b'"']).is_err());
    }
}
