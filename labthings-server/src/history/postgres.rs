//! PostgreSQL as the history's store (feature `postgres`): one writer connection on the
//! writer thread (a current-thread tokio runtime of its own, so the thread stays synchronous
//! like SQLite's), readers for the `/history` routes on the server's runtime, and the schema —
//! the SQLite one, with `COLLATE "C"` on the text columns that are compared or ordered (times,
//! ids), so a database created with a language locale still orders timestamps bytewise.
//!
//! The schema version lives in a one-row table, `labthings_history_schema`; migrations run
//! under an advisory lock, so servers starting together migrate once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// How long a connection attempt may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

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

/// The connection settings of `url`, with a connection timeout.
pub fn config(url: &str) -> Result<Config, StoreError> {
    let mut config: Config = url.parse()?;
    config.connect_timeout(CONNECT_TIMEOUT);
    Ok(config)
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
pub struct Postgres {
    config: Config,
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    prepared: HashMap<&'static str, Statement>,
    /// The open transaction's statements, not sent yet.
    queued: Option<Vec<(Statement, Vec<Owned>)>>,
}

impl Postgres {
    /// Not connected yet: see [`Postgres::connect`].
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| StoreError::Io(error.to_string()))?;
        Ok(Self {
            config: config(url)?,
            runtime,
            client: None,
            prepared: HashMap::new(),
            queued: None,
        })
    }

    /// Connect and migrate.
    pub fn connect(&mut self) -> Result<(), StoreError> {
        self.disconnect();
        let (mut client, connection) = self.runtime.block_on(self.config.connect(NoTls))?;
        // Driven whenever the thread blocks on a statement (a current-thread runtime).
        self.runtime.spawn(async move {
            let _ = connection.await;
        });
        self.runtime.block_on(migrate(&mut client))?;
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
            .ok_or(StoreError::Unreachable)
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let client = self.client()?;
        let statement = self.runtime.block_on(client.prepare(&placeholders(sql)))?;
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
        Ok(self
            .runtime
            .block_on(client.execute(&statement, &arguments(params)))?)
    }

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
        self.runtime.block_on(async {
            client.batch_execute("BEGIN").await?;
            let sent = futures_util::future::try_join_all(statements).await;
            if let Err(error) = sent {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(error);
            }
            client.batch_execute("COMMIT").await
        })?;
        Ok(())
    }

    fn rollback(&mut self) {
        // Nothing was sent before the commit.
        self.queued = None;
    }
}

/// The `/history` routes' connection: one shared client (tokio-postgres pipelines concurrent
/// queries on it), made at the first read and again after it fails.
#[derive(Debug)]
pub struct Reader {
    config: Config,
    client: Mutex<Option<Arc<Client>>>,
}

impl Reader {
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            config: config(url)?,
            client: Mutex::new(None),
        })
    }

    /// A session for one request's queries, from a blocking thread of the server's runtime.
    pub fn session(&self) -> Result<Session<'_>, StoreError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| StoreError::Unreachable)?;
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let client = match slot.as_ref().filter(|client| !client.is_closed()) {
            Some(client) => client.clone(),
            None => {
                let (client, connection) = handle.block_on(self.config.connect(NoTls))?;
                handle.spawn(async move {
                    let _ = connection.await;
                });
                let client = Arc::new(client);
                *slot = Some(client.clone());
                client
            }
        };
        Ok(Session {
            reader: self,
            client,
            handle,
        })
    }
}

/// Queries on the reader's client.
pub struct Session<'r> {
    reader: &'r Reader,
    client: Arc<Client>,
    handle: tokio::runtime::Handle,
}

impl Read for Session<'_> {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows, StoreError> {
        let sql = placeholders(sql);
        let result = self
            .handle
            .block_on(self.client.query(sql.as_str(), &arguments(params)));
        let rows = match result {
            Ok(rows) => rows,
            Err(error) => {
                let error = StoreError::from(error);
                if error.unreachable() {
                    *self.reader.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
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
