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
    #[endpoint(get, path = "ws/raw")]
    fn raw_socket(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {}
