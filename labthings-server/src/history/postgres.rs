//! PostgreSQL as the history's store (feature `postgres`): one writer connection for the
//! writer thread (a tokio runtime of its own with one worker, which drives the connection and
//! runs connection attempts, while the writer thread blocks on its statements and stays
//! synchronous like SQLite's), readers for the `/history` routes on the server's runtime, every
//! statement bounded in time ([`WRITE_TIMEOUT`], [`READ_TIMEOUT`]), and the schema —
//! the SQLite one, with `COLLATE "C"` on the text columns that are compared or ordered (times,
//! ids), so a database created with a language locale still orders timestamps bytewise.
//!
//! The schema version lives in a one-row table, `labthings_history_schema`; migrations run
//! under an advisory lock, so servers starting together migrate once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::history::sql::{Param, Read, Rows, StoreError, Write};

/// The schema, one entry per version (append only), as `store::MIGRATIONS` for SQLite.
pub const MIGRATIONS: &[&str] = &[
    // 1: invocations with their logs and blobs, property writes, events.
    r#"CREATE TABLE invocations (
        id TEXT COLLATE "C" PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        action TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        time_requested TEXT COLLATE "C" NOT NULL,
        time_started TEXT COLLATE "C",
        time_completed TEXT COLLATE "C",
        output TEXT,
        error TEXT,
        requester TEXT NOT NULL,
        peer TEXT,
        snapshot TEXT NOT NULL,
        td_sha256 TEXT NOT NULL,
        software_version TEXT NOT NULL
    );
    CREATE INDEX invocations_by_time ON invocations (time_requested, id);
    CREATE INDEX invocations_by_action ON invocations (thing, action, time_requested, id);
    CREATE INDEX invocations_by_server ON invocations (server, time_requested, id);
    CREATE INDEX invocations_unfinished ON invocations (status)
        WHERE status IN ('pending', 'running');
    CREATE TABLE invocation_log (
        invocation TEXT COLLATE "C" NOT NULL REFERENCES invocations (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        time TEXT COLLATE "C" NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        exception_type TEXT,
        PRIMARY KEY (invocation, seq)
    );
    CREATE TABLE blobs (
        id TEXT COLLATE "C" PRIMARY KEY,
        invocation TEXT COLLATE "C" NOT NULL REFERENCES invocations (id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size BIGINT NOT NULL
    );
    CREATE INDEX blobs_by_invocation ON blobs (invocation);
    CREATE INDEX blobs_by_sha256 ON blobs (sha256);
    CREATE TABLE property_writes (
        seq BIGSERIAL PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        property TEXT NOT NULL,
        value TEXT NOT NULL,
        time TEXT COLLATE "C" NOT NULL,
        source TEXT NOT NULL,
        invocation TEXT COLLATE "C"
    );
    CREATE INDEX property_writes_by_name ON property_writes (thing, property, time);
    CREATE TABLE events (
        seq BIGSERIAL PRIMARY KEY,
        server TEXT NOT NULL,
        thing TEXT NOT NULL,
        event TEXT NOT NULL,
        data TEXT NOT NULL,
        time TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX events_by_name ON events (thing, event, time);"#,
];

/// How long a connection attempt may take before the database counts as unreachable: the
/// whole of it, TCP and PostgreSQL's start-up exchange (see [`connect`]).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest one of the writer's statements may run (PostgreSQL's `statement_timeout`, set
/// for its session). Each is one row's insert or update: one that takes longer is waiting on a
/// lock (another session's `LOCK TABLE`, a `VACUUM FULL`) or a stalled server, and the writer
/// treats it as an outage — the batch is spooled, nothing is lost (SQLSTATE 57014 is of class
/// 57, see `StoreError::unreachable`).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest one `/history` read's statement may run; then the request answers 503.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// `statement_timeout` is the server's own clock: a server that stops answering altogether
/// never sends its verdict. So the client also bounds a whole exchange (a read, a batch's
/// commit, a migration) at its statement timeout plus this.
const GRACE: Duration = Duration::from_secs(2);

/// How long the writer waits for an answer to one exchange.
const WRITE_BOUND: Duration = WRITE_TIMEOUT.saturating_add(GRACE);

/// How long a `/history` read waits for its answer.
const READ_BOUND: Duration = READ_TIMEOUT.saturating_add(GRACE);

/// Prepared statements a reader's connection keeps. The queries are a bounded set (each a
/// choice of fixed filters), so this is only a guard.
const PREPARED: usize = 256;

/// `url` without its password, for logs and the status route.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let user = user.split_once(':').map_or(user, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// The connection settings of `url`, with a connection timeout and `statement_timeout` for the
/// session (before the URL's own `options`, which PostgreSQL applies after ours: a
/// `statement_timeout` there wins on the server, the client's bound stays ours).
pub fn config(url: &str, statement_timeout: Duration) -> Result<Config, StoreError> {
    let mut config: Config = url.parse()?;
    config.connect_timeout(CONNECT_TIMEOUT);
    let ours = format!("-c statement_timeout={}", statement_timeout.as_millis());
    let options = match config.get_options() {
        Some(theirs) => format!("{ours} {theirs}"),
        None => ours,
    };
    config.options(options);
    Ok(config)
}

/// `exchange` within `bound`: a server that doesn't answer by then counts as unreachable.
async fn within<T, E: Into<StoreError>>(
    bound: Duration,
    exchange: impl Future<Output = Result<T, E>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(bound, exchange).await {
        Ok(answer) => answer.map_err(Into::into),
        Err(_) => Err(StoreError::Unreachable),
    }
}

/// Connect within [`CONNECT_TIMEOUT`], and drive the connection on the current runtime.
/// tokio-postgres' own timeout covers the TCP connect only: a host that accepts and never
/// answers (a hung server, a proxy to nowhere) would hold its caller for ever.
async fn connect(config: &Config) -> Result<Linked, StoreError> {
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls))
        .await
        .map_err(|_| StoreError::Unreachable)??;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Linked {
        client,
        driver: driver.abort_handle(),
    })
}

