//! `scpi-sim`: the simulated bench power supply, on TCP (and a pty with `--pty`), until
//! interrupted. Prints the VISA resource string of each, one a line, for `-j` or a driver.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// A simulated SCPI bench power supply (0–30 V, 0–5 A, 10 Ω load).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// TCP port (0: any free port; 5025 is the usual SCPI socket port).
    #[arg(long, default_value_t = 5025)]
    port: u16,
    /// Also serve on a pseudo-terminal (its `ASRL/dev/pts/N::INSTR` is printed).
    #[arg(long)]
    pty: bool,
    /// Wait this many milliseconds before each answer.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delay_ms: u64,
    /// Send answers without their line feed.
    #[arg(long)]
    drop_terminator: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let sim = scpi_sim::Simulator::new();
    sim.set_faults(scpi_sim::Faults {
        delay: Duration::from_millis(args.delay_ms),
        drop_terminator: args.drop_terminator,
    });
    let tcp = match sim.serve_tcp((args.host.as_str(), args.port)) {
        Ok(tcp) => tcp,
        Err(error) => {
            eprintln!(
                "scpi-sim: can't listen on {}:{}: {error}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    println!("{}", tcp.resource());
    let _pty = if args.pty {
        match sim.serve_pty() {
            Ok(pty) => {
                println!("{}", pty.resource());
                Some(pty)
            }
            Err(error) => {
                eprintln!("scpi-sim: can't open a pty: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    // Serve until interrupted: the listener threads do the work.
    loop {
        std::thread::park();
    }
}
