//! An action call bound to its Thing and validated input, ready to run: how the server starts
//! it (on a pool thread or as a task) and how a run catches panics and captures `tracing`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::capture::run_captured;
use crate::context::InvocationContext;
use crate::outcome::Outcome;

/// A future producing an action's outcome.
pub type OutcomeFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The body of a plain-`fn` action.
pub struct BlockingBody(Box<dyn FnOnce(&InvocationContext) -> Outcome + Send>);

impl BlockingBody {
    /// A blocking body: run on the action pool with the invocation's context.
    pub fn new(body: Box<dyn FnOnce(&InvocationContext) -> Outcome + Send>) -> Self {
        Self(body)
    }

    /// Run on this thread: panics caught, `tracing` events captured into the invocation's log.
    pub fn run(self, ctx: &InvocationContext) -> Outcome {
        run_captured(ctx.log(), || Outcome::catching(|| (self.0)(ctx)))
    }
}

/// The body of an action, ready to run once the server has a context for it.
pub enum ActionBody {
    /// A plain `fn`: run on an action pool thread, where it may block.
    Blocking(BlockingBody),
    /// A plain `fn` marked `#[action(inline)]`: short and never blocking, so it runs where it
    /// was invoked (a request's runtime thread), sparing the hand-over to a pool thread and
    /// back that costs a quick action more than its work.
    Inline(BlockingBody),
    /// An `async fn`: run as a task on the async runtime.
    Async(Box<dyn FnOnce(InvocationContext) -> OutcomeFuture + Send>),
}

/// An action call whose input has been validated.
pub struct PreparedAction {
    /// The validated input, with defaults filled in (`null` when none was given).
    pub input: Value,
    /// What runs the action.
    pub body: ActionBody,
}

impl ActionBody {
    /// Run a blocking action on this thread (see [`BlockingBody::run`]). Gives the body back
    /// if it is `async`, which needs a runtime.
    pub fn run_blocking(self, ctx: &InvocationContext) -> Result<Outcome, Self> {
        match self {
            ActionBody::Blocking(body) | ActionBody::Inline(body) => Ok(body.run(ctx)),
            body @ ActionBody::Async(_) => Err(body),
        }
    }
}

impl fmt::Debug for PreparedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.body {
            ActionBody::Blocking(_) => "blocking",
            ActionBody::Inline(_) => "inline",
            ActionBody::Async(_) => "async",
        };
        f.debug_struct("PreparedAction")
            .field("input", &self.input)
            .field("body", &kind)
            .finish()
    }
}
