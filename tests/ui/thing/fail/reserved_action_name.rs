use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    /// List the properties.
    #[action]
    fn properties(&self) -> Vec<String> {
        Vec::new()
    }
}

fn main() {}
