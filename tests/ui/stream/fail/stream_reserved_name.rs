use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Live preview.
    #[stream]
    ws: MjpegStream,
}

#[thing]
impl Camera {}

fn main() {}
