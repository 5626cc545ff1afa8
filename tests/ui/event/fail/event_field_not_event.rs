use labthings_core::prelude::*;

#[thing]
struct Stage {
    /// The stage arrived.
    #[event]
    arrived: Property<[i64; 3]>,
}

#[thing]
impl Stage {}

fn main() {}
