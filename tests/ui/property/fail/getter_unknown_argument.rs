use labthings_core::prelude::*;

#[thing]
struct Sensor {}

#[thing]
impl Sensor {
    /// The temperature.
    #[property(maximun = 100)]
    fn temperature(&self) -> f64 {
        21.0
    }
}

fn main() {}
