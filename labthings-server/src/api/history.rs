//! `P/history/…`: the durable history read back. Invocations filtered and paged newest first,
//! one invocation whole, a property's past values, an event's past emissions, and the
//! writer's counters; JSON by default, CSV or NDJSON by `Accept`. Also the answers an expired
//! `/action_invocations/{id}` and its blob get from the history.

use std::sync::Arc;

use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LINK};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use labthings_core::Blob;
use labthings_protocol::paths::Origin;
use serde_json::{Map, Value, json};

use crate::history::History;
use crate::history::query::{self, DEFAULT_LIMIT, InvocationFilter, Range};
use crate::history::record::timestamp;
use crate::history::sql::{Read, StoreError};
use crate::history::writer::{COMMIT_WINDOW, QUEUE, blob_path};
use crate::http::error::ApiError;
use crate::http::path_param::parse_uuid;
use crate::http::query::Query;
use crate::http::response::{self, Body};
use crate::state::ServerState;

/// What a `P/history/…` path names.
#[derive(Debug, Clone, Copy)]
pub enum HistoryRoute<'p> {
    Status,
    Invocations,
    Invocation(&'p str),
    Property(&'p str, &'p str),
    Event(&'p str, &'p str),
}

impl<'p> HistoryRoute<'p> {
    /// The route under `P/history/` (`rest` is what follows it).
    pub fn parse(rest: &'p str) -> Option<Self> {
        use labthings_protocol::paths::seg;
        let mut parts = rest.split('/');
        let route = match (parts.next()?, parts.next(), parts.next()) {
            (seg::STATUS, None, None) => HistoryRoute::Status,
            (seg::INVOCATIONS, None, None) => HistoryRoute::Invocations,
            (seg::INVOCATIONS, Some(id), None) if !id.is_empty() => HistoryRoute::Invocation(id),
            (seg::PROPERTIES, Some(thing), Some(name)) => HistoryRoute::Property(thing, name),
            (seg::EVENTS, Some(thing), Some(name)) => HistoryRoute::Event(thing, name),
            _ => return None,
        };
        parts.next().is_none().then_some(route)
    }
}

/// Answer a `GET` of `route`.
pub async fn answer(
    state: &ServerState,
    route: HistoryRoute<'_>,
    request: &Parts,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let history = kept(state)?;
    let query = Params::parse(request.uri.query())?;
    let format = Format::of(&request.headers);
    match route {
        HistoryRoute::Status => Ok(status(&history)),
        HistoryRoute::Invocations => {
            let filter = InvocationFilter {
                server: query.get("server"),
                thing: query.get("thing"),
                action: query.get("action"),
                status: query.get("status"),
                since: query.time("since")?,
                until: query.time("until")?,
                after: query.get("after"),
                limit: query.limit()?,
            };
            let limit = filter.limit;
            let rows = read(&history, move |c| query::invocations(c, &filter)).await?;
            let mut response = format.rows(&rows);
            // A full page may have a next one: it starts after this page's last row.
            if rows.len() == limit
                && let Some(Value::String(last)) = rows.last().and_then(|row| row.get("id"))
            {
                let next = query.next_page(origin, &state.paths, last);
                if let Ok(link) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                    response.headers_mut().insert(LINK, link);
                }
            }
            Ok(response)
        }
        HistoryRoute::Invocation(id) => {
            let id = parse_uuid(id, "id")?.to_string();
            let record = read(&history, move |c| query::invocation(c, &id)).await?;
            let record = record.ok_or_else(not_recorded)?;
            Ok(response::json(StatusCode::OK, &record))
        }
        HistoryRoute::Property(thing, name) | HistoryRoute::Event(thing, name) => {
            let range = Range {
                since: query.time("since")?,
                until: query.time("until")?,
                limit: query.limit()?,
            };
            let (thing, name) = (thing.to_owned(), name.to_owned());
            let rows = if matches!(route, HistoryRoute::Property(..)) {
                read(&history, move |c| {
                    query::property_writes(c, &thing, &name, &range)
                })
                .await?
            } else {
                read(&history, move |c| query::events(c, &thing, &name, &range)).await?
            };
            Ok(format.rows(&rows))
        }
    }
}

fn kept(state: &ServerState) -> Result<Arc<History>, ApiError> {
    state.history.clone().ok_or_else(|| {
        ApiError::detail(
            StatusCode::NOT_FOUND,
            "This server keeps no history (started with --history off).",
        )
    })
}

fn not_recorded() -> ApiError {
    ApiError::detail(StatusCode::NOT_FOUND, "No such invocation in the history")
}

/// Run `query` on the history's store, off the async runtime.
async fn read<T: Send + 'static>(
    history: &Arc<History>,
    query: impl FnOnce(&mut dyn Read) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let history = history.clone();
    let result = tokio::task::spawn_blocking(move || history.read(query)).await;
    let failed = |detail: String| {
        ApiError::Problem(labthings_protocol::problem::Problem::internal(
            "HistoryUnavailable",
            detail,
        ))
    };
    match result {
        Ok(Ok(value)) => Ok(value),
        // PostgreSQL down: a passing condition, not a server fault (records made meanwhile are
        // spooled and forwarded, so asking again later finds them).
        Ok(Err(error)) if error.unreachable() => Err(ApiError::Problem(
            labthings_protocol::problem::Problem::service_unavailable(
                "HistoryUnavailable",
                format!(
                    "the history's database can't be reached now ({error}); ask again later: \
                     what happens meanwhile is kept locally and forwarded when it is back"
                ),
            ),
        )),
        Ok(Err(error)) => Err(failed(format!("reading the history failed: {error}"))),
        Err(_) => Err(failed("reading the history failed".into())),
    }
}

