//! The demo lab plus the test fixtures, with the shared command line (`--help`).

fn main() -> std::process::ExitCode {
    labthings_server::cli::main_with(
        labthings_server::about!(),
        labthings_tests::registry(),
        Some(labthings_examples::DEMO_CONFIG),
    )
}
