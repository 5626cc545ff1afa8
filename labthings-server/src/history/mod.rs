//! The durable history: every invocation (with its input, output, log, blobs, who asked and
//! the Thing's state when it started), every property write and every event, in SQLite or
//! (feature `postgres`) in a PostgreSQL database several servers share.
//!
//! `store` opens and migrates the SQLite file, `record` is what a row is, `recorder` turns the
//! server's happenings into rows (it is an [`InvocationObserver`] and a `PropertyObserver`,
//! so the runtime knows nothing of it), `writer` is the one thread that commits them,
//! `retention` keeps the file within its size and age, `query` reads it back for
//! `api/history.rs`. `sql` is the one seam both databases implement (`Write` for the writer,
//! `Read` for `query`); `postgres` is PostgreSQL's connection and schema, `spool` keeps its
//! batches in the SQLite file while it is unreachable. See the guide's History chapter for the
//! schema and the guarantees.
//!
//! [`InvocationObserver`]: crate::runtime::invocation::InvocationObserver

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod query;
pub mod record;
pub mod recorder;
pub mod retention;
#[cfg(feature = "postgres")]
pub mod spool;
pub mod sql;
pub mod store;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

pub use retention::Retention;
pub use store::OpenError;

use crate::history::record::timestamp;
use crate::history::recorder::{RecordedThing, Recorder};
use crate::history::sql::{Read, StoreError};
use crate::history::writer::{Identity, Sink, Ties, Writer};

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
    /// A PostgreSQL database (`postgres://user@host:port/db`, feature `postgres`), spooling to
    /// `history.sqlite3` in the settings folder (or the working directory) while it is
    /// unreachable.
    Postgres(String),
}

impl HistoryLocation {
    /// `off`, a `postgres://` URL, or a path.
    pub fn parse(text: &str) -> Self {
        match text {
            "off" | "none" | "false" => HistoryLocation::Off,
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                HistoryLocation::Postgres(url.to_owned())
            }
            path => HistoryLocation::Sqlite(PathBuf::from(path)),
        }
    }

    /// The SQLite file to use (the history, or PostgreSQL's spool), given the settings folder.
    pub fn file(&self, settings_folder: Option<&Path>) -> Option<PathBuf> {
        match self {
            HistoryLocation::Default => settings_folder.map(|folder| folder.join(FILE_NAME)),
            HistoryLocation::Off => None,
            HistoryLocation::Sqlite(path) => Some(path.clone()),
            HistoryLocation::Postgres(_) => Some(
                settings_folder.map_or_else(|| PathBuf::from(FILE_NAME), |f| f.join(FILE_NAME)),
            ),
        }
    }
}

/// Read-only SQLite connections kept between `/history` requests: opening one costs a file
/// open, a lock probe and parsing the schema, more than a small query.
const READERS: usize = 4;

/// Where the `/history` routes read.
#[derive(Debug)]
enum Source {
    /// The SQLite file, through up to [`READERS`] kept connections.
    Sqlite(std::sync::Mutex<Vec<rusqlite::Connection>>),
    #[cfg(feature = "postgres")]
    Postgres {
        reader: Box<postgres::Reader>,
        /// The URL without its password.
        shown: String,
    },
}

/// A running history: where it is, and the writer feeding it.
#[derive(Debug)]
pub struct History {
    /// The SQLite file: the history, or PostgreSQL's spool.
    pub path: PathBuf,
    /// Blob bytes, one file per SHA-256, beside the database.
    pub blobs: PathBuf,
    pub writer: Arc<Writer>,
    /// The observer every Thing and invocation reports to.
    pub recorder: Arc<Recorder>,
    source: Source,
}

