//! Affordances without doc comments are titled with their names.
use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn increment(&self) -> i64 {
        1
    }

    #[property]
    fn double(&self) -> i64 {
        self.count.get() * 2
    }
}

fn main() {
    let counter = Counter { count: Property::new(0) };
    let metadata = counter.metadata();
    assert_eq!(metadata.actions[0].title, "increment");
    assert_eq!(metadata.actions[0].description, None);
    assert_eq!(metadata.properties[0].title, "count");
    assert_eq!(metadata.description, None);
}
