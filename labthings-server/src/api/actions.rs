//! Starting actions: `POST T<action>` validates the input, records a `pending` invocation,
//! hands the body to the action pool (or, for `async fn` actions, to the runtime) and answers
//! 201 with the invocation (or, with `?sync=true`, waits and answers its output: see
//! `sync_invoke.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, LOCATION};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::{ActionMetadata, InvocationId, PrepareError, PreparedAction};
use labthings_protocol::paths::Origin;
use labthings_protocol::problem::Problem;

use crate::api::invocation_view::{self, Links};
use crate::api::sync_invoke;
use crate::http::error::ApiError;
use crate::http::grant::Grant;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::net::connection::PeerAddr;
use crate::runtime::invocation::{Invocation, Requester};
use crate::runtime::start::{start, withdraw};
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
    let synchronous = sync_invoke::requested(&request.uri);
    // `?sync=true` waits as long as `Prefer: wait` may.
    let wait = synchronous
        .then_some(MAX_WAIT)
        .or_else(|| requested_wait(&request.headers));
    let bytes = request_body::read(&request.headers, body, state.body_limit).await?;
    let input = request_body::json(&bytes)?;
    // A blob link in the input resolves to a blob a kept invocation holds.
    let store = state.store.clone();
    let prepared = labthings_core::blob::resolving(
        move |id| store.find_blob(id),
        || served.thing.clone().prepare_action(action.name, input),
    );
    let PreparedAction { input, body } = prepared.map_err(|error| match error {
        PrepareError::Invalid(errors) => ApiError::unprocessable(errors, "body"),
        PrepareError::NotFound => ApiError::NotFound,
    })?;
    let action_path = served.action_paths.get(action.name).cloned();
    let action_path = action_path.ok_or(ApiError::NotFound)?;
    let mut invocation = Invocation::new(
        InvocationId::new(),
        served.name.clone(),
        action.name,
        action_path,
        input,
    )
    .with_observer(served.hub.clone())
    .with_requester(requester(state, request));
    if let Some(history) = &state.history {
        invocation = invocation.with_observer(history.recorder.clone());
    }
    let invocation = Arc::new(invocation);
    if state.store.insert(invocation.clone()).is_err() {
        return Err(busy());
    }
    invocation.announce();
    // Checked after recording, so shutdown's snapshot either holds this invocation or the
    // invocation sees the flag.
    if state.closing.load(Ordering::SeqCst) {
        let refusal = Problem::service_unavailable(
            "ServerShuttingDown",
            "The server is shutting down and starts no new actions.",
        );
        return Err(withdraw(&state.store, &invocation, refusal).into());
    }
    let lock = state.lock_for(action.uses_global_lock);
    if start(&state.pool, invocation.clone(), body, lock).is_err() {
        return Err(withdraw(&state.store, &invocation, busy_problem()).into());
    }
    if let Some(wait) = wait {
        let _ = tokio::time::timeout(wait, invocation.wait_finished()).await;
    }
    let links = Links::new(origin, &state.paths);
    if synchronous && let Some(answer) = sync_invoke::answer(&invocation, links) {
        return Ok(answer);
    }
    let view = invocation_view::view(&invocation, links);
    let mut response = response::json(StatusCode::CREATED, &view);
    let href = links.invocation(invocation.id);
    if let Ok(location) = HeaderValue::from_str(&href) {
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

fn busy() -> ApiError {
    busy_problem().into()
}

fn busy_problem() -> Problem {
    Problem::service_unavailable(
        "ActionQueueFull",
        "Too many actions are running or waiting to run; try again later.",
    )
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
