//! The history database: opening it (WAL, `synchronous=NORMAL`), its schema and the
//! migrations that bring an older file up to date, and what start-up does to a file left by a
//! crash.
//!
//! The schema version lives in SQLite's `PRAGMA user_version`. Each migration runs in one
//! `BEGIN IMMEDIATE` transaction with its version bump, so a crash mid-migration leaves the
//! older version whole. A file from a newer binary is refused (its tables may mean something
//! this one doesn't know); a file that isn't a database, or fails SQLite's quick check, is
//! moved aside and a new one started.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::history::sql::{StoreError, Write};

/// The schema, one entry per version: `MIGRATIONS[n]` takes a file from version `n` to `n + 1`.
/// Append only: a released entry is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: invocations with their logs and blobs, property writes, events.
    "CREATE TABLE invocations (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        action TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        time_requested TEXT NOT NULL,
        time_started TEXT,
        time_completed TEXT,
        output TEXT,
        error TEXT,
        requester TEXT NOT NULL,
        peer TEXT,
        snapshot TEXT NOT NULL,
        td_sha256 TEXT NOT NULL,
        software_version TEXT NOT NULL
    ) STRICT;
    CREATE INDEX invocations_by_time ON invocations (time_requested, id);
    CREATE INDEX invocations_by_action ON invocations (thing, action, time_requested, id);
    CREATE INDEX invocations_unfinished ON invocations (status)
        WHERE status IN ('pending', 'running');
    CREATE TABLE invocation_log (
        invocation TEXT NOT NULL REFERENCES invocations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        time TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        exception_type TEXT,
        PRIMARY KEY (invocation, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE blobs (
        id TEXT PRIMARY KEY,
        invocation TEXT NOT NULL REFERENCES invocations (id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX blobs_by_invocation ON blobs (invocation);
    CREATE INDEX blobs_by_sha256 ON blobs (sha256);
    CREATE TABLE property_writes (
        seq INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        property TEXT NOT NULL,
        value TEXT NOT NULL,
        time TEXT NOT NULL,
        source TEXT NOT NULL,
        invocation TEXT
    ) STRICT;
    CREATE INDEX property_writes_by_name ON property_writes (thing, property, time);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        event TEXT NOT NULL,
        data TEXT NOT NULL,
        time TEXT NOT NULL
    ) STRICT;
    CREATE INDEX events_by_name ON events (thing, event, time);",
    // 2: batches waiting for PostgreSQL while it is unreachable (`spool`).
    "CREATE TABLE spool (
        seq INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        software_version TEXT NOT NULL,
        rows TEXT NOT NULL,
        count INTEGER NOT NULL
    ) STRICT;",
];

/// The schema version this binary writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why the history could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the history database {} has schema version {found}, newer than this server knows \
         ({known}): it was written by a newer LabThings. Use that version, or start with \
         --history PATH pointing elsewhere (or --history off)",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("could not open the history database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("could not prepare the history database {}: {source}", path.display())]
    Store { path: PathBuf, source: StoreError },
    #[error("the history's PostgreSQL database {url}: {source}")]
    Postgres { url: String, source: StoreError },
    #[error(
        "--history postgres://… needs a server built with the `postgres` feature \
         (cargo build --features labthings-server/postgres)"
    )]
    NoPostgres,
    #[error("could not start the history writer thread: {0}")]
    Thread(std::io::Error),
    #[error("could not move the corrupt history database {} aside: {source}", path.display())]
    MoveAside {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Open (creating if need be) the history at `path` for writing, migrated to the current
/// version. A corrupt file is moved aside (`<name>.corrupt-<unix time>`) with a warning.
pub fn open(path: &Path) -> Result<Connection, OpenError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    match open_checked(path) {
        Err(Corrupt::Yes(reason)) => {
            let aside = move_aside(path)?;
            tracing::warn!(
                path = %path.display(),
                moved_to = %aside.display(),
                %reason,
                "the history database is corrupt: moved it aside and started a new one"
            );
            open_checked(path).map_err(|error| match error {
                Corrupt::Yes(reason) => OpenError::Sqlite {
                    path: path.to_owned(),
                    source: reason,
                },
                Corrupt::No(error) => error,
            })
        }
        Err(Corrupt::No(error)) => Err(error),
        Ok(connection) => Ok(connection),
    }
}

enum Corrupt {
    /// The file is not a usable database: move it aside.
    Yes(rusqlite::Error),
    /// Something else (permissions, a newer version): report it.
    No(OpenError),
}

fn open_checked(path: &Path) -> Result<Connection, Corrupt> {
    let sqlite = |source| {
        Corrupt::No(OpenError::Sqlite {
            path: path.to_owned(),
            source,
        })
    };
    // SQLite removes the `-wal` file when the last connection closes cleanly: one left
    // behind means a crash (or another server has the file open), and only then is the whole
    // file read by `quick_check` (seconds for a large history on an SD card).
    let unclean = side_file(path, "-wal").exists();
    let connection = Connection::open(path).map_err(sqlite)?;
    // The first statements that read the file are where a non-database shows itself.
    let corrupt_or = |error: rusqlite::Error| {
        if is_corruption(&error) {
            Corrupt::Yes(error)
        } else {
            sqlite(error)
        }
    };
    connection
        .busy_timeout(Duration::from_secs(5))
        .map_err(sqlite)?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(corrupt_or)?;
    // A file that is not a database fails here already (reading its header and schema).
    let check: String = if unclean {
        connection
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(corrupt_or)?
    } else {
        connection
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(corrupt_or)?;
        "ok".into()
    };
    if check != "ok" {
        return Err(Corrupt::Yes(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(check),
        )));
    }
    // Durable against a crash of this process at every commit; a power cut may lose the
    // last commits (the WAL is synced at checkpoints), never the file's consistency.
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite)?;
    connection
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(sqlite)?;
    // Checkpoint every ~40 MB of WAL rather than SQLite's 4 MB: invocation ids are random
    // UUIDs, so every insert dirties a random page of the id index; between checkpoints a page
    // rewritten by many commits is copied back (and the file synced) once. Measured: ~20% of
    // the writer's CPU. The WAL file is truncated back to 64 MiB after a checkpoint.
    connection
        .pragma_update(None, "wal_autocheckpoint", 10_000)
        .map_err(sqlite)?;
    connection
        .pragma_update(None, "journal_size_limit", 64 << 20)
        .map_err(sqlite)?;
    migrate(path, &connection).map_err(Corrupt::No)?;
    Ok(connection)
}

fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn move_aside(path: &Path) -> Result<PathBuf, OpenError> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{seconds}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|source| OpenError::MoveAside {
        path: path.to_owned(),
        source,
    })?;
    // The old WAL and shared-memory files belong to the old file.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(side_file(path, suffix));
    }
    Ok(aside)
}

/// `history.sqlite3` + `-wal` → `history.sqlite3-wal`.
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut side = path.as_os_str().to_owned();
    side.push(suffix);
    PathBuf::from(side)
}

/// Bring the file to the current version, one step per transaction.
fn migrate(path: &Path, connection: &Connection) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    loop {
        // Read inside the transaction: two servers opening one file migrate it once.
        let transaction =
            rusqlite::Transaction::new_unchecked(connection, TransactionBehavior::Immediate)
                .map_err(sqlite)?;
        let found: i64 = transaction
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sqlite)?;
        let known = current_version();
        if found > known {
            return Err(OpenError::TooNew {
                path: path.to_owned(),
                found,
                known,
            });
        }
        let Some(step) = usize::try_from(found).ok().and_then(|n| MIGRATIONS.get(n)) else {
            return Ok(());
        };
        transaction.execute_batch(step).map_err(sqlite)?;
        transaction
            .pragma_update(None, "user_version", found + 1)
            .map_err(sqlite)?;
        transaction.commit().map_err(sqlite)?;
    }
}

/// Mark invocations a previous run of *this* server left `pending` or `running` (requested
/// before `started`, this run's start) as ended by an `error`: it stopped (or was killed)
/// before they finished. Other servers sharing the database keep theirs (they may be running
/// them now). Returns how many. SQLite and PostgreSQL alike.
pub fn close_unfinished<W: Write + ?Sized>(
    store: &mut W,
    server: &str,
    started: &str,
) -> Result<u64, StoreError> {
    const CLOSE: &str = "UPDATE invocations SET status = 'error', time_completed = ?1, error = ?2
         WHERE status IN ('pending', 'running') AND server = ?3 AND time_requested < ?1";
    let problem = server_stopped();
    store.execute(
        CLOSE,
        &[started.into(), problem.as_str().into(), server.into()],
    )
}

/// The error an invocation left unfinished by a stopped server is recorded with (JSON).
fn server_stopped() -> String {
    let problem =
        labthings_protocol::problem::Problem::about_blank(500, "ServerStopped", "server stopped");
    serde_json::to_string(&problem).unwrap_or_default()
}

/// A read-only connection for queries (the writer keeps its own).
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lt-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("history.sqlite3")
    }

    #[test]
    fn a_new_file_gets_the_current_schema_and_wal() {
        let path = scratch();
        let connection = open(&path).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, current_version());
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(connection);
        // Opening again migrates nothing and keeps the version.
        open(&path).unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn start_up_closes_only_its_own_servers_unfinished_invocations() {
        let path = scratch();
        let mut connection = open(&path).unwrap();
        for (id, server) in [("a", "lab-a:8000"), ("b", "lab-b:8000")] {
            connection
                .execute(
                    "INSERT INTO invocations (id, server, thing, action, input, status,
                     time_requested, requester, snapshot, td_sha256, software_version)
                     VALUES (?1, ?2, 't', 'x', 'null', 'running', '2026', 'anonymous', '{}', '', '0')",
                    rusqlite::params![id, server],
                )
                .unwrap();
        }
        assert_eq!(
            close_unfinished(&mut connection, "lab-a:8000", "2027").unwrap(),
            1
        );
        let status = |id: &str| -> (String, Option<String>) {
            connection
                .query_row(
                    "SELECT status, error FROM invocations WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        let (status_a, error_a) = status("a");
        assert_eq!(status_a, "error");
        let error: serde_json::Value = serde_json::from_str(&error_a.unwrap()).unwrap();
        assert_eq!(error["title"], "ServerStopped");
        assert_eq!(error["type"], "about:blank");
        assert_eq!(
            status("b").0,
            "running",
            "the other server's invocation is its own"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_newer_file_is_refused() {
        let path = scratch();
        let connection = open(&path).unwrap();
        connection
            .pragma_update(None, "user_version", current_version() + 1)
            .unwrap();
        drop(connection);
        let error = open(&path).unwrap_err();
        assert!(matches!(error, OpenError::TooNew { .. }), "{error}");
        assert!(error.to_string().contains("newer"));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_a_new_one_started() {
        let path = scratch();
        std::fs::write(&path, vec![0x42; 8192]).unwrap();
        let connection = open(&path).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, current_version());
        let dir = path.parent().unwrap();
        let aside = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
            .count();
        assert_eq!(aside, 1, "the corrupt file is kept beside");
        let _ = std::fs::remove_dir_all(dir);
    }
}
