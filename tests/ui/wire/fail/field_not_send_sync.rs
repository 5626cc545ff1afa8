use labthings_core::prelude::*;

#[thing]
struct Camera {
    #[property]
    exposure: Property<f64>,
    handle: std::rc::Rc<u8>,
}

#[thing]
impl Camera {
    /// Take a picture.
    #[action]
    fn capture(&self) -> u8 {
        *self.handle
    }
}

fn main() {}
