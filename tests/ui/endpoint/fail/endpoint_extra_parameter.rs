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
    fn upload(&self, request: EndpointRequest, quality: u8) -> StatusCode {
        let _ = (request, quality);
        StatusCode::OK
    }
}

fn main() {}
