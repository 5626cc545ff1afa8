use labthings_core::prelude::*;

struct Counter {
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Add one.
    #[action]
    fn increment(&self) -> i64 {
        self.count.get() + 1
    }
}

fn main() {}
