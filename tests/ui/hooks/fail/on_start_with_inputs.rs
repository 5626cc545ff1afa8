use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    #[on_start]
    fn warm_up(&self, seconds: f64) -> u8 {
        seconds as u8
    }
}

fn main() {}
