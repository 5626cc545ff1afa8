//! Keeping the history within its size and age: the oldest rows go first, and a blob file
//! goes when no record refers to it any more.
//!
//! Size is what the database's used pages plus the blob files take (SQLite reuses freed pages
//! rather than shrinking the file, so the file itself stays at its high-water mark); the blob
//! files' sizes come from the `blobs` table.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use rusqlite::{Connection, params};

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

/// Rows deleted per table and step (each step is one transaction, so rows waiting to be
/// written are not held up long).
const STEP: i64 = 1000;

/// The longest one round of retention may take. The writer thread does it between commits,
/// so a round past this would hold up the rows queueing meanwhile (and a stop): with more to
/// delete, the writer comes back to it after its next commit instead.
const ROUND: Duration = Duration::from_millis(50);

impl Retention {
    /// Delete what is too old, then the oldest until the history fits, for at most a
    /// [`ROUND`]. Whether there is more to do (the writer comes back at once). Errors are
    /// logged: the history goes on growing rather than stopping the server.
    pub fn apply(&self, connection: &Connection, blobs: &Path) -> bool {
        match self.try_apply(connection, blobs, Instant::now() + ROUND) {
            Ok(more) => more,
            Err(error) => {
                tracing::warn!(%error, "history: retention failed");
                false
            }
        }
    }

