use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Echo the injected tag.
    #[action]
    fn tagged(&self, #[inject] tag: String) -> String {
        tag
    }
}

fn main() {}
