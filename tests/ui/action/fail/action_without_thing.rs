use labthings_core::prelude::*;

struct Counter;

impl Counter {
    #[action]
    fn increment(&self) -> i64 {
        1
    }
}

fn main() {}
