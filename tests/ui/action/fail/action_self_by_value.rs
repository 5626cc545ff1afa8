use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    #[action]
    fn consume(self) -> i64 {
        self.count.get()
    }
}

fn main() {}
