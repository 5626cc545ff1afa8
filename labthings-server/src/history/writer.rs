//! The one thread that writes the history: it owns the database connection, takes rows from a
//! bounded channel and commits them in groups, so that an action never waits for the disk.
//!
//! Group commit: after the first row of a batch the thread sleeps [`COMMIT_WINDOW`], takes
//! what came meanwhile (at most [`MAX_BATCH`] rows), then writes them all in one
//! `BEGIN IMMEDIATE` transaction. A caller only ever `try_send`s: when the channel is full (the disk can't keep
//! up) the row is dropped and counted, with one warning per episode. A failed commit (disk
//! full, read-only disk) drops its batch the same way and the server goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::history::record::{BlobContent, BlobRow, Finished, Requested, Row};
use crate::history::retention::Retention;
use crate::history::sql::{SqliteWriter, StoreError, Write, transaction};

/// How long the writer gathers rows before committing them: with the time a commit takes,
/// what a `kill -9` can lose at most.
pub const COMMIT_WINDOW: Duration = Duration::from_millis(5);

/// The most rows one transaction writes.
pub const MAX_BATCH: usize = 4096;

/// Rows that may wait for the writer; beyond, rows are dropped and counted. Enforced through
/// the byte bound: every row is charged at least [`QUEUE_BYTES`] / `QUEUE` bytes.
pub const QUEUE: usize = 16_384;

/// What a row costs the byte bound at least, so that the byte bound is also the row bound.
const ROW_CHARGE: usize = QUEUE_BYTES / QUEUE;
// Exactly: `QUEUE` rows of the smallest charge fill the byte bound, one more doesn't fit.
const _: () = assert!(QUEUE_BYTES.is_multiple_of(QUEUE));

/// Bytes the waiting rows may hold together ([`Row::weight`]): a row count alone would let a
/// burst of chatty invocations (a 1,000-line log is ~130 kB a row) queue gigabytes while the
/// disk lags. Beyond it rows are dropped and counted like on a full queue.
pub const QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// The bytes of the rows queued for the writer, bounded by a limit (see [`QUEUE_BYTES`]).
#[derive(Debug)]
struct QueuedBytes {
    held: AtomicUsize,
    limit: usize,
}

impl QueuedBytes {
    fn new(limit: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            limit,
        }
    }

    /// Take `bytes` if they fit (a row alone in the queue always fits).
    fn try_take(&self, bytes: usize) -> bool {
        self.held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                (held == 0 || held.saturating_add(bytes) <= self.limit).then(|| held + bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        let _ = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }
}

/// What the writer has done, for the status route and the tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    /// Rows waiting in the local spool for PostgreSQL to come back.
    pub spooled: AtomicU64,
    /// Invocations a previous run of this server left unfinished, marked `error` at this start
    /// (SQLite) or at the first connection to PostgreSQL.
    pub closed_at_start: AtomicU64,
    /// Set while rows are being dropped, so the warning comes once per episode.
    dropping: AtomicBool,
    /// Set while commits fail, likewise.
    failing: AtomicBool,
}

impl Stats {
    fn drop_rows(&self, count: u64, why: &str) {
        self.dropped.fetch_add(count, Ordering::Relaxed);
        if !self.dropping.swap(true, Ordering::Relaxed) {
            tracing::warn!("history: {why}; rows are dropped (and counted) until it catches up");
        }
    }
}

enum Message {
    /// A row and its [`Row::weight`], given back once it is written.
    Row(Row, usize),
    /// Commit what is queued, then answer (the tests, the benchmarks).
    Flush(mpsc::SyncSender<()>),
    /// Commit what is queued and end the thread.
    Stop,
}

/// Who writes rows, and the folder blob bytes go to.
#[derive(Debug)]
pub struct Writer {
    sender: Sender<Message>,
    /// Turned `true` by [`Writer::stop`]: a connection attempt to PostgreSQL under way gives up.
    stopping: watch::Sender<bool>,
    queued: Arc<QueuedBytes>,
    pub stats: Arc<Stats>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What every row of this server carries.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The server's identity (host and port), so one database can hold several servers.
    pub server: String,
    pub software_version: String,
}

/// Where the writer's batches go.
pub enum Sink {
    /// The SQLite file (opened, migrated); retention keeps it within its size and age.
    Sqlite(Connection),
    /// PostgreSQL, spooling to the local SQLite file while it is unreachable.
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::history::spool::Spooled>),
}

