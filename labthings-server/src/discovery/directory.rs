//! The directory Thing Description at `/.well-known/wot`: a W3C WoT Discovery
//! `ThingDirectory` that links every served Thing's TD (`rel: "item"`) and offers them all at
//! once as its `things` property, read at `P/thing_descriptions/` (the reference's object of
//! TDs keyed by name, not the Discovery API's array). With MQTT on, its `mqtt` field reports
//! the broker link's state.

use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use labthings_core::insert_security;
use labthings_protocol::paths::Origin;
use serde_json::{Map, Value, json};

use crate::http::response::{self, Body};
use crate::state::ServerState;

/// The directory TD as seen from `origin`.
pub fn describe(state: &ServerState, origin: &Origin) -> Value {
    let links: Vec<Value> = state
        .things
        .iter()
        .map(|served| {
            json!({
                "rel": "item",
                "href": served.path,
                "type": "application/td+json",
                "title": &*served.name,
            })
        })
        .collect();
    let mut td = Map::new();
    td.insert(
        "@context".into(),
        json!([
            "https://www.w3.org/2019/wot/td/v1",
            "https://www.w3.org/2022/wot/td/v1.1",
            {"discovery": "https://www.w3.org/2022/wot/discovery#"}
        ]),
    );
    td.insert("@type".into(), json!("discovery:ThingDirectory"));
    td.insert("title".into(), json!("LabThings"));
    td.insert(
        "description".into(),
        json!("The Things served here: each is linked as an item, and all their TDs are the `things` property."),
    );
    td.insert("base".into(), json!(format!("{origin}/")));
    insert_security(&mut td, state.tokens.is_some());
    td.insert(
        "properties".into(),
        json!({"things": {
            "title": "Things",
            "description": "Every Thing's TD, keyed by its name.",
            "type": "object",
            "additionalProperties": {"type": "object"},
            "readOnly": true,
            "forms": [{
                "href": state.paths.thing_descriptions(),
                "op": ["readproperty"],
                "contentType": "application/json",
            }],
        }}),
    );
    td.insert("links".into(), Value::Array(links));
    // The MQTT link's state, when the binding is on: `{"state": "connected", "broker", "prefix",
    // "things": {name: state}}`.
    if let Some(binding) = &state.binding {
        td.insert("mqtt".into(), binding.report());
    }
    Value::Object(td)
}

/// The directory TD as `application/td+json`.
pub fn response(state: &ServerState, origin: &Origin) -> Response<Body> {
    let mut response = response::json(StatusCode::OK, &describe(state, origin));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/td+json"),
    );
    response
}
