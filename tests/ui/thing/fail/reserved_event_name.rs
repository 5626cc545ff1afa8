use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Something happened.
    #[event]
    events: Event<()>,
}

#[thing]
impl Camera {}

fn main() {}
