use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    #[on_start(retry)]
    fn warm_up(&self) {}
}

fn main() {}
