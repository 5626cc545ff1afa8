//! The path items: each Thing's affordances (from its TD), its custom endpoints and push
//! routes, the invocation and blob routes, and the server's own routes.

use labthings_core::{
    ActionMetadata, EventMetadata, PropertyKind, PropertyMetadata, StreamMetadata, Thing,
};
use labthings_protocol::paths::{ApiPaths, Origin, Scheme, seg};
use serde_json::{Map, Value, json};

use crate::state::ServedAs;

use super::{
    ApiSurface, affordance, detail_response, json_response, json_schema_2020_12, problem_response,
    property_schema, reference, validation_response,
};

/// Custom endpoints (`#[endpoint]`): in OpenAPI, not in the TD, beside the Thing's
/// affordances under the Thing's tag, with an operationId `<thing>.<endpoint>.<method>`. What
/// they take and return is the author's code, so the bodies are described by media type only.
pub(super) fn endpoint_operations(
    paths: &mut Map<String, Value>,
    surface: &ApiSurface<'_>,
    name: &str,
    thing: &dyn Thing,
) {
    for endpoint in thing.endpoints() {
        let path = surface.paths.affordance(name, endpoint.path);
        let method = endpoint.method.as_str().to_ascii_lowercase();
        let title = endpoint.title.unwrap_or(endpoint.name);
        let description = format!(
            "{}

A custom endpoint (`#[endpoint]`, method `{}`): not an affordance, so not in \
             the Thing Description.",
            endpoint.description.unwrap_or(title),
            endpoint.name,
        );
        let media_type = endpoint.content_type.unwrap_or("*/*");
        let mut operation = json!({
            "tags": [name],
            "operationId": format!("{name}.{}.{method}", endpoint.name),
            "summary": title,
            "description": description,
            "responses": {
                "200": {"description": "What the endpoint answers", "content": {media_type: {"schema": {}}}},
                "500": problem_response("The endpoint failed (its error message) or panicked"),
            },
        });
        if matches!(method.as_str(), "put" | "post" | "patch") {
            operation["requestBody"] = json!({
                "required": false,
                "description": "Passed to the endpoint as it is (bounded by the server's body limit)",
                "content": {"*/*": {"schema": {}}},
            });
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation;
    }
}

// Summaries: Swagger UI shows them beside the method and path, which already say whether a
// route reads, writes or starts something, so a summary is the affordance's title (as FastAPI
// has it) and names the affordance only where the title would be ambiguous.

fn operation_description(title: &str, description: Option<&String>) -> String {
    match description {
        Some(description) => format!("## {title}\n\n{description}"),
        None => format!("## {title}"),
    }
}

pub(super) fn thing_operations(
    paths: &mut Map<String, Value>,
    surface: &ApiSurface<'_>,
    name: &str,
    thing: &dyn Thing,
) {
    let api = surface.paths;
    // The TD as served at a fixed base: the schemas don't depend on the base.
    let td = ServedAs::new(name, surface.paths, None, surface.bearer)
        .td(thing, &Origin::new(Scheme::Http, "localhost"));
    let metadata = thing.metadata();
    paths.insert(
        api.thing(name),
        json!({"get": {
            "tags": [name],
            "operationId": format!("{name}.description"),
            "summary": format!("Thing Description of {}", metadata.title),
            "description": "The W3C WoT Thing Description (TD 1.1) of this Thing: every property, action and event with its schema and forms. `base` is the URL the request reached.",
            "responses": {"200": json_response("The Thing Description", reference("ThingDescription"))},
        }}),
    );
    for property in &metadata.properties {
        let schema = property_schema(affordance(&td, "properties", property.name));
        property_operations(paths, api, name, property, schema);
    }
    for action in &metadata.actions {
        let td_action = affordance(&td, "actions", action.name);
        action_operations(paths, api, name, action, td_action);
    }
    for event in &metadata.events {
        let data = affordance(&td, "events", event.name).get("data").cloned();
        event_operation(paths, api, name, event, data);
    }
    for stream in &metadata.streams {
        stream_operations(paths, api, name, stream);
    }
    push_operations(paths, api, name, !metadata.events.is_empty());
}

/// The `text/event-stream` media type of an SSE response, described in text.
fn event_stream(description: &str) -> Value {
    json!({"schema": {"type": "string", "description": description}})
}

fn last_event_id() -> Value {
    json!({
        "name": "Last-Event-ID",
        "in": "header",
        "required": false,
        "description": "Resume a Server-Sent Events stream after this event id (the last 64 per Thing are kept).",
        "schema": {"type": "string"},
    })
}

fn property_operations(
    paths: &mut Map<String, Value>,
    api: &ApiPaths,
    thing: &str,
    property: &PropertyMetadata,
    schema: Value,
) {
    let path = api.affordance(thing, property.name);
    let description = operation_description(&property.title, property.description.as_ref());
    let mut ok = json_response("The current value", schema.clone());
    let mut get_description = description.clone();
    let mut parameters = Vec::new();
    if property.kind != PropertyKind::Functional {
        ok["content"]["text/event-stream"] = event_stream(
            "With `Accept: text/event-stream`: a Server-Sent Events stream with one unnamed \
             `data:` message (the value as JSON) per write, each with an `id:`.",
        );
        get_description.push_str(
            "\n\nWith `Accept: text/event-stream` the value is streamed instead: one message per write.",
        );
        parameters.push(last_event_id());
    }
    let mut get = json!({
        "tags": [thing],
        "operationId": format!("{thing}.{}.read", property.name),
        "summary": property.title,
        "description": get_description,
        "responses": {
            "200": ok,
            "500": problem_response("The getter failed"),
        },
    });
    if !parameters.is_empty() {
        get["parameters"] = Value::Array(parameters);
    }
    let mut item = json!({ "get": get });
    if !property.read_only {
        item["put"] = json!({
            "tags": [thing],
            "operationId": format!("{thing}.{}.write", property.name),
            "summary": property.title,
            "description": description,
            "requestBody": {
                "required": true,
                "description": "The new value, as bare JSON",
                "content": {"application/json": {"schema": schema}},
            },
            "responses": {
                "201": json_response("Written", json!({"type": "null"})),
                "409": problem_response("The server's global lock is held by another operation"),
                "422": validation_response(),
                "500": problem_response("The setter failed"),
            },
        });
    }
    paths.insert(path.clone(), item);
    if property.resettable() {
        paths.insert(
            format!("{path}/{}", seg::RESET),
            json!({"post": {
                "tags": [thing],
                "operationId": format!("{thing}.{}.reset", property.name),
                "summary": format!("Reset `{}` to its default", property.name),
                "responses": {
                    "200": json_response("Reset", json!({"type": "null"})),
                    "409": problem_response("The server's global lock is held by another operation"),
                },
            }}),
        );
    }
}

fn action_operations(
    paths: &mut Map<String, Value>,
    api: &ApiPaths,
    thing: &str,
    action: &ActionMetadata,
    td_action: &Value,
) {
    let path = api.affordance(thing, action.name);
    let input = json_schema_2020_12(td_action.get("input").cloned().unwrap_or(json!({})));
    let output = json_schema_2020_12(td_action.get("output").cloned().unwrap_or(json!({})));
    let sync_output = output.clone();
    // The invocation as this action returns it: the shared model, with this action's input
    // and output schemas.
    let invocation = json!({
        "allOf": [
            reference("Invocation"),
            {"properties": {
                "input": {"anyOf": [input.clone(), {"type": "null"}]},
                "output": {
                    "description": "The action's output once it has completed, else null",
                    "anyOf": [output, {"type": "null"}],
                },
            }},
        ],
    });
    let description = operation_description(&action.title, action.description.as_ref());
    let request_body = json!({
        // A no-input action takes no body, `null` or `{}`; so does one whose inputs all have
        // defaults (the input schema then requires nothing).
        "required": action.takes_input && requires_something(&input),
        "description": "The action's input: a JSON object of its parameters",
        "content": {"application/json": {"schema": input}},
    });
    paths.insert(
        path,
        json!({
            "post": {
                "tags": [thing],
                "operationId": format!("{thing}.{}.invoke", action.name),
                "summary": action.title,
                "description": format!(
                    "{description}\n\nStarts the action and answers **201** at once with the invocation \
                     (`Location` is its URL). Poll it for the status, log and output, or send \
                     `Prefer: wait=N` to wait up to N seconds for it to finish first.\n\n\
                     With `?sync=true` (the TD's first `invokeaction` form, for WoT consumers \
                     such as node-wot) it waits for the invocation to end and answers **200** \
                     with the output alone, or the invocation's error (problem+json, 500); one \
                     still running after 600 s gets the 201 after all."
                ),
                "parameters": [{
                    "name": "Prefer",
                    "in": "header",
                    "required": false,
                    "description": "`wait=N` (RFC 7240): wait up to N seconds for the invocation to finish before answering (still 201).",
                    "schema": {"type": "string", "examples": ["wait=10"]},
                }, {
                    "name": "sync",
                    "in": "query",
                    "required": false,
                    "description": "`true`: answer synchronously, with the output (200) or the invocation's error, once the invocation has ended.",
                    "schema": {"type": "string", "enum": ["true"]},
                }],
                "requestBody": request_body,
                "responses": {
                    "201": {
                        "description": "Started: the invocation as it stands",
                        "headers": {"Location": {
                            "description": "The invocation's URL",
                            "schema": {"type": "string", "format": "uri"},
                        }},
                        "content": {"application/json": {"schema": invocation}},
                    },
                    "200": json_response("With `?sync=true`: the invocation completed; its output", sync_output),
                    "422": validation_response(),
                    "500": problem_response("With `?sync=true`: the invocation ended with an error, or was cancelled"),
                    "503": problem_response("The action pool's queue is full, or the server is shutting down"),
                },
            },
            "get": {
                "tags": [thing],
                "operationId": format!("{thing}.{}.invocations", action.name),
                "summary": format!("Invocations of `{}`", action.name),
                "description": "The invocations of this action the server still keeps, as summaries.\n\nWith `Accept: text/event-stream`: a Server-Sent Events stream of this action's invocation updates (status, progress) instead.",
                "parameters": [last_event_id()],
                "responses": {"200": {
                    "description": "Summaries of this action's invocations",
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": reference("InvocationSummary")}},
                        "text/event-stream": event_stream("With `Accept: text/event-stream`: one message per status or progress change of an invocation of this action."),
                    },
                }},
            },
        }),
    );
}

