//! A struct marked `#[thing]` without a `#[thing]` impl block builds, client and all;
//! connecting its client is the one error, and it says what is missing.

use labthings_core::prelude::*;

#[thing]
pub struct Counter {
    /// The count.
    #[property]
    count: Property<i64>,
}

async fn remote() {
    let _ = CounterClient::connect("http://127.0.0.1:5000/counter/").await;
}

fn main() {
    let _ = remote;
}
