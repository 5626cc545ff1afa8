//! The demo lab: mock instruments served on 127.0.0.1:5000.

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use labthings_examples::{Counter, MockCamera, MockStage};
use labthings_server::ThingServer;

/// Serve a counter, a mock stage and a mock camera over HTTP.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port; the real one is printed).
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Log at DEBUG level, and capture DEBUG records into invocation logs.
    #[arg(long)]
    debug: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let level = if args.debug { "debug" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .init();
    if args.debug {
        labthings_core::set_capture_level(labthings_core::LogLevel::Debug);
    }
    let server = ThingServer::new()
        .thing("counter", Counter::new())
        .thing("stage", MockStage::new())
        .thing("camera", MockCamera::default())
        .bind(SocketAddr::new(args.host, args.port))
        .start()
        .await;
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            eprintln!("demo-lab: {error}");
            return std::process::ExitCode::from(3);
        }
    };
    let addr = server.local_addr();
    println!("LabThings demo lab listening on http://{addr}");
    for name in ["counter", "stage", "camera"] {
        println!("  http://{addr}/{name}/");
    }
    println!("  http://{addr}/action_invocations");
    server.wait().await;
    std::process::ExitCode::SUCCESS
}