/// Whether an input schema requires any property (else an empty body will do).
fn requires_something(input: &Value) -> bool {
    input
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|required| !required.is_empty())
}

fn event_operation(
    paths: &mut Map<String, Value>,
    api: &ApiPaths,
    thing: &str,
    event: &EventMetadata,
    data: Option<Value>,
) {
    let payload = match data.map(json_schema_2020_12) {
        Some(schema) => format!(
            "Each message's `data:` is the event's payload as JSON, of this schema:\n\n```json\n{}\n```",
            serde_json::to_string_pretty(&schema).unwrap_or_default()
        ),
        None => "The event carries no payload (`data: null`).".to_owned(),
    };
    let description = operation_description(&event.title, event.description.as_ref());
    let stream = json!({"schema": {"type": "string", "description": payload}});
    paths.insert(
        api.affordance(thing, event.name),
        json!({"get": {
            "tags": [thing],
            "operationId": format!("{thing}.{}.subscribe", event.name),
            "summary": event.title,
            "description": format!("{description}\n\nA Server-Sent Events stream: one unnamed message per emission, each with an `id:`. {payload}"),
            "parameters": [last_event_id()],
            "responses": {"200": {
                "description": "The event stream (never ends while the server runs)",
                "content": {"text/event-stream": stream},
            }},
        }}),
    );
}

