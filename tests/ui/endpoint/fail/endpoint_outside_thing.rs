use labthings_core::prelude::*;

struct Camera;

impl Camera {
    #[endpoint(get)]
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {
    let _ = Camera.snapshot();
}
