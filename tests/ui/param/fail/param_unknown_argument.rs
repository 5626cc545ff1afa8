use labthings_core::prelude::*;

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Move by some steps.
    #[action]
    fn step(&self, #[param(defualt = 1)] steps: i64) -> i64 {
        steps
    }
}

fn main() {}
