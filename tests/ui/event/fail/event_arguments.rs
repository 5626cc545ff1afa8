use labthings_core::prelude::*;

#[thing]
struct Stage {
    #[event(title = "Arrived")]
    arrived: Event<[i64; 3]>,
}

#[thing]
impl Stage {}

fn main() {}
