//! The timer that removes finished invocations once their retention has passed, and keeps the
//! records within their memory budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

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
            }
            () = store.pressure().notified() => {
                store.enforce_budget();
                tokio::time::sleep(PRESSURE_PAUSE).await;
            }
            _ = stopped.changed() => break,
        }
    }
}
