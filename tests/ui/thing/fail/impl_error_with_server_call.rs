use labthings_core::prelude::*;

#[thing]
struct PeerCounter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl PeerCounter {
    /// Add one.
    #[action]
    fn increment(&mut self) -> i64 {
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
