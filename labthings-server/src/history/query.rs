//! Reading the history back: invocations (filtered, newest first, a page at a time), one
//! invocation whole, a property's past values, an event's past emissions, a blob's file.
//! Rows come out as JSON objects with the invocation model's camelCase names; JSON columns
//! are parsed back into values.

use rusqlite::{Connection, OptionalExtension, Row as SqlRow, ToSql, params};
use serde_json::{Map, Value};

/// The most rows one answer holds.
pub const MAX_LIMIT: usize = 1000;
/// Rows in an answer when the client doesn't say.
pub const DEFAULT_LIMIT: usize = 100;

/// Which invocations to list. Times are database timestamps (see `record::timestamp`).
#[derive(Debug, Default, Clone)]
pub struct InvocationFilter {
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

fn summary(row: &SqlRow<'_>) -> rusqlite::Result<Map<String, Value>> {
    let mut object = Map::new();
    let text = |i: usize| -> rusqlite::Result<Value> {
        Ok(row
            .get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::String))
    };
    let json = |i: usize| -> rusqlite::Result<Value> {
        Ok(row
            .get::<_, Option<String>>(i)?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null))
    };
    object.insert("id".into(), text(0)?);
    object.insert("server".into(), text(1)?);
    object.insert("thing".into(), text(2)?);
    object.insert("action".into(), text(3)?);
    object.insert("status".into(), text(4)?);
    object.insert("timeRequested".into(), text(5)?);
    object.insert("timeStarted".into(), text(6)?);
    object.insert("timeCompleted".into(), text(7)?);
    object.insert("input".into(), json(8)?);
    object.insert("output".into(), json(9)?);
    object.insert("error".into(), json(10)?);
    object.insert("requester".into(), text(11)?);
    object.insert("peer".into(), text(12)?);
    object.insert("tdSha256".into(), text(13)?);
    object.insert("softwareVersion".into(), text(14)?);
    Ok(object)
}

/// Invocations matching `filter`, newest first.
pub fn invocations(
    connection: &Connection,
    filter: &InvocationFilter,
) -> rusqlite::Result<Vec<Map<String, Value>>> {
    let mut clauses = Vec::new();
    let mut values: Vec<&dyn ToSql> = Vec::new();
    let bounds = [
        ("thing = ?", &filter.thing),
        ("action = ?", &filter.action),
        ("status = ?", &filter.status),
        ("time_requested >= ?", &filter.since),
        ("time_requested <= ?", &filter.until),
        (
            "(time_requested, id) < (SELECT time_requested, id FROM invocations WHERE id = ?)",
            &filter.after,
        ),
    ];
    for (clause, bound) in &bounds {
        if let Some(bound) = bound {
            clauses.push(*clause);
            values.push(bound as &dyn ToSql);
        }
    }
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM invocations");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    let limit = filter.limit.clamp(1, MAX_LIMIT) as i64;
    sql.push_str(" ORDER BY time_requested DESC, id DESC LIMIT ?");
    values.push(&limit);
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(values.as_slice(), summary)?;
    rows.collect()
}

/// One invocation whole: its summary plus the snapshot, the log and the blobs.
pub fn invocation(
    connection: &Connection,
    id: &str,
) -> rusqlite::Result<Option<Map<String, Value>>> {
    let found = connection
        .query_row(
            &format!("SELECT {SUMMARY_COLUMNS}, snapshot FROM invocations WHERE id = ?1"),
            params![id],
            |row| {
                let mut object = summary(row)?;
                let snapshot: String = row.get(15)?;
                object.insert(
                    "snapshot".into(),
                    serde_json::from_str(&snapshot).unwrap_or(Value::Null),
                );
                Ok(object)
            },
        )
        .optional()?;
    let Some(mut object) = found else {
        return Ok(None);
    };
    let log: Vec<Value> = connection
        .prepare_cached(
            "SELECT time, level, message, exception_type FROM invocation_log
             WHERE invocation = ?1 ORDER BY seq",
        )?
        .query_map(params![id], |row| {
            let mut line = Map::new();
            line.insert("created".into(), Value::String(row.get(0)?));
            line.insert("levelname".into(), Value::String(row.get(1)?));
            line.insert("message".into(), Value::String(row.get(2)?));
            let exception: Option<String> = row.get(3)?;
            line.insert(
                "exception_type".into(),
                exception.map_or(Value::Null, Value::String),
            );
            Ok(Value::Object(line))
        })?
        .collect::<Result<_, _>>()?;
    object.insert("log".into(), Value::Array(log));
    let blobs: Vec<Value> = connection
        .prepare_cached("SELECT id, media_type, size, sha256 FROM blobs WHERE invocation = ?1")?
        .query_map(params![id], |row| {
            let mut blob = Map::new();
            blob.insert("id".into(), Value::String(row.get(0)?));
            blob.insert("mediaType".into(), Value::String(row.get(1)?));
            blob.insert("size".into(), Value::from(row.get::<_, i64>(2)?));
            blob.insert("sha256".into(), Value::String(row.get(3)?));
            Ok(Value::Object(blob))
        })?
        .collect::<Result<_, _>>()?;
    object.insert("blobs".into(), Value::Array(blobs));
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
    connection: &Connection,
    thing: &str,
    property: &str,
    range: &Range,
) -> rusqlite::Result<Vec<Map<String, Value>>> {
    series(
        connection,
        "SELECT time, value, source, invocation, server FROM property_writes
         WHERE thing = ?1 AND property = ?2 AND time >= ?3 AND time <= ?4 ORDER BY time LIMIT ?5",
        [thing, property],
        range,
        &["time", "value", "source", "invocation", "server"],
    )
}

/// An event's past emissions, oldest first.
pub fn events(
    connection: &Connection,
    thing: &str,
    event: &str,
    range: &Range,
) -> rusqlite::Result<Vec<Map<String, Value>>> {
    series(
        connection,
        "SELECT time, data, server FROM events
         WHERE thing = ?1 AND event = ?2 AND time >= ?3 AND time <= ?4 ORDER BY time LIMIT ?5",
        [thing, event],
        range,
        &["time", "data", "server"],
    )
}

/// Rows of a `(thing, name)` series; the second column is JSON.
fn series(
    connection: &Connection,
    sql: &str,
    [thing, name]: [&str; 2],
    range: &Range,
    columns: &[&str],
) -> rusqlite::Result<Vec<Map<String, Value>>> {
    let since = range.since.as_deref().unwrap_or("");
    // Past any timestamp: they all start with a digit.
    let until = range.until.as_deref().unwrap_or("~");
    let limit = range.limit.clamp(1, MAX_LIMIT) as i64;
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(params![thing, name, since, until, limit], |row| {
        let mut object = Map::new();
        for (i, column) in columns.iter().enumerate() {
            let text: Option<String> = row.get(i)?;
            let value = match (i, text) {
                (_, None) => Value::Null,
                (1, Some(text)) => serde_json::from_str(&text).unwrap_or(Value::Null),
                (_, Some(text)) => Value::String(text),
            };
            object.insert((*column).to_owned(), value);
        }
        Ok(object)
    })?;
    rows.collect()
}

/// A blob a recorded invocation's output linked to: its digest and media type.
pub fn blob(connection: &Connection, id: &str) -> rusqlite::Result<Option<(String, String)>> {
    connection
        .query_row(
            "SELECT sha256, media_type FROM blobs WHERE id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
}