fn stream_operations(
    paths: &mut Map<String, Value>,
    api: &ApiPaths,
    thing: &str,
    stream: &StreamMetadata,
) {
    let path = api.affordance(thing, stream.name);
    let description = operation_description(&stream.title, stream.description.as_ref());
    paths.insert(
        path.clone(),
        json!({"get": {
            "tags": [thing],
            "operationId": format!("{thing}.{}.mjpeg", stream.name),
            "summary": stream.title,
            "description": format!(
                "{description}\n\nAn MJPEG stream (`multipart/x-mixed-replace; boundary=frame`): each part is \
                 `--frame`, `Content-Type: image/jpeg`, `Content-Length`, then the JPEG. A slow \
                 client skips frames; it never slows the camera. Show it with `<img src=…>`."
            ),
            "parameters": [{
                "name": "fps",
                "in": "query",
                "required": false,
                "description": "Send at most this many frames a second to this client.",
                "schema": {"type": "number", "exclusiveMinimum": 0},
            }],
            "responses": {
                "200": {
                    "description": "The stream (never ends while the server runs)",
                    "content": {"multipart/x-mixed-replace": {"schema": {"type": "string", "contentMediaType": "image/jpeg"}}},
                },
                "422": validation_response(),
            },
        }}),
    );
    paths.insert(
        format!("{path}/{}", seg::VIEWER),
        json!({"get": {
            "tags": [thing],
            "operationId": format!("{thing}.{}.viewer", stream.name),
            "summary": format!("A page showing `{}`", stream.name),
            "responses": {"200": {
                "description": "A small HTML page with the stream in an `<img>`",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }},
        }}),
    );
}

