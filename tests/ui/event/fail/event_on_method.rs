use labthings_core::prelude::*;

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// The stage arrived.
    #[event]
    fn arrived(&self) -> [i64; 3] {
        [0; 3]
    }
}

fn main() {}
