//! Path parameters as FastAPI validates them: a bad one is a 422 naming it, in pydantic's words.

use labthings_core::{LocSegment, ValidationIssue};
use serde_json::Value;

use crate::http::error::ApiError;

/// The path parameter `name` as a UUID, or FastAPI's 422 for it.
pub fn parse_uuid(id: &str, name: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|error: uuid::Error| {
        let error = uuid_error_text(id, &error);
        ApiError::Unprocessable(vec![ValidationIssue {
            kind: "uuid_parsing".into(),
            loc: vec![
                LocSegment::Field("path".into()),
                LocSegment::Field(name.into()),
            ],
            msg: format!("Input should be a valid UUID, {error}"),
            input: Value::String(id.to_owned()),
            ctx: Some(serde_json::json!({ "error": error })),
        }])
    })
}

/// pydantic's wording for a bad character (`invalid character: found `n` at 0`, 0-based), else
/// the uuid crate's own description.
fn uuid_error_text(input: &str, error: &uuid::Error) -> String {
    match input
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_hexdigit() || *c == '-'))
    {
        Some((index, found)) => format!("invalid character: found `{found}` at {index}"),
        None => error.to_string(),
    }
}
