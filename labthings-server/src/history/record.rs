//! What the history keeps: one [`Row`] per thing that happened, built on the caller's thread
//! (cheap: values already in hand, serialised once) and written later by the writer thread.

use std::borrow::Cow;
use std::path::PathBuf;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A short word (a status, a level, a source): a `&'static str` when made here, owned when
/// read back from the spool.
pub type Word = Cow<'static, str>;

/// A time as the database stores it: RFC 3339 in UTC with microseconds and `Z`, fixed width,
/// so text order is time order and `since`/`until` compare as strings — the wire's spelling
/// ([`labthings_core::rfc3339`]).
pub fn timestamp(time: DateTime<Utc>) -> String {
    labthings_core::rfc3339(time)
}

/// One change to write. Serialisable: while PostgreSQL is unreachable, batches wait in the
/// local SQLite file's spool as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub enum Row {
    /// An invocation was recorded (`pending`).
    Requested(Box<Requested>),
    /// It started running.
    Started { id: String, time: String },
    /// It finished: the final status, output, error, its whole log and its blobs.
    Finished(Box<Finished>),
    PropertyWrite {
        thing: String,
        property: String,
        value: String,
        time: String,
        source: Word,
        invocation: Option<String>,
    },
    Event {
        thing: String,
        event: String,
        data: String,
        time: String,
    },
}

impl Row {
    /// About the heap bytes this row holds while it waits for the writer (its strings, its log,
    /// in-memory blob bytes): what the writer's queue is bounded by, with the row count.
    pub fn weight(&self) -> usize {
        /// A row's own allocation and bookkeeping, beside its strings.
        const OVERHEAD: usize = 128;
        OVERHEAD
            + match self {
                Row::Requested(requested) => requested.weight(),
                Row::Started { id, time } => id.len() + time.len(),
                Row::Finished(finished) => finished.weight(),
                Row::PropertyWrite {
                    thing,
                    property,
                    value,
                    time,
                    invocation,
                    ..
                } => {
                    thing.len()
                        + property.len()
                        + value.len()
                        + time.len()
                        + invocation.as_ref().map_or(0, String::len)
                }
                Row::Event {
                    thing,
                    event,
                    data,
                    time,
                } => thing.len() + event.len() + data.len() + time.len(),
            }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Requested {
    pub id: String,
    pub thing: String,
    pub action: String,
    /// JSON.
    pub input: String,
    pub time_requested: String,
    pub requester: String,
    pub peer: Option<String>,
    /// JSON: the Thing's data properties and settings when it was requested.
    pub snapshot: String,
    pub td_sha256: String,
    /// Filled by the writer when the invocation's start (and end) came in the same batch as
    /// its request: one `INSERT` then writes the whole row (quick actions, the common case).
    pub started: Option<String>,
    pub finished: Option<Box<Finished>>,
}

impl Requested {
    fn weight(&self) -> usize {
        self.id.len()
            + self.thing.len()
            + self.action.len()
            + self.input.len()
            + self.time_requested.len()
            + self.requester.len()
            + self.peer.as_ref().map_or(0, String::len)
            + self.snapshot.len()
            + self.td_sha256.len()
            + self.started.as_ref().map_or(0, String::len)
            + self
                .finished
                .as_ref()
                .map_or(0, |finished| finished.weight())
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Finished {
    pub id: String,
    pub status: Word,
    pub time_started: Option<String>,
    pub time_completed: String,
    /// JSON; blob links keep their relative `href` (`blob/<id>`).
    pub output: Option<String>,
    /// JSON (a problem).
    pub error: Option<String>,
    pub log: Vec<LogLine>,
    pub blobs: Vec<BlobRow>,
}

impl Finished {
    fn weight(&self) -> usize {
        /// A log line's own bytes beside its message (its struct, its time).
        const LINE: usize = 96;
        self.id.len()
            + self.time_completed.len()
            + self.output.as_ref().map_or(0, String::len)
            + self.error.as_ref().map_or(0, String::len)
            + self
                .log
                .iter()
                .map(|line| {
                    LINE + line.message.len() + line.exception_type.as_ref().map_or(0, String::len)
                })
                .sum::<usize>()
            + self
                .blobs
                .iter()
                .map(|blob| match &blob.content {
                    BlobContent::Bytes(bytes) => bytes.len(),
                    BlobContent::File(_) | BlobContent::Stored { .. } | BlobContent::Lost => 0,
                })
                .sum::<usize>()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LogLine {
    pub time: String,
    pub level: Word,
    pub message: String,
    pub exception_type: Option<String>,
}

/// A blob an output links to. Its bytes are hashed and stored by the writer, off the action's
/// thread.
#[derive(Debug, Serialize, Deserialize)]
pub struct BlobRow {
    pub id: String,
    pub media_type: String,
    pub content: BlobContent,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum BlobContent {
    /// Never spooled: the writer stores the bytes before it writes or spools the row.
    #[serde(skip)]
    Bytes(Bytes),
    File(PathBuf),
    /// The bytes could not be stored: the row names no blob.
    Lost,
    /// Written by the writer: the file named by this digest holds `size` bytes.
    Stored {
        sha256: String,
        size: usize,
    },
}
