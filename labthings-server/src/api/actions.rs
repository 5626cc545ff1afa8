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
use labthings_core::{
    ActionBody, ActionMetadata, Captured, InvocationContext, InvocationId, Outcome, PrepareError,
    PreparedAction,
};

use crate::api::state::{ServedThing, ServerState};
use crate::api::sync_invoke;
use crate::http::error::ApiError;
use crate::http::origin::Origin;
use crate::http::request_body;
use crate::http::response::{self, Body};
use crate::problem::Problem;
use crate::runtime::invocation::Invocation;
use crate::runtime::lock::{ACQUIRE_TIMEOUT, GlobalLock};

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
    let invocation = Arc::new(
        Invocation::new(
            InvocationId::new(),
            served.name.clone(),
            action.name,
            action_path,
            input,
        )
        .with_hub(served.hub.clone()),
    );
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
        return Err(withdraw(state, &invocation, refusal).into());
    }
    let lock = state.lock_for(action.uses_global_lock);
    if schedule(state, invocation.clone(), body, lock).is_err() {
        return Err(withdraw(state, &invocation, busy_problem()).into());
    }
    if let Some(wait) = wait {
        let _ = tokio::time::timeout(wait, invocation.wait_finished()).await;
    }
    let base = state.base(origin);
    if synchronous && let Some(answer) = sync_invoke::answer(&invocation, &base) {
        return Ok(answer);
    }
    let mut response = response::json(StatusCode::CREATED, &invocation.view(&base));
    let href = invocation.href(&base);
    if let Ok(location) = HeaderValue::from_str(&href) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
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

/// Take back an invocation that will never run: observers that heard it `pending` hear it end
/// (as an error carrying `refusal`), and it leaves the store. Returns `refusal` for the client.
fn withdraw(state: &ServerState, invocation: &Invocation, refusal: Problem) -> Problem {
    invocation.fail_with(refusal.clone());
    state.store.remove(&invocation.id);
    refusal
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

/// Start the invocation's body: blocking bodies on the action pool, `async` ones on the runtime.
fn schedule(
    state: &ServerState,
    invocation: Arc<Invocation>,
    body: ActionBody,
    lock: Option<Arc<GlobalLock>>,
) -> Result<(), ()> {
    match body {
        ActionBody::Blocking(body) => state
            .pool
            .submit(Box::new(move || {
                if !invocation.mark_running() {
                    return; // cancelled while it waited for a worker
                }
                let _guard = match &lock {
                    Some(lock) => match lock.try_acquire(ACQUIRE_TIMEOUT) {
                        Some(guard) => Some(guard),
                        None => return invocation.fail_with(Problem::lock_busy()),
                    },
                    None => None,
                };
                invocation.finish(body.run(&context(&invocation)));
            }))
            .map_err(drop),
        ActionBody::Async(start) => {
            tokio::spawn(async move {
                if !invocation.mark_running() {
                    return;
                }
                let future = start(context(&invocation));
                // A separate task, so a panic inside the action surfaces as a JoinError.
                let task = tokio::spawn(Captured::new(invocation.log.clone(), future));
                let outcome = match task.await {
                    Ok(outcome) => outcome,
                    Err(error) if error.is_panic() => Outcome::from_panic(&*error.into_panic()),
                    Err(_) => Outcome::Cancelled,
                };
                invocation.finish(outcome);
            });
            Ok(())
        }
    }
}

/// The context an invocation's body sees, sharing the record's cancel hook and log.
fn context(invocation: &Invocation) -> InvocationContext {
    InvocationContext::with_parts(
        invocation.id,
        invocation.cancel.clone(),
        invocation.log.clone(),
    )
    .with_progress(invocation.progress.clone())
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
    let base = state.base(origin);
    let summaries: Vec<_> = records.iter().map(|r| r.summary(&base)).collect();
    response::json(StatusCode::OK, &summaries)
}
