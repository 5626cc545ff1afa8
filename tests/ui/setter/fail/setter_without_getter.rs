use labthings_core::prelude::*;

#[thing]
struct Sensor {
    #[property]
    offset: Property<f64>,
}

#[thing]
impl Sensor {
    #[setter(missing)]
    fn set_missing(&self, value: f64) {
        let _ = value;
    }
}

fn main() {}