/// A client and the task driving its connection. Dropping a `Client` alone ends that task
/// only once every answer owed has come: against a server that stopped answering (a
/// statement given up on by [`within`]), never — the task and its socket would stay. Dropping
/// this ends the task, closing the socket.
struct Linked {
    client: Client,
    driver: tokio::task::AbortHandle,
}

impl Drop for Linked {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl std::ops::Deref for Linked {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Text(text) => text.to_sql(ty, out),
            Param::Int(number) => number.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty) || <i64 as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn arguments<'p>(params: &'p [Param<'p>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Bring the database to the current version, under an advisory lock.
async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    /// Any fixed number: the lock's name.
    const LOCK: i64 = 0x4c54_4849_5354; // "LTHIST"
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS labthings_history_schema (version BIGINT NOT NULL)",
        )
        .await?;
    let found: i64 = transaction
        .query_opt("SELECT version FROM labthings_history_schema", &[])
        .await?
        .map_or(0, |row| row.get(0));
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for step in &MIGRATIONS[found as usize..] {
        transaction.batch_execute(step).await?;
    }
    if found < known {
        transaction
            .execute("DELETE FROM labthings_history_schema", &[])
            .await?;
        transaction
            .execute(
                "INSERT INTO labthings_history_schema (version) VALUES ($1)",
                &[&known],
            )
            .await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// A statement parameter held until the batch is sent.
#[derive(Debug)]
enum Owned {
    Text(Option<String>),
    Int(i64),
}

impl Owned {
    fn of(param: &Param<'_>) -> Self {
        match param {
            Param::Text(text) => Owned::Text(text.map(str::to_owned)),
            Param::Int(number) => Owned::Int(*number),
        }
    }

    fn borrow(&self) -> Param<'_> {
        match self {
            Owned::Text(text) => Param::Text(text.as_deref()),
            Owned::Int(number) => Param::Int(*number),
        }
    }
}

/// The writer's connection, on the writer thread. Inside a transaction statements are queued
/// and sent together at the commit, pipelined (one round trip for the batch, not one per row).
///
/// Its runtime has one worker thread of its own: the connection is driven there, and a
/// connection attempt runs there as a task ([`Postgres::start_connecting`]) while the writer
/// thread goes on spooling, only looking at its outcome ([`Postgres::attempted`]) — against a
/// host that accepts and never answers, an attempt takes the whole [`CONNECT_TIMEOUT`].
pub struct Postgres {
    config: Config,
    runtime: tokio::runtime::Runtime,
    client: Option<Linked>,
    /// A connection attempt under way on the runtime's worker.
    attempt: Option<tokio::task::JoinHandle<Result<Linked, StoreError>>>,
    prepared: HashMap<&'static str, Statement>,
    /// The open transaction's statements, not sent yet.
    queued: Option<Vec<(Statement, Vec<Owned>)>>,
    /// Turns `true` when the writer is told to stop: a connection attempt under way gives up
    /// (see [`Postgres::cancel_on`]).
    stop: Option<watch::Receiver<bool>>,
}

impl Postgres {
    /// Not connected yet: see [`Postgres::connect`].
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("history-postgres")
            .enable_all()
            .build()
            .map_err(|error| StoreError::Io(error.to_string()))?;
        Ok(Self {
            config: config(url, WRITE_TIMEOUT)?,
            runtime,
            client: None,
            attempt: None,
            prepared: HashMap::new(),
            queued: None,
            stop: None,
        })
    }

