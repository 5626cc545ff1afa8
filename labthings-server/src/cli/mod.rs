//! The command line every LabThings server binary shares: `-c FILE` / `-j JSON`, `--host`,
//! `--port`, `--debug`, `--fallback`, `--tokens-file`, `--cors-origin`, `--allowed-host`, `--mdns`,
//! `--mqtt URL`,
//! `--tls-cert`/`--tls-key` (feature `tls`), `--print-openapi` / `--print-td NAME` (for API
//! snapshot diffs in CI), and the `gen-token` subcommand. One call gives a binary all of it:
//!
//! ```no_run
//! # use labthings_server::{cli, config::{NoConfig, ThingRegistry}};
//! # #[labthings_core::thing] struct Counter {}
//! # #[labthings_core::thing] impl Counter {}
//! fn main() -> std::process::ExitCode {
//!     let registry = ThingRegistry::new().register("Counter", |_: NoConfig, _| Counter {});
//!     // `--help` and `--version` name this binary's package, version and description.
//!     cli::main_with(labthings_server::about!(), registry, None)
//! }
//! ```
//!
//! A binary with flags of its own (a serial port, say) flattens [`Cli`] into its own clap
//! parser and hands it to [`serve`], which does everything [`main`] does after parsing: the
//! `gen-token` subcommand, the logging set-up, the runtime, serving. The guide's "Serving and
//! configuring" chapter shows it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use labthings_core::LogLevel;

pub mod config;
mod fallback;
mod registry;
mod tls;
mod tokens;

use crate::app::running::listen_for_shutdown;
use crate::cli::config::{ServerConfig, ThingRegistry};
use crate::history::HistoryLocation;
use crate::mqtt::config::MqttConfig;
use labthings_protocol::paths::{Origin, Scheme};

/// Exit code for a config or start-up error.
pub const CONFIG_ERROR: u8 = 3;

