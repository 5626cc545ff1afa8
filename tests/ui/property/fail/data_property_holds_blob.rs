use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// The newest frame.
    #[property(read_only)]
    latest_frame: Property<Blob>,
}

#[thing]
impl Camera {}

fn main() {}
