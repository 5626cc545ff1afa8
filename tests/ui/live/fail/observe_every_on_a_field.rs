use labthings_core::prelude::*;

#[thing]
struct Thermometer {
    /// The set point: a data property, observable already.
    #[property(observe_every = "1s")]
    set_point: Property<f64>,
}

#[thing]
impl Thermometer {}

fn main() {}
