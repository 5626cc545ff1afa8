use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn zero() -> i64 {
        0
    }
}

fn main() {}
