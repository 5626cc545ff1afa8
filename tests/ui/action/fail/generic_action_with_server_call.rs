use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Add some.
    #[action]
    fn add<T: Into<i64>>(&self, amount: T) -> i64 {
        self.count.get() + amount.into()
    }
}

fn main() {
    let _ = labthings_server::ThingServer::new().thing(
        "counter",
        Counter {
            count: Property::new(0),
        },
    );
}
