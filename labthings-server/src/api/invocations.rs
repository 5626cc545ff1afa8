//! `P/action_invocations…`: list, inspect, fetch the output of, and cancel invocations.

use std::sync::Arc;

use hyper::header::{HeaderValue, LINK};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::InvocationId;
use labthings_protocol::InvocationStatus;
use labthings_protocol::paths::Origin;
use serde_json::Value;

use crate::api::blobs;
use crate::api::invocation_page::Page;
use crate::api::invocation_view::{self, Links};
use crate::http::error::ApiError;
use crate::http::path_param::parse_uuid;
use crate::http::response::{self, Body};
use crate::runtime::invocation::Invocation;
use crate::state::ServerState;

/// Every kept invocation, or with `?limit=&after=` one page of them (see [`Page`]).
pub fn list(
    state: &ServerState,
    origin: &Origin,
    query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let page = Page::parse(query)?;
    let records = state.store.list(|_| true);
    let links = Links::new(origin, &state.paths);
    let (start, end) = match &page {
        Some(page) => page.range(records.iter().map(|r| r.id))?,
        None => (0, records.len()),
    };
    let shown = &records[start..end];
    let summaries: Vec<_> = shown
        .iter()
        .map(|r| invocation_view::summary(r, links))
        .collect();
    let mut response = response::json(StatusCode::OK, &summaries);
    // Without `limit`/`after`, the reference's bare array and nothing more.
    if let (Some(page), true, Some(last)) = (&page, end < records.len(), shown.last()) {
        let list_url = format!("{origin}{}", state.paths.invocations());
        let link = page.next_link(&list_url, &last.id);
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

pub fn get(state: &ServerState, invocation: &Invocation, origin: &Origin) -> Response<Body> {
    let links = Links::new(origin, &state.paths);
    response::json(StatusCode::OK, &invocation_view::view(invocation, links))
}

/// The output of a completed invocation, even when it is falsy (`0`, `false`, `null`); the
/// bytes themselves when the output is a blob.
pub async fn output(
    state: &ServerState,
    invocation: &Invocation,
    request: &Parts,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let links = Links::new(origin, &state.paths);
    let blob = {
        let run = invocation.state();
        match (&run.status, run.output_blob()) {
            (InvocationStatus::Completed, Some(blob)) => blob.clone(),
            (InvocationStatus::Completed, None) if run.output.is_some() => {
                let output = invocation_view::output(&run, links);
                return Ok(response::json(StatusCode::OK, &output));
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
