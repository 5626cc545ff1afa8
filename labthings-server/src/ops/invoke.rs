//! Starting an invocation: the input checked (a blob link in it resolved against the kept
//! invocations), a `pending` record kept and announced, then the body handed to the pool.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use labthings_core::{ActionMetadata, InvocationId, PrepareError, PreparedAction};
use labthings_protocol::problem::Problem;
use serde_json::Value;

use crate::runtime::invocation::{Invocation, Requester};
use crate::runtime::start::{start, withdraw};
use crate::state::{ServedThing, ServerState};

/// Why an invocation did not start.
#[derive(Debug)]
pub enum InvokeError {
    /// The input does not fit the action's schema.
    Invalid(labthings_core::ValidationErrors),
    /// No such action.
    NotFound,
    /// The server refused it: queue full, shutting down.
    Refused(Problem),
}

/// Start `action` with `input` for `requester`; the running (or pending) invocation, kept in
/// the store and heard by the Thing's hub (and the history, when there is one).
pub fn launch(
    state: &ServerState,
    served: &ServedThing,
    action: &ActionMetadata,
    input: Option<Value>,
    requester: Requester,
) -> Result<Arc<Invocation>, InvokeError> {
    // A blob link in the input resolves to a blob a kept invocation holds.
    let store = state.store.clone();
    let prepared = labthings_core::blob::resolving(
        move |id| store.find_blob(id),
        || served.thing.clone().prepare_action(action.name, input),
    );
    let PreparedAction { input, body } = prepared.map_err(|error| match error {
        PrepareError::Invalid(errors) => InvokeError::Invalid(errors),
        PrepareError::NotFound => InvokeError::NotFound,
    })?;
    let action_path = served.action_paths.get(action.name).cloned();
    let action_path = action_path.ok_or(InvokeError::NotFound)?;
    let mut invocation = Invocation::new(
        InvocationId::new(),
        served.name.clone(),
        action.name,
        action_path,
        input,
    )
    .with_observer(served.hub.clone())
    .with_requester(requester);
    if let Some(history) = &state.history {
        invocation = invocation.with_observer(history.recorder.clone());
    }
    let invocation = Arc::new(invocation);
    if state.store.insert(invocation.clone()).is_err() {
        return Err(InvokeError::Refused(busy()));
    }
    invocation.announce();
    // Checked after recording, so shutdown's snapshot either holds this invocation or the
    // invocation sees the flag.
    if state.closing.load(Ordering::SeqCst) {
        let refusal = Problem::service_unavailable(
            "ServerShuttingDown",
            "The server is shutting down and starts no new actions.",
        );
        return Err(InvokeError::Refused(withdraw(
            &state.store,
            &invocation,
            refusal,
        )));
    }
    let lock = state.lock_for(action.uses_global_lock);
    if start(&state.pool, invocation.clone(), body, lock).is_err() {
        return Err(InvokeError::Refused(withdraw(
            &state.store,
            &invocation,
            busy(),
        )));
    }
    Ok(invocation)
}

fn busy() -> Problem {
    Problem::service_unavailable(
        "ActionQueueFull",
        "Too many actions are running or waiting to run; try again later.",
    )
}
