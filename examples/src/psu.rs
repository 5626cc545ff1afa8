//! A real driver: a SCPI bench power supply over TCP or a serial port.
//!
//! It speaks the common subset of bench supplies (LF-terminated): `*IDN?`, `*RST`, `*CLS`,
//! `*OPC?`, `SYST:ERR?`, `VOLT`, `CURR` (the current limit), `OUTP`, `MEAS:VOLT?`,
//! `MEAS:CURR?`, so it drives the `scpi-sim` simulator and many real supplies alike. Every
//! exchange holds the session for its whole transaction (a command and its error check), so
//! two clients' commands never interleave; an error the instrument queues after a write is
//! that write's error (a PUT answers 422 with the instrument's code and text).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use labthings_core::prelude::*;
use labthings_core::{Failure, PropertyError, ValidationErrors};
use labthings_instruments::{Link, OpenOptions, ScpiError, ScpiSession, SerialSettings};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The power supply's `kwargs` in a server config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsuConfig {
    /// VISA resource string: `TCPIP::host::5025::SOCKET` or `ASRL/dev/ttyUSB0::INSTR`.
    #[serde(default)]
    pub resource: Option<String>,
    /// Each query's timeout, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Baud rate, for a serial resource (8N1, no flow control).
    #[serde(default = "default_baud_rate")]
    pub baud_rate: u32,
    /// What ends the instrument's answers, and what ends commands.
    #[serde(default = "default_termination")]
    pub read_termination: String,
    #[serde(default = "default_termination")]
    pub write_termination: String,
    /// Instead of `resource`: start a simulated supply in this process, on a free TCP port
    /// of 127.0.0.1, and talk to it over that socket (the demo lab's default).
    #[serde(default)]
    pub simulator: bool,
}

fn default_timeout_ms() -> u64 {
    2000
}

fn default_baud_rate() -> u32 {
    9600
}

fn default_termination() -> String {
    "\n".into()
}

/// One point of a sweep: the setpoint, and what was measured there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepResult {
    /// `[measured volts, measured amps]` at each step, in order.
    pub points: Vec<[f64; 2]>,
    /// The same series as CSV (`setpoint_v,voltage_v,current_a`), for a spreadsheet.
    pub csv: Blob,
}

/// Why a sweep failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the sweep was cancelled (output switched off)")]
    Cancelled(#[from] Cancelled),
    #[error("{0} (output switched off)")]
    Instrument(#[from] ScpiError),
    #[error("{0}")]
    NotConnected(String),
}

/// A SCPI bench power supply (0–30 V, 0–5 A on the simulator; the instrument's own range
/// applies, and it refuses values beyond it).
#[thing]
pub struct ScpiPowerSupply {
    /// The instrument's identity, from `*IDN?`: manufacturer, model, serial, firmware.
    #[property(read_only)]
    identity: Property<String>,
    config: PsuConfig,
    /// Where to connect: the configured resource, or the in-process simulator's socket.
    resource: Result<String, String>,
    session: Mutex<Option<ScpiSession<Link>>>,
    /// The in-process simulator (with `simulator: true`), serving while the Thing lives.
    simulator: Option<(scpi_sim::Simulator, scpi_sim::TcpServer)>,
}

impl ScpiPowerSupply {
    /// A driver for the supply `config` names; it connects when the server starts.
    pub fn new(config: PsuConfig) -> Self {
        let mut simulator = None;
        let resource = match (&config.resource, config.simulator) {
            (Some(_), true) => Err("give either `resource` or `simulator: true`, not both".into()),
            (Some(resource), false) => Ok(resource.clone()),
            (None, true) => {
                let sim = scpi_sim::Simulator::new();
                match sim.serve_tcp("127.0.0.1:0") {
                    Ok(server) => {
                        let resource = server.resource();
                        simulator = Some((sim, server));
                        Ok(resource)
                    }
                    Err(error) => Err(format!("the simulator can't listen: {error}")),
                }
            }
            (None, false) => Err("no `resource` in its kwargs (a VISA resource string)".into()),
        };
        Self {
            identity: Property::new(String::new()),
            config,
            resource,
            session: Mutex::new(None),
            simulator,
        }
    }

    /// The VISA resource string this driver talks to.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref().ok()
    }

    /// The in-process simulator, if this driver started one.
    pub fn simulator(&self) -> Option<&scpi_sim::Simulator> {
        self.simulator.as_ref().map(|(sim, _)| sim)
    }

    fn options(&self) -> OpenOptions {
        let timeout = Duration::from_millis(self.config.timeout_ms.max(1));
        OpenOptions {
            timeout,
            read_terminator: self.config.read_termination.clone(),
            write_terminator: self.config.write_termination.clone(),
            serial: SerialSettings {
                baud_rate: self.config.baud_rate,
                ..SerialSettings::default()
            },
            ..OpenOptions::default()
        }
    }

    /// Run one transaction on the session, holding it throughout.
    fn with_session<T>(
        &self,
        transaction: impl FnOnce(&mut ScpiSession<Link>) -> Result<T, ScpiError>,
    ) -> Result<T, SessionError> {
        let mut guard: MutexGuard<'_, _> = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let session = guard.as_mut().ok_or(SessionError::NotConnected)?;
        transaction(session).map_err(SessionError::Scpi)
    }

    fn query_f64(&self, query: &str) -> Result<f64, SessionError> {
        self.with_session(|s| s.query_f64(query))
    }

    /// A write answering as a property write: the instrument's refusal is a 422.
    fn write_property(
        &self,
        command: String,
        value: serde_json::Value,
    ) -> Result<(), PropertyError> {
        self.with_session(|s| s.write_checked(&command))
            .map_err(|error| error.into_property_error(value))
    }

    /// Switch the output off, whatever happened before (best effort: logged if it fails).
    fn output_off(&self, log: Option<&Logger>) {
        if let Err(error) = self.with_session(|s| s.write_checked("OUTP OFF")) {
            tracing::error!("couldn't switch the output off: {error}");
            if let Some(log) = log {
                log.error(format_args!("couldn't switch the output off: {error}"));
            }
        }
    }
}

