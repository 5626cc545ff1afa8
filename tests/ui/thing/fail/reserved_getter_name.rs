use labthings_core::prelude::*;

#[thing]
struct Camera {}

#[thing]
impl Camera {
    /// Which user interface is shown.
    #[property]
    fn ui(&self) -> String {
        "default".into()
    }
}

fn main() {}
