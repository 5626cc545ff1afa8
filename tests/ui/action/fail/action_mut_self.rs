use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn increment(&mut self) -> i64 {
        1
    }
}

fn main() {}
