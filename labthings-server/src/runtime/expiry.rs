//! The timer that removes finished invocations once their retention has passed, and keeps the
//! records within their memory budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::runtime::free_memory;
use crate::runtime::store::InvocationStore;

/// How often the memory the records hold is logged (at DEBUG, so `--debug` shows it).
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// After an enforcement that running logs asked for, the least time before the next: they may
/// press on every record they log.
const PRESSURE_PAUSE: Duration = Duration::from_millis(10);

/// Expire `store` and enforce its memory budget every tenth of its retention (between 50 ms
/// and 1 s), and at once when running invocations' logs pass it, until `stopped` changes.
pub async fn expire_loop(store: Arc<InvocationStore>, mut stopped: watch::Receiver<bool>) {
    let period = (store.retention() / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(period);
    let mut last_report: Option<Instant> = None;
    let mut trims = Trims::default();
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let now = Instant::now();
                store.expire(now);
                let memory = store.enforce_budget();
                if last_report.is_none_or(|at| now.duration_since(at) >= REPORT_EVERY) {
                    last_report = Some(now);
                    tracing::debug!(
                        records = memory.records,
                        used_bytes = memory.bytes,
                        budget_bytes = memory.budget,
                        "invocation records' memory"
                    );
                }
                trims.after_freeing(&store);
            }
            () = store.pressure().notified() => {
                store.enforce_budget();
                trims.after_freeing(&store);
                tokio::time::sleep(PRESSURE_PAUSE).await;
            }
            _ = stopped.changed() => break,
        }
    }
}

/// When to hand freed memory back to the operating system (see `free_memory.rs`): once
/// evictions and expiries have freed a sixteenth of the budget, at most once a
/// [`TRIM_PAUSE`](free_memory::TRIM_PAUSE).
#[derive(Default)]
struct Trims {
    freed: usize,
    last: Option<Instant>,
}

impl Trims {
    fn after_freeing(&mut self, store: &InvocationStore) {
        self.freed = self.freed.saturating_add(store.take_freed());
        let due = self
            .last
            .is_none_or(|at| at.elapsed() >= free_memory::TRIM_PAUSE);
        if due && self.freed >= store.memory_budget() / 16 {
            self.freed = 0;
            self.last = Some(Instant::now());
            // A walk of the heap: not on the runtime's threads.
            tokio::task::spawn_blocking(free_memory::return_to_os);
        }
    }
}
