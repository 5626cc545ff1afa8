use labthings_core::prelude::*;

#[thing]
struct PeerCounter {
    #[property(minimun = 0)]
    count: Property<i64>,
}

#[thing]
impl PeerCounter {
    /// The count plus one.
    #[property]
    fn next(&self) -> i64 {
        self.count.get() + 1
    }

    /// Add one.
    #[action]
    fn increment(&self) -> i64 {
        self.count.get() + 1
    }
}

fn main() {
    let _ = labthings_server::ThingServer::new().thing(
        "counter",
        PeerCounter {
            count: Property::new(0),
        },
    );
}
