use labthings_core::prelude::*;

#[thing]
struct Stage {}

#[thing]
impl Stage {}

#[thing]
struct Camera {
    #[slot(optional)]
    stage: Slot<Stage>,
}

#[thing]
impl Camera {}

fn main() {}
