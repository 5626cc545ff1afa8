use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[setting(readonly)]
    limit: Setting<i64>,
}

#[thing]
impl Counter {}

fn main() {}
