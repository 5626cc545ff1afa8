//! A simulated SCPI bench power supply ([`psu`]) served over TCP and over a pseudo-terminal,
//! with fault knobs for testing drivers against what real instruments do: answer slowly,
//! answer after the client has given up, forget the terminator, drop the connection, refuse
//! connections for a while.
//!
//! ```no_run
//! let sim = scpi_sim::Simulator::new();
//! let tcp = sim.serve_tcp("127.0.0.1:0")?;
//! println!("{}", tcp.resource()); // TCPIP::127.0.0.1::<port>::SOCKET
//! let pty = sim.serve_pty()?;
//! println!("{}", pty.resource()); // ASRL/dev/pts/<n>::INSTR
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! It is its own crate (rather than a module of `labthings-instruments`) because it is the
//! *instrument* side: drivers never compile it, the demo lab and the tests do, and its binary
//! (`scpi-sim`) needs a command-line parser the driver crate has no use for.

pub mod psu;

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub use psu::Psu;

/// Commands kept in the transcript (the oldest are dropped beyond it).
const TRANSCRIPT_LENGTH: usize = 10_000;

/// The faults that shape every answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Wait this long before each answer.
    pub delay: Duration,
    /// Send answers without their terminator (the client can only time out).
    pub drop_terminator: bool,
}

#[derive(Default)]
struct Shared {
    psu: Mutex<Psu>,
    faults: Mutex<Faults>,
    /// Extra delays for the next answers, one each ("answer late").
    late: Mutex<VecDeque<Duration>>,
    transcript: Mutex<VecDeque<String>>,
    /// Clones of the open TCP connections (by a serial number), to close them on demand;
    /// each connection's thread removes its own when the client goes.
    connections: Mutex<Vec<(u64, TcpStream)>>,
    refuse_until: Mutex<Option<Instant>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data whole: a panic elsewhere can't tear it.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One simulated instrument, shared by all its TCP connections and ptys (as a real one is).
#[derive(Clone, Default)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serve on a TCP address (`127.0.0.1:0` for any free port), in a background thread.
    pub fn serve_tcp(&self, addr: impl ToSocketAddrs) -> io::Result<TcpServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = self.shared.clone();
        let stopped = stop.clone();
        thread::Builder::new()
            .name("scpi-sim-accept".into())
            .spawn(move || accept(listener, shared, stopped))?;
        Ok(TcpServer { addr, stop })
    }

    /// Serve on a new pseudo-terminal, in a background thread: a driver opens its slave path
    /// as a serial port. The simulator keeps its own handle of the slave open, so that a
    /// driver closing and reopening it never makes the simulator's side fail.
    pub fn serve_pty(&self) -> io::Result<PtyServer> {
        let (mut master, slave) = serialport::TTYPort::pair().map_err(io::Error::from)?;
        let path = serialport::SerialPort::name(&slave)
            .ok_or_else(|| io::Error::new(ErrorKind::NotFound, "the pty has no path"))?;
        // Reads wake up this often to see whether the server was dropped.
        serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(200))
            .map_err(io::Error::from)?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = self.shared.clone();
        let stopped = stop.clone();
        thread::Builder::new()
            .name("scpi-sim-pty".into())
            .spawn(move || {
                let _slave = slave;
                serve(&shared, master, || stopped.load(Ordering::SeqCst));
            })?;
        Ok(PtyServer { path, stop })
    }

    /// Set the faults applied to every answer from now on.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    /// Send the next answer `by` later than usual (for a client: after its timeout).
    pub fn answer_late_once(&self, by: Duration) {
        lock(&self.shared.late).push_back(by);
    }

    /// Close every open TCP connection now (the instrument rebooted, a cable was pulled).
    pub fn close_connections(&self) {
        for (_, connection) in lock(&self.shared.connections).drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }

    /// Close each new TCP connection at once for `duration` (a busy or rebooting
    /// instrument), then accept them again.
    pub fn refuse_connections_for(&self, duration: Duration) {
        *lock(&self.shared.refuse_until) = Some(Instant::now() + duration);
    }

    /// The command lines received so far, in order, from every connection.
    pub fn transcript(&self) -> Vec<String> {
        lock(&self.shared.transcript).iter().cloned().collect()
    }

    /// The instrument's state now.
    pub fn psu(&self) -> Psu {
        lock(&self.shared.psu).clone()
    }
}

/// A TCP listener serving the simulator; stops accepting (and closes nothing else) when
/// dropped.
pub struct TcpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TcpServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The VISA resource string of this listener.
    pub fn resource(&self) -> String {
        match self.addr {
            SocketAddr::V4(v4) => format!("TCPIP::{}::{}::SOCKET", v4.ip(), v4.port()),
            SocketAddr::V6(v6) => format!("TCPIP::[{}]::{}::SOCKET", v6.ip(), v6.port()),
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag and closes the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A pty serving the simulator; its thread ends soon after it is dropped.
pub struct PtyServer {
    path: String,
    stop: Arc<AtomicBool>,
}

impl PtyServer {
    /// The slave's device path (`/dev/pts/N`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The VISA resource string of the slave (`ASRL/dev/pts/N::INSTR`).
    pub fn resource(&self) -> String {
        format!("ASRL{}::INSTR", self.path)
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn accept(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let mut serial = 0u64;
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let refusing = lock(&shared.refuse_until).is_some_and(|until| Instant::now() < until);
        if refusing {
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        let _ = stream.set_nodelay(true);
        serial += 1;
        let id = serial;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).push((id, clone));
        }
        let shared = shared.clone();
        let _ = thread::Builder::new()
            .name("scpi-sim-connection".into())
            .spawn(move || {
                serve(&shared, stream, || false);
                // The client has gone: its clone would hold the socket open (CLOSE_WAIT).
                lock(&shared.connections).retain(|(open, _)| *open != id);
            });
    }
}

/// Read command lines from `stream` and answer them until it closes (or `stopped()` says so
/// after a read timed out).
fn serve<S: Read + Write>(shared: &Shared, mut stream: S, stopped: impl Fn() -> bool) {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).trim().to_owned();
            if line.is_empty() {
                continue;
            }
            if answer(shared, &mut stream, &line).is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                ) =>
            {
                if stopped() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

fn answer<S: Write>(shared: &Shared, stream: &mut S, line: &str) -> io::Result<()> {
    {
        let mut transcript = lock(&shared.transcript);
        if transcript.len() >= TRANSCRIPT_LENGTH {
            transcript.pop_front();
        }
        transcript.push_back(line.to_owned());
    }
    let Some(reply) = lock(&shared.psu).execute(line) else {
        return Ok(());
    };
    let faults = lock(&shared.faults).clone();
    let late = lock(&shared.late).pop_front().unwrap_or_default();
    let delay = faults.delay + late;
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    let mut bytes = reply.into_bytes();
    if !faults.drop_terminator {
        bytes.push(b'\n');
    }
    stream.write_all(&bytes)?;
    stream.flush()
}
