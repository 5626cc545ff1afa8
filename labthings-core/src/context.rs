//! Dependency injection for actions: the per-invocation context and [`FromInvocation`].
//!
//! The context is made once per invocation. Each resource an action asks for is built from it
//! at most once and shared by every parameter that asks, so an action's `InvocationId`, the
//! id inside its `Logger` and the id behind its `CancelHook` are always the same invocation's
//! (the rule the reference gets from FastAPI's once-per-request dependencies).

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::cancel::CancelHook;
use crate::id::InvocationId;
use crate::logger::{InvocationLog, Logger};
use crate::progress::Progress;

/// What an action invocation carries besides its JSON input.
pub struct InvocationContext {
    id: InvocationId,
    cancel: CancelHook,
    logger: Logger,
    progress: Progress,
    /// Resources built by [`FromInvocation`] implementations, one per type.
    resources: Mutex<Vec<(TypeId, Box<dyn Any + Send>)>>,
}

impl InvocationContext {
    /// A context for invocation `id`, with a fresh cancel hook and an empty log.
    pub fn new(id: InvocationId) -> Self {
        Self::with_parts(id, CancelHook::new(), Arc::new(InvocationLog::default()))
    }

    /// A context for invocation `id` using an existing cancel hook and log (the server keeps
    /// both in its invocation record).
    pub fn with_parts(id: InvocationId, cancel: CancelHook, log: Arc<InvocationLog>) -> Self {
        Self {
            id,
            cancel,
            logger: Logger::new(id, log),
            progress: Progress::new(),
            resources: Mutex::new(Vec::new()),
        }
    }

    /// Use an existing progress handle (the server keeps it in its invocation record).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// The invocation's id.
    pub fn id(&self) -> InvocationId {
        self.id
    }

    /// The invocation's cancel hook (what `DELETE` sets).
    pub fn cancel_hook(&self) -> &CancelHook {
        &self.cancel
    }

    /// The logger writing to the invocation's log.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// The invocation's progress.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The invocation's log.
    pub fn log(&self) -> &Arc<InvocationLog> {
        self.logger.log()
    }

    /// The resource of type `T` for this invocation, built on first request and shared after.
    pub fn resolve<T: FromInvocation>(&self) -> T {
        T::resolve(self)
    }

    fn cached<T: FromInvocation>(&self) -> T {
        let key = TypeId::of::<T>();
        {
            let resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, value)) = resources.iter().find(|(k, _)| *k == key)
                && let Some(value) = value.downcast_ref::<T>()
            {
                return value.clone();
            }
        }
        // Built outside the lock: a constructor may itself resolve other resources.
        let value = T::from_invocation(self);
        let mut resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, existing)) = resources.iter().find(|(k, _)| *k == key)
            && let Some(existing) = existing.downcast_ref::<T>()
        {
            return existing.clone();
        }
        resources.push((key, Box::new(value.clone())));
        value
    }
}

impl fmt::Debug for InvocationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationContext")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A type an action can take as a parameter, built from the invocation rather than from the
/// JSON input.
///
/// `InvocationId`, `CancelHook`, `Logger` and `Progress` implement it and are injected by type
/// name. For
/// your own types, implement it and mark the parameter `#[inject]`. The value is built once
/// per invocation and cloned into every parameter that asks for it, so make cloning cheap
/// (share state through an `Arc`).
///
/// ```
/// use labthings_core::prelude::*;
///
/// #[derive(Clone)]
/// struct RequestTag(String);
///
/// impl FromInvocation for RequestTag {
///     fn from_invocation(ctx: &InvocationContext) -> Self {
///         RequestTag(format!("req-{}", ctx.id()))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into an action: it does not implement `FromInvocation`",
    label = "this parameter is injected, not read from the JSON input",
    note = "implement `labthings_core::FromInvocation` for `{Self}`, or remove `#[inject]` to make it a field of the action's input"
)]
pub trait FromInvocation: Clone + Send + 'static {
    /// Build the resource for the invocation described by `ctx`.
    fn from_invocation(ctx: &InvocationContext) -> Self;

    /// How the context obtains the value: by default built once and cached per invocation.
    #[doc(hidden)]
    fn resolve(ctx: &InvocationContext) -> Self {
        ctx.cached::<Self>()
    }
}

impl FromInvocation for InvocationId {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        ctx.id
    }
    fn resolve(ctx: &InvocationContext) -> Self {
        ctx.id
    }
}

impl FromInvocation for CancelHook {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        ctx.cancel.clone()
    }
    fn resolve(ctx: &InvocationContext) -> Self {
        ctx.cancel.clone()
    }
}

impl FromInvocation for Logger {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        ctx.logger.clone()
    }
    fn resolve(ctx: &InvocationContext) -> Self {
        ctx.logger.clone()
    }
}

impl FromInvocation for Progress {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        ctx.progress.clone()
    }
    fn resolve(ctx: &InvocationContext) -> Self {
        ctx.progress.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static BUILT: AtomicUsize = AtomicUsize::new(0);

    #[derive(Clone)]
    struct Expensive(InvocationId);

    impl FromInvocation for Expensive {
        fn from_invocation(ctx: &InvocationContext) -> Self {
            BUILT.fetch_add(1, Ordering::SeqCst);
            Expensive(ctx.resolve::<InvocationId>())
        }
    }

    #[test]
    fn custom_resources_are_built_once_per_invocation() {
        let ctx = InvocationContext::new(InvocationId::new());
        let a: Expensive = ctx.resolve();
        let b: Expensive = ctx.resolve();
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert_eq!(a.0, b.0);
        assert_eq!(a.0, ctx.id());
        let other = InvocationContext::new(InvocationId::new());
        let c: Expensive = other.resolve();
        assert_eq!(BUILT.load(Ordering::SeqCst), 2);
        assert_ne!(c.0, a.0);
    }

    #[test]
    fn builtin_resources_share_the_invocation() {
        let ctx = InvocationContext::new(InvocationId::new());
        let logger: Logger = ctx.resolve();
        let cancel: CancelHook = ctx.resolve();
        assert_eq!(logger.invocation_id(), ctx.id());
        cancel.cancel();
        assert!(ctx.cancel_hook().is_cancelled());
    }
}
