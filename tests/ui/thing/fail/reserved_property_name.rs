use labthings_core::prelude::*;

#[thing]
struct Camera {
    /// Socket count.
    #[property]
    ws: Property<u32>,
}

#[thing]
impl Camera {}

fn main() {}
