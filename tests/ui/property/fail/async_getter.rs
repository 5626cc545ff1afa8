use labthings_core::prelude::*;

#[thing]
struct Sensor {
    #[property]
    offset: Property<f64>,
}

#[thing]
impl Sensor {
    #[property]
    async fn temperature(&self) -> f64 {
        21.5
    }
}

fn main() {}