/// What the writer shares with its sink, made before either: the counters (the spool counts
/// what PostgreSQL refuses, and `closedAtStart`) and the stop signal (the spool stops trying to
/// connect once it turns `true`).
#[derive(Debug)]
pub struct Ties {
    pub stats: Arc<Stats>,
    stopping: watch::Sender<bool>,
}

impl Ties {
    pub fn new() -> Self {
        Self {
            stats: Arc::default(),
            stopping: watch::channel(false).0,
        }
    }

    /// Turns `true` when [`Writer::stop`] is called.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}

/// The [`Sink`] as the writer thread uses it: SQLite's connection with its statements kept
/// for the thread's life (they borrow it), or the PostgreSQL spool.
enum Target<'s> {
    Sqlite(SqliteWriter<'s>),
    #[cfg(feature = "postgres")]
    Postgres(&'s mut crate::history::spool::Spooled),
}

impl<'s> Target<'s> {
    fn of(sink: &'s mut Sink) -> Self {
        match sink {
            Sink::Sqlite(connection) => Target::Sqlite(SqliteWriter::new(connection)),
            #[cfg(feature = "postgres")]
            Sink::Postgres(spooled) => Target::Postgres(spooled),
        }
    }

    fn write(&mut self, identity: &Identity, rows: &[Row]) -> Result<(), StoreError> {
        match self {
            Target::Sqlite(sqlite) => write_batch(sqlite, identity, rows),
            #[cfg(feature = "postgres")]
            Target::Postgres(spooled) => spooled.write(identity, rows),
        }
    }

    /// How long to wait for rows before trying again to forward the spool; `None`: nothing
    /// waits.
    fn retry_in(&self) -> Option<Duration> {
        match self {
            Target::Sqlite(_) => None,
            #[cfg(feature = "postgres")]
            Target::Postgres(spooled) => spooled.retry_in(),
        }
    }

    /// Try to forward what the spool holds; `now`: even inside the reconnection back-off.
    fn forward(&mut self, _now: bool) {
        #[cfg(feature = "postgres")]
        if let Target::Postgres(spooled) = self {
            spooled.forward(_now);
        }
    }

    fn spooled(&self) -> u64 {
        match self {
            Target::Sqlite(_) => 0,
            #[cfg(feature = "postgres")]
            Target::Postgres(spooled) => spooled.spooled(),
        }
    }
}

impl Writer {
    /// Start the thread writing into `sink`; blobs go under `blob_folder`.
    pub fn start(
        sink: Sink,
        identity: Identity,
        blob_folder: PathBuf,
        retention: Retention,
        ties: Ties,
    ) -> std::io::Result<Self> {
        // Unbounded as a channel, bounded by `queued`: a bounded std channel allocates and
        // touches all its slots up front (16,384 rows' worth, ~3 MB of an idle server's RSS).
        let (sender, receiver) = mpsc::channel();
        let Ties { stats, stopping } = ties;
        let thread_stats = stats.clone();
        let queued = Arc::new(QueuedBytes::new(QUEUE_BYTES));
        let thread_queued = queued.clone();
        let thread = std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || {
                let mut sink = sink;
                let mut state = WriterThread {
                    identity,
                    blobs: blob_folder,
                    stats: thread_stats,
                    queued: thread_queued,
                    retention,
                };
                state.run(&mut Target::of(&mut sink), &receiver);
            })?;
        Ok(Self {
            sender,
            stopping,
            queued,
            stats,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queue `row`; never blocks. A full queue drops it (counted).
    pub fn send(&self, row: Row) {
        let weight = row.weight().max(ROW_CHARGE);
        if !self.queued.try_take(weight) {
            self.stats.drop_rows(
                1,
                "the writer can't keep up (its queue is full: 16,384 rows or 64 MiB)",
            );
            return;
        }
        // Fails only once the writer stopped: the server is going away.
        if self.sender.send(Message::Row(row, weight)).is_err() {
            self.queued.give_back(weight);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Wait until every row queued before this call is committed (or dropped).
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Commit what is queued and end the thread (at shutdown); rows sent afterwards are
    /// dropped and counted.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread
            && self.sender.send(Message::Stop).is_ok()
        {
            let _ = thread.join();
        }
    }
}

struct WriterThread {
    identity: Identity,
    blobs: PathBuf,
    stats: Arc<Stats>,
    queued: Arc<QueuedBytes>,
    retention: Retention,
}

impl WriterThread {
    fn run(&mut self, target: &mut Target<'_>, receiver: &mpsc::Receiver<Message>) {
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let mut flushes = Vec::new();
        let mut next_retention = Instant::now();
        let mut stop = false;
        // PostgreSQL: what a previous run spooled goes first.
        target.forward(true);
        while !stop {
            let message = match target.retry_in() {
                None => receiver.recv().map_err(|_| ()),
                Some(wait) => match receiver.recv_timeout(wait) {
                    Ok(message) => Ok(message),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        target.forward(false);
                        self.stats
                            .spooled
                            .store(target.spooled(), Ordering::Relaxed);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(()),
                },
            };
            match message {
                Ok(message) => stop = take(message, &mut batch, &mut batch_bytes, &mut flushes),
                Err(()) => return,
            }
            // Gather for the window by sleeping through it, not by waiting on the channel: a
            // receiver parked on the channel is woken (a context switch) by every row sent,
            // which on one core cost more than the rows' SQL. Asleep, senders wake no one.
            if !stop && flushes.is_empty() {
                std::thread::sleep(COMMIT_WINDOW);
            }
            while !stop && batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(message) => {
                        stop = take(message, &mut batch, &mut batch_bytes, &mut flushes);
                    }
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.commit(target, &mut batch);
            }
            self.queued.give_back(std::mem::take(&mut batch_bytes));
            if let Target::Sqlite(sqlite) = target
                && Instant::now() >= next_retention
            {
                // With more to delete than a round does, `next_retention` stays in the past:
                // again after the next commit.
                if !self.retention.apply(sqlite.connection(), &self.blobs) {
                    next_retention = Instant::now() + self.retention.every;
                }
            }
            // A flush (a test, a benchmark, shutdown) also waits for the spool to be forwarded
            // if the database is back.
            if !flushes.is_empty() || stop {
                target.forward(true);
            }
            self.stats
                .spooled
                .store(target.spooled(), Ordering::Relaxed);
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }

    fn commit(&mut self, target: &mut Target<'_>, batch: &mut Vec<Row>) {
        let count = batch.len() as u64;
        coalesce(batch);
        // Blob bytes go to files first: a row never names a file that isn't there.
        self.store_blobs(batch);
        let result = target.write(&self.identity, batch);
        batch.clear();
        match result {
            Ok(()) => {
                self.stats.written.fetch_add(count, Ordering::Relaxed);
                self.stats.failing.store(false, Ordering::Relaxed);
                self.stats.dropping.store(false, Ordering::Relaxed);
            }
            Err(error) => {
                self.stats.dropped.fetch_add(count, Ordering::Relaxed);
                if !self.stats.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "history: a commit failed (disk full, read-only, or the database refused the batch); its rows are dropped and counted, the server goes on");
                }
            }
        }
    }

    fn store_blobs(&self, batch: &mut [Row]) {
        for row in batch {
            let finished = match row {
                Row::Finished(finished) => Some(finished),
                Row::Requested(requested) => requested.finished.as_mut(),
                _ => None,
            };
            if let Some(finished) = finished {
                for blob in &mut finished.blobs {
                    if let Err(error) = store_blob(&self.blobs, blob) {
                        tracing::warn!(%error, blob = %blob.id, "history: could not store a blob's bytes");
                        blob.content = BlobContent::Lost;
                    }
                }
            }
        }
    }
}

/// Fold each invocation's start and end into its request when they are in the same batch, so
/// a quick invocation is one `INSERT` (of its final state) instead of an insert and two
/// updates of four indexes.
fn coalesce(batch: &mut Vec<Row>) {
    let mut requested_at: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(batch.len());
    for row in batch.drain(..) {
        let id = match &row {
            Row::Started { id, .. } => Some(id),
            Row::Finished(finished) => Some(&finished.id),
            _ => None,
        };
        let index = id.and_then(|id| requested_at.get(id).copied());
        if let Some(Row::Requested(requested)) = index.map(|i| &mut rows[i]) {
            match row {
                Row::Started { time, .. } => requested.started = Some(time),
                Row::Finished(finished) => requested.finished = Some(finished),
                _ => {}
            }
            continue;
        }
        if let Row::Requested(requested) = &row {
            requested_at.insert(requested.id.clone(), rows.len());
        }
        rows.push(row);
    }
    *batch = rows;
}

/// Add `message` to what this round handles; true for [`Message::Stop`].
fn take(
    message: Message,
    batch: &mut Vec<Row>,
    batch_bytes: &mut usize,
    flushes: &mut Vec<mpsc::SyncSender<()>>,
) -> bool {
    match message {
        Message::Row(row, weight) => {
            batch.push(row);
            *batch_bytes += weight;
        }
        Message::Flush(done) => flushes.push(done),
        Message::Stop => return true,
    }
    false
}

/// Where the bytes with digest `sha256` live under `folder`.
pub fn blob_path(folder: &Path, sha256: &str) -> PathBuf {
    folder.join(&sha256[..2.min(sha256.len())]).join(sha256)
}

/// Hash the blob's bytes, write them (once per content) and remember the digest in place of
/// the bytes.
fn store_blob(folder: &Path, blob: &mut BlobRow) -> std::io::Result<()> {
    let bytes = match &blob.content {
        BlobContent::Bytes(bytes) => bytes.clone(),
        BlobContent::File(path) => std::fs::read(path)?.into(),
        BlobContent::Stored { .. } | BlobContent::Lost => return Ok(()),
    };
    let sha256 = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
    let path = blob_path(folder, &sha256);
    if !path.exists() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::settings::atomic::write_atomically(&path, &bytes)?;
    }
    blob.content = BlobContent::Stored {
        sha256,
        size: bytes.len(),
    };
    Ok(())
}

/// The statements the writer runs, written once for both databases (see `sql`).
mod statement {
    pub const INSERT_INVOCATION: &str = "INSERT INTO invocations (id, server, thing, action, input,
        status, time_requested, requester, peer, snapshot, td_sha256, software_version,
        time_started, time_completed, output, error)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
        ON CONFLICT DO NOTHING";
    pub const START: &str = "UPDATE invocations SET status = 'running', time_started = ?2
        WHERE id = ?1 AND status = 'pending'";
    pub const FINISH: &str = "UPDATE invocations SET status = ?2,
        time_started = coalesce(?3, time_started), time_completed = ?4, output = ?5, error = ?6
        WHERE id = ?1";
    // A child row is written only if its invocation is there (its `pending` row may have been
    // dropped): a condition in the statement rather than a look at the update's count, so
    // PostgreSQL can pipeline a whole batch.
    pub const LOG: &str = "INSERT INTO invocation_log (invocation, seq, time, level, message,
        exception_type) SELECT ?1, ?2, ?3, ?4, ?5, ?6
        WHERE EXISTS (SELECT 1 FROM invocations WHERE id = ?1)
        ON CONFLICT (invocation, seq) DO UPDATE SET time = excluded.time,
        level = excluded.level, message = excluded.message,
        exception_type = excluded.exception_type";
    pub const BLOB: &str = "INSERT INTO blobs (id, invocation, sha256, media_type, size)
        SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM invocations WHERE id = ?2)
        ON CONFLICT (id) DO UPDATE SET invocation = excluded.invocation,
        sha256 = excluded.sha256, media_type = excluded.media_type, size = excluded.size";
    pub const PROPERTY_WRITE: &str = "INSERT INTO property_writes (server, thing, property,
        value, time, source, invocation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    pub const EVENT: &str = "INSERT INTO events (server, thing, event, data, time)
        VALUES (?1, ?2, ?3, ?4, ?5)";
}

