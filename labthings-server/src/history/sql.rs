//! The one seam between the history and its databases: statements written once (SQLite and
//! PostgreSQL both take `INSERT … ON CONFLICT`, row values and `coalesce`; only the
//! placeholder differs, `?1` against `$1`, see `postgres::placeholders`), parameters, and the
//! two small traits a database implements — [`Write`] for the writer thread, [`Read`] for the
//! query code — so the recording and reading logic exists once.

use rusqlite::types::{ToSqlOutput, ValueRef};

/// A statement parameter, borrowed from the row being written (no copies on the hot path).
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Int(i64),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Param::Text(Some(text))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Param::Text(Some(text))
    }
}

impl<'a> From<Option<&'a String>> for Param<'a> {
    fn from(text: Option<&'a String>) -> Self {
        Param::Text(text.map(String::as_str))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Param::Text(text)
    }
}

impl From<i64> for Param<'_> {
    fn from(number: i64) -> Self {
        Param::Int(number)
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Param::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(number) => ToSqlOutput::Borrowed(ValueRef::Integer(*number)),
        })
    }
}

/// Rows read back: every column as text (or NULL); numbers are cast to text in the SQL.
pub type Rows = Vec<Vec<Option<String>>>;

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[cfg(feature = "postgres")]
    #[error("{}", .0.as_db_error().map_or_else(|| .0.to_string(), ToString::to_string))]
    Postgres(#[from] tokio_postgres::Error),
    /// The database can't be reached now (PostgreSQL down, not yet reconnected).
    #[error("the database is unreachable")]
    Unreachable,
    /// The database's schema is newer than this server knows.
    #[error(
        "the history database has schema version {found}, newer than this server knows ({known}): it was written by a newer LabThings"
    )]
    TooNew { found: i64, known: i64 },
    /// A spooled batch could not be encoded or decoded.
    #[error("spool: {0}")]
    Encoding(#[from] serde_json::Error),
    #[error("{0}")]
    Io(String),
}

impl StoreError {
    /// True when the database could not be reached (rather than refusing the statement): the
    /// rows are kept for later instead of dropped.
    ///
    /// For PostgreSQL only a closed connection, a socket's error or a server code of class 08
    /// (connection exception) or 57 (operator intervention: shutting down) count. Anything
    /// else without a server code is the client's verdict on that batch (a value its column
    /// can't take, a wrong parameter count) and would fail again: kept for later, it would be
    /// retried for ever and hold back every batch spooled after it.
    pub fn unreachable(&self) -> bool {
        match self {
            StoreError::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            StoreError::Postgres(error) => match error.code() {
                None => {
                    error.is_closed()
                        || std::error::Error::source(error)
                            .is_some_and(|source| source.is::<std::io::Error>())
                }
                Some(code) => code.code().starts_with("08") || code.code().starts_with("57"),
            },
            StoreError::Unreachable => true,
            StoreError::TooNew { .. } | StoreError::Encoding(_) | StoreError::Io(_) => false,
        }
    }
}

/// What the writer thread needs of a database: one transaction at a time.
pub trait Write {
    fn begin(&mut self) -> Result<(), StoreError>;
    /// Run `sql` (a `'static` text: implementations cache its prepared statement); rows
    /// changed.
    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Abandon the open transaction (errors ignored: the connection may be gone).
    fn rollback(&mut self);
}

/// What the query code needs of a database.
pub trait Read {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows, StoreError>;
}

/// Run `write` in one transaction: committed whole, or rolled back on its first error.
pub fn transaction<W: Write + ?Sized>(
    store: &mut W,
    write: impl FnOnce(&mut W) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    store.begin()?;
    match write(store).and_then(|()| store.commit()) {
        Ok(()) => Ok(()),
        Err(error) => {
            store.rollback();
            Err(error)
        }
    }
}

/// SQLite: `BEGIN IMMEDIATE` (a deferred transaction upgrading to a write ignores the busy
/// timeout), prepared statements from the connection's cache.
impl Write for rusqlite::Connection {
    fn begin(&mut self) -> Result<(), StoreError> {
        Ok(self.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let changed = self
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(changed as u64)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(self.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) {
        let _ = self.execute_batch("ROLLBACK");
    }
}

/// The SQLite writer's connection with its statements prepared once, for the writer thread's
/// life. Through rusqlite's statement cache every row took its statement out and put it back,
/// hashing the SQL text both ways and clearing the bindings: ~4,000 instructions a row
/// (`bench/profiles/hist/`). A statement kept here is only reset after each use.
///
/// And since bindings outlive a reset, a parameter whose value is the one already bound is not
/// bound again. Most of a row's are (the server, the Thing, the action, the TD's digest, the
/// requester, the status…), and each bind of a text costs SQLite a free, an allocation and a
/// copy (~700 instructions: 23 binds, 16,000 instructions per quick invocation before this).
pub struct SqliteWriter<'c> {
    connection: &'c rusqlite::Connection,
    /// Looked up by their SQL (a handful: a linear scan, the address compared first).
    prepared: Vec<Kept<'c>>,
}

struct Kept<'c> {
    sql: &'static str,
    statement: rusqlite::Statement<'c>,
    /// What each parameter is bound to now; `None`: not known (never bound, or a bind failed).
    bound: Vec<Option<Bound>>,
}

/// A parameter's value as bound, owned (a text's buffer is reused for the next value).
#[derive(Debug)]
enum Bound {
    Null,
    Text(String),
    Int(i64),
}

