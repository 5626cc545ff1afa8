use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Add one.
    #[action(inline)]
    async fn increment(&self) -> i64 {
        self.count.get() + 1
    }
}

fn main() {}
