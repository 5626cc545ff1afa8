use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property(minimum = 0, minimum = 5)]
    count: Property<i64>,
}

#[thing]
impl Counter {}

fn main() {}
