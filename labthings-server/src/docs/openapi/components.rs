//! The shared models (`components.schemas`), and the security schemes when tokens are on.

use serde_json::{Value, json};

use super::{problem_response, reference};

/// The shared models, and the security schemes when tokens are on.
pub(super) fn components(bearer: bool) -> Value {
    let timestamp = json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
    let summary_properties = json!({
        "status": {"type": "string", "enum": ["pending", "running", "completed", "cancelled", "error"]},
        "id": {"type": "string", "format": "uuid"},
        "action": {"type": "string", "description": "The action's path (`/<thing>/<action>`)"},
        "href": {"type": "string", "format": "uri", "description": "The invocation's absolute URL"},
        "timeStarted": timestamp,
        "timeRequested": {"type": "string", "format": "date-time"},
        "timeCompleted": timestamp,
        "links": {"type": "array", "items": reference("LinkElement")},
    });
    let summary_fields: Vec<String> = summary_properties
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut invocation_properties = summary_properties.as_object().cloned().unwrap_or_default();
    invocation_properties.insert(
        "input".into(),
        json!({"description": "The validated input, defaults filled in (null when none was sent to a no-input action)"}),
    );
    invocation_properties.insert(
        "output".into(),
        json!({"description": "The output once completed (a blob's output is a link to it), else null"}),
    );
    invocation_properties.insert(
        "log".into(),
        json!({"type": "array", "items": reference("LogRecord"), "description": "At most 1000 records, oldest dropped"}),
    );
    invocation_properties.insert(
        "error".into(),
        json!({"anyOf": [reference("Problem"), {"type": "null"}]}),
    );
    invocation_properties.insert(
        "progress".into(),
        json!({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]}),
    );
    let invocation_required: Vec<String> = invocation_properties.keys().cloned().collect();
    let schemas = json!({
        "ThingDescription": {
            "type": "object",
            "description": "A W3C WoT Thing Description 1.1 (https://www.w3.org/TR/wot-thing-description11/)",
            "required": ["title", "properties", "actions", "@context"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "properties": {"type": "object"},
                "actions": {"type": "object"},
                "events": {"type": "object"},
                "forms": {"type": "array"},
                "links": {"type": "array"},
                "base": {"type": "string", "format": "uri"},
                "securityDefinitions": {"type": "object"},
                "security": {},
                "@context": {},
            },
        },
        "LinkElement": {
            "type": "object",
            "required": ["href", "rel"],
            "properties": {
                "href": {"type": "string", "format": "uri"},
                "type": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "rel": {"type": "string"},
                "anchor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
        "LogRecord": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "levelname": {"type": "string", "enum": ["DEBUG", "INFO", "WARNING", "ERROR"]},
                "levelno": {"type": "integer"},
                "lineno": {"type": "integer"},
                "filename": {"type": "string"},
                "created": {"type": "string", "format": "date-time"},
                "exception_type": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "traceback": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
        "InvocationSummary": {
            "type": "object",
            "description": "An invocation as the list routes give it",
            "required": summary_fields,
            "properties": summary_properties,
        },
        "Invocation": {
            "type": "object",
            "description": "An action invocation: `pending` → `running` → `completed` | `cancelled` | `error`",
            "required": invocation_required,
            "properties": invocation_properties,
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details",
            "required": ["title", "status", "detail"],
            "properties": {
                "type": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
        "Detail": {
            "type": "object",
            "description": "FastAPI's shape for HTTP errors",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        },
        "ValidationError": {
            "type": "object",
            "description": "One validation issue (pydantic's shape)",
            "required": ["type", "loc", "msg", "input"],
            "properties": {
                "type": {"type": "string", "examples": ["int_parsing", "missing", "extra_forbidden", "json_invalid"]},
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "examples": [["body", "duration"]]},
                "msg": {"type": "string"},
                "input": {},
                "ctx": {"type": "object"},
            },
        },
        "HTTPValidationError": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "array", "items": reference("ValidationError")}},
        },
    });
    let mut components = json!({ "schemas": schemas });
    if bearer {
        components["securitySchemes"] = json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "opaque",
                "description": "A static token from the server's tokens file: `Authorization: Bearer <token>`. A refusal is 401 with `WWW-Authenticate: Bearer realm=\"labthings\"` and a problem+json body.",
            },
            "access_token": {
                "type": "apiKey",
                "in": "query",
                "name": "access_token",
                "description": "The same token as a query parameter (for EventSource, WebSocket and `<img>`)",
            },
            "lt_token": {
                "type": "apiKey",
                "in": "cookie",
                "name": "lt_token",
                "description": "The same token as a cookie",
            },
        });
        components["responses"] = json!({
            "Unauthorized": problem_response("No valid token (`WWW-Authenticate: Bearer realm=\"labthings\"`)"),
        });
    }
    components
}
