//! What can go wrong talking to an instrument, typed so that a driver can tell an instrument's
//! refusal (its fault, or the caller's value) from a lost connection (the lab's).

use std::fmt;
use std::io;
use std::time::Duration;

/// An entry of the instrument's error queue (`SYST:ERR?`): `-222,"Data out of range"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentError {
    /// Negative: SCPI standard (-1xx command, -2xx execution, -3xx device, -4xx query);
    /// positive: the vendor's.
    pub code: i32,
    /// The instrument's message.
    pub text: String,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},\"{}\"", self.code, self.text)
    }
}

/// Why a SCPI exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ScpiError {
    /// No complete answer within the timeout. The session discards the late answer (or
    /// reconnects) before its next exchange, so it never becomes the answer to another query.
    #[error("{resource}: no answer to `{command}` within {} ms", timeout.as_millis())]
    Timeout {
        /// The instrument's resource string.
        resource: String,
        /// The command or query sent.
        command: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The connection failed or is down (with when it will be tried again).
    #[error("{resource}: `{command}` failed: {source}")]
    Io {
        /// The instrument's resource string.
        resource: String,
        /// The command or query sent.
        command: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The instrument queued errors after `command` (all of them, oldest first).
    #[error(
        "{resource}: the instrument refused `{command}`: {}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Instrument {
        /// The instrument's resource string.
        resource: String,
        /// The command sent.
        command: String,
        /// What the instrument's error queue held.
        errors: Vec<InstrumentError>,
    },
    /// The answer isn't what the query should answer.
    #[error("{resource}: the answer {answer:?} to `{command}` is not {expected}")]
    Parse {
        /// The instrument's resource string.
        resource: String,
        /// The query sent.
        command: String,
        /// The answer that could not be parsed.
        answer: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The instrument couldn't be reached when the session was opened (the message names the
    /// resource).
    #[error("{source}")]
    Open {
        /// The instrument's resource string.
        resource: String,
        /// Why it could not be opened.
        #[source]
        source: io::Error,
    },
    /// The resource string can't be opened.
    #[error("invalid VISA resource {resource:?}: {reason}")]
    Resource {
        /// The resource string.
        resource: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ScpiError {
    /// The instrument's own errors, when this is one.
    pub fn instrument_errors(&self) -> Option<&[InstrumentError]> {
        match self {
            ScpiError::Instrument { errors, .. } => Some(errors),
            _ => None,
        }
    }
}
