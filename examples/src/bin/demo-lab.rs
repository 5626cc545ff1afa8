//! The demo lab: a counter, a mock stage and a mock camera (whose autofocus drives the stage
//! through a slot), served on 127.0.0.1:5000 with the built-in config unless `-c`/`-j` says
//! otherwise. `--help` lists the options.

use std::process::ExitCode;

fn main() -> ExitCode {
    labthings_server::cli::main_with(
        labthings_server::about!(),
        labthings_examples::registry(),
        Some(labthings_examples::DEMO_CONFIG),
    )
}
