//! The memory the logs of *running* invocations may hold together.
//!
//! A server keeps invocation records within a memory budget by evicting the oldest finished
//! ones, but a running invocation can't be evicted, and each of up to hundreds of them may log
//! [`LOG_BYTES`](crate::LOG_BYTES). So a running log charges what it holds, each time it
//! grows, to a [`LogBudget`] shared by all: when what the server's other records hold plus the
//! running logs would pass the budget, the server is told (it evicts finished records first),
//! and when the running logs alone would pass it, the log that would grow recycles its own
//! oldest records instead (its newest stay). A finished log's bytes move to the other
//! records' count: from then on the server counts it with them and may evict it whole.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes shared by the logs of running invocations (see the module docs).
pub struct LogBudget {
    limit: usize,
    /// Σ bytes the attached logs hold.
    used: AtomicUsize,
    /// What the server's other records hold, as it last counted them.
    others: AtomicUsize,
    /// Told (outside any log's lock) that the records are over the budget: evict finished ones.
    on_pressure: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for LogBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBudget")
            .field("limit", &self.limit)
            .field("used", &self.used())
            .field("others", &self.others.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl LogBudget {
    /// Running logs may hold `limit` bytes together; `on_pressure` is called when they and
    /// the other records (see [`set_others`](Self::set_others)) would hold more.
    pub fn new(limit: usize, on_pressure: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            others: AtomicUsize::new(0),
            on_pressure: Box::new(on_pressure),
        }
    }

    /// The bytes the running logs hold now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Tell the budget what the server's other records hold (its eviction's count).
    pub fn set_others(&self, bytes: usize) {
        self.others.store(bytes, Ordering::Relaxed);
    }

    /// Take `bytes` if the running logs stay within the limit; else take nothing.
    pub(crate) fn try_take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Take `bytes` whatever the limit (a log's newest record is always kept).
    pub(crate) fn take(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A finished log's `bytes` stop being charged as running and count with the other
    /// records at once: until the server's next count they would otherwise be counted by
    /// neither, and running logs could grow into memory finished ones still hold.
    pub(crate) fn retire(&self, bytes: usize) {
        self.give_back(bytes);
        self.others.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn give_back(&self, bytes: usize) {
        // Never below zero, even if a caller gave back more than it took.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Call `on_pressure` if the records would now pass the budget.
    pub(crate) fn check_pressure(&self) {
        if self
            .used()
            .saturating_add(self.others.load(Ordering::Relaxed))
            > self.limit
        {
            (self.on_pressure)();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn takes_within_the_limit_and_reports_pressure_with_the_others() {
        let pressed = Arc::new(AtomicUsize::new(0));
        let counter = pressed.clone();
        let budget = LogBudget::new(100, move || {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        assert!(budget.try_take(60));
        assert!(!budget.try_take(41), "61 + 41 > 100");
        assert_eq!(budget.used(), 60);
        budget.check_pressure();
        assert_eq!(pressed.load(Ordering::Relaxed), 0);
        budget.set_others(50);
        budget.check_pressure();
        assert_eq!(pressed.load(Ordering::Relaxed), 1, "60 + 50 > 100");
        budget.give_back(1000);
        assert_eq!(budget.used(), 0);
    }
}
