//! `P/action_invocations…`: list, inspect, fetch the output of, and cancel invocations.

use std::sync::Arc;

use hyper::header::{HeaderValue, LINK};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::{InvocationId, LocSegment, ValidationIssue};
use serde_json::Value;

use crate::api::blobs;
use crate::api::invocation_page::Page;
use crate::api::state::ServerState;
use crate::http::error::ApiError;
use crate::http::origin::Origin;
use crate::http::response::{self, Body};
use crate::runtime::invocation::{Invocation, Status};

/// Every kept invocation, or with `?limit=&after=` one page of them (see [`Page`]).
pub fn list(
    state: &ServerState,
    origin: &Origin,
    query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let page = Page::parse(query)?;
    let records = state.store.list(|_| true);
    let base = state.base(origin);
    let Some(page) = page else {
        let summaries: Vec<_> = records.iter().map(|r| r.summary(&base)).collect();
        return Ok(response::json(StatusCode::OK, &summaries));
    };
    let (start, end) = page.range(records.iter().map(|r| r.id))?;
    let shown = &records[start..end];
    let summaries: Vec<_> = shown.iter().map(|r| r.summary(&base)).collect();
    let mut response = response::json(StatusCode::OK, &summaries);
    if let (true, Some(last)) = (end < records.len(), shown.last()) {
        let link = page.next_link(&format!("{base}/action_invocations"), &last.id);
        if let Ok(link) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, link);
        }
    }
    Ok(response)
}

/// Look up `{id}`: 422 if it isn't a UUID (FastAPI's path validation), 404 if unknown.
pub fn find(state: &ServerState, id: &str) -> Result<Arc<Invocation>, ApiError> {
    let parsed: InvocationId = parse_uuid(id, "id")?.into();
    state.store.get(&parsed).ok_or_else(|| {
        ApiError::detail(
            StatusCode::NOT_FOUND,
            format!("No action invocation found with ID {parsed}"),
        )
    })
}

/// The path parameter `name` as a UUID, or FastAPI's 422 for it.
pub fn parse_uuid(id: &str, name: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse().map_err(|error: uuid::Error| {
        let error = uuid_error_text(id, &error);
        ApiError::Unprocessable(vec![ValidationIssue {
            kind: "uuid_parsing",
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

pub fn get(state: &ServerState, invocation: &Invocation, origin: &Origin) -> Response<Body> {
    response::json(StatusCode::OK, &invocation.view(&state.base(origin)))
}

/// The output of a completed invocation, even when it is falsy (`0`, `false`, `null`); the
/// bytes themselves when the output is a blob.
pub async fn output(
    state: &ServerState,
    invocation: &Invocation,
    request: &Parts,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let base = state.base(origin);
    let blob = {
        let run = invocation.state();
        match (&run.status, run.output_blob()) {
            (Status::Completed, Some(blob)) => blob.clone(),
            (Status::Completed, None) if run.output.is_some() => {
                return Ok(response::json(StatusCode::OK, &run.output_under(&base)));
            }
            _ => {
                return Err(ApiError::detail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "No result is available for this invocation",
                ));
            }
        }
    }; // the record's lock is released before the blob is read
    blobs::serve(blob, request).await
}

/// Ask a pending or running invocation to stop. A pending one is cancelled at once: it never
/// starts.
pub fn cancel(invocation: &Invocation) -> Result<Response<Body>, ApiError> {
    match invocation.request_cancel() {
        Ok(()) => Ok(response::json(StatusCode::OK, &Value::Null)),
        Err(status) => Err(ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "The invocation is {} and may not be cancelled.",
                status.as_str()
            ),
        )),
    }
}