    /// Give up a connection attempt (as unreachable) as soon as `stop` turns `true`, so that
    /// stopping the writer never waits out [`CONNECT_TIMEOUT`] on a host that doesn't answer.
    pub fn cancel_on(&mut self, stop: watch::Receiver<bool>) {
        self.stop = Some(stop);
    }

    /// Start connecting (and migrating) on the runtime's worker, unless an attempt is under
    /// way; returns at once.
    pub fn start_connecting(&mut self) {
        if self.attempt.is_some() {
            return;
        }
        self.disconnect();
        let config = self.config.clone();
        let mut stop = self.stop.clone();
        self.attempt = Some(self.runtime.spawn(async move {
            let connecting = async {
                let mut client = connect(&config).await?;
                within(WRITE_BOUND, migrate(&mut client.client)).await?;
                Ok(client)
            };
            tokio::select! {
                connected = connecting => connected,
                () = stopped(&mut stop) => Err(StoreError::Unreachable),
            }
        }));
    }

    /// Is an attempt under way (started, its outcome not taken yet)?
    pub fn connecting(&self) -> bool {
        self.attempt.is_some()
    }

    /// The outcome of the attempt under way once it has one; `None` while it runs (or if none
    /// was started).
    pub fn attempted(&mut self) -> Option<Result<(), StoreError>> {
        if !self.attempt.as_ref()?.is_finished() {
            return None;
        }
        Some(self.settle())
    }

    /// Connect and migrate, waiting for the outcome (of the attempt under way, if any).
    pub fn connect(&mut self) -> Result<(), StoreError> {
        self.start_connecting();
        self.settle()
    }

    /// Wait for the attempt under way and keep its client.
    fn settle(&mut self) -> Result<(), StoreError> {
        let attempt = self.attempt.take().ok_or(StoreError::Unreachable)?;
        // A join error (the task panicked, or the runtime is going away) is an attempt failed.
        let client = self
            .runtime
            .block_on(attempt)
            .unwrap_or(Err(StoreError::Unreachable))?;
        self.client = Some(client);
        Ok(())
    }