/// Why the supply couldn't be connected at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Scpi(#[from] ScpiError),
}

/// A failed transaction: not connected (start-up failed), or the session's error.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("not connected to the instrument (start-up failed)")]
    NotConnected,
    #[error(transparent)]
    Scpi(#[from] ScpiError),
}

impl SessionError {
    /// As a property write's error: the instrument's refusal of the value is a validation
    /// error (422) with its code and text; anything else a failure (500).
    fn into_property_error(self, value: serde_json::Value) -> PropertyError {
        match &self {
            SessionError::Scpi(error) if error.instrument_errors().is_some() => {
                PropertyError::Invalid(ValidationErrors::single(
                    "instrument_error",
                    error.to_string(),
                    value,
                ))
            }
            _ => PropertyError::Failed(Failure {
                title: "InstrumentError".into(),
                detail: self.to_string(),
            }),
        }
    }
}

impl From<SessionError> for SweepError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Scpi(error) => SweepError::Instrument(error),
            other => SweepError::NotConnected(other.to_string()),
        }
    }
}

#[thing]
impl ScpiPowerSupply {
    /// Connect, read `*IDN?` and clear the error queue. A resource that can't be reached
    /// stops the server from starting, naming it.
    #[on_start]
    fn connect(&self) -> Result<(), ConnectError> {
        let resource = self.resource.clone().map_err(ConnectError::Config)?;
        let mut session = ScpiSession::open(&resource, &self.options())?;
        let identity = session.identify()?;
        session.write("*CLS")?;
        tracing::info!(%resource, %identity, "power supply connected");
        // `identity` declares no constraints: this write cannot be refused.
        let _ = self.identity.set(identity.to_string());
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
        Ok(())
    }

