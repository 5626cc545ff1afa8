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
    #[endpoint(post)]
    fn upload(&self, body: Vec<u8>) -> StatusCode {
        let _ = body;
        StatusCode::OK
    }
}

fn main() {}
