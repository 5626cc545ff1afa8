use labthings_core::prelude::*;
use std::sync::Mutex;

#[derive(Clone, serde::Serialize, schemars::JsonSchema)]
struct Position {
    x: f64,
}

#[thing]
struct Stage {
    at: Mutex<f64>,
}

#[thing]
impl Stage {
    /// Where the stage is.
    #[property]
    fn position(&self) -> Position {
        Position { x: *self.at.lock().unwrap() }
    }

    #[setter(position)]
    fn set_position(&self, value: Position) {
        *self.at.lock().unwrap() = value.x;
    }
}

fn main() {}
