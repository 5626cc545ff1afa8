use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Live preview.
    #[stream]
    preview: Vec<u8>,
}

#[thing]
impl Camera {}

fn main() {}