    /// Leave the output off when the server stops.
    #[on_stop]
    fn disconnect(&self) {
        if self
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            self.output_off(None);
        }
    }

    /// Voltage setpoint, in volts.
    ///
    /// Read from and written to the instrument (`VOLT?`, `VOLT <v>`). The upper limit is the
    /// instrument's: it refuses more with its own error (422).
    #[property(minimum = 0)]
    fn voltage(&self) -> Result<f64, SessionError> {
        self.query_f64("VOLT?")
    }

    #[setter(voltage)]
    fn set_voltage(&self, volts: f64) -> Result<(), PropertyError> {
        self.write_property(format!("VOLT {volts}"), json!(volts))
    }

    /// Current limit, in amperes.
    ///
    /// Read from and written to the instrument (`CURR?`, `CURR <a>`); the output holds the
    /// current at this limit (constant-current mode) when the load would draw more.
    #[property(minimum = 0)]
    fn current_limit(&self) -> Result<f64, SessionError> {
        self.query_f64("CURR?")
    }

    #[setter(current_limit)]
    fn set_current_limit(&self, amps: f64) -> Result<(), PropertyError> {
        self.write_property(format!("CURR {amps}"), json!(amps))
    }

    /// Whether the output is on.
    #[property]
    fn output(&self) -> Result<bool, SessionError> {
        self.with_session(|s| s.query_bool("OUTP?"))
    }

    #[setter(output)]
    fn set_output(&self, on: bool) -> Result<(), PropertyError> {
        let command = format!("OUTP {}", if on { "ON" } else { "OFF" });
        self.write_property(command, json!(on))
    }

    /// Measured output voltage, in volts (`MEAS:VOLT?`).
    #[property]
    fn measured_voltage(&self) -> Result<f64, SessionError> {
        self.query_f64("MEAS:VOLT?")
    }

    /// Measured output current, in amperes (`MEAS:CURR?`).
    #[property]
    fn measured_current(&self) -> Result<f64, SessionError> {
        self.query_f64("MEAS:CURR?")
    }

    /// Sweep the voltage and measure.
    ///
    /// Switches the output on, steps the setpoint from `start` to `stop` in `steps` equal
    /// steps, waits `dwell_ms` at each, and measures voltage and current there. Returns the
    /// series and a CSV of it; the output stays on at `stop`. Cancelling, or any instrument
    /// error, switches the output off.
    // The four inputs are the action's, over the wire; the rest are injected.
    #[allow(clippy::too_many_arguments)]
    #[action]
    fn sweep(
        &self,
        /// First setpoint, in volts.
        #[param(minimum = 0)]
        start: f64,
        /// Last setpoint, in volts.
        #[param(minimum = 0)]
        stop: f64,
        /// Number of points (at least 2: `start` and `stop`).
        #[param(default = 11, minimum = 2, maximum = 10_000)]
        steps: u32,
        /// Time to settle at each step before measuring, in milliseconds.
        #[param(default = 100, minimum = 0, maximum = 60_000)]
        dwell_ms: u64,
        cancel: CancelHook,
        log: Logger,
        progress: Progress,
    ) -> Result<SweepResult, SweepError> {
        log.info(format_args!(
            "sweeping {start} V → {stop} V in {steps} steps"
        ));
        let plan = Plan {
            start,
            stop,
            steps,
            dwell: Duration::from_millis(dwell_ms),
        };
        let swept = self.run_sweep(&plan, &cancel, &log, &progress);
        match &swept {
            Ok(points) => log.info(format_args!("sweep done: {} points", points.len())),
            Err(error) => {
                log.warning(format_args!("sweep stopped: {error}"));
                self.output_off(Some(&log));
            }
        }
        let points = swept?;
        let mut csv = String::from("setpoint_v,voltage_v,current_a\n");
        for (i, [v, a]) in points.iter().enumerate() {
            csv.push_str(&format!("{},{v},{a}\n", plan.setpoint(i as u32)));
        }
        Ok(SweepResult {
            points,
            // Named, so that a browser saves `sweep.csv`, not a file named after a UUID.
            csv: Blob::new("text/csv", csv.into_bytes()).with_filename("sweep.csv"),
        })
    }
}

/// A sweep's steps: `steps` evenly spaced setpoints from `start` to `stop`, `dwell` at each.
struct Plan {
    start: f64,
    stop: f64,
    steps: u32,
    dwell: Duration,
}

impl Plan {
    /// The `i`th setpoint.
    fn setpoint(&self, i: u32) -> f64 {
        let fraction = f64::from(i) / f64::from(self.steps.saturating_sub(1).max(1));
        self.start + (self.stop - self.start) * fraction
    }
}

impl ScpiPowerSupply {
    fn run_sweep(
        &self,
        plan: &Plan,
        cancel: &CancelHook,
        log: &Logger,
        progress: &Progress,
    ) -> Result<Vec<[f64; 2]>, SweepError> {
        self.with_session(|s| {
            s.write_checked(&format!("VOLT {}", plan.start))?;
            s.write_checked("OUTP ON")
        })?;
        let mut points = Vec::with_capacity(plan.steps as usize);
        for i in 0..plan.steps {
            cancel.raise_if_cancelled()?;
            let volts = plan.setpoint(i);
            // The first setpoint is `start`, set before the output went on.
            if i > 0 {
                self.with_session(|s| s.write_checked(&format!("VOLT {volts}")))?;
            }
            cancel.sleep(plan.dwell)?;
            let point = self.step_measure()?;
            log.debug(format_args!(
                "{volts} V: measured {} V, {} A",
                point[0], point[1]
            ));
            points.push(point);
            progress.update(u64::from(i) + 1, u64::from(plan.steps));
        }
        Ok(points)
    }

    fn step_measure(&self) -> Result<[f64; 2], SweepError> {
        let measured =
            self.with_session(|s| Ok([s.query_f64("MEAS:VOLT?")?, s.query_f64("MEAS:CURR?")?]))?;
        Ok(measured)
    }
}
