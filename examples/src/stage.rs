use std::time::Duration;

use labthings_core::prelude::*;

/// A mock three-axis translation stage. Moves take the time the speed implies and update the
/// position as they go; cancelling stops the stage where it is.
#[thing]
pub struct MockStage {
    /// Current position in steps (x, y, z).
    #[property(read_only)]
    position: Property<[i64; 3]>,
    /// Top speed in steps per second.
    #[setting(minimum = 1, maximum = 100_000)]
    speed: Setting<u32>,
    /// The stage arrived where a move was going.
    ///
    /// Sent with the position reached at the end of each completed `move_relative` or
    /// `move_absolute`; a cancelled move doesn't arrive.
    #[event]
    arrived: Event<[i64; 3]>,
}

impl MockStage {
    pub fn new() -> Self {
        Self {
            position: Property::new([0; 3]),
            speed: Setting::new(10_000),
            arrived: Event::new(),
        }
    }

    /// The current position (for other Things, through a slot).
    pub fn position(&self) -> [i64; 3] {
        self.position.get()
    }

    /// Move only z to `z` (for the camera's autofocus, through a slot).
    pub fn move_z_to(&self, z: i64, cancel: &CancelHook) -> Result<[i64; 3], Cancelled> {
        let [x, y, _] = self.position.get();
        self.travel([x, y, z], cancel, None)
    }

    /// Step towards `target` at the configured speed, in 10 ms ticks, reporting the share of
    /// the longest axis's distance covered so far. Every step is a write of `position`, so
    /// its observers watch the stage move.
    fn travel(
        &self,
        target: [i64; 3],
        cancel: &CancelHook,
        progress: Option<&Progress>,
    ) -> Result<[i64; 3], Cancelled> {
        const TICK: Duration = Duration::from_millis(10);
        let remaining = |here: [i64; 3]| {
            (0..3)
                .map(|i| target[i].abs_diff(here[i]))
                .max()
                .unwrap_or(0)
        };
        let total = remaining(self.position.get());
        loop {
            let here = self.position.get();
            if let Some(progress) = progress {
                match total {
                    0 => progress.set(1.0),
                    _ => progress.update(total - remaining(here).min(total), total),
                }
            }
            if here == target {
                return Ok(here);
            }
            cancel.sleep(TICK)?;
            let per_tick = (i64::from(self.speed.get()) / 100).max(1);
            let mut next = here;
            for (axis, goal) in next.iter_mut().zip(target) {
                *axis += (goal - *axis).clamp(-per_tick, per_tick);
            }
            // `position` declares no constraints: this write cannot be refused.
            let _ = self.position.set(next);
        }
    }
}

impl Default for MockStage {
    fn default() -> Self {
        Self::new()
    }
}

#[thing]
impl MockStage {
    /// Move by a displacement.
    ///
    /// The position updates as the stage moves; cancelling stops it where it is.
    #[action]
    fn move_relative(
        &self,
        /// Steps to move along x, y and z.
        displacement: [i64; 3],
        cancel: CancelHook,
        log: Logger,
        progress: Progress,
    ) -> Result<[i64; 3], Cancelled> {
        let start = self.position.get();
        let target = [0, 1, 2].map(|i| start[i].saturating_add(displacement[i]));
        log.info(format_args!("moving from {start:?} to {target:?}"));
        let arrived = self.travel(target, &cancel, Some(&progress));
        match &arrived {
            Ok(position) => {
                log.info(format_args!("arrived at {position:?}"));
                self.arrived.emit(*position);
            }
            Err(_) => log.warning(format_args!("stopped at {:?}", self.position.get())),
        }
        arrived
    }

    /// Make the current position the origin: the position reads (0, 0, 0) from here on.
    /// Returns where the stage was.
    ///
    /// This mock keeps its position in memory, so zeroing it is quick and never blocks: it
    /// runs inline, where it is invoked. A real controller's zero command is I/O over a serial
    /// line or a socket: leave `inline` off there, so the action pool runs it.
    #[action(inline)]
    fn set_origin(&self) -> [i64; 3] {
        let was = self.position.get();
        // `position` declares no constraints: this write cannot be refused.
        let _ = self.position.set([0; 3]);
        was
    }

    /// Connect to the (simulated) controller before serving.
    #[on_start]
    fn connect(&self) {
        tracing::info!(position = ?self.position.get(), "stage controller connected");
    }

    /// Leave the motors stopped when the server stops.
    #[on_stop]
    fn disconnect(&self) {
        tracing::info!(position = ?self.position.get(), "stage controller disconnected");
    }

    /// Move to an absolute position.
    #[action]
    fn move_absolute(
        &self,
        /// Target position in steps (x, y, z).
        position: [i64; 3],
        cancel: CancelHook,
        progress: Progress,
    ) -> Result<[i64; 3], Cancelled> {
        let arrived = self.travel(position, &cancel, Some(&progress))?;
        self.arrived.emit(arrived);
        Ok(arrived)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use labthings_core::{InvocationContext, InvocationId, PropertyObserver, Thing};
    use serde_json::{Value, json};

    use super::*;

    #[derive(Default)]
    struct Arrivals(Mutex<Vec<Value>>);

    impl PropertyObserver for Arrivals {
        fn property_changed(&self, _: &str, _: &str, _: &Value) {}
        fn event_emitted(&self, _: &str, event: &str, data: &Value) {
            assert_eq!(event, "arrived");
            self.0.lock().unwrap().push(data.clone());
        }
    }

    #[test]
    fn a_completed_move_announces_where_it_arrived() {
        let stage = Arc::new(MockStage::new());
        let arrivals = Arc::new(Arrivals::default());
        stage.attach("stage", arrivals.clone());
        let ctx = InvocationContext::new(InvocationId::new());
        let call = stage
            .clone()
            .prepare_action("move_absolute", Some(json!({"position": [3, -2, 1]})))
            .unwrap();
        call.body.run_blocking(&ctx).ok().unwrap();
        assert_eq!(ctx.progress().get(), Some(1.0));
        assert_eq!(*arrivals.0.lock().unwrap(), [json!([3, -2, 1])]);
    }
}
