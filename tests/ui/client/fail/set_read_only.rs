//! A read-only property has no setter on the typed client: writing it doesn't compile.

use labthings_core::prelude::*;

#[thing]
pub struct Counter {
    /// The serial number.
    #[property(read_only)]
    serial: Property<String>,
}

#[thing]
impl Counter {}

async fn rename(counter: &CounterClient) {
    counter.set_serial(&"LTRS-0002".to_owned()).await.unwrap();
}

fn main() {
    let _ = rename;
}
