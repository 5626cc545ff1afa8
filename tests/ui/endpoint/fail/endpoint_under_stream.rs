use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Exposure in ms.
    #[property]
    exposure: Property<f64>,
    /// Live preview.
    #[stream]
    preview: MjpegStream,
}

#[thing]
impl Camera {
    /// Named like the stream, by default.
    #[endpoint(get)]
    fn preview(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {}
