//! The OpenAPI 3.1 document of the served API, built by hand from the same source as the
//! Thing Descriptions.
//!
//! Every schema here is taken from the TD the server serves ([`thing_description`]), not
//! derived a second time: a property's schema is its TD affordance without the TD-only keys
//! (`forms`, `observable`), an action's request body is the TD's `input`, its output the TD's
//! `output`, an event's payload the TD's `data`. So the two documents can't disagree, and a
//! snapshot diff of either shows the same API change. The fixed routes (invocations, blobs,
//! directories) are described from the wire protocol (`PROTOCOL.md`); what OpenAPI can't model
//! (the WebSocket, SSE and MJPEG streams) is described in text on a plain `GET`.
//!
//! Paths are absolute from the server's origin (the API prefix included), as the TD's `href`s
//! are, so `servers` holds just the origin and `/.well-known/wot` (always at the root) fits in.

mod components;
mod dialect;
mod paths;

use labthings_core::Thing;
use labthings_protocol::ApiPaths;
use serde_json::{Map, Value, json};

use components::components;
use dialect::json_schema_2020_12;
mod history;
use paths::{endpoint_operations, invocation_operations, server_operations, thing_operations};

/// The OpenAPI version written (and the dialect of every schema: JSON Schema 2020-12).
pub const OPENAPI_VERSION: &str = "3.1.0";

/// What the document describes: the served Things and how the server is set up.
pub struct ApiSurface<'a> {
    /// Each served Thing under its name, in serving order.
    pub things: Vec<(&'a str, &'a dyn Thing)>,
    /// Where everything is, under the API prefix.
    pub paths: &'a ApiPaths,
    /// Whether requests need a bearer token.
    pub bearer: bool,
    /// The origin clients reach the server at (`http://127.0.0.1:5000`), when known.
    pub origin: Option<&'a str>,
}

/// The whole OpenAPI 3.1 document.
pub fn document(surface: &ApiSurface<'_>) -> Value {
    let mut paths = Map::new();
    let mut tags = Vec::new();
    for (name, thing) in &surface.things {
        let mut tag = json!({"name": name, "description": thing_tag_description(name, *thing)});
        if let Some(origin) = surface.origin {
            tag["externalDocs"] = json!({
                "description": "Thing Description (W3C WoT TD 1.1)",
                "url": format!("{origin}{}", surface.paths.thing(name)),
            });
        }
        tags.push(tag);
        thing_operations(&mut paths, surface, name, *thing);
        endpoint_operations(&mut paths, surface, name, *thing);
    }
    tags.push(json!({"name": "invocations", "description": "Action invocations of every Thing: status, log, output, cancellation."}));
    tags.push(json!({"name": "server", "description": "The server's own routes: directories of the Things, discovery, this document."}));
    tags.push(json!({"name": "history", "description": "The durable history: recorded invocations, property values and events."}));
    invocation_operations(&mut paths, surface.paths);
    server_operations(&mut paths, surface.paths);
    history::history_operations(&mut paths, surface.paths);

    let mut document = Map::new();
    document.insert("openapi".into(), json!(OPENAPI_VERSION));
    document.insert("info".into(), info(surface));
    if let Some(origin) = surface.origin {
        document.insert(
            "servers".into(),
            json!([{"url": origin, "description": "This server, as the request reached it"}]),
        );
    }
    document.insert("tags".into(), Value::Array(tags));
    document.insert("paths".into(), Value::Object(paths));
    document.insert("components".into(), components(surface.bearer));
    let mut document = Value::Object(document);
    if surface.bearer {
        // Any one of the three ways of carrying the token will do.
        document["security"] = json!([{"bearer": []}, {"access_token": []}, {"lt_token": []}]);
        add_unauthorized(&mut document);
    }
    document
}

/// `info`: the Things' titles as the title, this crate's version as the API's version.
fn info(surface: &ApiSurface<'_>) -> Value {
    let titles: Vec<&str> = surface
        .things
        .iter()
        .map(|(_, thing)| thing.metadata().title.as_str())
        .collect();
    let title = if titles.is_empty() {
        "LabThings".to_owned()
    } else {
        format!("LabThings: {}", titles.join(", "))
    };
    let description = format!(
        "The HTTP API of a LabThings for Rust server (the wire protocol of the Python \
         labthings-fastapi 0.3.0), generated from the same metadata and schemas as its Thing \
         Descriptions.\n\n\
         - Each Thing is described by a W3C WoT Thing Description at `{prefix}/<thing>/`; \
         its properties, actions and events have routes below it, tagged with the Thing's name.\n\
         - Starting an action answers **201** at once with an invocation; follow its `href` \
         (or `GET {prefix}/action_invocations/{{id}}`) for the status, log and output, and \
         `DELETE` it to cancel. `Prefer: wait=N` waits up to N seconds before answering; \
         `?sync=true` waits for the end and answers **200** with the output alone.\n\
         - Every `GET` route also answers `HEAD`.\n\
         - Live values: `Accept: text/event-stream` on a property or action route, the \
         Thing's `properties` and `events` streams (Server-Sent Events), or the Thing's \
         WebSocket `ws` (its messages are described on that route).\n\
         - Errors are `{{\"detail\": …}}` (404, 405, 503), FastAPI's validation list (422), or \
         RFC 9457 problem details (`application/problem+json`).",
        prefix = surface.paths.prefix(),
    );
    json!({
        "title": title,
        "version": env!("CARGO_PKG_VERSION"),
        "description": description,
        "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
    })
}

fn thing_tag_description(name: &str, thing: &dyn Thing) -> String {
    let metadata = thing.metadata();
    match &metadata.description {
        Some(description) => format!("**{}** (`{name}`): {description}", metadata.title),
        None => format!("**{}** (`{name}`)", metadata.title),
    }
}

/// A response whose body is JSON described by `schema`.
fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn reference(component: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{component}")})
}

fn detail_response(description: &str) -> Value {
    json_response(description, reference("Detail"))
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": reference("Problem")}},
    })
}

fn validation_response() -> Value {
    json_response(
        "Validation error (FastAPI's shape): where the input is wrong (`loc`) and why (`msg`)",
        reference("HTTPValidationError"),
    )
}

/// The TD affordance `kind` (`properties`, `actions`, `events`) named `name`, from `td`.
fn affordance<'v>(td: &'v Value, kind: &str, name: &str) -> &'v Value {
    &td[kind][name]
}

/// A property's value schema as the TD gives it: the affordance without its TD-only keys.
pub fn property_schema(td_property: &Value) -> Value {
    let mut schema = td_property.as_object().cloned().unwrap_or_default();
    schema.remove("forms");
    schema.remove("observable");
    json_schema_2020_12(Value::Object(schema))
}

/// With tokens on, every operation may answer 401: add it to each.
fn add_unauthorized(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if method == "parameters" {
                continue;
            }
            if let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            {
                responses.insert(
                    "401".into(),
                    json!({"$ref": "#/components/responses/Unauthorized"}),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_schema_drops_only_the_td_keys() {
        let affordance = json!({
            "title": "Count", "readOnly": false, "type": "integer", "minimum": 0,
            "observable": true, "forms": [{"href": "/counter/count"}],
        });
        assert_eq!(
            property_schema(&affordance),
            json!({"title": "Count", "readOnly": false, "type": "integer", "minimum": 0})
        );
    }
}
