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
    #[action]
    fn capture(&self) -> u32 {
        1
    }

    #[endpoint(get, path = "capture/latest")]
    fn latest(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {}
