//! The byte streams a session talks over: anything `Read + Write` that can bound a read's
//! wait ([`Transport`]), and [`Link`], the TCP socket or serial port a VISA resource names,
//! which reconnects with backoff after losing its connection.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub use serialport::{DataBits, FlowControl, Parity, StopBits};

use crate::Resource;

/// A byte stream to an instrument.
pub trait Transport: Read + Write + Send {
    /// Make each `read` wait at most `timeout` (then fail with `TimedOut` or `WouldBlock`).
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;

    /// Drop the connection and open a fresh one, if this kind of transport can, so that
    /// nothing sent on the old one (a late answer) can arrive on the new one. `Ok(false)`:
    /// it can't (a serial line is one wire whatever is reopened).
    fn reconnect(&mut self) -> io::Result<bool> {
        Ok(false)
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        // A zero timeout means "none" to the socket: wait at least a millisecond instead.
        TcpStream::set_read_timeout(self, Some(timeout.max(Duration::from_millis(1))))
    }
}

impl Transport for Box<dyn serialport::SerialPort> {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.set_timeout(timeout).map_err(io::Error::from)
    }
}

impl Transport for serialport::TTYPort {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(self, timeout).map_err(io::Error::from)
    }
}

/// Line settings of a serial port (defaults: 9600 baud, 8N1, no flow control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialSettings {
    /// Bits per second (default 9600).
    pub baud_rate: u32,
    /// Data bits (default 8).
    pub data_bits: DataBits,
    /// Parity (default none).
    pub parity: Parity,
    /// Stop bits (default 1).
    pub stop_bits: StopBits,
    /// Flow control (default none).
    pub flow_control: FlowControl,
}

impl Default for SerialSettings {
    fn default() -> Self {
        Self {
            baud_rate: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow_control: FlowControl::None,
        }
    }
}

/// First wait before retrying a failed reconnection, doubled after each failure up to
/// [`MAX_BACKOFF`]. (A lost connection is retried at once, on the next call.)
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

enum Connection {
    Tcp(TcpStream),
    Serial(Box<dyn serialport::SerialPort>),
}

enum State {
    Up(Connection),
    /// Lost (or never re-opened): why, and when to try again.
    Down {
        why: String,
        retry_at: Instant,
    },
}

/// The connection a VISA [`Resource`] names. When it fails (the instrument closed the socket,
/// a USB adapter was unplugged) it is down until the next read or write, which reconnects;
/// a failed reconnection waits a backoff before the next attempt, and until then every call
/// fails at once saying when that is.
pub struct Link {
    resource: Resource,
    connect_timeout: Duration,
    read_timeout: Duration,
    serial: SerialSettings,
    state: State,
    /// Reconnections since the instrument last sent a byte: failed ones, and ones it closed
    /// again before answering (an instrument that accepts and drops connections is as down
    /// as one that refuses them). Sets the backoff.
    strikes: u32,
}

impl Link {
    /// Connect to `resource` now: an error here means the address is wrong or the instrument
    /// is off, and names the resource.
    pub fn open(
        resource: Resource,
        connect_timeout: Duration,
        serial: SerialSettings,
    ) -> io::Result<Self> {
        let connection = connect(&resource, connect_timeout, serial)
            .map_err(|e| io::Error::new(e.kind(), format!("can't open {resource}: {e}")))?;
        Ok(Self {
            resource,
            connect_timeout,
            read_timeout: connect_timeout,
            serial,
            state: State::Up(connection),
            strikes: 0,
        })
    }