impl Bound {
    fn is(&self, param: &Param<'_>) -> bool {
        match (self, param) {
            (Bound::Null, Param::Text(None)) => true,
            (Bound::Text(text), Param::Text(Some(value))) => text == value,
            (Bound::Int(number), Param::Int(value)) => number == value,
            _ => false,
        }
    }

    /// Remember `param` in `slot`, in the text buffer already there if there is one.
    fn remember(slot: &mut Option<Bound>, param: &Param<'_>) {
        match (slot.as_mut(), param) {
            (Some(Bound::Text(text)), Param::Text(Some(value))) => {
                text.clear();
                text.push_str(value);
            }
            (_, Param::Text(Some(value))) => *slot = Some(Bound::Text((*value).to_owned())),
            (_, Param::Text(None)) => *slot = Some(Bound::Null),
            (_, Param::Int(number)) => *slot = Some(Bound::Int(*number)),
        }
    }
}

impl<'c> SqliteWriter<'c> {
    pub fn new(connection: &'c rusqlite::Connection) -> Self {
        Self {
            connection,
            prepared: Vec::new(),
        }
    }

    /// The connection, for what the writer does besides its statements (retention).
    pub fn connection(&self) -> &'c rusqlite::Connection {
        self.connection
    }

    fn run(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let found = self
            .prepared
            .iter()
            .position(|kept| std::ptr::eq(kept.sql, sql) || kept.sql == sql);
        let index = match found {
            Some(index) => index,
            None => {
                let statement = self.connection.prepare(sql)?;
                let bound = (0..statement.parameter_count()).map(|_| None).collect();
                self.prepared.push(Kept {
                    sql,
                    statement,
                    bound,
                });
                self.prepared.len() - 1
            }
        };
        let Kept {
            statement, bound, ..
        } = &mut self.prepared[index];
        if params.len() != bound.len() {
            return Err(rusqlite::Error::InvalidParameterCount(params.len(), bound.len()).into());
        }
        for (at, (param, slot)) in params.iter().zip(bound.iter_mut()).enumerate() {
            if slot.as_ref().is_some_and(|bound| bound.is(param)) {
                continue;
            }
            if let Err(error) = statement.raw_bind_parameter(at + 1, param) {
                *slot = None;
                return Err(error.into());
            }
            Bound::remember(slot, param);
        }
        Ok(statement.raw_execute()? as u64)
    }
}

/// As the connection's own `Write`, with the statements kept (`BEGIN` and `COMMIT` too).
impl Write for SqliteWriter<'_> {
    fn begin(&mut self) -> Result<(), StoreError> {
        self.run("BEGIN IMMEDIATE", &[]).map(drop)
    }

    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        self.run(sql, params)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.run("COMMIT", &[]).map(drop)
    }

    fn rollback(&mut self) {
        // Only on an error (and not kept: a statement failed is not reused for it).
        let _ = self.connection.execute_batch("ROLLBACK");
    }
}

impl Read for rusqlite::Connection {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows, StoreError> {
        let mut statement = self.prepare_cached(sql)?;
        let columns = statement.column_count();
        let rows = statement.query_map(rusqlite::params_from_iter(params), |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => None,
                        ValueRef::Integer(number) => Some(number.to_string()),
                        ValueRef::Real(number) => Some(number.to_string()),
                        ValueRef::Text(text) | ValueRef::Blob(text) => {
                            Some(String::from_utf8_lossy(text).into_owned())
                        }
                    })
                })
                .collect()
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn only_a_connection_that_fails_is_unreachable() {
        // No server code and no socket involved: the client's own verdict, which would fail
        // the same way again.
        let refused = "host=h port=notanumber".parse::<tokio_postgres::Config>();
        let refused = StoreError::from(refused.unwrap_err());
        assert!(!refused.unreachable(), "{refused}");

        // A socket's error is.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config: tokio_postgres::Config =
            format!("postgres://u@127.0.0.1:{port}/d").parse().unwrap();
        let down = runtime
            .block_on(config.connect(tokio_postgres::NoTls))
            .map(drop)
            .unwrap_err();
        let down = StoreError::from(down);
        assert!(down.unreachable(), "{down}");
    }
}

#[cfg(test)]
mod sqlite_writer_tests {
    use super::*;

    /// Each row reads back as written, whichever of its values were bound already (the same
    /// text again, a text after NULL and NULL after a text, a longer text in a reused buffer).
    #[test]
    fn a_kept_statement_writes_each_row_as_given() {
        const INSERT: &str = "INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)";
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER)")
            .unwrap();
        let rows: [(Option<&str>, Option<&str>, i64); 6] = [
            (Some("lab"), Some("x"), 1),
            (Some("lab"), Some("x"), 1),
            (Some("lab"), None, 2),
            (Some("lab"), Some("a longer text than before"), 2),
            (None, Some("y"), 3),
            (Some("lab"), Some("y"), 3),
        ];
        let mut writer = SqliteWriter::new(&connection);
        transaction(&mut writer, |writer| {
            for (a, b, c) in rows {
                writer.execute(INSERT, &[a.into(), b.into(), c.into()])?;
            }
            Ok(())
        })
        .unwrap();
        // A wrong parameter count is refused, as rusqlite's `execute` does.
        assert!(writer.execute(INSERT, &["only one".into()]).is_err());
        drop(writer);
        let read: Vec<(Option<String>, Option<String>, i64)> = connection
            .prepare("SELECT a, b, c FROM t ORDER BY n")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let written: Vec<(Option<String>, Option<String>, i64)> = rows
            .iter()
            .map(|(a, b, c)| (a.map(str::to_owned), b.map(str::to_owned), *c))
            .collect();
        assert_eq!(read, written);
    }
}
