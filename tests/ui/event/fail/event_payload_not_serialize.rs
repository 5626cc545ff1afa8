use labthings_core::prelude::*;

/// Where the stage is.
struct Position {
    x: i64,
}

#[thing]
struct Stage {
    /// The stage arrived.
    #[event]
    arrived: Event<Position>,
}

#[thing]
impl Stage {
    /// Go home.
    #[action]
    fn home(&self) {
        self.arrived.emit(Position { x: 0 });
    }
}

fn main() {
    let _ = Stage { arrived: Event::new() };
}
