//! Things that exist only to exercise the server's edges.

use std::time::Duration;

use labthings_core::prelude::*;

/// Test fixtures for the server's edge cases.
#[thing]
pub struct Lab {
    /// A label with a pattern.
    #[property(pattern = "^[a-z]+$", max_length = 8)]
    label: Property<String>,
}

impl Lab {
    pub fn new() -> Self {
        Self {
            label: Property::new("lab".into()),
        }
    }
}

#[thing]
impl Lab {
    /// Panic.
    #[action]
    fn boom(&self) -> i64 {
        panic!("the motor controller exploded")
    }

    /// Return zero, a falsy output.
    #[action]
    fn zero(&self) -> i64 {
        0
    }

    /// Return false.
    #[action]
    fn no(&self) -> bool {
        false
    }

    /// Wait without blocking a thread, cancellably.
    #[action]
    async fn wait_async(
        &self,
        seconds: f64,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<f64, Cancelled> {
        log.info("waiting");
        cancel.sleep_async(Duration::from_secs_f64(seconds)).await?;
        tracing::info!("done waiting");
        Ok(seconds)
    }

    /// Echo optional inputs.
    #[action]
    fn echo(&self, text: Option<String>, #[param(default = 2)] times: u32) -> String {
        text.unwrap_or_default().repeat(times as usize)
    }

    /// A getter that fails.
    #[property]
    fn broken(&self) -> Result<f64, String> {
        Err("sensor unplugged".into())
    }
}
