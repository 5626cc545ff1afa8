use labthings_core::prelude::*;

#[thing(name = "counter")]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {}

fn main() {}
