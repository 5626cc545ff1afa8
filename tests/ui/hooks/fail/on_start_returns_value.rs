use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    #[on_start]
    fn warm_up(&self) -> u8 {
        0
    }
}

fn main() {}
