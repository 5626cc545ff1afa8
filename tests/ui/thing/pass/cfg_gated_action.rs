//! A `#[cfg]` on a method carries over to everything generated for it: a configured-out action
//! leaves no call behind, and is absent from the description.

use labthings_core::prelude::*;

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Only with real hardware.
    #[cfg(any())]
    #[action]
    fn home(&self, speed: f64) -> f64 {
        speed
    }

    /// Always there.
    #[action]
    fn stop(&self) {}

    /// Only with real hardware.
    #[cfg(any())]
    #[property]
    fn temperature(&self) -> f64 {
        21.0
    }
}

fn main() {
    let stage = Stage {};
    let metadata = stage.metadata();
    assert_eq!(metadata.actions.len(), 1);
    assert_eq!(metadata.actions[0].name, "stop");
    assert!(metadata.properties.is_empty());
}
