use labthings_core::prelude::*;

#[thing]
struct Sensor {
    #[property]
    offset: Property<f64>,
}

#[thing]
impl Sensor {
    #[property]
    fn t(&self, x: i32) -> f64 {
        f64::from(x) + self.offset.get()
    }
}

fn main() {}