    pub fn connected(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|client| !client.is_closed())
    }

    /// Forget the connection (it failed); the next [`Postgres::connect`] makes a new one.
    pub fn disconnect(&mut self) {
        self.client = None;
        self.prepared.clear();
        self.queued = None;
    }

    fn client(&self) -> Result<&Client, StoreError> {
        self.client
            .as_ref()
            .filter(|client| !client.is_closed())
            .map(|linked| &**linked)
            .ok_or(StoreError::Unreachable)
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let client = self.client()?;
        let statement = self
            .runtime
            .block_on(within(WRITE_BOUND, client.prepare(&placeholders(sql))))?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl Write for Postgres {
    fn begin(&mut self) -> Result<(), StoreError> {
        self.client()?;
        self.queued = Some(Vec::new());
        Ok(())
    }

    /// In a transaction: queued, and `0` rows (the count comes with the commit).
    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        if let Some(queued) = &mut self.queued {
            queued.push((statement, params.iter().map(Owned::of).collect()));
            return Ok(0);
        }
        let client = self.client()?;
        self.runtime.block_on(within(
            WRITE_BOUND,
            client.execute(&statement, &arguments(params)),
        ))
    }

    /// Each statement is bounded by the session's `statement_timeout` ([`WRITE_TIMEOUT`]), the
    /// whole exchange by [`WRITE_BOUND`]; past it the caller (`spool`) drops the connection
    /// and spools the batch. tokio-postgres keeps the socket while answers are owed, so a
    /// `COMMIT` that went unanswered may still commit on the server: the forwarded batch's
    /// invocations are keyed by id, its property writes and events would be stored twice.
    fn commit(&mut self) -> Result<(), StoreError> {
        let queued = self.queued.take().unwrap_or_default();
        let client = self.client()?;
        let params: Vec<Vec<Param<'_>>> = queued
            .iter()
            .map(|(_, owned)| owned.iter().map(Owned::borrow).collect())
            .collect();
        let arguments: Vec<_> = params.iter().map(|params| arguments(params)).collect();
        // Polled together, the statements go out back to back on the connection, in order.
        let statements = queued
            .iter()
            .zip(&arguments)
            .map(|((statement, _), arguments)| client.execute(statement, arguments));
        let exchange = async {
            client.batch_execute("BEGIN").await?;
            let sent = futures_util::future::try_join_all(statements).await;
            if let Err(error) = sent {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(error);
            }
            client.batch_execute("COMMIT").await
        };
        self.runtime.block_on(within(WRITE_BOUND, exchange))
    }

    fn rollback(&mut self) {
        // Nothing was sent before the commit.
        self.queued = None;
    }
}

/// Once `stop` (if any) is `true`, or its sender gone.
async fn stopped(stop: &mut Option<watch::Receiver<bool>>) {
    match stop {
        Some(stop) => {
            let _ = stop.wait_for(|stopping| *stopping).await;
        }
        None => std::future::pending().await,
    }
}

/// The `/history` routes' connection: one shared client (tokio-postgres pipelines concurrent
/// queries on it), made at the first read and again after it fails.
///
/// The connection is made outside the lock, by one request at a time: while it is under way
/// (up to [`CONNECT_TIMEOUT`] against a host that doesn't answer) the other requests are told
/// at once that the database is unreachable (a 503) instead of queueing behind it.
#[derive(Debug)]
pub struct Reader {
    config: Config,
    slot: Mutex<Slot>,
}

#[derive(Debug)]
enum Slot {
    Idle,
    Connecting,
    Connected(Arc<Connected>),
}

