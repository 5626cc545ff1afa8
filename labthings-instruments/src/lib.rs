//! Instrument I/O for LabThings drivers, usable without the server: a [`ScpiSession`] over
//! a TCP socket or a serial port, opened from the VISA resource strings users already have.
//!
//! ```no_run
//! use labthings_instruments::{OpenOptions, ScpiSession};
//!
//! let mut psu = ScpiSession::open("TCPIP0::192.168.1.5::5025::SOCKET", &OpenOptions::default())?;
//! println!("{}", psu.identify()?);
//! psu.write_checked("VOLT 1.5")?; // an error the instrument queues is this write's error
//! let volts = psu.query_f64("MEAS:VOLT?")?;
//! # let _ = volts;
//! # Ok::<(), labthings_instruments::ScpiError>(())
//! ```
//!
//! - Every exchange has a timeout; a query that timed out never shifts the answers that
//!   follow (see [`session`]).
//! - A [`Link`] that loses its connection reconnects on the next call, backing off after
//!   failed attempts, and its errors say so until it is back.
//! - Errors are typed ([`ScpiError`]): timeout, I/O, the instrument's own (code and text from
//!   its error queue), parse.

#![warn(missing_docs)]

mod error;
mod resource;
pub mod session;
pub mod transport;

pub use error::{InstrumentError, ScpiError};
pub use resource::Resource;
pub use session::{Identity, OpenOptions, ScpiSession};
pub use transport::{Link, SerialSettings, Transport};
