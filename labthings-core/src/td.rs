//! W3C Thing Description (TD 1.1) of a Thing, in the reference server's shape.

use serde_json::{Map, Value, json};

use crate::schema::titled;
use crate::thing::{ActionMetadata, PropertyMetadata, Thing};

/// The TD of a Thing served at `thing_path` (e.g. `/counter/` or `/api/counter/`), as seen by
/// a client that reached the server at `base` (e.g. `http://127.0.0.1:5000/`).
pub fn thing_description(thing: &dyn Thing, base: &str, thing_path: &str) -> Value {
    let metadata = thing.metadata();
    let properties: Map<String, Value> = metadata
        .properties
        .iter()
        .map(|p| {
            let default = thing.property_default(p.name);
            (
                p.name.to_owned(),
                property_affordance(p, default, thing_path),
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
    td.insert("properties".into(), Value::Object(properties));
    td.insert("actions".into(), Value::Object(actions));
    if let Some(description) = &metadata.description {
        td.insert("description".into(), json!(description));
    }
    td.insert("base".into(), json!(base));
    td.insert(
        "securityDefinitions".into(),
        json!({"no_security": {"description": "No security", "scheme": "nosec"}}),
    );
    td.insert("security".into(), json!("no_security"));
    td.insert(
        "@context".into(),
        json!("https://www.w3.org/2022/wot/td/v1.1"),
    );
    Value::Object(td)
}

fn property_affordance(
    property: &PropertyMetadata,
    default: Option<Value>,
    thing_path: &str,
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
    affordance.insert(
        "forms".into(),
        json!([{ "href": format!("{thing_path}{}", property.name), "op": op }]),
    );
    Value::Object(affordance)
}

fn action_affordance(action: &ActionMetadata, thing_path: &str) -> Value {
    let mut affordance = Map::new();
    if let Some(description) = &action.description {
        affordance.insert("description".into(), json!(description));
    }
    affordance.insert("title".into(), json!(action.title));
    affordance.insert(
        "forms".into(),
        json!([{ "href": format!("{thing_path}{}", action.name), "op": ["invokeaction"] }]),
    );
    affordance.insert("input".into(), action.input_schema.clone());
    affordance.insert(
        "output".into(),
        titled(
            &format!("{}_output", action.name),
            action.output_schema.clone(),
        ),
    );
    Value::Object(affordance)
}
