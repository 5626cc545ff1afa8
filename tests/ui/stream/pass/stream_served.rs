use labthings_core::prelude::*;

/// A camera.
#[thing]
struct Camera {
    /// Live preview.
    ///
    /// What the sensor sees.
    #[stream]
    preview: MjpegStream,
    /// Exposure in ms.
    #[setting]
    exposure_ms: Setting<f64>,
}

#[thing]
impl Camera {
    /// The newest preview frame, if any.
    #[action]
    fn snapshot(&self) -> Option<Blob> {
        self.preview.grab_frame().map(Blob::jpeg)
    }
}

fn main() {
    let camera = Camera {
        preview: MjpegStream::new(),
        exposure_ms: Setting::new(10.0),
    };
    let stream = &camera.metadata().streams[0];
    assert_eq!((stream.name, stream.title.as_str()), ("preview", "Live preview."));
    assert_eq!(stream.description.as_deref(), Some("Live preview.\n\nWhat the sensor sees."));
    assert!(camera.mjpeg_stream("preview").is_some());
    assert!(camera.mjpeg_stream("exposure_ms").is_none());
    camera.preview.add_frame([0xFF, 0xD8, 0xFF, 0xD9]).unwrap();
    assert_eq!(camera.mjpeg_stream("preview").unwrap().grab_frame().unwrap().len(), 4);
}
