use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn add<T>(&self, x: T) -> i64 {
        let _ = x;
        1
    }
}

fn main() {}
