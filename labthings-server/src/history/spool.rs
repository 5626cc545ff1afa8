//! PostgreSQL with a local spool: batches go to PostgreSQL while it answers; while it can't be
//! reached they are appended, as JSON, to the `spool` table of the local SQLite file, and
//! forwarded oldest first when it is back — before any newer batch, so each server's rows
//! reach the database in the order they happened, and none is lost to an outage.
//!
//! A batch leaves the spool once PostgreSQL has committed it. A crash between that commit and
//! the delete forwards it again at the next start: invocations are keyed by id (written once),
//! but its property writes and events would be there twice.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::watch;

use crate::history::postgres::Postgres;
use crate::history::record::Row;
use crate::history::sql::StoreError;
use crate::history::store;
use crate::history::writer::{Identity, Stats, Ties, write_batch};

/// How often an unreachable database is tried again while rows wait.
pub const RETRY: Duration = Duration::from_millis(500);

/// After a statement that held the writer until it timed out (a locked table, a stalled
/// server), the next try waits this many times as long as it was held: the writer spends at
/// most a fifth of its time on a database that holds it, and goes on spooling the rest.
const HELD_BACKOFF: u32 = 4;

/// The writer's sink when the history is in PostgreSQL.
pub struct Spooled {
    database: Postgres,
    local: Connection,
    /// Rows in the spool.
    spooled: u64,
    next_attempt: Instant,
    /// This server's identity and start time: at the first connection, its invocations a
    /// previous run left unfinished are closed (those requested before this start).
    server: String,
    started: String,
    closed_unfinished: bool,
    /// Set while the database is unreachable, so the warning comes once per outage.
    down: bool,
    /// The writer's counters: rows refused by the database are dropped there, and the count
    /// of closed invocations is `closedAtStart`.
    stats: Arc<Stats>,
    /// `true` once the writer is stopping: an attempt to connect under way gives up, and none
    /// is started — what is spooled stays in the local file and goes first at the next start.
    /// So a stop never waits for a database that doesn't answer (up to the connection
    /// timeout, 3 s, per attempt).
    stop: watch::Receiver<bool>,
}

