//! W3C Thing Description (TD 1.1) of a Thing, in the reference server's shape, plus the push
//! forms (SSE and WebSocket), events, and links to MJPEG streams.
//!
//! Form order matters to WoT consumers: node-wot takes the *first* form whose `op` lists the
//! operation and whose scheme it speaks, so the HTTP forms come first, the SSE observe form on
//! the property's own href next, and the `ws://` form last (node-wot's WebSocket client is a
//! stub). `op` is always an array: node-wot matches a string `op` by substring.

use labthings_protocol::paths::{ApiPaths, Origin, SYNC_QUERY};
use labthings_protocol::units;
use serde_json::{Map, Value, json};

use crate::schema::titled;
use crate::thing::{ActionMetadata, EventMetadata, PropertyMetadata, Thing};

/// Where a Thing is served, as its TD must say.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    /// The server as the client reached it, e.g. `http://127.0.0.1:5000`.
    pub origin: &'a Origin,
    /// The server's paths under its API prefix.
    pub paths: &'a ApiPaths,
    /// The name the Thing is served under.
    pub name: &'a str,
    /// The Thing's stable id (`urn:uuid:…`), if the server keeps one.
    pub id: Option<&'a str>,
    /// Whether requests need a bearer token: the TD then declares `bearer` instead of `nosec`.
    pub bearer: bool,
}

impl Served<'_> {
    /// The Thing's WebSocket URL: absolute, since `ws:` can't be relative to an `http:` base.
    fn websocket(&self) -> String {
        format!("{}{}", self.origin.websocket(), self.paths.ws(self.name))
    }
}

/// Add a TD's `securityDefinitions` and `security`: the reference's `nosec`, or, when requests
/// need a token, a Thing-level `bearer` scheme (node-wot applies only Thing-level credentials,
/// keyed by the TD's `id`). The token is opaque, not a JWT, so `format` says so.
pub fn insert_security(td: &mut Map<String, Value>, bearer: bool) {
    if bearer {
        td.insert(
            "securityDefinitions".into(),
            json!({"bearer": {
                "description": "A static bearer token (RFC 6750): `Authorization: Bearer <token>`, an `lt_token` cookie, or `?access_token=<token>`",
                "scheme": "bearer",
                "in": "header",
                "name": "Authorization",
                "format": "opaque",
            }}),
        );
        td.insert("security".into(), json!("bearer"));
    } else {
        td.insert(
            "securityDefinitions".into(),
            json!({"no_security": {"description": "No security", "scheme": "nosec"}}),
        );
        td.insert("security".into(), json!("no_security"));
    }
}

/// The TD of a Thing as served at `served`.
pub fn thing_description(thing: &dyn Thing, served: &Served<'_>) -> Value {
    let thing_path = &served.paths.thing(served.name);
    let websocket = served.websocket();
    let metadata = thing.metadata();
    let properties: Map<String, Value> = metadata
        .properties
        .iter()
        .map(|p| {
            let default = thing.property_default(p.name);
            (
                p.name.to_owned(),
                property_affordance(p, default, thing_path, &websocket),
            )
        })
        .collect();
    let actions: Map<String, Value> = metadata
        .actions
        .iter()
        .map(|a| (a.name.to_owned(), action_affordance(a, thing_path)))
        .collect();
    let mut td = Map::new();
    td.insert("title".into(), json!(metadata.title));
    if let Some(id) = served.id {
        td.insert("id".into(), json!(id));
    }
    td.insert("properties".into(), Value::Object(properties));
    td.insert("actions".into(), Value::Object(actions));
    if !metadata.events.is_empty() {
        let events: Map<String, Value> = metadata
            .events
            .iter()
            .map(|e| {
                (
                    e.name.to_owned(),
                    event_affordance(e, thing_path, &websocket),
                )
            })
            .collect();
        td.insert("events".into(), Value::Object(events));
    }
    if let Some(description) = &metadata.description {
        td.insert("description".into(), json!(description));
    }
    td.insert("base".into(), json!(format!("{}/", served.origin)));
    // MJPEG streams aren't affordances in TD 1.1: they are links to alternate
    // representations, which consumers that don't know them ignore; so is the Thing's web page.
    let mut links: Vec<Value> = metadata
        .streams
        .iter()
        .map(|s| {
            json!({
                "rel": "alternate",
                "type": "multipart/x-mixed-replace",
                "href": format!("{thing_path}{}", s.name),
            })
        })
        .collect();
    links.push(json!({
        "rel": "alternate",
        "type": "text/html",
        "href": served.paths.ui_page(served.name),
    }));
    // The streams of every property write and every event, as links rather than root forms
    // with `observeallproperties`/`subscribeallevents`: the reference's own TD model (which its
    // `/thing_descriptions/` answer and tools validate with) allows only the four
    // read/write-all operations at the root.
    links.push(event_stream_link(&served.paths.all_properties(served.name)));
    if !metadata.events.is_empty() {
        links.push(event_stream_link(&served.paths.all_events(served.name)));
    }
    td.insert("links".into(), Value::Array(links));
    insert_security(&mut td, served.bearer);
    // TD 1.1 allows the 1.0 context first, then 1.1's; validators that know only TD 1.0
    // (node-wot 0.9 refuses a TD whose context is the 1.1 URI alone) accept it too.
    let mut context = vec![
        json!("https://www.w3.org/2019/wot/td/v1"),
        json!("https://www.w3.org/2022/wot/td/v1.1"),
    ];
    // The prefixes of the `unit` terms used (`om:degreeCelsius` needs `om`), in one object.
    let mut prefixes = Map::new();
    for affordances in ["properties", "actions", "events"] {
        if let Some(value) = td.get(affordances) {
            unit_prefixes(value, &mut prefixes);
        }
    }
    if !prefixes.is_empty() {
        context.push(Value::Object(prefixes));
    }
    td.insert("@context".into(), Value::Array(context));
    Value::Object(td)
}

