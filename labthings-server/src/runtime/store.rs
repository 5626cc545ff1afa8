//! Where invocation records live until they expire.
//!
//! Records are kept in request order (the order the list routes show). A finished record is
//! removed `retention` after it finished, by a timer rather than by the next request, and the
//! number of records is capped: at the cap the oldest finished record makes room, so a flood
//! of POSTs can't grow memory without bound. The records' memory budget covers the logs of
//! running invocations too: they charge a shared [`LogBudget`] as they grow, which wakes the
//! expiry timer to evict finished records when the budget is passed (see `log_budget.rs` in
//! the core).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use labthings_core::{Blob, InvocationId, LogBudget};
use tokio::sync::Notify;

use crate::runtime::invocation::Invocation;

/// The default memory budget of the kept records: 64 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct Records {
    by_id: HashMap<InvocationId, Arc<Invocation>>,
    order: VecDeque<InvocationId>,
}

pub struct InvocationStore {
    records: Mutex<Records>,
    retention: Duration,
    max_records: usize,
    /// Bytes the kept records may hold (see [`Invocation::retained_bytes`]); beyond it the
    /// oldest finished records are evicted.
    memory_budget: usize,
    /// Whether the last check found the records over budget (so eviction is announced once
    /// per episode, not on every tick).
    over_budget: AtomicBool,
    /// When the budget was last checked, in milliseconds since `created`.
    last_check_ms: AtomicU64,
    /// What the records held at the last check: far below the budget, inserts leave the
    /// checking to the timer (a check walks every record).
    last_use: AtomicUsize,
    created: Instant,
    /// What running invocations' logs are charged to: the memory budget.
    log_budget: Arc<LogBudget>,
    /// Notified when running logs push the records over the budget.
    pressure: Arc<Notify>,
    /// Bytes of records evicted or expired since [`take_freed`](Self::take_freed) last asked.
    freed: AtomicUsize,
}

/// How often an insert may check the budget (a check walks every record): often enough that
/// a burst of large invocations overshoots the budget by little, rarely enough to cost nothing
/// on the hot path of quick POSTs.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// What the records hold, as the last budget check counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    pub records: usize,
    pub bytes: usize,
    pub budget: usize,
}

/// Every record is still pending or running: nothing can make room.
#[derive(Debug)]
pub struct StoreFull;