/// The Thing-level push routes: all properties and all events as SSE, and the WebSocket.
fn push_operations(paths: &mut Map<String, Value>, api: &ApiPaths, thing: &str, has_events: bool) {
    paths.insert(
        api.all_properties(thing),
        json!({"get": {
            "tags": [thing],
            "operationId": format!("{thing}.properties.observe"),
            "summary": "Observe every property",
            "description": "A Server-Sent Events stream of every property write of this Thing: `event: <property name>`, `data: <value as JSON>`, an `id:` each (WoT `observeallproperties`).",
            "parameters": [last_event_id()],
            "responses": {"200": {
                "description": "The event stream (never ends while the server runs)",
                "content": {"text/event-stream": event_stream("Named messages, one per property write")},
            }},
        }}),
    );
    if has_events {
        paths.insert(
            api.all_events(thing),
            json!({"get": {
                "tags": [thing],
                "operationId": format!("{thing}.events.subscribe"),
                "summary": "Subscribe to every event",
                "description": "A Server-Sent Events stream of every event of this Thing: `event: <event name>`, `data: <payload as JSON>`, an `id:` each (WoT `subscribeallevents`).",
                "parameters": [last_event_id()],
                "responses": {"200": {
                    "description": "The event stream (never ends while the server runs)",
                    "content": {"text/event-stream": event_stream("Named messages, one per event")},
                }},
            }}),
        );
    }
    paths.insert(
        api.ws(thing),
        json!({"get": {
            "tags": [thing],
            "operationId": format!("{thing}.websocket"),
            "summary": "WebSocket: observe properties, actions and events",
            "description": WEBSOCKET_DESCRIPTION,
            "parameters": [
                {"name": "Upgrade", "in": "header", "required": true, "schema": {"const": "websocket"}},
                {"name": "Connection", "in": "header", "required": true, "schema": {"type": "string", "examples": ["Upgrade"]}},
            ],
            "responses": {
                "101": {"description": "Switching to the WebSocket protocol"},
                "400": detail_response("Not a WebSocket handshake"),
            },
        }}),
    );
}

const WEBSOCKET_DESCRIPTION: &str = "OpenAPI can't describe a WebSocket; this `GET` is its handshake (`Upgrade: websocket`). The messages are JSON text frames, labthings-fastapi's protocol:\n\n\
Client → server: `{\"messageType\": \"addPropertyObservation\", \"data\": {\"<property>\": true}}`, \
`addActionObservation`, `addEventSubscription`, and the matching `remove…` messages.\n\n\
Server → client: `{\"messageType\": \"propertyStatus\", \"data\": {\"<property>\": <value>}}` on every write of an observed property; \
`{\"messageType\": \"actionStatus\", \"data\": {\"action name\": …, \"status\": …, \"id\": …, \"href\": …}}` for each status change of an observed action's invocations; \
`{\"messageType\": \"event\", \"data\": {\"<event>\": {\"data\": …, \"timestamp\": …}}}` for subscribed events; \
`{\"messageType\": \"response\", \"error\": {…}}` for an unknown name, a malformed frame (the socket stays open) or dropped messages when the client falls behind.";

