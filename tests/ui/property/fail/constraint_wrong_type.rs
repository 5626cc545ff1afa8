use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property(minimum = "zero")]
    count: Property<i64>,
}

fn main() {}
