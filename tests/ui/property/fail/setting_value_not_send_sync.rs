use std::rc::Rc;

use labthings_core::prelude::*;

#[thing]
struct Lamp {
    /// The brightness, kept across restarts.
    #[setting]
    brightness: Setting<Rc<f64>>,
}

#[thing]
impl Lamp {}

fn main() {}
