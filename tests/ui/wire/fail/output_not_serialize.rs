use labthings_core::prelude::*;

#[derive(schemars::JsonSchema)]
struct Position {
    x: f64,
}

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Where the stage is.
    #[action]
    fn locate(&self) -> Position {
        Position { x: 0.0 }
    }
}

fn main() {}
