use labthings_core::prelude::*;

#[thing]
struct Pump {
    #[property]
    volume: Property<f64>,
}

#[thing]
impl Pump {
    /// Dispense some liquid, asynchronously.
    #[action]
    async fn dispense(
        &self,
        /// Volume in microlitres.
        #[param(minimum = 0)]
        amount: f64,
        cancel: CancelHook,
        log: Logger,
    ) -> Result<f64, Cancelled> {
        cancel.raise_if_cancelled()?;
        log.info(format_args!("dispensing {amount}"));
        let total = self.volume.get() + amount;
        self.volume.set(total).expect("volume has no constraints");
        Ok(total)
    }
}

fn main() {
    let pump = Pump {
        volume: Property::new(0.0),
    };
    let meta = pump.metadata();
    let action = meta.action("dispense").unwrap();
    assert!(action.is_async);
    assert!(action.takes_input);
}
