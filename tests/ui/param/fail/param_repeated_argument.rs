use labthings_core::prelude::*;

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Move by some steps.
    #[action]
    fn step(&self, #[param(default = 1, default = 2)] steps: i64) -> i64 {
        steps
    }
}

fn main() {}
