//! Thing Descriptions and the Thing directory routes.

use hyper::{Response, StatusCode};
use labthings_protocol::paths::Origin;
use serde_json::{Map, Value};

use crate::http::response::{self, Body};
use crate::state::{ServedThing, ServerState};

/// `GET T`: the Thing's TD.
pub fn thing_description(served: &ServedThing, origin: &Origin) -> Response<Body> {
    response::json_bytes(StatusCode::OK, served.td_json(origin))
}

/// `GET P/things/`: `{name: absolute TD URL}`.
pub fn things(state: &ServerState, origin: &Origin) -> Response<Body> {
    let listing: Map<String, Value> = state
        .things
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                Value::String(format!("{origin}{}", t.path)),
            )
        })
        .collect();
    response::json(StatusCode::OK, &listing)
}

/// `GET P/thing_descriptions/`: `{name: TD}`.
pub fn all_descriptions(state: &ServerState, origin: &Origin) -> Response<Body> {
    let mut body = Vec::from(&b"{"[..]);
    for (i, served) in state.things.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&serde_json::to_vec(&*served.name).unwrap_or_default());
        body.push(b':');
        body.extend_from_slice(&served.td_json(origin));
    }
    body.push(b'}');
    response::json_bytes(StatusCode::OK, body)
}