impl Spooled {
    /// Spool into `local` (the SQLite history file, opened and migrated) until `database`
    /// answers, counting into the writer's `ties`. Blocks on nothing: the writer thread calls
    /// [`Spooled::forward`] first.
    pub fn new(
        mut database: Postgres,
        local: Connection,
        server: String,
        started: String,
        ties: &Ties,
    ) -> Self {
        let stop = ties.stop_signal();
        database.cancel_on(stop.clone());
        let spooled: i64 = local
            .query_row("SELECT coalesce(sum(count), 0) FROM spool", [], |row| {
                row.get(0)
            })
            .unwrap_or(0);
        let database_connected = database.connected();
        Self {
            database,
            local,
            spooled: spooled as u64,
            next_attempt: Instant::now(),
            server,
            started,
            closed_unfinished: false,
            // Unreachable at start has been said already.
            down: !database_connected,
            stats: ties.stats.clone(),
            stop,
        }
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Rows waiting for the database.
    pub fn spooled(&self) -> u64 {
        self.spooled
    }

    /// Is the database reachable now (as far as the last attempt knows)?
    pub fn reachable(&self) -> bool {
        self.database.connected()
    }

    /// When the writer should call [`Spooled::forward`] again without new rows.
    pub fn retry_in(&self) -> Option<Duration> {
        (self.spooled > 0 || !self.closed_unfinished).then_some(RETRY)
    }

    /// Write `rows` to the database, or to the spool if it (or older rows) can't be.
    pub fn write(&mut self, identity: &Identity, rows: &[Row]) -> Result<(), StoreError> {
        if self.spooled > 0 || !self.database.connected() {
            self.forward(false);
        }
        if self.spooled == 0 && self.database.connected() {
            let sent = Instant::now();
            match write_batch(&mut self.database, identity, rows) {
                Ok(()) => return Ok(()),
                Err(error) if error.unreachable() => self.lost(&error, sent.elapsed()),
                Err(error) => return Err(error),
            }
        }
        self.spool(identity, rows)
    }

    fn spool(&mut self, identity: &Identity, rows: &[Row]) -> Result<(), StoreError> {
        let json = serde_json::to_string(rows)?;
        self.local.execute(
            "INSERT INTO spool (server, software_version, rows, count) VALUES (?1, ?2, ?3, ?4)",
            params![
                identity.server,
                identity.software_version,
                json,
                rows.len() as i64
            ],
        )?;
        self.spooled += rows.len() as u64;
        Ok(())
    }

    /// The database is unreachable (the failed exchange held the writer for `held`).
    fn lost(&mut self, error: &StoreError, held: Duration) {
        self.database.disconnect();
        self.next_attempt = Instant::now() + RETRY.max(held * HELD_BACKOFF);
        if !self.down {
            self.down = true;
            tracing::warn!(%error, "history: PostgreSQL is unreachable; rows are spooled to the local file and forwarded when it is back");
        }
    }

    /// Connect if need be (`now`: even within the back-off) and forward the spool, oldest
    /// first; then, once, close what a previous run of this server left unfinished.
    pub fn forward(&mut self, now: bool) {
        if !self.database.connected() {
            // The attempt runs on the database's own worker: unless `now` (a flush, the first
            // round), the writer only looks at its outcome and goes on spooling meanwhile.
            // The outcome of an attempt started earlier, if it has one (a flush waits for it).
            let earlier = match self.database.attempted() {
                None if now && self.database.connecting() => Some(self.database.connect()),
                earlier => earlier,
            };
            let outcome = match earlier {
                Some(Ok(())) => Ok(()),
                // A flush wants the database as it is now: an attempt started earlier may have
                // failed before it came back.
                _ if now && !self.stopping() => self.database.connect(),
                Some(Err(error)) => Err(error),
                None if self.stopping()
                    || self.database.connecting()
                    || Instant::now() < self.next_attempt =>
                {
                    return;
                }
                None => {
                    self.database.start_connecting();
                    return;
                }
            };
            if let Err(error) = outcome {
                self.lost(&error, Duration::ZERO);
                return;
            }
            if std::mem::take(&mut self.down) {
                tracing::info!(
                    spooled = self.spooled,
                    "history: PostgreSQL is reachable again; forwarding the spool"
                );
            }
        }
        while self.spooled > 0 {
            let next = self
                .local
                .query_row(
                    "SELECT seq, server, software_version, rows, count FROM spool
                     ORDER BY seq LIMIT 1",
                    [],
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            Identity {
                                server: row.get(1)?,
                                software_version: row.get(2)?,
                            },
                            row.get::<_, String>(3)?,
                            row.get::<_, i64>(4)?,
                        ))
                    },
                )
                .optional();
            let (seq, identity, json, count) = match next {
                Ok(Some(next)) => next,
                Ok(None) => {
                    self.spooled = 0;
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "history: could not read the spool");
                    return;
                }
            };
            let sent = Instant::now();
            let written = serde_json::from_str::<Vec<Row>>(&json)
                .map_err(StoreError::from)
                .and_then(|rows| write_batch(&mut self.database, &identity, &rows));
            match written {
                Ok(()) => {}
                Err(error) if error.unreachable() => return self.lost(&error, sent.elapsed()),
                // The batch's own fault (PostgreSQL refused it, or a value could not be sent):
                // it would fail again, so it is dropped rather than holding back the rest.
                Err(error) => {
                    self.stats
                        .dropped
                        .fetch_add(count as u64, Ordering::Relaxed);
                    tracing::warn!(%error, count, "history: PostgreSQL refused a spooled batch; its rows are dropped (and counted)");
                }
            }
            if let Err(error) = self
                .local
                .execute("DELETE FROM spool WHERE seq = ?1", [seq])
            {
                tracing::warn!(%error, "history: could not remove a forwarded batch from the spool");
                return;
            }
            self.spooled = self.spooled.saturating_sub(count as u64);
        }
        if !self.closed_unfinished {
            let sent = Instant::now();
            match store::close_unfinished(&mut self.database, &self.server, &self.started) {
                Ok(count) => {
                    self.closed_unfinished = true;
                    self.stats.closed_at_start.store(count, Ordering::Relaxed);
                    if count > 0 {
                        tracing::warn!(
                            count,
                            "history: invocations the last run left pending or running are marked `error` (server stopped)"
                        );
                    }
                }
                Err(error) if error.unreachable() => self.lost(&error, sent.elapsed()),
                Err(error) => {
                    self.closed_unfinished = true;
                    tracing::warn!(%error, "history: could not close the last run's unfinished invocations");
                }
            }
        }
    }
}
