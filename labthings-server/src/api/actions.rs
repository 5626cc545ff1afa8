//! Starting actions: `POST T<action>` validates the input, records a `pending` invocation,
//! hands the body to the action pool (or, for `async fn` actions, to the runtime) and answers
//! 201 with the invocation (or, with `?sync=true`, waits and answers its output: see
//! `sync_invoke.rs`).

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, LOCATION};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::ActionMetadata;
use labthings_protocol::paths::Origin;

use crate::api::invocation_view::{self, Links};
use crate::api::sync_invoke;
use crate::http::error::ApiError;
use crate::http::grant::Grant;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::net::connection::PeerAddr;
use crate::ops::invoke::{InvokeError, launch};
use crate::runtime::invocation::Requester;
use crate::state::{ServedThing, ServerState};

/// The longest `Prefer: wait=N` honoured, so a client can't park a request forever.
const MAX_WAIT: Duration = Duration::from_secs(600);

pub async fn invoke(
    state: &ServerState,
    served: &ServedThing,
    action: &ActionMetadata,
    request: &Parts,
    body: Incoming,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let synchronous = sync_invoke::requested(&request.uri)?;
    // `?sync=true` waits as long as `Prefer: wait` may.
    let wait = synchronous
        .then_some(MAX_WAIT)
        .or_else(|| requested_wait(&request.headers));
    let bytes = request_body::read(&request.headers, body, state.body_limit).await?;
    let input = request_body::json(&bytes)?;
    let who = requester(state, request);
    let invocation = launch(state, served, action, input, who).map_err(|error| match error {
        InvokeError::Invalid(errors) => ApiError::unprocessable(errors, "body"),
        InvokeError::NotFound => ApiError::NotFound,
        InvokeError::Refused(problem) => problem.into(),
    })?;
    if let Some(wait) = wait {
        let _ = tokio::time::timeout(wait, invocation.wait_finished()).await;
    }
    let links = Links::new(origin, &state.paths);
    if synchronous && let Some(answer) = sync_invoke::answer(&invocation, links) {
        return Ok(answer);
    }
    let view = invocation_view::view(&invocation, links);
    let mut response = response::json(StatusCode::CREATED, &view);
    if let Ok(location) = HeaderValue::from_str(view.href()) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// Who is asking: the label of the request's token in the tokens file ("token" for one
/// without a label; none, i.e. "anonymous", without tokens), and the client's address.
fn requester(state: &ServerState, request: &Parts) -> Requester {
    let grant = request.extensions.get::<Grant>();
    let label = match grant {
        Some(grant) => Some(grant.label().unwrap_or_else(|| Arc::from("token"))),
        None => state.tokens.is_some().then(|| Arc::from("token")),
    };
    Requester {
        label,
        peer: request.extensions.get::<PeerAddr>().map(|peer| peer.0),
    }
}

/// `Prefer: wait=N` (RFC 7240), possibly among other preferences.
fn requested_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|pref| pref.trim().strip_prefix("wait="))
        .filter_map(|seconds| seconds.trim().parse::<f64>().ok())
        .find(|seconds| seconds.is_finite() && *seconds >= 0.0)
        // Clamp before converting: a huge `wait=1e20` must not overflow `Duration`.
        .map(|seconds| Duration::from_secs_f64(seconds.min(MAX_WAIT.as_secs_f64())))
}

/// `GET T<action>`: summaries of that action's invocations.
pub fn list(
    state: &ServerState,
    served: &ServedThing,
    action: &ActionMetadata,
    origin: &Origin,
) -> Response<Body> {
    let records = state
        .store
        .list(|r| r.action == action.name && r.thing == served.name);
    let links = Links::new(origin, &state.paths);
    let summaries: Vec<_> = records
        .iter()
        .map(|r| invocation_view::summary(r, links))
        .collect();
    response::json(StatusCode::OK, &summaries)
}