/// `P/history/status`: where the history is and what the writer has done.
fn status(history: &History) -> Response<Body> {
    let stats = &history.writer.stats;
    let ordering = std::sync::atomic::Ordering::Relaxed;
    response::json(
        StatusCode::OK,
        &json!({
            "path": history.path.display().to_string(),
            "database": history.database(),
            "written": stats.written.load(ordering),
            "dropped": stats.dropped.load(ordering),
            "spooled": stats.spooled.load(ordering),
            "queue": QUEUE,
            "commitWindowMs": COMMIT_WINDOW.as_millis() as u64,
            "closedAtStart": history.closed_at_start(),
        }),
    )
}

/// The query's parameters, as the history reads them: an empty value is none.
struct Params(Query);

impl Params {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        Query::parse(query).map(Self)
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .pairs()
            .find(|&(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.to_owned())
    }

    /// An RFC 3339 time, as the database writes times.
    fn time(&self, name: &str) -> Result<Option<String>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        let time = chrono::DateTime::parse_from_rfc3339(&text).map_err(|error| {
            ApiError::detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`{name}` must be an RFC 3339 time such as 2026-01-31T12:00:00Z: {error}"),
            )
        })?;
        Ok(Some(timestamp(time.with_timezone(&chrono::Utc))))
    }

    fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => match text.parse::<usize>() {
                Ok(limit) if (1..=query::MAX_LIMIT).contains(&limit) => Ok(limit),
                _ => Err(ApiError::detail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "`limit` must be a whole number from 1 to {}",
                        query::MAX_LIMIT
                    ),
                )),
            },
        }
    }

    /// This list's URL for the page after `last`.
    fn next_page(
        &self,
        origin: &Origin,
        paths: &labthings_protocol::paths::ApiPaths,
        last: &str,
    ) -> String {
        let encode = |text: &str| {
            percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let mut query: Vec<String> = self
            .0
            .pairs()
            .filter(|&(name, _)| name != "after")
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        query.push(format!("after={last}"));
        format!(
            "{origin}{}?{}",
            paths.history_invocations(),
            query.join("&")
        )
    }
}

/// How rows are sent: a JSON array, CSV (a header row, JSON text for non-string values) or
/// NDJSON, by the request's `Accept`.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
    Ndjson,
}

impl Format {
    fn of(headers: &HeaderMap) -> Self {
        let accept = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        if accept.contains("text/csv") {
            Format::Csv
        } else if accept.contains("application/x-ndjson") {
            Format::Ndjson
        } else {
            Format::Json
        }
    }

    fn rows(self, rows: &[Map<String, Value>]) -> Response<Body> {
        let (media_type, body) = match self {
            Format::Json => return response::json(StatusCode::OK, rows),
            Format::Ndjson => {
                let mut body = Vec::new();
                for row in rows {
                    let _ = serde_json::to_writer(&mut body, row);
                    body.push(b'\n');
                }
                ("application/x-ndjson", body)
            }
            Format::Csv => ("text/csv; charset=utf-8", csv(rows)),
        };
        let mut response = Response::new(Body::full(body));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
        response
    }
}

fn csv(rows: &[Map<String, Value>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(first) = rows.first() {
        let _ = writer.write_record(first.keys());
    }
    for row in rows {
        let cells = row.values().map(|value| match value {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        });
        let _ = writer.write_record(cells);
    }
    writer.into_inner().unwrap_or_default()
}

/// `GET P/action_invocations/{id}` for an invocation no longer in memory: the recorded one,
/// in the invocation model's shape, so links kept in a lab notebook go on working.
pub async fn expired_invocation(
    state: &ServerState,
    id: &str,
    origin: &Origin,
) -> Result<Option<Response<Body>>, ApiError> {
    let Some(history) = state.history.clone() else {
        return Ok(None);
    };
    let id = parse_uuid(id, "id")?.to_string();
    let Some(record) = read(&history, move |c| query::invocation(c, &id)).await? else {
        return Ok(None);
    };
    let field = |name: &str| record.get(name).cloned().unwrap_or(Value::Null);
    let id = field("id");
    let href = format!(
        "{origin}{}",
        state.paths.invocation(id.as_str().unwrap_or_default())
    );
    let mut output = field("output");
    absolute_blob_links(&mut output, origin, &state.paths);
    let model = json!({
        "id": id,
        "action": field("action"),
        "href": href,
        "status": field("status"),
        "timeRequested": field("timeRequested"),
        "timeStarted": field("timeStarted"),
        "timeCompleted": field("timeCompleted"),
        "input": field("input"),
        "output": output,
        "log": field("log"),
        "error": field("error"),
        "links": [{"rel": "self", "href": href}],
        "fromHistory": true,
    });
    Ok(Some(response::json(StatusCode::OK, &model)))
}

/// Make the relative blob links (`blob/<id>`) an output was recorded with absolute.
fn absolute_blob_links(
    value: &mut Value,
    origin: &Origin,
    paths: &labthings_protocol::paths::ApiPaths,
) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(href)) = object.get_mut("href")
                && let Some(id) = href.strip_prefix("blob/")
            {
                *href = format!("{origin}{}", paths.blob(id));
            }
            for (_, child) in object.iter_mut() {
                absolute_blob_links(child, origin, paths);
            }
        }
        Value::Array(items) => {
            for item in items {
                absolute_blob_links(item, origin, paths);
            }
        }
        _ => {}
    }
}

/// A blob no kept invocation holds any more, from the history's files.
pub async fn expired_blob(state: &ServerState, id: &uuid::Uuid) -> Option<Blob> {
    let history = state.history.clone()?;
    let id = id.to_string();
    let (sha256, media_type) = read(&history, move |c| query::blob(c, &id)).await.ok()??;
    Blob::from_file(media_type, blob_path(&history.blobs, &sha256)).ok()
}