/// Serve LabThings Things over HTTP.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// Server config file (JSON).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Server config as a JSON string.
    #[arg(short = 'j', long = "json", value_name = "JSON")]
    pub json: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0: any free port; the real address is printed).
    #[arg(long, default_value_t = 5000)]
    pub port: u16,
    /// Log at DEBUG level, and capture DEBUG records into invocation logs.
    #[arg(long)]
    pub debug: bool,
    /// If start-up fails, serve a page describing the error instead of exiting.
    #[arg(long)]
    pub fallback: bool,
    /// Where settings are saved (overrides the config's `settings_folder`).
    #[arg(long, value_name = "DIR")]
    pub settings_folder: Option<PathBuf>,
    /// Where the durable history is kept: a SQLite file, `off`, or a PostgreSQL database
    /// `postgres://user@host:port/db` (feature `postgres`; spools to `history.sqlite3` while it
    /// is unreachable) (overrides the config's `history`). Default: `history.sqlite3` in the
    /// settings folder, else in the working directory.
    #[arg(long, value_name = "PATH|off|postgres://…")]
    pub history: Option<String>,
    /// Threads available to blocking actions (default 256).
    #[arg(long, value_name = "N")]
    pub action_threads: Option<usize>,
    /// Memory the kept invocation records (running invocations' logs included) may hold, e.g.
    /// `64MiB` (default; overrides the config's `invocation_memory`); beyond it the oldest
    /// finished are evicted, then running logs drop their oldest records.
    #[arg(long, value_name = "SIZE", value_parser = config::parse_bytes)]
    pub invocation_memory: Option<usize>,
    /// Require a bearer token from this file (one token or `sha256:<hex>` a line; reloaded on
    /// SIGHUP). Also the config's `auth.tokens_file`, or `LABTHINGS_TOKENS_FILE`;
    /// `LABTHINGS_TOKEN` adds one token.
    #[arg(long, value_name = "FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Let pages from this origin call the API (repeatable; e.g. `http://localhost:3000`).
    /// Without it: any origin, or, with tokens, none.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Also answer requests for this host name while no tokens are configured (repeatable;
    /// also the config's `allowed_hosts`; `*`: any). Without it only IP addresses,
    /// `localhost` and this machine's name are answered, against DNS rebinding.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Advertise every Thing on the local network by mDNS (`_wot._tcp`).
    #[arg(long)]
    pub mdns: bool,
    /// Print the OpenAPI 3.1 document (as served at `--host`/`--port`) and exit without
    /// serving: for snapshot diffs of the API in CI.
    #[arg(long, conflicts_with = "print_td")]
    pub print_openapi: bool,
    /// Print the Thing Description of the Thing served as NAME (as served at
    /// `--host`/`--port`) and exit without serving; an unknown NAME exits with code 2.
    #[arg(long, value_name = "NAME")]
    pub print_td: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM), with --tls-key (also the config's
    /// `tls.cert`). Needs a binary built with the `tls` feature of labthings-server.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM; also the config's `tls.key`).
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Also serve every Thing through this MQTT broker, e.g. `mqtt://127.0.0.1:1883` (the W3C
    /// WoT MQTT binding; `mqtts://` with the `tls` feature; overrides the config's `mqtt.url`,
    /// whose other keys still apply).
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// A subcommand instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands: anything but serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a new random token (32 bytes from the OS RNG, URL-safe base64) for a tokens file.
    GenToken,
}

/// What a binary says about itself in `--help` and `--version`. [`about!`](crate::about)
/// fills it from the calling crate's `Cargo.toml`.
#[derive(Clone, Copy, Debug)]
pub struct About {
    /// The command's name (`--version` prints it before the version).
    pub name: &'static str,
    /// The version `--version` prints.
    pub version: &'static str,
    /// The text at the top of `--help`.
    pub about: &'static str,
}

/// The [`About`](crate::cli::About) of the crate this is written in: its package name, version
/// and description, as `Cargo.toml` gives them.
#[macro_export]
macro_rules! about {
    () => {
        $crate::cli::About {
            name: ::core::env!("CARGO_PKG_NAME"),
            version: ::core::env!("CARGO_PKG_VERSION"),
            about: ::core::env!("CARGO_PKG_DESCRIPTION"),
        }
    };
}

impl Cli {
    /// Parse the process's arguments, with `about`'s name, version and text in `--help` and
    /// `--version` (clap's own errors and `--help` exit the process, as `Cli::parse` does).
    pub fn parse_as(about: About) -> Self {
        use clap::FromArgMatches;
        let matches = Self::command_as(about).get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
    }

    /// The clap command of [`Cli`], named and described by `about`.
    fn command_as(about: About) -> clap::Command {
        use clap::CommandFactory;
        Self::command()
            .name(about.name)
            .version(about.version)
            .about(about.about)
    }
}

/// Parse the command line, serve until SIGINT/SIGTERM, and return the exit code: 0 after a
/// clean shutdown, 3 for a config or start-up error. `default_config` (JSON) is used when
/// neither `-c` nor `-j` is given.
///
/// `--help` and `--version` describe `labthings-server` itself; [`main_with`] with
/// [`about!()`](crate::about) describes your binary instead.
pub fn main(registry: ThingRegistry, default_config: Option<&str>) -> ExitCode {
    serve(Cli::parse(), registry, default_config)
}

/// [`main`], with the binary's own name, version and about text in `--help` and `--version`:
/// `cli::main_with(labthings_server::about!(), registry, None)`.
pub fn main_with(about: About, registry: ThingRegistry, default_config: Option<&str>) -> ExitCode {
    serve(Cli::parse_as(about), registry, default_config)
}

/// Everything [`main`] does once the command line is parsed: the `gen-token` subcommand, the
/// logging set-up (`--debug`, `RUST_LOG`), the async runtime, then [`run`]. For a binary that
/// parses a command line of its own with [`Cli`] flattened into it.
pub fn serve(cli: Cli, registry: ThingRegistry, default_config: Option<&str>) -> ExitCode {
    if let Some(Command::GenToken) = cli.command {
        return match crate::http::auth::generate_token() {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("labthings: the OS random number generator failed: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let level = if cli.debug { "debug" } else { "info" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    if cli.debug {
        labthings_core::set_capture_level(LogLevel::Debug);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("labthings: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli, registry, default_config))
}

/// What `main` does once the runtime is up (without the logging set-up: see [`serve`]).
pub async fn run(cli: Cli, registry: ThingRegistry, default_config: Option<&str>) -> ExitCode {
    let text = match config_text(&cli, default_config) {
        Ok(text) => text,
        Err(message) => return failed(&cli, &message, "").await,
    };
    let config = match ServerConfig::from_json(&text) {
        Ok(config) => config,
        Err(error) => return failed(&cli, &format!("config error: {error}"), &text).await,
    };
    let mut server = match registry.build(&config) {
        Ok(server) => server,
        Err(error) => return failed(&cli, &format!("config error: {error}"), &text).await,
    };
    server = server.bind(SocketAddr::new(cli.host, cli.port));
    match tokens::configured(cli.tokens_file.as_ref(), &config, tokens::from_env) {
        Ok(Some(tokens)) => server = server.tokens(tokens),
        Ok(None) => {}
        Err(error) => return failed(&cli, &format!("config error: {error}"), &text).await,
    }
    match tls::files(cli.tls_cert.as_ref(), cli.tls_key.as_ref(), &config) {
        Ok(Some((cert, key))) => match tls::apply(server, &cert, &key) {
            Ok(with_tls) => server = with_tls,
            Err(error) => return failed(&cli, &format!("config error: {error}"), &text).await,
        },
        Ok(None) => {}
        Err(error) => return failed(&cli, &format!("config error: {error}"), &text).await,
    }
    if !cli.cors_origins.is_empty() {
        server = server.cors(crate::http::cors::Cors::Origins(cli.cors_origins.clone()));
    }
    for name in &cli.allowed_hosts {
        server = server.allowed_host(name);
    }
    if cli.mdns {
        server = server.mdns(true);
    }
    if let Some(folder) = &cli.settings_folder {
        server = server.settings_folder(folder);
    }
    if let Some(url) = &cli.mqtt {
        let mut mqtt = config.mqtt.clone().unwrap_or_else(|| MqttConfig::url(url));
        mqtt.url.clone_from(url);
        server = server.mqtt(mqtt);
    }
    // After the settings folder: a printed TD carries the `id` kept there.
    if cli.print_openapi || cli.print_td.is_some() {
        return print_description(&cli, &server);
    }
    server = server.history(history_location(&cli, &config));
    if let Some(threads) = cli.action_threads {
        server = server.action_threads(threads);
    }
    if let Some(bytes) = cli.invocation_memory {
        server = server.invocation_memory(bytes);
    }
    let running = match server.start().await {
        Ok(running) => running,
        Err(error) => return failed(&cli, &format!("could not start: {error}"), &text).await,
    };
    // Before the address is announced: whoever reads it may send SIGTERM at once.
    let stop = listen_for_shutdown();
    println!("LabThings server listening on {}", running.url());
    for url in running.thing_urls() {
        println!("  {url}");
    }
    if let Some(folder) = running.settings_folder() {
        println!("Settings are saved in {}", folder.display());
    }
    running.wait_for(stop).await;
    ExitCode::SUCCESS
}

/// Exit code for `--print-td` naming no configured Thing (a usage error, like clap's).
pub const UNKNOWN_THING: u8 = 2;

/// Where the history goes: `--history`, else the config's `history`, else the settings
/// folder's `history.sqlite3`, else `./history.sqlite3` (the binary keeps a history by
/// default; the library only with a settings folder).
fn history_location(cli: &Cli, config: &ServerConfig) -> HistoryLocation {
    let named = cli.history.as_deref().or(config.history.as_deref());
    match named {
        Some(text) => HistoryLocation::parse(text),
        None if cli.settings_folder.is_some() || config.settings_folder.is_some() => {
            HistoryLocation::Default
        }
        None => HistoryLocation::Sqlite(crate::history::FILE_NAME.into()),
    }
}

/// `--print-openapi` / `--print-td NAME`: print the document, indented, and exit.
fn print_description(cli: &Cli, server: &crate::app::builder::ThingServer) -> ExitCode {
    // `[v6]:port` for IPv6, as an authority must be.
    let authority = std::net::SocketAddr::new(cli.host, cli.port).to_string();
    let origin = Origin::new(Scheme::Http, authority);
    let document = match &cli.print_td {
        Some(name) => server.thing_description(name, &origin),
        None => server.openapi(&origin).map(Some),
    };
    let document = match (document, &cli.print_td) {
        (Ok(Some(document)), _) => document,
        (Ok(None), Some(name)) => {
            let known: Vec<&str> = server.thing_names().collect();
            eprintln!(
                "labthings: --print-td: no Thing named {name:?} in the config (it has: {})",
                known.join(", ")
            );
            return ExitCode::from(UNKNOWN_THING);
        }
        (Ok(None), None) => return ExitCode::FAILURE,
        (Err(error), _) => {
            eprintln!("labthings: config error: {error}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    match std::io::Write::write_all(&mut stdout, format!("{text}\n").as_bytes())
        .and_then(|()| std::io::Write::flush(&mut stdout))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("labthings: could not write to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}

fn config_text(cli: &Cli, default_config: Option<&str>) -> Result<String, String> {
    match (&cli.config, &cli.json, default_config) {
        (Some(_), Some(_), _) => Err("give either -c/--config or -j/--json, not both".into()),
        (Some(path), None, _) => std::fs::read_to_string(path)
            .map_err(|e| format!("could not read the config file {}: {e}", path.display())),
        (None, Some(json), _) => Ok(json.clone()),
        (None, None, Some(default)) => Ok(default.to_owned()),
        (None, None, None) => Err("no config: give -c FILE or -j JSON".into()),
    }
}

/// Report a start-up failure; with `--fallback`, serve the error page until stopped.
async fn failed(cli: &Cli, message: &str, config: &str) -> ExitCode {
    eprintln!("labthings: {message}");
    if cli.fallback {
        fallback::serve(
            SocketAddr::new(cli.host, cli.port),
            message,
            config,
            listen_for_shutdown(),
        )
        .await;
    }
    ExitCode::from(CONFIG_ERROR)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// A binary's own parser with `Cli` flattened into it, as the guide shows.
    #[derive(Parser)]
    #[command(name = "thermo-lab", version = "9.9.9", about = "A thermometer lab")]
    struct Args {
        /// The serial port.
        #[arg(long, default_value = "/dev/ttyUSB0")]
        serial: String,
        #[command(flatten)]
        lab: Cli,
    }

    #[test]
    fn cli_flattens_into_a_binarys_own_parser() {
        Args::command().debug_assert();
        let args = Args::try_parse_from(["thermo-lab", "--serial", "/dev/ttyACM0", "--port", "0"])
            .unwrap();
        assert_eq!((args.serial.as_str(), args.lab.port), ("/dev/ttyACM0", 0));
        let args = Args::try_parse_from(["thermo-lab", "gen-token"]).unwrap();
        assert!(matches!(args.lab.command, Some(Command::GenToken)));
        let version = Args::command().render_version();
        assert_eq!(version, "thermo-lab 9.9.9\n");
    }

    #[test]
    fn parse_as_names_the_binary() {
        let about = About {
            name: "my-lab",
            version: "1.2.3",
            about: "My lab",
        };
        let mut command = Cli::command_as(about);
        assert_eq!(command.render_version(), "my-lab 1.2.3\n");
        assert!(command.render_help().to_string().starts_with("My lab\n"));
    }
}