/// Write `rows` in one transaction.
pub fn write_batch<W: Write + ?Sized>(
    store: &mut W,
    identity: &Identity,
    rows: &[Row],
) -> Result<(), StoreError> {
    transaction(store, |store| {
        rows.iter()
            .try_for_each(|row| write_row(store, identity, row))
    })
}

fn write_row<W: Write + ?Sized>(
    store: &mut W,
    identity: &Identity,
    row: &Row,
) -> Result<(), StoreError> {
    match row {
        Row::Requested(requested) => {
            let Requested {
                id,
                thing,
                action,
                input,
                time_requested,
                requester,
                peer,
                snapshot,
                td_sha256,
                started,
                finished,
            } = &**requested;
            let status: &str = match (started, finished) {
                (_, Some(finished)) => &finished.status,
                (Some(_), None) => "running",
                (None, None) => "pending",
            };
            let time_started = finished
                .as_ref()
                .and_then(|f| f.time_started.as_ref())
                .or(started.as_ref());
            let end = finished.as_deref();
            store.execute(
                statement::INSERT_INVOCATION,
                &[
                    id.into(),
                    (&identity.server).into(),
                    thing.into(),
                    action.into(),
                    input.into(),
                    status.into(),
                    time_requested.into(),
                    requester.into(),
                    peer.as_ref().into(),
                    snapshot.into(),
                    td_sha256.into(),
                    (&identity.software_version).into(),
                    time_started.into(),
                    end.map(|f| &f.time_completed).into(),
                    end.and_then(|f| f.output.as_ref()).into(),
                    end.and_then(|f| f.error.as_ref()).into(),
                ],
            )?;
            if let Some(finished) = end {
                write_children(store, finished)?;
            }
        }
        Row::Started { id, time } => {
            store.execute(statement::START, &[id.into(), time.into()])?;
        }
        Row::Finished(finished) => {
            store.execute(
                statement::FINISH,
                &[
                    (&finished.id).into(),
                    (&*finished.status).into(),
                    finished.time_started.as_ref().into(),
                    (&finished.time_completed).into(),
                    finished.output.as_ref().into(),
                    finished.error.as_ref().into(),
                ],
            )?;
            write_children(store, finished)?;
        }
        Row::PropertyWrite {
            thing,
            property,
            value,
            time,
            source,
            invocation,
        } => {
            store.execute(
                statement::PROPERTY_WRITE,
                &[
                    (&identity.server).into(),
                    thing.into(),
                    property.into(),
                    value.into(),
                    time.into(),
                    (&**source).into(),
                    invocation.as_ref().into(),
                ],
            )?;
        }
        Row::Event {
            thing,
            event,
            data,
            time,
        } => {
            store.execute(
                statement::EVENT,
                &[
                    (&identity.server).into(),
                    thing.into(),
                    event.into(),
                    data.into(),
                    time.into(),
                ],
            )?;
        }
    }
    Ok(())
}