    fn try_apply(
        &self,
        connection: &Connection,
        blobs: &Path,
        deadline: Instant,
    ) -> rusqlite::Result<bool> {
        if let Some(age) = self.max_age {
            let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
            let cutoff = timestamp(Utc::now() - age);
            while delete_step(connection, blobs, &cutoff)? > 0 {
                if Instant::now() >= deadline {
                    return Ok(true);
                }
            }
        }
        // Each step deletes, in each table, the oldest rows up to the time of the oldest
        // table's `STEP`-th row; stop when it fits or nothing is left.
        while used_bytes(connection)? > self.max_bytes {
            // Nothing left in any table: only blob files could be over, and none can go.
            let Some(cutoff) = oldest_step(connection)? else {
                break;
            };
            if delete_step(connection, blobs, &cutoff)? == 0 {
                // Only fresher rows are left: delete up to now.
                if delete_step(connection, blobs, &timestamp(Utc::now()))? == 0 {
                    break;
                }
            }
            // After the step: every round makes progress, however late it starts.
            if Instant::now() >= deadline {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The time up to which one step deletes: the earliest, over the three tables, of the time of
/// its `STEP`-th oldest row (its newest if it has fewer), so that no table loses more than a
/// step's rows to it. Invocations go at most half of those left a step, so a few invocations
/// with large blobs are not all deleted for one that is over. Each lookup walks an index or
/// the table's rowids (writes and events are appended in time order) from the oldest end.
fn oldest_step(connection: &Connection) -> rusqlite::Result<Option<String>> {
    connection.query_row(
        "SELECT min(t) FROM (
           SELECT (SELECT time_requested FROM invocations ORDER BY time_requested
                   LIMIT 1 OFFSET min(?1, (SELECT count(*) FROM invocations) / 2)) AS t
           UNION ALL
           SELECT coalesce((SELECT time FROM property_writes ORDER BY seq LIMIT 1 OFFSET ?1),
                           (SELECT time FROM property_writes ORDER BY seq DESC LIMIT 1))
           UNION ALL
           SELECT coalesce((SELECT time FROM events ORDER BY seq LIMIT 1 OFFSET ?1),
                           (SELECT time FROM events ORDER BY seq DESC LIMIT 1)))",
        params![STEP - 1],
        |row| row.get(0),
    )
}

/// Delete, from each table, at most `STEP` of its oldest rows at or before `cutoff` (finished
/// invocations only), and the blob files no record refers to any more. Each table is read
/// from its oldest end (the time index, or the rowids of writes and events), never scanned
/// whole. Returns how many rows went.
fn delete_step(connection: &Connection, blobs: &Path, cutoff: &str) -> rusqlite::Result<usize> {
    let transaction =
        rusqlite::Transaction::new_unchecked(connection, rusqlite::TransactionBehavior::Immediate)?;
    let oldest_finished = "SELECT id FROM invocations
         WHERE time_requested <= ?1 AND status NOT IN ('pending', 'running')
         ORDER BY time_requested LIMIT ?2";
    let digests: Vec<String> = transaction
        .prepare(&format!(
            "SELECT DISTINCT sha256 FROM blobs WHERE invocation IN ({oldest_finished})"
        ))?
        .query_map(params![cutoff, STEP], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut deleted = transaction.execute(
        &format!("DELETE FROM invocations WHERE id IN ({oldest_finished})"),
        params![cutoff, STEP],
    )?;
    for table in ["property_writes", "events"] {
        deleted += transaction.execute(
            &format!(
                "DELETE FROM {table} WHERE seq IN
                 (SELECT seq FROM {table} ORDER BY seq LIMIT ?2) AND time <= ?1"
            ),
            params![cutoff, STEP],
        )?;
    }
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

/// Bytes the history uses: database pages in use (not the free ones) and blob files — their
/// sizes from the `blobs` table (one file per distinct digest), not a walk of the folder
/// every 10 s.
pub fn used_bytes(connection: &Connection) -> rusqlite::Result<u64> {
    let bytes: i64 = connection.query_row(
        "SELECT (page_count - freelist_count) * page_size
           + (SELECT coalesce(sum(size), 0)
              FROM (SELECT max(size) AS size FROM blobs GROUP BY sha256))
         FROM pragma_page_count, pragma_freelist_count, pragma_page_size",
        [],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished invocation at `time` with a blob of `size` bytes whose file exists.
    fn invocation(connection: &Connection, blobs: &Path, n: usize, time: &str, size: usize) {
        let id = format!("id-{n}");
        let sha256 = format!("{n:064x}");
        connection
            .execute(
                "INSERT INTO invocations (id, server, thing, action, input, status,
                 time_requested, requester, snapshot, td_sha256, software_version)
                 VALUES (?1, 's', 't', 'a', 'null', 'completed', ?2, 'anonymous', '{}', '', '0')",
                params![id, time],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO blobs (id, invocation, sha256, media_type, size)
                 VALUES (?1, ?1, ?2, 'application/octet-stream', ?3)",
                params![id, sha256, size as i64],
            )
            .unwrap();
        let path = blob_path(blobs, &sha256);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![0; size]).unwrap();
    }

    /// A fresh history in a folder of its own: the folder, the database, its blob folder.
    fn scratch() -> (std::path::PathBuf, Connection, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("lt-retention-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let connection = crate::history::store::open(&dir.join("history.sqlite3")).unwrap();
        let blobs = dir.join("history.blobs");
        (dir, connection, blobs)
    }

    #[test]
    fn the_oldest_go_until_blobs_and_pages_fit_and_their_files_with_them() {
        let (dir, connection, blobs) = scratch();
        for n in 0..3 {
            invocation(
                &connection,
                &blobs,
                n,
                &format!("2026-01-0{}T00:00:00.000000Z", n + 1),
                1 << 20,
            );
        }
        let pages = used_bytes(&connection).unwrap() - 3 * (1 << 20);
        // Room for the pages and two blobs: the oldest invocation (and its file) goes.
        let retention = Retention {
            max_bytes: pages + 2 * (1 << 20) + 1000,
            max_age: None,
            every: Duration::from_secs(10),
        };
        assert!(!retention.apply(&connection, &blobs), "done in one round");
        let left: Vec<String> = connection
            .prepare("SELECT id FROM invocations ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!left.contains(&"id-0".to_owned()), "{left:?}");
        assert!(
            left.contains(&"id-2".to_owned()),
            "the newest stays: {left:?}"
        );
        assert!(!blob_path(&blobs, &format!("{:064x}", 0)).exists());
        assert!(blob_path(&blobs, &format!("{:064x}", 2)).exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_large_backlog_goes_oldest_first_in_bounded_rounds() {
        let (dir, connection, blobs) = scratch();
        // 300,000 property writes, one a millisecond, as a busy lab leaves them.
        connection
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299999)
                 INSERT INTO property_writes (server, thing, property, value, time, source)
                 SELECT 's', 't', 'p', i, strftime('%Y-%m-%dT%H:%M:%f', '2026-01-01',
                   '+' || (i / 1000.0) || ' seconds') || '000Z', 'http' FROM n;",
            )
            .unwrap();
        let full = used_bytes(&connection).unwrap();
        let retention = Retention {
            max_bytes: full / 4,
            max_age: None,
            every: Duration::from_secs(10),
        };
        let oldest = |connection: &Connection| -> i64 {
            connection
                .query_row(
                    "SELECT min(CAST(value AS INTEGER)) FROM property_writes",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let count = |connection: &Connection| -> i64 {
            connection
                .query_row("SELECT count(*) FROM property_writes", [], |r| r.get(0))
                .unwrap()
        };
        // Rounds whose deadline has passed when they start: each does one step and stops, so
        // a round never holds the writer (the rows queueing meanwhile, a stop) for long.
        let mut rounds = 0;
        loop {
            let before = count(&connection);
            let more = retention
                .try_apply(&connection, &blobs, Instant::now())
                .unwrap();
            let deleted = before - count(&connection);
            assert!(deleted <= STEP, "one round deleted {deleted} rows");
            rounds += 1;
            if !more {
                break;
            }
            assert!(rounds < 1000, "retention never finished");
        }
        // 225,000 rows to go, a step at a time.
        assert!(rounds > 100, "{rounds} rounds");
        assert!(used_bytes(&connection).unwrap() <= full / 4);
        let kept = count(&connection);
        assert!(kept > 0, "not everything went");
        // The oldest went first: what is left is the newest, without a gap.
        assert_eq!(oldest(&connection), 300_000 - kept);
        let _ = std::fs::remove_dir_all(dir);
    }
}
