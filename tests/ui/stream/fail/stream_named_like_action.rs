use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Live preview.
    #[stream]
    preview: MjpegStream,
}

#[thing]
impl Camera {
    /// Start previewing.
    #[action]
    fn preview(&self) {}
}

fn main() {}
