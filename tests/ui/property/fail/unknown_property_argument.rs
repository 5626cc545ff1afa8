use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property(minimun = 0)]
    count: Property<i64>,
}

fn main() {}
