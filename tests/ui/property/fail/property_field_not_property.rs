use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: i64,
}

fn main() {}
