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
    #[endpoint(get, path = "snapshot.jpg")]
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }

    #[endpoint(get, path = "snapshot.jpg")]
    fn thumbnail(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {}
