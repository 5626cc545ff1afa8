use labthings_core::prelude::*;

#[thing]
struct Stage {
    /// The stage moved this far.
    #[event(unit = "furlong")]
    moved: Event<f64>,
}

#[thing]
impl Stage {}

fn main() {}
