//! Reading the history back: invocations (filtered, newest first, a page at a time), one
//! invocation whole, a property's past values, an event's past emissions, a blob's file.
//! Rows come out as JSON objects with the invocation model's camelCase names; JSON columns
//! are parsed back into values. The SQL is the same for SQLite and PostgreSQL (`sql::Read`).

use serde_json::{Map, Value};

use crate::history::sql::{Param, Read, StoreError};

/// The most rows one answer holds.
pub const MAX_LIMIT: usize = 1000;
/// Rows in an answer when the client doesn't say.
pub const DEFAULT_LIMIT: usize = 100;

/// Which invocations to list. Times are database timestamps (see `record::timestamp`).
#[derive(Debug, Default, Clone)]
pub struct InvocationFilter {
    /// Only this server's (several servers may share one database).
    pub server: Option<String>,
    pub thing: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Only those older than this invocation (the last of the previous page).
    pub after: Option<String>,
    pub limit: usize,
}

const SUMMARY_COLUMNS: &str = "id, server, thing, action, status, time_requested, time_started, \
     time_completed, input, output, error, requester, peer, td_sha256, software_version";

/// The summary's names, in `SUMMARY_COLUMNS` order; `true`: a JSON column.
const SUMMARY: [(&str, bool); 15] = [
    ("id", false),
    ("server", false),
    ("thing", false),
    ("action", false),
    ("status", false),
    ("timeRequested", false),
    ("timeStarted", false),
    ("timeCompleted", false),
    ("input", true),
    ("output", true),
    ("error", true),
    ("requester", false),
    ("peer", false),
    ("tdSha256", false),
    ("softwareVersion", false),
];

/// A text column as a JSON value: a string, or parsed when it holds JSON.
fn cell(text: Option<&String>, json: bool) -> Value {
    match text {
        None => Value::Null,
        Some(text) if json => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(text) => Value::String(text.clone()),
    }
}

fn summary(row: &[Option<String>]) -> Map<String, Value> {
    SUMMARY
        .iter()
        .enumerate()
        .map(|(i, (name, json))| {
            (
                (*name).to_owned(),
                cell(row.get(i).and_then(Option::as_ref), *json),
            )
        })
        .collect()
}

/// Invocations matching `filter`, newest first.
pub fn invocations(
    store: &mut dyn Read,
    filter: &InvocationFilter,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let mut clauses = Vec::new();
    let mut values: Vec<Param<'_>> = Vec::new();
    let bounds = [
        ("server = ?#", &filter.server),
        ("thing = ?#", &filter.thing),
        ("action = ?#", &filter.action),
        ("status = ?#", &filter.status),
        ("time_requested >= ?#", &filter.since),
        ("time_requested <= ?#", &filter.until),
        (
            "(time_requested, id) < (SELECT time_requested, id FROM invocations WHERE id = ?#)",
            &filter.after,
        ),
    ];
    for (clause, bound) in &bounds {
        if let Some(bound) = bound {
            values.push(bound.into());
            // `#`: this parameter's number.
            clauses.push(clause.replace('#', &values.len().to_string()));
        }
    }
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM invocations");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    values.push((filter.limit.clamp(1, MAX_LIMIT) as i64).into());
    sql.push_str(&format!(
        " ORDER BY time_requested DESC, id DESC LIMIT ?{}",
        values.len()
    ));
    Ok(store
        .query(&sql, &values)?
        .iter()
        .map(|row| summary(row))
        .collect())
}

/// One invocation whole: its summary plus the snapshot, the log and the blobs.
pub fn invocation(
    store: &mut dyn Read,
    id: &str,
) -> Result<Option<Map<String, Value>>, StoreError> {
    let sql = format!("SELECT {SUMMARY_COLUMNS}, snapshot FROM invocations WHERE id = ?1");
    let Some(row) = store.query(&sql, &[id.into()])?.into_iter().next() else {
        return Ok(None);
    };
    let mut object = summary(&row);
    object.insert(
        "snapshot".into(),
        cell(row.get(15).and_then(Option::as_ref), true),
    );
    let log = store.query(
        "SELECT time, level, message, exception_type FROM invocation_log
         WHERE invocation = ?1 ORDER BY seq",
        &[id.into()],
    )?;
    let log = log.iter().map(|line| {
        let names = ["created", "levelname", "message", "exception_type"];
        Value::Object(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| ((*name).to_owned(), cell(line[i].as_ref(), false)))
                .collect(),
        )
    });
    object.insert("log".into(), Value::Array(log.collect()));
    let blobs = store.query(
        "SELECT id, media_type, CAST(size AS TEXT), sha256 FROM blobs WHERE invocation = ?1",
        &[id.into()],
    )?;
    let blobs = blobs.iter().map(|blob| {
        let mut object = Map::new();
        object.insert("id".into(), cell(blob[0].as_ref(), false));
        object.insert("mediaType".into(), cell(blob[1].as_ref(), false));
        object.insert("size".into(), cell(blob[2].as_ref(), true));
        object.insert("sha256".into(), cell(blob[3].as_ref(), false));
        Value::Object(object)
    });
    object.insert("blobs".into(), Value::Array(blobs.collect()));
    Ok(Some(object))
}

/// A time range and a page size, for property and event series.
#[derive(Debug, Default, Clone)]
pub struct Range {
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: usize,
}

/// A property's past values, oldest first.
pub fn property_writes(
    store: &mut dyn Read,
    thing: &str,
    property: &str,
    range: &Range,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    series(
        store,
        "SELECT time, value, source, invocation, server FROM property_writes
         WHERE thing = ?1 AND property = ?2 AND time >= ?3 AND time <= ?4 ORDER BY time, seq
         LIMIT ?5",
        [thing, property],
        range,
        &["time", "value", "source", "invocation", "server"],
    )
}

/// An event's past emissions, oldest first.
pub fn events(
    store: &mut dyn Read,
    thing: &str,
    event: &str,
    range: &Range,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    series(
        store,
        "SELECT time, data, server FROM events
         WHERE thing = ?1 AND event = ?2 AND time >= ?3 AND time <= ?4 ORDER BY time, seq
         LIMIT ?5",
        [thing, event],
        range,
        &["time", "data", "server"],
    )
}

/// Rows of a `(thing, name)` series; the second column is JSON.
fn series(
    store: &mut dyn Read,
    sql: &str,
    [thing, name]: [&str; 2],
    range: &Range,
    columns: &[&str],
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let since = range.since.as_deref().unwrap_or("");
    // Past any timestamp: they all start with a digit (the columns compare bytewise, "C").
    let until = range.until.as_deref().unwrap_or("~");
    let limit = range.limit.clamp(1, MAX_LIMIT) as i64;
    let rows = store.query(
        sql,
        &[
            thing.into(),
            name.into(),
            since.into(),
            until.into(),
            limit.into(),
        ],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, column)| ((*column).to_owned(), cell(row[i].as_ref(), i == 1)))
                .collect()
        })
        .collect())
}

/// A blob a recorded invocation's output linked to: its digest and media type.
pub fn blob(store: &mut dyn Read, id: &str) -> Result<Option<(String, String)>, StoreError> {
    let rows = store.query(
        "SELECT sha256, media_type FROM blobs WHERE id = ?1",
        &[id.into()],
    )?;
    Ok(rows.into_iter().next().and_then(|mut row| {
        let media_type = row.pop()??;
        let sha256 = row.pop()??;
        Some((sha256, media_type))
    }))
}
