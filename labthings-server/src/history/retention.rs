//! Keeping the history within its size and age: the oldest rows go first, and a blob file
//! goes when no record refers to it any more.
//!
//! Size is what the database's used pages plus the blob files take (SQLite reuses freed pages
//! rather than shrinking the file, so the file itself stays at its high-water mark).

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use crate::history::record::timestamp;
use crate::history::writer::blob_path;

/// The default size limit: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// How much the history may keep.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Database pages in use plus blob files.
    pub max_bytes: u64,
    /// Rows older than this go; `None`: no age limit.
    pub max_age: Option<Duration>,
    /// How often the writer checks.
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_age: None,
            every: Duration::from_secs(10),
        }
    }
}

/// Rows deleted per step while over the size limit (each step is one transaction, so rows
/// waiting to be written are not held up long).
const STEP: i64 = 1000;

impl Retention {
    /// Delete what is too old, then the oldest until the history fits. Errors are logged: the
    /// history goes on growing rather than stopping the server.
    pub fn apply(&self, connection: &Connection, blobs: &Path) {
        if let Err(error) = self.try_apply(connection, blobs) {
            tracing::warn!(%error, "history: retention failed");
        }
    }

    fn try_apply(&self, connection: &Connection, blobs: &Path) -> rusqlite::Result<()> {
        if let Some(age) = self.max_age {
            let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
            let cutoff = timestamp(Utc::now() - age);
            delete_before(connection, blobs, &cutoff)?;
        }
        // Each step deletes the oldest `STEP` invocations and what is older than the newest
        // of them; stop when it fits or nothing is left to delete.
        while used_bytes(connection, blobs)? > self.max_bytes {
            let cutoff: Option<String> = connection
                .query_row(
                    "SELECT time_requested FROM invocations
                     ORDER BY time_requested LIMIT 1 OFFSET ?1",
                    params![STEP - 1],
                    |row| row.get(0),
                )
                .optional()?;
            let cutoff = match cutoff {
                Some(cutoff) => cutoff,
                // Fewer invocations than a step: the oldest property writes and events go.
                None => oldest_other(connection)?.unwrap_or_else(|| timestamp(Utc::now())),
            };
            if delete_before(connection, blobs, &cutoff)? == 0 {
                // Only fresher rows are left: delete everything up to now.
                if delete_before(connection, blobs, &timestamp(Utc::now()))? == 0 {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The time of the `STEP`-th oldest property write or event.
fn oldest_other(connection: &Connection) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT time FROM (SELECT time FROM property_writes UNION ALL SELECT time FROM events)
             ORDER BY time LIMIT 1 OFFSET ?1",
            params![STEP - 1],
            |row| row.get(0),
        )
        .optional()
}

/// Delete rows at or before `cutoff` (finished invocations only) and the blob files no record
/// refers to any more. Returns how many rows went.
fn delete_before(connection: &Connection, blobs: &Path, cutoff: &str) -> rusqlite::Result<usize> {
    let transaction =
        rusqlite::Transaction::new_unchecked(connection, rusqlite::TransactionBehavior::Immediate)?;
    let finished = "status NOT IN ('pending', 'running') AND time_requested <= ?1";
    let digests: Vec<String> = transaction
        .prepare(&format!(
            "SELECT DISTINCT sha256 FROM blobs WHERE invocation IN
             (SELECT id FROM invocations WHERE {finished})"
        ))?
        .query_map(params![cutoff], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut deleted = transaction.execute(
        &format!("DELETE FROM invocations WHERE {finished}"),
        params![cutoff],
    )?;
    deleted += transaction.execute(
        "DELETE FROM property_writes WHERE time <= ?1",
        params![cutoff],
    )?;
    deleted += transaction.execute("DELETE FROM events WHERE time <= ?1", params![cutoff])?;
    let mut unreferenced = Vec::new();
    for sha256 in digests {
        let kept: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)",
            params![sha256],
            |row| row.get(0),
        )?;
        if !kept {
            unreferenced.push(sha256);
        }
    }
    transaction.commit()?;
    // After the commit: a crash in between leaves a file nobody refers to, never a record
    // without its file.
    for sha256 in unreferenced {
        let _ = std::fs::remove_file(blob_path(blobs, &sha256));
    }
    Ok(deleted)
}

/// Bytes the history uses: database pages in use (not the free ones) and blob files.
pub fn used_bytes(connection: &Connection, blobs: &Path) -> rusqlite::Result<u64> {
    let pages: i64 = connection.query_row(
        "SELECT (page_count - freelist_count) * page_size
         FROM pragma_page_count, pragma_freelist_count, pragma_page_size",
        [],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(pages).unwrap_or(0) + folder_bytes(blobs))
}

fn folder_bytes(folder: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => folder_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}
