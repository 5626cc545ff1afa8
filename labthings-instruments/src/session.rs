//! [`ScpiSession`]: commands and queries over a [`Transport`], one exchange at a time.
//!
//! The hard part of SCPI over a byte stream is that answers carry no tag: a query that timed
//! out still gets its answer, later, and a naive client takes that as the answer to its next
//! query, and stays one answer behind from then on. The session counts the answers it is
//! owed; before its next exchange it reconnects (a socket: nothing from the old connection can
//! reach the new one) or reads and discards them (a serial line).

use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

use crate::transport::{Link, SerialSettings, Transport, waited_out};
use crate::{InstrumentError, Resource, ScpiError};

/// How long `*OPC?` may take by default: it waits for the instrument's pending operations.
pub const DEFAULT_OPC_TIMEOUT: Duration = Duration::from_secs(60);
/// PyVISA's default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// `errors()` stops after this many entries, in case an instrument never answers `0,…`.
const MAX_QUEUED_ERRORS: usize = 64;

/// The answer to `*IDN?`: `manufacturer,model,serial,firmware`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The first field of `*IDN?`.
    pub manufacturer: String,
    /// The second field of `*IDN?`.
    pub model: String,
    /// `0` when the instrument has none.
    pub serial: String,
    /// The fourth field of `*IDN?`.
    pub firmware: String,
}

impl Identity {
    /// Parse an `*IDN?` answer (four comma-separated fields; a missing field is empty).
    pub fn parse(answer: &str) -> Option<Self> {
        let mut fields = answer.trim().splitn(4, ',').map(|f| f.trim().to_owned());
        let manufacturer = fields.next().filter(|m| !m.is_empty())?;
        let model = fields.next()?;
        Some(Self {
            manufacturer,
            model,
            serial: fields.next().unwrap_or_default(),
            firmware: fields.next().unwrap_or_default(),
        })
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.manufacturer, self.model, self.serial, self.firmware
        )
    }
}

/// How to open a session from a VISA resource string.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Each query's timeout (and the connection's).
    pub timeout: Duration,
    /// `*OPC?`'s timeout.
    pub opc_timeout: Duration,
    /// What ends an answer (LF: on a raw socket it is the only end marker).
    pub read_terminator: String,
    /// What the session appends to each command.
    pub write_terminator: String,
    /// Baud rate and framing, for serial resources.
    pub serial: SerialSettings,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            opc_timeout: DEFAULT_OPC_TIMEOUT,
            read_terminator: "\n".into(),
            write_terminator: "\n".into(),
            serial: SerialSettings::default(),
        }
    }
}

/// A SCPI conversation with one instrument over `T`.
///
/// Each method is one exchange; a driver shared between threads keeps the session behind a
/// mutex held for a whole transaction (a command and its error check), so that two callers'
/// commands never interleave.
pub struct ScpiSession<T> {
    transport: T,
    name: String,
    read_terminator: Vec<u8>,
    write_terminator: Vec<u8>,
    timeout: Duration,
    opc_timeout: Duration,
    /// Bytes read past the last answer.
    pending: Vec<u8>,
    /// Answers to timed-out queries that may still arrive.
    owed: usize,
}

impl ScpiSession<Link> {
    /// Open the instrument at a VISA resource string (`TCPIP::host::5025::SOCKET`,
    /// `ASRL/dev/ttyUSB0::INSTR`). Fails, naming the resource, if it can't be reached.
    pub fn open(resource: &str, options: &OpenOptions) -> Result<Self, ScpiError> {
        let parsed: Resource = resource.parse()?;
        let link = Link::open(parsed, options.timeout, options.serial).map_err(|source| {
            ScpiError::Open {
                resource: resource.to_owned(),
                source,
            }
        })?;
        Ok(ScpiSession::new(link, resource)
            .terminators(&options.read_terminator, &options.write_terminator)
            .timeout(options.timeout)
            .opc_timeout(options.opc_timeout))
    }
}

