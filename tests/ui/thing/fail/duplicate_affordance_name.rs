use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Read the count.
    #[action]
    fn count(&self) -> i64 {
        self.count.get()
    }
}

fn main() {}