/// Add to `prefixes` the `@context` entry of every `unit` term in `value` (schemas nest).
fn unit_prefixes(value: &Value, prefixes: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("unit", Value::String(term)) => {
                        if let Some((prefix, namespace)) = units::context_entry(term) {
                            prefixes.insert(prefix.to_owned(), json!(namespace));
                        }
                    }
                    _ => unit_prefixes(value, prefixes),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| unit_prefixes(item, prefixes)),
        _ => {}
    }
}

/// `schema`, or for a schema that allows any JSON value (a `serde_json::Value` output) the
/// same spelled out as one of the JSON types: node-wot refuses to read a value whose schema
/// has no `type`, `const`, `enum` or `oneOf` ("No schema type defined").
fn any_json_typed(schema: Value) -> Value {
    let Value::Object(mut map) = schema else {
        return schema;
    };
    let constrains = [
        "type", "const", "enum", "oneOf", "anyOf", "allOf", "not", "$ref",
    ];
    if !constrains.iter().any(|key| map.contains_key(*key)) {
        let types = ["object", "array", "string", "number", "boolean", "null"];
        let one_of: Vec<Value> = types.iter().map(|t| json!({ "type": t })).collect();
        map.insert("oneOf".into(), Value::Array(one_of));
    }
    Value::Object(map)
}

/// A Server-Sent Events stream of the Thing's, as a TD link.
fn event_stream_link(href: &str) -> Value {
    json!({ "rel": "alternate", "type": "text/event-stream", "href": href })
}

fn property_affordance(
    property: &PropertyMetadata,
    default: Option<Value>,
    thing_path: &str,
    websocket: &str,
) -> Value {
    let mut affordance = Map::new();
    if let Some(description) = &property.description {
        affordance.insert("description".into(), json!(description));
    }
    affordance.insert("title".into(), json!(property.title));
    affordance.insert("writeOnly".into(), json!(false));
    affordance.insert("readOnly".into(), json!(property.read_only));
    if let Some(default) = default {
        affordance.insert("default".into(), default);
    }
    if let Value::Object(schema) = &property.schema {
        for (key, value) in schema {
            if !affordance.contains_key(key) {
                affordance.insert(key.clone(), value.clone());
            }
        }
    }
    let op = if property.read_only {
        json!(["readproperty"])
    } else {
        json!(["readproperty", "writeproperty"])
    };
    let href = format!("{thing_path}{}", property.name);
    let mut forms = vec![json!({ "href": href, "op": op })];
    // Data properties announce every write; a getter's value changes without one, so only a
    // getter the server polls (`observe_every`) is observable.
    if property.observable() {
        affordance.insert("observable".into(), json!(true));
        forms.push(json!({
            "href": href,
            "op": ["observeproperty", "unobserveproperty"],
            "subprotocol": "sse",
        }));
        // No `subprotocol`: the `ws:` scheme says WebSocket, and the reference's TD model
        // allows only `longpoll`, `websub` and `sse` there.
        forms.push(json!({
            "href": websocket,
            "op": ["observeproperty", "unobserveproperty"],
        }));
    }
    affordance.insert("forms".into(), Value::Array(forms));
    Value::Object(affordance)
}

fn event_affordance(event: &EventMetadata, thing_path: &str, websocket: &str) -> Value {
    let mut affordance = Map::new();
    if let Some(description) = &event.description {
        affordance.insert("description".into(), json!(description));
    }
    affordance.insert("title".into(), json!(event.title));
    if let Some(schema) = &event.data_schema {
        affordance.insert("data".into(), schema.clone());
    }
    affordance.insert(
        "forms".into(),
        json!([
            {
                "href": format!("{thing_path}{}", event.name),
                "op": ["subscribeevent", "unsubscribeevent"],
                "subprotocol": "sse",
            },
            // No `subprotocol`: see `property_affordance`.
            {
                "href": websocket,
                "op": ["subscribeevent", "unsubscribeevent"],
            },
        ]),
    );
    Value::Object(affordance)
}

fn action_affordance(action: &ActionMetadata, thing_path: &str) -> Value {
    let mut affordance = Map::new();
    if let Some(description) = &action.description {
        affordance.insert("description".into(), json!(description));
    }
    affordance.insert("title".into(), json!(action.title));
    let href = format!("{thing_path}{}", action.name);
    // The synchronous form first: WoT consumers (node-wot) take the first `invokeaction` form
    // and its answer's body as the output. The reference's asynchronous answer (201 and the
    // invocation) follows, for clients that track invocations; the Python `ThingClient` posts
    // to `T<action>` whatever the forms say.
    affordance.insert(
        "forms".into(),
        json!([
            { "href": format!("{href}?{SYNC_QUERY}"), "op": ["invokeaction"] },
            { "href": href, "op": ["invokeaction"] },
        ]),
    );
    affordance.insert("input".into(), action.input_schema.clone());
    affordance.insert(
        "output".into(),
        titled(
            &format!("{}_output", action.name),
            any_json_typed(action.output_schema.clone()),
        ),
    );
    Value::Object(affordance)
}
