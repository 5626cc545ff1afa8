use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    /// Live preview.
    #[stream]
    fn preview(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {}