impl<T: Transport> ScpiSession<T> {
    /// A session over `transport`, called `name` in its errors; LF terminators, 2 s timeout.
    pub fn new(transport: T, name: impl Into<String>) -> Self {
        Self {
            transport,
            name: name.into(),
            read_terminator: b"\n".to_vec(),
            write_terminator: b"\n".to_vec(),
            timeout: DEFAULT_TIMEOUT,
            opc_timeout: DEFAULT_OPC_TIMEOUT,
            pending: Vec::new(),
            owed: 0,
        }
    }

    /// Set what ends an answer and what ends a command (e.g. `"\r\n"` for many serial
    /// instruments). An empty read terminator is replaced by LF.
    pub fn terminators(mut self, read: &str, write: &str) -> Self {
        self.read_terminator = if read.is_empty() {
            b"\n".to_vec()
        } else {
            read.as_bytes().to_vec()
        };
        self.write_terminator = write.as_bytes().to_vec();
        self
    }

    /// Set each query's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set `*OPC?`'s timeout.
    pub fn opc_timeout(mut self, timeout: Duration) -> Self {
        self.opc_timeout = timeout;
        self
    }

    /// The name errors use (the resource string).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The transport, e.g. to ask a [`Link`] whether it is connected.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Send a command that has no answer.
    pub fn write(&mut self, command: &str) -> Result<(), ScpiError> {
        self.resync(command)?;
        self.send(command)
    }