pub(super) fn invocation_operations(paths: &mut Map<String, Value>, api: &ApiPaths) {
    let id = json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": "The invocation's id",
        "schema": {"type": "string", "format": "uuid"},
    });
    let tags = json!(["invocations"]);
    paths.insert(
        api.invocations(),
        json!({"get": {
            "tags": tags,
            "operationId": "action_invocations.list",
            "summary": "Every kept invocation",
            "description": "Summaries of the invocations of every action of every Thing the server still keeps (finished ones for the retention time, 300 s by default), oldest first. Without parameters, all of them (the reference's answer); with `limit` and/or `after`, one page, and a `Link: <…>; rel=\"next\"` header while more follow.",
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": format!("At most this many summaries (a page); {} when only `after` is given.", labthings_protocol::paths::INVOCATIONS_PAGE_MAX),
                    "schema": {"type": "integer", "minimum": 1, "maximum": labthings_protocol::paths::INVOCATIONS_PAGE_MAX},
                },
                {
                    "name": "after",
                    "in": "query",
                    "required": false,
                    "description": "Start after the invocation with this id (the last of the previous page).",
                    "schema": {"type": "string", "format": "uuid"},
                },
            ],
            "responses": {
                "200": json_response("Invocation summaries", json!({"type": "array", "items": reference("InvocationSummary")})),
                "422": validation_response(),
            },
        }}),
    );
    paths.insert(
        api.invocation("{id}"),
        json!({
            "parameters": [id],
            "get": {
                "tags": tags,
                "operationId": "action_invocations.get",
                "summary": "One invocation",
                "description": "The invocation with its input, output, log and error.",
                "responses": {
                    "200": json_response("The invocation", reference("Invocation")),
                    "404": detail_response("No invocation with that id (or it has expired)"),
                    "422": validation_response(),
                },
            },
            "delete": {
                "tags": tags,
                "operationId": "action_invocations.cancel",
                "summary": "Cancel an invocation",
                "description": "Asks a pending or running invocation to stop; it ends `cancelled` once the action notices.",
                "responses": {
                    "200": json_response("Cancellation requested", json!({"type": "null"})),
                    "404": detail_response("No invocation with that id"),
                    "422": validation_response(),
                    "503": detail_response("The invocation has already finished and may not be cancelled"),
                },
            },
        }),
    );
    paths.insert(
        api.invocation_output("{id}"),
        json!({
            "parameters": [id],
            "get": {
                "tags": tags,
                "operationId": "action_invocations.output",
                "summary": "An invocation's output",
                "description": "The output of a completed invocation: its JSON value, or, when the action returned a blob, the blob's bytes with its media type.",
                "responses": {
                    "200": {
                        "description": "The output",
                        "content": {
                            "application/json": {"schema": {}},
                            "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}},
                        },
                    },
                    "404": detail_response("No invocation with that id"),
                    "422": validation_response(),
                    "503": detail_response("The invocation has not completed"),
                },
            },
        }),
    );
    paths.insert(
        api.blob("{id}"),
        json!({"get": {
            "tags": tags,
            "operationId": "blob.get",
            "summary": "Download a blob",
            "description": "Bytes an action returned as a blob (its output links here). A blob lives as long as its invocation. One `Range` is supported; `ETag`/`If-None-Match`/`If-Range` too.",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "Range", "in": "header", "required": false, "description": "One byte range, e.g. `bytes=0-1023`", "schema": {"type": "string"}},
                {"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}},
                {"name": "If-Range", "in": "header", "required": false, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": blob_response("The whole blob, with its media type"),
                "206": blob_response("The requested range (`Content-Range` says which)"),
                "304": {"description": "Not modified (`If-None-Match` matched the `ETag`)"},
                "404": detail_response("No such blob (`Blob not found`)"),
                "416": {
                    "description": "The range lies outside the blob (`Content-Range: bytes */<length>`)",
                    "headers": {"Content-Range": {"schema": {"type": "string"}}},
                },
            },
        }}),
    );
}

fn blob_response(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {
            "ETag": {"schema": {"type": "string"}},
            "Accept-Ranges": {"schema": {"const": "bytes"}},
            "Content-Range": {"description": "On 206 only", "schema": {"type": "string"}},
        },
        "content": {"*/*": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}},
    })
}

pub(super) fn server_operations(paths: &mut Map<String, Value>, api: &ApiPaths) {
    let tags = json!(["server"]);
    paths.insert(
        api.things(),
        json!({"get": {
            "tags": tags,
            "operationId": "things.list",
            "summary": "The served Things",
            "responses": {"200": json_response(
                "Each Thing's name and the absolute URL of its Thing Description",
                json!({"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}),
            )},
        }}),
    );
    paths.insert(
        api.thing_descriptions(),
        json!({"get": {
            "tags": tags,
            "operationId": "thing_descriptions.list",
            "summary": "Every Thing Description",
            "responses": {"200": json_response(
                "Each Thing's name and its Thing Description",
                json!({"type": "object", "additionalProperties": reference("ThingDescription")}),
            )},
        }}),
    );
    paths.insert(
        "/.well-known/wot".into(),
        json!({"get": {
            "tags": tags,
            "operationId": "wot.directory",
            "summary": "WoT discovery: the directory TD",
            "description": "W3C WoT Discovery's well-known URL (always at the root, whatever the API prefix): a Thing Description linking every served Thing.",
            "responses": {"200": {
                "description": "The directory's Thing Description",
                "content": {"application/td+json": {"schema": reference("ThingDescription")}},
            }},
        }}),
    );
    paths.insert(
        format!("{}/{}", api.prefix(), seg::OPENAPI_JSON),
        json!({"get": {
            "tags": tags,
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": json_response("The OpenAPI 3.1 document", json!({"type": "object"}))},
        }}),
    );
    paths.insert(
        format!("{}/{}", api.prefix(), seg::DOCS),
        json!({"get": {
            "tags": tags,
            "operationId": "docs",
            "summary": "Interactive API docs (Swagger UI)",
            "description": "Swagger UI, served from inside the server (works offline), showing this document.",
            "responses": {
                "200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
                "404": detail_response("The server was built without the `docs-ui` feature"),
            },
        }}),
    );
}
