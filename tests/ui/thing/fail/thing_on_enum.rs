use labthings_core::prelude::*;

#[thing]
enum Mode {
    Fast,
    Slow,
}

fn main() {}
