//! One polled getter: called every interval while observed, on the blocking pool, never
//! overlapping itself.
//!
//! The first observer starts an observation period, and the getter is called at once. The
//! period ends [`GRACE`] after the last observer goes, so a page reload or an
//! SSE reconnect doesn't stop and restart the instrument's polling; the hub then forgets the
//! last reading, so the next period's observers hear the value even if unchanged. A getter that fails or
//! panics keeps the last value published, is logged at most once per [`LOG_EVERY`], and is
//! called less often (doubling the interval up to [`LONGEST_BACKOFF`]) until it works again.

use std::sync::Arc;
use std::time::Duration;

use labthings_core::Thing;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::push::hub::ThingHub;
use crate::push::observed::Observed;
use crate::push::stopping;

/// How long polling goes on after the last observer leaves.
pub const GRACE: Duration = Duration::from_secs(2);

/// The longest wait between calls of a getter that keeps failing.
pub const LONGEST_BACKOFF: Duration = Duration::from_secs(30);

/// At most one log line per this long for a getter that keeps failing.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// A getter to poll, and where its readings go.
pub struct Poller {
    pub thing: Arc<dyn Thing>,
    pub hub: Arc<ThingHub>,
    pub property: &'static str,
    pub every: Duration,
}

/// How the getter has been failing.
#[derive(Default)]
struct Failing {
    /// Failures in a row.
    count: u32,
    /// When the last failure was logged.
    logged: Option<Instant>,
    /// Failures since then that weren't logged.
    unlogged: u64,
}

impl Poller {
    /// Poll during every observation period until the server stops.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) {
        let mut observed = self.hub.observed();
        let mut failing = Failing::default();
        loop {
            let name = self.property;
            tokio::select! {
                watched = observed.wait_for(|o| o.observes(name)) => {
                    if watched.is_err() {
                        return;
                    }
                }
                () = stopping(&mut stopped) => return,
            }
            let went_on = self
                .observation_period(&mut observed, &mut stopped, &mut failing)
                .await;
            // Unobserved, the reading goes stale: the next period's first reading is
            // published even if equal, so its observers hear the value.
            self.hub.forget_reading(self.property);
            if !went_on {
                return;
            }
        }
    }

    /// Poll until [`GRACE`] after the last observer left (true), or the server stops (false).
    async fn observation_period(
        &self,
        observed: &mut watch::Receiver<Observed>,
        stopped: &mut watch::Receiver<bool>,
        failing: &mut Failing,
    ) -> bool {
        let mut next_call = Instant::now();
        let mut unobserved_since: Option<Instant> = None;
        loop {
            let wake = match unobserved_since {
                Some(since) => next_call.min(since + GRACE),
                None => next_call,
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                changed = observed.changed() => {
                    if changed.is_err() {
                        return false;
                    }
                }
                () = stopping(stopped) => return false,
            }
            let now = Instant::now();
            if observed.borrow_and_update().observes(self.property) {
                unobserved_since = None;
            } else {
                let since = *unobserved_since.get_or_insert(now);
                if now >= since + GRACE {
                    return true;
                }
            }
            if now < next_call {
                continue;
            }
            // The next tick counts from the end of this call: a slow getter is never called
            // again before it returned (and ticks it overran are skipped, not bunched).
            let wait = if self.read().await {
                failing.count = 0;
                self.every
            } else {
                self.failed(failing)
            };
            next_call = Instant::now() + wait;
        }
    }

    /// Call the getter once and hand the reading to the hub; false if it failed.
    async fn read(&self) -> bool {
        let thing = self.thing.clone();
        let property = self.property;
        // Reads take no global lock (as `GET` doesn't); a panic is a failure like any other,
        // logged with the rest at the rate `failed` allows.
        match tokio::task::spawn_blocking(move || thing.read_property(property)).await {
            Ok(Ok(value)) => {
                self.hub.publish_reading(property, &value);
                true
            }
            Ok(Err(error)) => {
                tracing::debug!(property, %error, "a polled getter failed");
                false
            }
            Err(error) => {
                tracing::debug!(property, %error, "a polled getter panicked");
                false
            }
        }
    }

    /// Note a failure (logging at most once per [`LOG_EVERY`]); how long to wait before the
    /// next call.
    fn failed(&self, failing: &mut Failing) -> Duration {
        failing.count = failing.count.saturating_add(1);
        let now = Instant::now();
        if failing
            .logged
            .is_none_or(|logged| now.duration_since(logged) >= LOG_EVERY)
        {
            tracing::warn!(
                property = self.property,
                failures_in_a_row = failing.count,
                not_logged_since_last = failing.unlogged,
                "a polled getter failed: keeping its last value, and calling it less often"
            );
            failing.logged = Some(now);
            failing.unlogged = 0;
        } else {
            failing.unlogged += 1;
        }
        let factor = 2_u32.saturating_pow(failing.count.min(16));
        self.every
            .saturating_mul(factor)
            .min(LONGEST_BACKOFF.max(self.every))
    }
}
