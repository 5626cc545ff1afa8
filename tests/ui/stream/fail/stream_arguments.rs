use labthings_core::prelude::*;

#[thing]
struct Camera {
    #[stream(fps = 30)]
    preview: MjpegStream,
}

#[thing]
impl Camera {}

fn main() {}
