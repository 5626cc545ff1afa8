use labthings_core::prelude::*;

#[thing]
struct Stage {
    /// The stage went home.
    #[event]
    home: Event<()>,
}

#[thing]
impl Stage {
    /// Go home.
    #[action]
    fn home(&self) {
        self.home.emit(());
    }
}

fn main() {}
