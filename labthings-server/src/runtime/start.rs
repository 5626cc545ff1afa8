//! Starting an invocation that has been recorded: blocking bodies on the action pool (holding
//! the global lock when the action must), `#[action(inline)]` ones at once on the caller's
//! thread, `async` ones as tokio tasks; and taking back one that will never run.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use labthings_core::{ActionBody, BlockingBody, Captured, InvocationContext, Outcome};
use labthings_protocol::problem::Problem;

use crate::runtime::invocation::Invocation;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::{ActionPool, PoolFull};
use crate::runtime::provenance::{self, Provenance};
use crate::runtime::store::InvocationStore;

/// Start the invocation's body: blocking bodies on `pool`, inline ones here and now, `async`
/// ones on the runtime. A panic in any ends the invocation as an error; the server goes on.
pub fn start(
    pool: &ActionPool,
    invocation: Arc<Invocation>,
    body: ActionBody,
    lock: Option<Arc<GlobalLock>>,
) -> Result<(), PoolFull> {
    match body {
        // Waiting for the global lock must not hold a request's thread (a data property's
        // write leaves the runtime for it too), so only an inline body with no lock to take
        // runs here; with one, it goes to the pool like any other.
        ActionBody::Inline(body) if lock.is_none() => {
            let started = Instant::now();
            run_here(&invocation, body, None);
            let took = started.elapsed();
            if took > INLINE_BUDGET {
                warn_slow_inline(&invocation, took);
            }
            Ok(())
        }
        ActionBody::Blocking(body) | ActionBody::Inline(body) => pool.submit(Box::new(move || {
            run_here(&invocation, body, lock.as_deref());
        })),
        ActionBody::Async(start) => {
            tokio::spawn(async move {
                if !invocation.mark_running() {
                    return;
                }
                // Property writes the action makes are recorded as made in this invocation.
                let provenance = Provenance::in_invocation(invocation.id);
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

/// How long an inline action may take before the server says it should not be inline: every
/// other request on its runtime thread waited that long.
const INLINE_BUDGET: Duration = Duration::from_millis(5);

/// Run a plain-`fn` body on this thread, from `running` to its end, holding `lock` if any.
fn run_here(invocation: &Invocation, body: BlockingBody, lock: Option<&GlobalLock>) {
    if !invocation.mark_running() {
        return; // cancelled before it started
    }
    let _guard = match GlobalLock::hold(lock) {
        Ok(guard) => guard,
        Err(busy) => return invocation.fail_with(busy.into()),
    };
    // Property writes the action makes are recorded as made in this invocation.
    let provenance = Provenance::in_invocation(invocation.id);
    let outcome = provenance::with(provenance, || body.run(&context(invocation)));
    invocation.finish(outcome);
}

/// Say, once per action, that an `#[action(inline)]` took longer than it should.
fn warn_slow_inline(invocation: &Invocation, took: Duration) {
    static WARNED: Mutex<BTreeSet<(Arc<str>, &str)>> = Mutex::new(BTreeSet::new());
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if warned.insert((invocation.thing.clone(), invocation.action)) {
        tracing::warn!(
            thing = %invocation.thing,
            action = invocation.action,
            took_ms = took.as_secs_f64() * 1e3,
            "an inline action took longer than {} ms, and every request on its thread waited \
             for it: remove `inline` from its `#[action]` to run it on the action pool \
             (said once per action)",
            INLINE_BUDGET.as_millis()
        );
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
