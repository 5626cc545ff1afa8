use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn add_pair(&self, (a, b): (i32, i32)) -> i32 {
        a + b
    }
}

fn main() {}
