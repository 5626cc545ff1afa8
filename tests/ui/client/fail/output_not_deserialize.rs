//! An action whose output a client can't decode still builds (the server only sends it);
//! calling it on the typed client is the one error.

use labthings_core::prelude::*;

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Report {
    lines: u32,
}

#[thing]
pub struct Printer {}

#[thing]
impl Printer {
    /// Print a report.
    #[action]
    fn print(&self) -> Report {
        Report { lines: 3 }
    }
}

async fn remote(printer: &PrinterClient) {
    let _ = printer.print().await;
}

fn main() {
    let _ = remote;
}
