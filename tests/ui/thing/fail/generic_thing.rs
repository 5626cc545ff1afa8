use labthings_core::prelude::*;

#[thing]
struct Counter<T> {
    #[property]
    count: Property<i64>,
    tag: T,
}

#[thing]
impl<T: Send + Sync + 'static> Counter<T> {
    /// Add one.
    #[action]
    fn increment(&self) -> i64 {
        self.count.get() + 1
    }
}

fn main() {}