/// An ended invocation's log lines and blobs.
fn write_children<W: Write + ?Sized>(store: &mut W, finished: &Finished) -> Result<(), StoreError> {
    for (seq, line) in finished.log.iter().enumerate() {
        store.execute(
            statement::LOG,
            &[
                (&finished.id).into(),
                (seq as i64).into(),
                (&line.time).into(),
                (&*line.level).into(),
                (&line.message).into(),
                line.exception_type.as_ref().into(),
            ],
        )?;
    }
    for blob in &finished.blobs {
        if let BlobContent::Stored { sha256, size } = &blob.content {
            store.execute(
                statement::BLOB,
                &[
                    (&blob.id).into(),
                    (&finished.id).into(),
                    sha256.into(),
                    (&blob.media_type).into(),
                    (*size as i64).into(),
                ],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::LogLine;

    #[test]
    fn queued_rows_are_bounded_in_bytes_and_a_lone_row_always_fits() {
        let queued = QueuedBytes::new(1000);
        assert!(queued.try_take(600));
        assert!(!queued.try_take(600), "600 + 600 > 1000");
        assert!(queued.try_take(400));
        queued.give_back(1000);
        assert!(queued.try_take(5000), "alone in the queue, any row fits");
        assert!(!queued.try_take(1));
    }

    #[test]
    fn a_finished_row_weighs_its_log() {
        let line = |n: usize| LogLine {
            time: timestamp_now(),
            level: "INFO".into(),
            message: format!("chatter line {n} of 1000, padded to a typical length"),
            exception_type: None,
        };
        let finished = |lines: usize| {
            Row::Finished(Box::new(Finished {
                id: "id".into(),
                status: "completed".into(),
                time_started: None,
                time_completed: timestamp_now(),
                output: Some("1000".into()),
                error: None,
                log: (0..lines).map(line).collect(),
                blobs: Vec::new(),
            }))
        };
        let (quiet, chatty) = (finished(0).weight(), finished(1000).weight());
        assert!(chatty - quiet > 1000 * 50, "{quiet} -> {chatty}");
    }

    fn timestamp_now() -> String {
        crate::history::record::timestamp(chrono::Utc::now())
    }
}
