//! The timer that removes finished invocations once their retention has passed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::runtime::store::InvocationStore;

/// Expire `store` every tenth of its retention (between 50 ms and 1 s) until `stopped` changes.
pub async fn expire_loop(store: Arc<InvocationStore>, mut stopped: watch::Receiver<bool>) {
    let period = (store.retention() / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = ticks.tick() => { store.expire(Instant::now()); }
            _ = stopped.changed() => break,
        }
    }
}