impl InvocationStore {
    pub fn new(retention: Duration, max_records: usize, budget: usize) -> Self {
        let pressure = Arc::new(Notify::new());
        let notify = pressure.clone();
        let log_budget = Arc::new(LogBudget::new(budget, move || notify.notify_one()));
        Self {
            log_budget,
            pressure,
            records: Mutex::new(Records::default()),
            retention,
            max_records: max_records.max(1),
            memory_budget: budget,
            over_budget: AtomicBool::new(false),
            last_check_ms: AtomicU64::new(0),
            last_use: AtomicUsize::new(0),
            created: Instant::now(),
            freed: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // Each operation leaves the two indexes consistent before it can panic.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    pub fn insert(&self, invocation: Arc<Invocation>) -> Result<(), StoreFull> {
        let mut records = self.lock();
        if records.order.len() >= self.max_records {
            let oldest_finished = records
                .order
                .iter()
                .position(|id| {
                    records
                        .by_id
                        .get(id)
                        .is_none_or(|r| r.status().is_finished())
                })
                .ok_or(StoreFull)?;
            if let Some(id) = records.order.remove(oldest_finished) {
                records.by_id.remove(&id);
            }
        }
        invocation.log.attach_budget(self.log_budget.clone());
        records.order.push_back(invocation.id);
        records.by_id.insert(invocation.id, invocation);
        let now_ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last_ms = self.last_check_ms.load(Ordering::Relaxed);
        let near_budget = self.last_use.load(Ordering::Relaxed) > self.memory_budget / 2;
        if near_budget
            && now_ms.saturating_sub(last_ms) >= CHECK_EVERY.as_millis() as u64
            && self
                .last_check_ms
                .compare_exchange(last_ms, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.enforce_locked(&mut records);
        }
        Ok(())
    }

    /// Notified when running invocations' logs push the records over their budget: the expiry
    /// timer then enforces it at once.
    pub fn pressure(&self) -> &Notify {
        &self.pressure
    }

    pub fn get(&self, id: &InvocationId) -> Option<Arc<Invocation>> {
        self.lock().by_id.get(id).cloned()
    }

    /// Forget a record (an invocation that could not be queued).
    pub fn remove(&self, id: &InvocationId) {
        let mut records = self.lock();
        if records.by_id.remove(id).is_some() {
            records.order.retain(|other| other != id);
        }
    }

    /// The blob with this id, if a record keeps it. The store's lock is released before the
    /// blob is read: a download never holds up the action path.
    pub fn find_blob(&self, id: &uuid::Uuid) -> Option<Blob> {
        let records = self.lock();
        // Newest first: a fresh capture is the likeliest to be downloaded.
        records
            .order
            .iter()
            .rev()
            .filter_map(|record| records.by_id.get(record))
            .find_map(|record| record.state().blob(id).cloned())
    }

    /// Forget every record and let go of their blobs (shutdown): temporary blob files are
    /// deleted now, even if something still holds a record.
    pub fn clear(&self) {
        let records = std::mem::take(&mut *self.lock());
        for record in records.by_id.values() {
            drop(std::mem::take(&mut record.state().blobs));
        }
    }

    /// Records for which `keep` holds, oldest first.
    pub fn list(&self, keep: impl Fn(&Invocation) -> bool) -> Vec<Arc<Invocation>> {
        let records = self.lock();
        records
            .order
            .iter()
            .filter_map(|id| records.by_id.get(id))
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    /// Evict the oldest finished records until the records hold at most the memory budget
    /// (running and pending ones are never evicted); returns what they hold after.
    pub fn enforce_budget(&self) -> MemoryUse {
        self.enforce_locked(&mut self.lock())
    }

    fn enforce_locked(&self, records: &mut Records) -> MemoryUse {
        let Records { by_id, order } = records;
        let sizes: Vec<usize> = order
            .iter()
            .map(|id| by_id.get(id).map_or(0, |r| r.retained_bytes()))
            .collect();
        let mut bytes: usize = sizes.iter().sum();
        let over = bytes > self.memory_budget;
        if over && !self.over_budget.swap(true, Ordering::Relaxed) {
            tracing::info!(
                used_bytes = bytes,
                budget_bytes = self.memory_budget,
                records = order.len(),
                "invocation records over their memory budget: evicting the oldest finished"
            );
        } else if !over {
            self.over_budget.store(false, Ordering::Relaxed);
        }
        if over {
            // Down to a sixteenth below the budget: records that keep arriving then don't
            // make every insert and every log line evict one record at a time.
            let target = self.memory_budget - self.memory_budget / 16;
            let mut index = 0;
            order.retain(|id| {
                let size = sizes[index];
                index += 1;
                let evict =
                    bytes > target && by_id.get(id).is_none_or(|r| r.status().is_finished());
                if evict {
                    by_id.remove(id);
                    bytes -= size;
                    self.freed.fetch_add(size, Ordering::Relaxed);
                }
                !evict
            });
        }
        self.last_use.store(bytes, Ordering::Relaxed);
        // What running logs may grow into before finished records must make way.
        self.log_budget
            .set_others(bytes.saturating_sub(self.log_budget.used()));
        MemoryUse {
            records: order.len(),
            bytes,
            budget: self.memory_budget,
        }
    }

    /// The bytes of records evicted or expired since the last call.
    pub fn take_freed(&self) -> usize {
        self.freed.swap(0, Ordering::Relaxed)
    }

    /// The records' memory budget.
    pub fn memory_budget(&self) -> usize {
        self.memory_budget
    }

    /// Remove records that finished more than `retention` before `now`; returns how many.
    pub fn expire(&self, now: Instant) -> usize {
        let mut records = self.lock();
        let Records { by_id, order } = &mut *records;
        let before = order.len();
        order.retain(|id| {
            let expired = by_id.get(id).is_none_or(|record| {
                record
                    .state()
                    .finished_at
                    .is_some_and(|at| now.saturating_duration_since(at) >= self.retention)
            });
            if expired && let Some(record) = by_id.remove(id) {
                self.freed
                    .fetch_add(record.retained_bytes(), Ordering::Relaxed);
            }
            !expired
        });
        before - order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labthings_core::Outcome;

    fn record() -> Arc<Invocation> {
        Arc::new(Invocation::new(
            InvocationId::new(),
            "t".into(),
            "a",
            "/t/a".into(),
            serde_json::Value::Null,
        ))
    }

    #[test]
    fn caps_by_evicting_the_oldest_finished() {
        let store = InvocationStore::new(Duration::from_secs(300), 2, DEFAULT_MEMORY_BUDGET);
        let (running, done, third) = (record(), record(), record());
        store.insert(running.clone()).unwrap();
        store.insert(done.clone()).unwrap();
        assert!(store.insert(record()).is_err(), "nothing finished: no room");
        done.finish(Outcome::Completed(serde_json::json!(1)));
        store.insert(third.clone()).unwrap();
        assert!(store.get(&done.id).is_none());
        assert!(store.get(&running.id).is_some() && store.get(&third.id).is_some());
    }

    #[test]
    fn over_budget_the_oldest_finished_go_first_and_running_ones_stay() {
        let store = InvocationStore::new(Duration::from_secs(300), 100, 120 * 1024);
        let chatty = || {
            let record = record();
            for i in 0..200 {
                record.log.push(labthings_core::LogRecord::new(
                    labthings_core::LogLevel::Info,
                    format!("{i:>90}"),
                    "here.rs",
                    1,
                ));
            }
            record
        };
        let running = chatty();
        store.insert(running.clone()).unwrap();
        let finished: Vec<_> = (0..4).map(|_| chatty()).collect();
        for record in &finished {
            store.insert(record.clone()).unwrap();
            record.finish(Outcome::Completed(serde_json::json!("done")));
        }
        let before = store.enforce_budget();
        assert!(before.bytes <= 120 * 1024, "{before:?}");
        assert!(
            store.get(&running.id).is_some(),
            "running records are never evicted"
        );
        assert!(
            store.get(&finished[0].id).is_none(),
            "the oldest finished went first"
        );
        assert!(store.get(&finished[3].id).is_some(), "the newest stays");
        assert_eq!(before.records, store.list(|_| true).len());
    }

    #[test]
    fn blobs_go_with_their_record() {
        let store = InvocationStore::new(Duration::from_millis(10), 10, DEFAULT_MEMORY_BUDGET);
        let done = record();
        store.insert(done.clone()).unwrap();
        let blob = Blob::jpeg(vec![1, 2]);
        done.finish(Outcome::from_value(&blob));
        assert_eq!(store.find_blob(&blob.id()), Some(blob.clone()));
        assert!(store.find_blob(&uuid::Uuid::new_v4()).is_none());
        store.expire(Instant::now() + Duration::from_millis(20));
        assert!(store.find_blob(&blob.id()).is_none());

        let kept = record();
        store.insert(kept.clone()).unwrap();
        kept.finish(Outcome::from_value(&blob));
        store.clear();
        assert!(store.get(&kept.id).is_none());
        assert!(
            kept.state().blobs.is_empty(),
            "released even though `kept` is still held"
        );
    }

    #[test]
    fn expires_only_finished_records_past_retention() {
        let store = InvocationStore::new(Duration::from_millis(10), 10, DEFAULT_MEMORY_BUDGET);
        let (running, done) = (record(), record());
        store.insert(running.clone()).unwrap();
        store.insert(done.clone()).unwrap();
        done.finish(Outcome::Cancelled);
        assert_eq!(store.expire(Instant::now()), 0);
        assert_eq!(store.expire(Instant::now() + Duration::from_millis(20)), 1);
        assert_eq!(store.list(|_| true).len(), 1);
        assert!(store.get(&running.id).is_some());
    }
}
