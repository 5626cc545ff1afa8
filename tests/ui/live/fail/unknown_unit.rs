use labthings_core::prelude::*;

#[thing]
struct Thermometer {}

#[thing]
impl Thermometer {
    /// The temperature.
    #[property(unit = "degC")]
    fn temperature(&self) -> f64 {
        21.0
    }
}

fn main() {}
