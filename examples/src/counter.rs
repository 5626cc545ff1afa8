use std::time::{Duration, Instant};

use labthings_core::prelude::*;

/// A counter Thing: the demo's simplest instrument, and the wire-compatibility peer of the
/// reference's `PeerCounter`.
#[thing]
pub struct Counter {
    /// The current count (read/write).
    #[property]
    count: Property<i64>,
    /// A read-only serial number (read-only data property).
    #[property(read_only)]
    serial: Property<String>,
    /// A constrained integer (0 <= limit <= 1000).
    #[property(minimum = 0, maximum = 1000)]
    limit: Property<i64>,
    /// A float setting, persisted to the settings folder.
    #[setting]
    gain: Setting<f64>,
    started: Instant,
}

impl Counter {
    pub fn new() -> Self {
        Self {
            count: Property::new(0),
            serial: Property::new("LTRS-0001".to_owned()),
            limit: Property::new(100),
            gain: Setting::new(1.0),
            started: Instant::now(),
        }
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// The error `fail` always returns.
#[derive(Debug, thiserror::Error)]
#[error("deliberate failure from fail()")]
pub struct RuntimeError;

#[thing]
impl Counter {
    /// Add one to `count` and return the new value.
    #[action]
    fn increment(&self) -> i64 {
        let mut new = 0;
        // `count` declares no constraints, so the update cannot be refused.
        let _ = self.count.update(|count| {
            *count += 1;
            new = *count;
        });
        new
    }

    /// Sleep for `duration` seconds in `step`-second chunks.
    ///
    /// Each step is logged to the invocation log. The sleep is cancellable (DELETE on the
    /// invocation), in which case the invocation ends with status `cancelled`.
    #[action]
    fn slow(
        &self,
        /// Total time to sleep, in seconds.
        #[param(default = 5.0, minimum = 0)]
        duration: f64,
        /// Length of each step, in seconds.
        #[param(default = 0.5, exclusive_minimum = 0)]
        step: f64,
        id: InvocationId,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<u64, Cancelled> {
        let step = step.max(0.001);
        let steps = ((duration / step).round() as u64).max(1);
        log.info(format_args!(
            "slow: starting {steps} steps of {step}s (id {id})"
        ));
        for i in 1..=steps {
            cancel.sleep(Duration::from_secs_f64(step))?;
            log.info(format_args!("slow: step {i}/{steps} done"));
        }
        Ok(steps)
    }

    /// Always fail.
    ///
    /// The invocation ends with status `error`, carrying the message.
    #[action]
    fn fail(&self) -> Result<(), RuntimeError> {
        Err(RuntimeError)
    }

    /// Seconds since the Thing was created (read-only functional property).
    #[property]
    fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
