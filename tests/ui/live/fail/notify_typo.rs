use labthings_core::prelude::*;

#[thing]
struct Thermometer {}

#[thing]
impl Thermometer {
    /// The temperature.
    #[property(observe_every = "500ms")]
    fn temperature(&self) -> f64 {
        21.0
    }

    /// Heat up, and say the temperature changed.
    #[action]
    fn heat(&self) {
        self.notify_temprature();
    }
}

fn main() {}
