//! The durable history's routes (`P/history/…`, see `api/history.rs`) in the OpenAPI
//! document. Documented whether or not a server keeps a history: without one they answer 404.

use labthings_protocol::paths::{ApiPaths, seg};
use serde_json::{Map, Value, json};

use super::{detail_response, json_response, validation_response};

/// A query parameter.
fn parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

/// Rows as JSON, CSV or NDJSON, chosen by `Accept`.
fn rows(description: &str) -> Value {
    let row = json!({"type": "object"});
    json!({
        "description": description,
        "content": {
            "application/json": {"schema": {"type": "array", "items": row}},
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    })
}

fn range() -> Vec<Value> {
    let time = json!({"type": "string", "format": "date-time"});
    let limit = json!({"type": "integer", "minimum": 1, "maximum": crate::history::query::MAX_LIMIT, "default": crate::history::query::DEFAULT_LIMIT});
    vec![
        parameter(
            "since",
            "Only rows at or after this time (RFC 3339).",
            time.clone(),
        ),
        parameter(
            "until",
            "Only rows at or before this time (RFC 3339).",
            time,
        ),
        parameter("limit", "At most this many rows.", limit),
    ]
}

pub(super) fn history_operations(paths: &mut Map<String, Value>, api: &ApiPaths) {
    let tags = json!(["history"]);
    let off = detail_response("The server keeps no history (--history off), or no such record");
    let mut list_parameters = vec![
        parameter(
            "server",
            "Only this server's invocations (its `host:port`; several servers may share one PostgreSQL history).",
            json!({"type": "string"}),
        ),
        parameter(
            "thing",
            "Only this Thing's invocations.",
            json!({"type": "string"}),
        ),
        parameter(
            "action",
            "Only this action's invocations.",
            json!({"type": "string"}),
        ),
        parameter(
            "status",
            "Only invocations with this status.",
            json!({"type": "string", "enum": ["pending", "running", "completed", "cancelled", "error"]}),
        ),
        parameter(
            "after",
            "Start after this invocation (the last of the previous page).",
            json!({"type": "string", "format": "uuid"}),
        ),
    ];
    list_parameters.extend(range());
    paths.insert(
        api.history_invocations(),
        json!({"get": {
            "tags": tags,
            "operationId": "history.invocations",
            "summary": "Recorded invocations",
            "description": "Invocations from the durable history, newest first; a full page has a `Link: <…>; rel=\"next\"` header. JSON, or CSV / NDJSON by `Accept`.",
            "parameters": list_parameters,
            "responses": {"200": rows("Invocation summaries"), "404": off, "422": validation_response()},
        }}),
    );
    paths.insert(
        format!("{}/{{id}}", api.history_invocations()),
        json!({"get": {
            "tags": tags,
            "operationId": "history.invocation",
            "summary": "One recorded invocation, whole",
            "description": "With its log, the Thing's property and setting values when it was requested (`snapshot`), its blobs, who asked, the TD digest and the software version.",
            "parameters": [json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}})],
            "responses": {"200": json_response("The record", json!({"type": "object"})), "404": off, "422": validation_response()},
        }}),
    );
    for (word, what, id) in [
        (seg::PROPERTIES, "property", "history.property"),
        (seg::EVENTS, "event", "history.event"),
    ] {
        let mut parameters = vec![
            path_parameter("thing", "The Thing's name"),
            path_parameter("name", &format!("The {what}'s name")),
        ];
        parameters.extend(range());
        paths.insert(
            format!("{}{word}/{{thing}}/{{name}}", api.history()),
            json!({"get": {
                "tags": tags,
                "operationId": id,
                "summary": format!("A {what}'s past values"),
                "description": format!("Every recorded {what} value, oldest first. JSON, or CSV / NDJSON by `Accept`."),
                "parameters": parameters,
                "responses": {"200": rows("Rows"), "404": off, "422": validation_response()},
            }}),
        );
    }
    paths.insert(
        format!("{}{}", api.history(), seg::STATUS),
        json!({"get": {
            "tags": tags,
            "operationId": "history.status",
            "summary": "The history writer's counters",
            "description": "Where the history is, rows written and rows dropped (the writer could not keep up, or the disk failed), the commit window.",
            "responses": {"200": json_response("Counters", json!({"type": "object"})), "404": off},
        }}),
    );
}
