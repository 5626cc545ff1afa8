//! Cooperative cancellation of a running invocation.
//!
//! A `DELETE` on an invocation calls [`CancelHook::cancel`]; the action notices at its next
//! [`CancelHook::sleep`], [`CancelHook::raise_if_cancelled`] or `cancelled().await`. Sleeping
//! waits on a condition variable, so a cancel wakes the sleeper at once instead of at the end of
//! a polling interval.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The error an action returns (usually with `?`) to end its invocation as `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, thiserror::Error)]
#[error("The action was cancelled.")]
pub struct Cancelled;

/// A cancellation flag shared between an invocation and whoever may cancel it.
///
/// Cloning gives another handle to the same flag.
#[derive(Clone, Default)]
pub struct CancelHook {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    cancelled: Mutex<bool>,
    /// Wakes threads blocked in [`CancelHook::sleep`].
    condvar: Condvar,
    /// Wakes tasks awaiting [`CancelHook::cancelled`].
    notify: Notify,
}

impl Shared {
    fn flag(&self) -> MutexGuard<'_, bool> {
        // The flag is a plain bool: a panic while it was held cannot leave it half-written.
        self.cancelled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl CancelHook {
    /// A new hook that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the invocation to stop. Wakes every `sleep` and `cancelled().await` at once.
    pub fn cancel(&self) {
        *self.shared.flag() = true;
        self.shared.condvar.notify_all();
        self.shared.notify.notify_waiters();
    }

    /// Whether a cancel has been requested (and not [`reset`](Self::reset) since).
    pub fn is_cancelled(&self) -> bool {
        *self.shared.flag()
    }

    /// `Err(Cancelled)` if a cancel has been requested.
    pub fn raise_if_cancelled(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Clear the flag, so an action that caught a cancel can carry on and be cancelled again.
    pub fn reset(&self) {
        *self.shared.flag() = false;
    }

    /// Block the calling thread for `duration`, or until cancelled, whichever comes first.
    ///
    /// Returns `Err(Cancelled)` if the hook is cancelled before or during the sleep.
    pub fn sleep(&self, duration: Duration) -> Result<(), Cancelled> {
        let deadline = Instant::now().checked_add(duration);
        let mut cancelled = self.shared.flag();
        loop {
            if *cancelled {
                return Err(Cancelled);
            }
            let timeout = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Ok(()),
                },
                // A duration too long to represent: wait in long slices until cancelled.
                None => Duration::from_secs(86_400),
            };
            cancelled = match self.shared.condvar.wait_timeout(cancelled, timeout) {
                Ok((guard, _)) => guard,
                Err(poison) => poison.into_inner().0,
            };
        }
    }

    /// Resolve once the hook is cancelled (at once if it already is). For `async fn` actions,
    /// typically inside `tokio::select!`.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            // Register before checking, so a cancel between the check and the await is not lost.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Like [`sleep`](Self::sleep) for `async fn` actions: wait without blocking a thread.
    pub async fn sleep_async(&self, duration: Duration) -> Result<(), Cancelled> {
        self.raise_if_cancelled()?;
        tokio::select! {
            _ = self.cancelled() => Err(Cancelled),
            _ = tokio::time::sleep(duration) => self.raise_if_cancelled(),
        }
    }
}

impl fmt::Debug for CancelHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHook")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