/// A reader's connection and the statements prepared on it (a read is then one round trip,
/// not a parse and an execution).
struct Connected {
    client: Linked,
    prepared: Mutex<HashMap<String, Statement>>,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

impl Connected {
    fn lock_prepared(&self) -> std::sync::MutexGuard<'_, HashMap<String, Statement>> {
        self.prepared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `sql` (written with `?` placeholders, as for SQLite) prepared, once per connection.
    async fn statement(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        let kept = self.lock_prepared().get(sql).cloned();
        if let Some(statement) = kept {
            return Ok(statement);
        }
        let statement = self.client.prepare(&placeholders(sql)).await?;
        let mut kept = self.lock_prepared();
        if kept.len() >= PREPARED {
            kept.clear();
        }
        kept.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Puts the slot back to [`Slot::Idle`] if the connecting request ends without a result (a
/// panic), so reads are not refused for ever.
struct Connecting<'r>(&'r Mutex<Slot>);

impl Drop for Connecting<'_> {
    fn drop(&mut self) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*slot, Slot::Connecting) {
            *slot = Slot::Idle;
        }
    }
}

impl Reader {
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            config: config(url, READ_TIMEOUT)?,
            slot: Mutex::new(Slot::Idle),
        })
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session for one request's queries, from a blocking thread of the server's runtime.
    pub fn session(&self) -> Result<Session<'_>, StoreError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| StoreError::Unreachable)?;
        let session = |connected| Session {
            reader: self,
            connected,
            handle: handle.clone(),
        };
        {
            let mut slot = self.slot();
            match &*slot {
                Slot::Connected(connected) if !connected.client.is_closed() => {
                    return Ok(session(connected.clone()));
                }
                Slot::Connecting => return Err(StoreError::Unreachable),
                Slot::Connected(_) | Slot::Idle => *slot = Slot::Connecting,
            }
        }
        // A failure (or a panic) drops `connecting`: the slot is idle again, the next request
        // tries anew.
        let connecting = Connecting(&self.slot);
        let connected = Arc::new(Connected {
            client: handle.block_on(connect(&self.config))?,
            prepared: Mutex::default(),
        });
        *self.slot() = Slot::Connected(connected.clone());
        drop(connecting);
        Ok(session(connected))
    }

    /// `connected` failed: the next session connects again (unless another one already did).
    fn forget(&self, connected: &Arc<Connected>) {
        let mut slot = self.slot();
        if matches!(&*slot, Slot::Connected(kept) if Arc::ptr_eq(kept, connected)) {
            *slot = Slot::Idle;
        }
    }
}

/// Queries on the reader's client.
pub struct Session<'r> {
    reader: &'r Reader,
    connected: Arc<Connected>,
    handle: tokio::runtime::Handle,
}

impl Read for Session<'_> {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows, StoreError> {
        let connected = &self.connected;
        // Bounded by the session's `statement_timeout` ([`READ_TIMEOUT`]) on the server, and
        // here for a server that doesn't answer at all.
        let result = self.handle.block_on(within(READ_BOUND, async {
            let statement = connected.statement(sql).await?;
            connected.client.query(&statement, &arguments(params)).await
        }));
        let rows = match result {
            Ok(rows) => rows,
            Err(error) => {
                if error.unreachable() {
                    self.reader.forget(connected);
                } else {
                    // Perhaps prepared before a migration changed its table: prepare again.
                    connected.lock_prepared().remove(sql);
                }
                return Err(error);
            }
        };
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<_, Option<String>>(i)
                            .map_err(StoreError::from)
                    })
                    .collect()
            })
            .collect()
    }
}

/// `?1` → `$1`: the statements are written with SQLite's numbered placeholders (none of them
/// has a `?` elsewhere).
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_for_postgres() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c < ?12"),
            "SELECT a FROM t WHERE b = $1 AND c < $12"
        );
    }

    #[test]
    fn a_password_is_not_shown() {
        assert_eq!(
            redacted("postgres://lab:secret@db:5432/history"),
            "postgres://lab:***@db:5432/history"
        );
        assert_eq!(
            redacted("postgres://lab@db:5432/history"),
            "postgres://lab@db:5432/history"
        );
    }
}
