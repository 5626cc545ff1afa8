use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    #[on_stop(timeout = 5)]
    fn park(&self) {}
}

fn main() {}
