//! How far an action has got: the fourth injected resource.
//!
//! An action takes a `Progress` parameter and reports a fraction (or `done` of `total`); the
//! invocation JSON carries it as `"progress"` and the server pushes it to the action's
//! observers. Reporting is a store into an atomic plus, at most, one call of the server's
//! listener: an action may report in a tight loop without slowing down.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Bits of no `f64` that `set` stores: the "not reported yet" marker.
const UNSET: u64 = u64::MAX;

type Listener = Box<dyn Fn(f64) + Send + Sync>;

/// An invocation's progress, between 0 and 1, shared by the action and the server.
///
/// ```
/// use labthings_core::Progress;
/// let progress = Progress::new();
/// assert_eq!(progress.get(), None);
/// progress.update(3, 4);
/// assert_eq!(progress.get(), Some(0.75));
/// progress.set(7.0); // clamped
/// assert_eq!(progress.get(), Some(1.0));
/// ```
#[derive(Clone, Default)]
pub struct Progress {
    shared: Arc<Shared>,
}

struct Shared {
    bits: AtomicU64,
    listener: OnceLock<Listener>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            bits: AtomicU64::new(UNSET),
            listener: OnceLock::new(),
        }
    }
}

impl Progress {
    /// Progress not reported yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Report the fraction done, clamped to 0–1 (NaN is ignored).
    pub fn set(&self, fraction: f64) {
        if fraction.is_nan() {
            return;
        }
        let fraction = fraction.clamp(0.0, 1.0);
        let previous = self.shared.bits.swap(fraction.to_bits(), Ordering::AcqRel);
        if previous != fraction.to_bits()
            && let Some(listener) = self.shared.listener.get()
        {
            listener(fraction);
        }
    }

    /// Report `done` steps out of `total` (nothing when `total` is 0).
    pub fn update(&self, done: u64, total: u64) {
        if total > 0 {
            self.set(done as f64 / total as f64);
        }
    }

    /// The last fraction reported, if any.
    pub fn get(&self) -> Option<f64> {
        match self.shared.bits.load(Ordering::Acquire) {
            UNSET => None,
            bits => Some(f64::from_bits(bits)),
        }
    }

    /// Call `listener` with every changed fraction (the server's push). Set once; later calls
    /// are ignored.
    #[doc(hidden)]
    pub fn on_change(&self, listener: impl Fn(f64) + Send + Sync + 'static) {
        let _ = self.shared.listener.set(Box::new(listener));
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Progress").field(&self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn the_listener_hears_each_change_once() {
        let progress = Progress::new();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        progress.on_change(move |f| sink.lock().unwrap().push(f));
        progress.set(0.5);
        progress.set(0.5);
        progress.update(1, 4);
        progress.set(f64::NAN);
        progress.set(-3.0);
        progress.update(1, 0);
        assert_eq!(*heard.lock().unwrap(), [0.5, 0.25, 0.0]);
        assert_eq!(progress.clone().get(), Some(0.0), "clones share the value");
    }
}
