use labthings_core::prelude::*;

#[thing]
struct Door {
    /// The door closed.
    #[event(unit = "s")]
    closed: Event<()>,
}

#[thing]
impl Door {}

fn main() {}