impl History {
    /// Open (or create) the history at `location` (`path` is its SQLite file), close what a
    /// previous run of `server` left unfinished, and start the writer.
    pub fn open(
        location: &HistoryLocation,
        path: &Path,
        server: String,
        retention: Retention,
        things: std::collections::HashMap<String, RecordedThing>,
    ) -> Result<Self, OpenError> {
        let mut connection = store::open(path)?;
        let started = timestamp(Utc::now());
        // Under PostgreSQL the local file only spools: the unfinished invocations are in the
        // database, closed by the writer at its first connection (see `spool`).
        let ties = Ties::new();
        let (sink, source) = match location {
            HistoryLocation::Postgres(url) => {
                postgres_sink(url, connection, &server, started, &ties)?
            }
            _ => {
                let closed_at_start = store::close_unfinished(&mut connection, &server, &started)
                    .map_err(|source| OpenError::Store {
                    path: path.to_owned(),
                    source,
                })?;
                if closed_at_start > 0 {
                    tracing::warn!(
                        count = closed_at_start,
                        "history: invocations the last run left pending or running are marked `error` (server stopped)"
                    );
                }
                ties.stats
                    .closed_at_start
                    .store(closed_at_start, std::sync::atomic::Ordering::Relaxed);
                (Sink::Sqlite(connection), Source::Sqlite(Default::default()))
            }
        };
        let blobs = blob_folder(path);
        let identity = Identity {
            server,
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let writer = Writer::start(sink, identity, blobs.clone(), retention, ties)
            .map_err(OpenError::Thread)?;
        let writer = Arc::new(writer);
        Ok(Self {
            path: path.to_owned(),
            blobs,
            recorder: Arc::new(Recorder::new(writer.clone(), things)),
            writer,
            source,
        })
    }

    /// Invocations a previous run of this server left unfinished, marked `error`: at this
    /// start (SQLite), or once the writer has reached PostgreSQL (0 until then).
    pub fn closed_at_start(&self) -> u64 {
        let stats = &self.writer.stats;
        stats
            .closed_at_start
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Run `query` on the store the history is in (a read-only SQLite connection, or the
    /// PostgreSQL reader); call from a blocking thread.
    pub fn read<T>(
        &self,
        query: impl FnOnce(&mut dyn Read) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.source {
            Source::Sqlite(kept) => {
                let taken = kept.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let mut connection = match taken {
                    Some(connection) => connection,
                    None => store::open_reader(&self.path)?,
                };
                let result = query(&mut connection);
                let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                if kept.len() < READERS {
                    kept.push(connection);
                }
                result
            }
            #[cfg(feature = "postgres")]
            Source::Postgres { reader, .. } => query(&mut reader.session()?),
        }
    }

    /// The PostgreSQL database the history is in (its URL without a password), if it is.
    pub fn database(&self) -> Option<&str> {
        match &self.source {
            Source::Sqlite(_) => None,
            #[cfg(feature = "postgres")]
            Source::Postgres { shown, .. } => Some(shown),
        }
    }
}

#[cfg(feature = "postgres")]
fn postgres_sink(
    url: &str,
    local: rusqlite::Connection,
    server: &str,
    started: String,
    ties: &Ties,
) -> Result<(Sink, Source), OpenError> {
    let shown = postgres::redacted(url);
    let failed = |source| OpenError::Postgres {
        url: shown.clone(),
        source,
    };
    let database = postgres::Postgres::new(url).map_err(failed)?;
    // On a thread of its own: the connection blocks on the writer's runtime, which can't be
    // done (nor that runtime dropped) on the server's. A newer schema (or a refused login)
    // refuses the start, like a newer SQLite file; an unreachable database only spools.
    let database = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let mut database = database;
                match database.connect() {
                    Err(error) if !error.unreachable() => Err(error),
                    _ => Ok(database),
                }
            })
            .join()
    })
    .map_err(|_| failed(StoreError::Unreachable))?
    .map_err(failed)?;
    let reader = Box::new(postgres::Reader::new(url).map_err(failed)?);
    let spooled = spool::Spooled::new(database, local, server.to_owned(), started, ties);
    if !spooled.reachable() {
        tracing::warn!(url = %shown, "history: PostgreSQL is unreachable at start; spooling to the local file until it answers");
    }
    let source = Source::Postgres { reader, shown };
    Ok((Sink::Postgres(Box::new(spooled)), source))
}

#[cfg(not(feature = "postgres"))]
fn postgres_sink(
    url: &str,
    _: rusqlite::Connection,
    _: &str,
    _: String,
    _: &Ties,
) -> Result<(Sink, Source), OpenError> {
    let _ = url;
    Err(OpenError::NoPostgres)
}

/// `history.sqlite3` → `history.blobs/` beside it.
fn blob_folder(path: &Path) -> PathBuf {
    let mut folder = path.with_extension("blobs");
    if folder == path {
        folder = path.with_extension("history-blobs");
    }
    folder
}
