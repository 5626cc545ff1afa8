use labthings_core::prelude::*;

#[derive(Clone)]
enum Mode {
    Fast,
    Slow,
}

#[thing]
struct Stage {
    /// How the stage moves.
    #[property]
    mode: Property<Mode>,
}

#[thing]
impl Stage {}

fn main() {
    let _ = (Mode::Fast, Mode::Slow);
}
