use labthings_core::prelude::*;

struct Stage;

impl Stage {
    #[event]
    fn arrived(&self) {}
}

fn main() {}
