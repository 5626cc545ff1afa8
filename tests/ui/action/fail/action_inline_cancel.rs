use labthings_core::prelude::*;

#[thing]
struct Counter {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Counter {
    /// Add one, unless cancelled.
    #[action(inline)]
    fn increment(&self, cancel: CancelHook) -> Result<i64, Cancelled> {
        cancel.raise_if_cancelled()?;
        Ok(self.count.get() + 1)
    }
}

fn main() {}