    /// Send a command, then drain the error queue: any error there is this command's.
    pub fn write_checked(&mut self, command: &str) -> Result<(), ScpiError> {
        self.write(command)?;
        let errors = self.errors()?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ScpiError::Instrument {
                resource: self.name.clone(),
                command: command.to_owned(),
                errors,
            })
        }
    }

    /// Send a query and read its answer (trimmed of whitespace).
    pub fn query(&mut self, query: &str) -> Result<String, ScpiError> {
        self.query_within(query, self.timeout)
    }

    /// A query whose answer is a number (`+1.23450000E+00`).
    pub fn query_f64(&mut self, query: &str) -> Result<f64, ScpiError> {
        let answer = self.query(query)?;
        answer
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.parse_error(query, answer, "a number"))
    }

    /// A query whose answer is a boolean (`1`/`0`, `ON`/`OFF`).
    pub fn query_bool(&mut self, query: &str) -> Result<bool, ScpiError> {
        let answer = self.query(query)?;
        match answer.to_ascii_uppercase().as_str() {
            "1" | "+1" | "ON" => Ok(true),
            "0" | "+0" | "OFF" => Ok(false),
            _ => Err(self.parse_error(query, answer, "a boolean (1 or 0)")),
        }
    }

    /// `*IDN?`, parsed.
    pub fn identify(&mut self) -> Result<Identity, ScpiError> {
        let answer = self.query("*IDN?")?;
        Identity::parse(&answer).ok_or_else(|| {
            self.parse_error("*IDN?", answer, "`manufacturer,model,serial,firmware`")
        })
    }

    /// `*OPC?`: wait (up to the OPC timeout, not the query timeout) until the instrument's
    /// pending operations are done.
    pub fn opc(&mut self) -> Result<(), ScpiError> {
        let answer = self.query_within("*OPC?", self.opc_timeout)?;
        match answer.as_str() {
            "1" | "+1" => Ok(()),
            _ => Err(self.parse_error("*OPC?", answer, "1")),
        }
    }

    /// Drain the error queue: `SYST:ERR?` until it answers `0,…`. Oldest first.
    pub fn errors(&mut self) -> Result<Vec<InstrumentError>, ScpiError> {
        let mut errors = Vec::new();
        while errors.len() < MAX_QUEUED_ERRORS {
            let answer = self.query("SYST:ERR?")?;
            let error = parse_error_entry(&answer).ok_or_else(|| {
                self.parse_error(
                    "SYST:ERR?",
                    answer,
                    "an error queue entry `<code>,\"<text>\"`",
                )
            })?;
            if error.code == 0 {
                break;
            }
            errors.push(error);
        }
        Ok(errors)
    }

    fn query_within(&mut self, query: &str, timeout: Duration) -> Result<String, ScpiError> {
        self.resync(query)?;
        self.send(query)?;
        match self.read_line(Instant::now() + timeout) {
            Ok(answer) => Ok(answer),
            Err(ReadError::TimedOut) => {
                self.owed += 1;
                Err(ScpiError::Timeout {
                    resource: self.name.clone(),
                    command: query.to_owned(),
                    timeout,
                })
            }
            Err(ReadError::Io(source)) => Err(self.io_error(query, source)),
        }
    }

    /// Make sure no late answer is waiting to be taken for the next one.
    fn resync(&mut self, command: &str) -> Result<(), ScpiError> {
        if self.owed == 0 {
            return Ok(());
        }
        match self.transport.reconnect() {
            Ok(true) => {
                self.pending.clear();
                self.owed = 0;
                return Ok(());
            }
            Ok(false) => {}
            Err(source) => return Err(self.io_error(command, source)),
        }
        // One wire: read the owed answers and drop them, giving them one timeout in all.
        let deadline = Instant::now() + self.timeout;
        while self.owed > 0 {
            match self.read_line(deadline) {
                Ok(_) => self.owed -= 1,
                Err(ReadError::TimedOut) => {
                    // Never coming (or not within a timeout): forget them, and any fragment.
                    self.owed = 0;
                    self.pending.clear();
                }
                Err(ReadError::Io(source)) => return Err(self.io_error(command, source)),
            }
        }
        Ok(())
    }

    fn send(&mut self, command: &str) -> Result<(), ScpiError> {
        let mut line = Vec::with_capacity(command.len() + self.write_terminator.len());
        line.extend_from_slice(command.as_bytes());
        line.extend_from_slice(&self.write_terminator);
        let sent = self
            .transport
            .write_all(&line)
            .and_then(|()| self.transport.flush());
        sent.map_err(|source| self.io_error(command, source))
    }

    /// The next answer, without its terminator, by `deadline`.
    fn read_line(&mut self, deadline: Instant) -> Result<String, ReadError> {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(at) = find(&self.pending, &self.read_terminator) {
                let line: Vec<u8> = self
                    .pending
                    .drain(..at + self.read_terminator.len())
                    .collect();
                return Ok(String::from_utf8_lossy(&line[..at]).trim().to_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::TimedOut);
            }
            self.transport.set_read_timeout(left)?;
            match self.transport.read(&mut chunk) {
                Ok(0) => {
                    return Err(ReadError::Io(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the instrument closed the connection",
                    )));
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if waited_out(e.kind()) => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// An I/O failure: whatever was buffered or owed belonged to the old connection.
    fn io_error(&mut self, command: &str, source: io::Error) -> ScpiError {
        self.pending.clear();
        self.owed = 0;
        ScpiError::Io {
            resource: self.name.clone(),
            command: command.to_owned(),
            source,
        }
    }

    fn parse_error(&self, command: &str, answer: String, expected: &'static str) -> ScpiError {
        ScpiError::Parse {
            resource: self.name.clone(),
            command: command.to_owned(),
            answer,
            expected,
        }
    }
}

enum ReadError {
    TimedOut,
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        ReadError::Io(error)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `-222,"Data out of range"` (also `+0,"No error"` and `0, No Error`, unquoted).
fn parse_error_entry(answer: &str) -> Option<InstrumentError> {
    let (code, text) = answer.split_once(',').unwrap_or((answer, ""));
    let code = code.trim().trim_start_matches('+').parse().ok()?;
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    Some(InstrumentError {
        code,
        text: text.replace("\"\"", "\""),
    })
}

#[cfg(test)]
mod tests;
