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
    #[property]
    fn position(&self) -> Result<Position, std::io::Error> {
        Ok(Position { x: 0.0 })
    }
}

fn main() {}
