use labthings_core::prelude::*;

#[thing]
struct Counter {
    /// The count.
    #[property]
    count: Property<i64>,
}

impl Counter {
    /// Add `step`.
    #[action]
    fn increment(&self, #[param(minimum = 1)] step: i64) -> i64 {
        self.count.get() + step
    }

    /// Twice the count.
    #[property]
    fn double(&self) -> i64 {
        self.count.get() * 2
    }

    /// Move by `by` and `again`.
    #[action]
    fn shift(&self, #[param(maximum = 9)] by: i64, #[param(maximum = 9)] again: i64) -> i64 {
        by + again
    }
}

fn main() {}
