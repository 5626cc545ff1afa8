use labthings_core::prelude::*;

#[thing]
struct Greeter {
    #[property]
    greetings: Property<u64>,
}

#[thing]
impl Greeter {
    #[action]
    fn greet(&self, name: &str) -> String {
        format!("hello, {name}")
    }
}

fn main() {}
