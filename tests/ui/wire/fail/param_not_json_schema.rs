use labthings_core::prelude::*;

#[derive(serde::Deserialize)]
struct Target {
    x: f64,
}

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Move to a target.
    #[action]
    fn move_to(&self, target: Target) -> f64 {
        target.x
    }
}

fn main() {}
