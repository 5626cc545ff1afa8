use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use labthings_core::prelude::*;

/// A mock thermometer whose reading drifts around its set point by itself, with a little
/// noise: the demo's live reading (a getter the server polls while someone watches it).
#[thing]
pub struct MockThermometer {
    /// The temperature the mock bath settles around.
    #[setting(unit = "°C", minimum = -20, maximum = 100)]
    set_point: Setting<f64>,
    started: Instant,
    /// The state of the noise generator (xorshift: noise needs no crate).
    noise: AtomicU64,
}

impl MockThermometer {
    pub fn new() -> Self {
        Self {
            set_point: Setting::new(21.0),
            started: Instant::now(),
            noise: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// Uniform noise in [-0.5, 0.5).
    fn noise(&self) -> f64 {
        let mut x = self.noise.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.noise.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }

    /// The bath's temperature `t` seconds after a step from `from` to the set point.
    fn settle(from: f64, to: f64, t: f64) -> f64 {
        to + (from - to) * (-t / 30.0).exp()
    }
}

impl Default for MockThermometer {
    fn default() -> Self {
        Self::new()
    }
}

#[thing]
impl MockThermometer {
    /// The sample temperature: a slow swing of ±0.3 °C around the set point, with noise.
    ///
    /// Read from the (mock) instrument each time: the server polls it twice a second while
    /// someone observes it, and publishes only changes of 0.01 °C or more.
    #[property(observe_every = "500ms", min_change = 0.01, unit = "°C")]
    fn temperature(&self) -> f64 {
        let t = self.started.elapsed().as_secs_f64();
        let swing = 0.3 * (t / 20.0).sin();
        let reading = self.set_point.get() + swing + 0.06 * self.noise();
        (reading * 1000.0).round() / 1000.0
    }

    /// Simulate warming the bath from `from_celsius` to the set point: the temperature every
    /// `step_seconds` for `duration_seconds`, as `[seconds, °C]` pairs (a series the page
    /// plots).
    ///
    /// A computation from memory, with no instrument I/O: it runs inline, where it is
    /// invoked, and the POST answers the finished curve.
    #[action(inline)]
    fn warm_up_curve(
        &self,
        #[param(default = 4.0, unit = "°C")] from_celsius: f64,
        #[param(default = 120.0, unit = "s", exclusive_minimum = 0)] duration_seconds: f64,
        #[param(default = 2.0, unit = "s", minimum = 0.1)] step_seconds: f64,
    ) -> Vec<[f64; 2]> {
        let to = self.set_point.get();
        let steps = (duration_seconds / step_seconds).floor().min(10_000.0) as usize;
        (0..=steps)
            .map(|i| {
                let t = i as f64 * step_seconds;
                let celsius = Self::settle(from_celsius, to, t) + 0.02 * self.noise();
                [t, (celsius * 1000.0).round() / 1000.0]
            })
            .collect()
    }
}
