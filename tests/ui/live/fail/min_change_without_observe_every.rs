use labthings_core::prelude::*;

#[thing]
struct Thermometer {}

#[thing]
impl Thermometer {
    /// The temperature.
    #[property(min_change = 0.1)]
    fn temperature(&self) -> f64 {
        21.0
    }
}

fn main() {}
