use labthings_core::prelude::*;
use std::sync::Mutex;

#[thing]
struct Sensor {
    offset: Mutex<f64>,
}

#[thing]
impl Sensor {
    /// The offset.
    #[property]
    fn offset(&self) -> f64 {
        *self.offset.lock().unwrap()
    }

    #[setter(name = offset)]
    fn set_offset(&self, value: f64) {
        *self.offset.lock().unwrap() = value;
    }
}

fn main() {}
