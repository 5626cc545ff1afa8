use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    /// The newest frame.
    #[property]
    fn latest_frame(&self) -> Result<Blob, std::io::Error> {
        Ok(Blob::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]))
    }
}

fn main() {}
