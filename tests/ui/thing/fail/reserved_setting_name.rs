use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Which user interface to show.
    #[setting]
    ui: Setting<String>,
}

#[thing]
impl Camera {}

fn main() {}
