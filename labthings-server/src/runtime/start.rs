//! Starting an invocation that has been recorded: blocking bodies on the action pool (holding
//! the global lock when the action must), `async` ones as tokio tasks; and taking back one that
//! will never run.

use std::sync::Arc;

use labthings_core::{ActionBody, Captured, InvocationContext, Outcome};
use labthings_protocol::problem::Problem;

use crate::runtime::invocation::Invocation;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::{ActionPool, PoolFull};
use crate::runtime::provenance::{self, Provenance, WriteSource};
use crate::runtime::store::InvocationStore;

/// Start the invocation's body: blocking bodies on `pool`, `async` ones on the runtime. A
/// panic in either ends the invocation as an error; the server goes on.
pub fn start(
    pool: &ActionPool,
    invocation: Arc<Invocation>,
    body: ActionBody,
    lock: Option<Arc<GlobalLock>>,
) -> Result<(), PoolFull> {
    match body {
        ActionBody::Blocking(body) => pool.submit(Box::new(move || {
            if !invocation.mark_running() {
                return; // cancelled while it waited for a worker
            }
            let _guard = match GlobalLock::hold(lock.as_deref()) {
                Ok(guard) => guard,
                Err(busy) => return invocation.fail_with(busy.into()),
            };
            // Property writes the action makes are recorded as made in this invocation.
            let provenance = Provenance {
                source: WriteSource::Rust,
                invocation: Some(invocation.id),
            };
            let outcome = provenance::with(provenance, || body.run(&context(&invocation)));
            invocation.finish(outcome);
        })),
        ActionBody::Async(start) => {
            tokio::spawn(async move {
                if !invocation.mark_running() {
                    return;
                }
                // Property writes the action makes are recorded as made in this invocation.
                let provenance = Provenance {
                    source: WriteSource::Rust,
                    invocation: Some(invocation.id),
                };
                let future = provenance::scope(provenance, start(context(&invocation)));
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

/// Take back an invocation that will never run: observers that heard it `pending` hear it end
/// (as an error carrying `refusal`), and it leaves the store. Returns `refusal` for the client.
pub fn withdraw(store: &InvocationStore, invocation: &Invocation, refusal: Problem) -> Problem {
    invocation.fail_with(refusal.clone());
    store.remove(&invocation.id);
    refusal
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
