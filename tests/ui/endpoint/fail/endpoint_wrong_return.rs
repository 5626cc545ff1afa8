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
    #[endpoint(get)]
    fn frames(&self) -> u64 {
        42
    }
}

fn main() {}
