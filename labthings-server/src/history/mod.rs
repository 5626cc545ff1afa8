//! The durable history: every invocation (with its input, output, log, blobs, who asked and
//! the Thing's state when it started), every property write and every event, in SQLite.
//!
//! `store` opens and migrates the file, `record` is what a row is, `recorder` turns the
//! server's happenings into rows (it is an [`InvocationObserver`] and a `PropertyObserver`,
//! so the runtime knows nothing of it), `writer` is the one thread that commits them,
//! `retention` keeps the file within its size and age, `query` reads it back for
//! `api/history.rs`. See the guide's History chapter for the schema and the guarantees.
//!
//! [`InvocationObserver`]: crate::runtime::invocation::InvocationObserver

pub mod query;
pub mod record;
pub mod recorder;
pub mod retention;
pub mod store;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

pub use retention::Retention;
pub use store::OpenError;

use crate::history::record::timestamp;
use crate::history::recorder::{RecordedThing, Recorder};
use crate::history::writer::{Identity, Writer};

/// The file name of the history in the settings folder (or the working directory).
pub const FILE_NAME: &str = "history.sqlite3";

/// Where the history is kept, as the command line and the config say it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HistoryLocation {
    /// `<settings folder>/history.sqlite3` when there is a settings folder, else none (a
    /// library server without a settings folder keeps no history unless asked; the
    /// `labthings-server` binary asks for `./history.sqlite3`).
    #[default]
    Default,
    /// No history.
    Off,
    /// This SQLite file.
    Sqlite(PathBuf),
}

impl HistoryLocation {
    /// `off`, or a path.
    pub fn parse(text: &str) -> Self {
        match text {
            "off" | "none" | "false" => HistoryLocation::Off,
            path => HistoryLocation::Sqlite(PathBuf::from(path)),
        }
    }

    /// The file to use, given the settings folder.
    pub fn file(&self, settings_folder: Option<&Path>) -> Option<PathBuf> {
        match self {
            HistoryLocation::Default => settings_folder.map(|folder| folder.join(FILE_NAME)),
            HistoryLocation::Off => None,
            HistoryLocation::Sqlite(path) => Some(path.clone()),
        }
    }
}

/// A running history: where it is, and the writer feeding it.
#[derive(Debug)]
pub struct History {
    pub path: PathBuf,
    /// Blob bytes, one file per SHA-256, beside the database.
    pub blobs: PathBuf,
    pub writer: Arc<Writer>,
    /// The observer every Thing and invocation reports to.
    pub recorder: Arc<Recorder>,
    /// Invocations a previous run left unfinished, marked `error` at this start.
    pub closed_at_start: usize,
}

impl History {
    /// Open (or create) the history at `path`, close what a previous run left unfinished,
    /// and start the writer.
    pub fn open(
        path: &Path,
        server: String,
        retention: Retention,
        things: std::collections::HashMap<String, RecordedThing>,
    ) -> Result<Self, OpenError> {
        let connection = store::open(path)?;
        let closed_at_start = store::close_unfinished(&connection, &server, &timestamp(Utc::now()))
            .map_err(|source| OpenError::Sqlite {
                path: path.to_owned(),
                source,
            })?;
        if closed_at_start > 0 {
            tracing::warn!(
                count = closed_at_start,
                "history: invocations the last run left pending or running are marked `error` (server stopped)"
            );
        }
        let blobs = blob_folder(path);
        let identity = Identity {
            server,
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let writer = Writer::start(connection, identity, blobs.clone(), retention)
            .map_err(OpenError::Thread)?;
        let writer = Arc::new(writer);
        Ok(Self {
            path: path.to_owned(),
            blobs,
            recorder: Arc::new(Recorder::new(writer.clone(), things)),
            writer,
            closed_at_start,
        })
    }

    /// A read-only connection, for one query.
    pub fn reader(&self) -> rusqlite::Result<rusqlite::Connection> {
        store::open_reader(&self.path)
    }
}

/// `history.sqlite3` → `history.blobs/` beside it.
fn blob_folder(path: &Path) -> PathBuf {
    let mut folder = path.with_extension("blobs");
    if folder == path {
        folder = path.with_extension("history-blobs");
    }
    folder
}
