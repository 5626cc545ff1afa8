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
    #[endpoint(put, path = "exposure")]
    fn set_exposure_raw(&self, request: EndpointRequest) -> StatusCode {
        let _ = request;
        StatusCode::NO_CONTENT
    }
}

fn main() {}