    /// The resource this link connects to.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// Whether the connection is up (as far as the last read or write knows).
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Up(_))
    }

    /// The open connection, reconnecting first if it is down and its backoff has passed.
    fn connection(&mut self) -> io::Result<&mut Connection> {
        if let State::Down { why, retry_at } = &self.state {
            let now = Instant::now();
            if now < *retry_at {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "not connected to {} ({why}); reconnecting in {} ms",
                        self.resource,
                        retry_at.duration_since(now).as_millis()
                    ),
                ));
            }
            self.strikes = self.strikes.saturating_add(1);
            match connect(&self.resource, self.connect_timeout, self.serial) {
                Ok(connection) => {
                    self.state = State::Up(connection);
                    self.apply_read_timeout()?;
                }
                Err(error) => {
                    let backoff = backoff(self.strikes);
                    let message = format!(
                        "reconnecting to {} failed: {error}; next attempt in {} ms",
                        self.resource,
                        backoff.as_millis()
                    );
                    self.state = State::Down {
                        why: format!("reconnecting failed: {error}"),
                        retry_at: Instant::now() + backoff,
                    };
                    return Err(io::Error::new(error.kind(), message));
                }
            }
        }
        match &mut self.state {
            State::Up(connection) => Ok(connection),
            State::Down { .. } => Err(io::Error::new(io::ErrorKind::NotConnected, "not connected")),
        }
    }

    /// Mark the connection lost: the next call reconnects, at once if the connection had
    /// worked, else after a backoff. Says when, for the error.
    fn lose(&mut self, why: &str) -> String {
        let wait = match self.strikes {
            0 => Duration::ZERO,
            strikes => backoff(strikes),
        };
        self.state = State::Down {
            why: why.to_owned(),
            retry_at: Instant::now() + wait,
        };
        match wait.as_millis() {
            0 => "reconnecting on the next call".to_owned(),
            ms => format!("reconnecting in {ms} ms"),
        }
    }

    fn apply_read_timeout(&mut self) -> io::Result<()> {
        let timeout = self.read_timeout;
        match &mut self.state {
            State::Up(Connection::Tcp(stream)) => Transport::set_read_timeout(stream, timeout),
            State::Up(Connection::Serial(port)) => port.set_read_timeout(timeout),
            State::Down { .. } => Ok(()),
        }
    }

    /// Whether an I/O error means the connection is gone (rather than a read that waited
    /// its timeout out).
    fn is_loss(error: &io::Error) -> bool {
        !waited_out(error.kind())
    }
}

/// Whether a read that failed with `kind` only waited its timeout out (or was interrupted):
/// the connection is still there. Unix sockets say `WouldBlock`, serial ports `TimedOut`.
pub(crate) fn waited_out(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

fn connect(
    resource: &Resource,
    timeout: Duration,
    serial: SerialSettings,
) -> io::Result<Connection> {
    match resource {
        Resource::Socket { host, port } => {
            let mut last = None;
            for addr in (host.as_str(), *port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(stream) => {
                        // Commands are small and each waits for its answer: send at once.
                        stream.set_nodelay(true)?;
                        stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1))))?;
                        return Ok(Connection::Tcp(stream));
                    }
                    Err(error) => last = Some(error),
                }
            }
            Err(last.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
            }))
        }
        Resource::Serial { path } => serialport::new(path, serial.baud_rate)
            .data_bits(serial.data_bits)
            .parity(serial.parity)
            .stop_bits(serial.stop_bits)
            .flow_control(serial.flow_control)
            .timeout(timeout)
            .open()
            .map(Connection::Serial)
            .map_err(io::Error::from),
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = match self.connection()? {
            Connection::Tcp(stream) => stream.read(buf),
            Connection::Serial(port) => port.read(buf),
        };
        match read {
            Ok(0) if !buf.is_empty() => {
                let when = self.lose("the instrument closed the connection");
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} closed the connection; {when}", self.resource),
                ))
            }
            Err(error) if Self::is_loss(&error) => {
                let when = self.lose(&error.to_string());
                Err(io::Error::new(
                    error.kind(),
                    format!("connection to {} lost: {error}; {when}", self.resource),
                ))
            }
            Ok(n) => {
                if n > 0 {
                    // The instrument answers: this connection works.
                    self.strikes = 0;
                }
                Ok(n)
            }
            other => other,
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match self.connection()? {
            Connection::Tcp(stream) => stream.write(buf),
            Connection::Serial(port) => port.write(buf),
        };
        if let Err(error) = &written
            && Self::is_loss(error)
        {
            self.lose(&error.to_string());
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.connection()? {
            Connection::Tcp(stream) => stream.flush(),
            Connection::Serial(port) => port.flush(),
        }
    }
}

impl Transport for Link {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.read_timeout = timeout;
        self.apply_read_timeout()
    }

    fn reconnect(&mut self) -> io::Result<bool> {
        if matches!(self.resource, Resource::Serial { .. }) {
            return Ok(false);
        }
        self.lose("reconnecting after a timeout");
        self.connection().map(|_| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(10), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
