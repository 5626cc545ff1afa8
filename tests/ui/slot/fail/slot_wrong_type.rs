use labthings_core::prelude::*;

#[thing]
struct Camera {
    #[slot]
    stage: std::sync::Arc<u8>,
}

fn main() {}
