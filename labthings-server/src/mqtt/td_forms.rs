//! The MQTT forms a TD gains when the binding is on, after the HTTP ones (so HTTP consumers
//! are unaffected). Each carries its topic twice: in the href's path, which is all node-wot
//! reads (node-wot#1385), and in `mqv:topic`/`mqv:filter`, which is all the W3C binding
//! template reads. Write and invoke forms have no `mqv:retain`: a consumer following it would
//! publish retained commands, replayed at every reconnect.

use serde_json::{Map, Value, json};

use labthings_protocol::mqtt::{MQV_NAMESPACE, MQV_PREFIX, ThingTopics};

use crate::mqtt::config::Resolved;
use crate::mqtt::link::Board;
use crate::state::Binding;
use std::sync::Arc;

/// The security scheme naming the broker's credentials, on MQTT forms only.
pub const BASIC: &str = "mqtt_basic";

/// The MQTT binding as the rest of the server sees it: forms for TDs, a report for the
/// directory.
pub struct MqttBinding {
    pub config: Resolved,
    pub board: Arc<Board>,
}

impl Binding for MqttBinding {
    fn extend_td(&self, thing: &str, td: &mut Value) {
        add_forms(
            td,
            &ThingTopics::new(&self.config.prefix, thing),
            &self.config.broker.url(),
            self.config.credentials.is_some(),
        );
    }

    fn report(&self) -> Value {
        let mut report = self.board.report();
        if let Value::Object(fields) = &mut report {
            fields.insert("broker".into(), json!(self.config.broker.url()));
            fields.insert("prefix".into(), json!(self.config.prefix));
        }
        report
    }
}

/// Add MQTT forms for every affordance of `td` (the Thing's topics `topics`, the broker at
/// `broker`), the `mqv` prefix to its `@context`, and, with `credentials`, a `basic` scheme
/// those forms name.
pub fn add_forms(td: &mut Value, topics: &ThingTopics, broker: &str, credentials: bool) {
    let Value::Object(td) = td else { return };
    let form = |topic: String, key: &str, op: Value, retain: Option<bool>| {
        let mut form = Map::new();
        form.insert("href".into(), json!(format!("{broker}/{topic}")));
        form.insert(key.into(), json!(topic));
        form.insert("op".into(), op);
        if let Some(retain) = retain {
            form.insert("mqv:retain".into(), json!(retain));
        }
        form.insert("mqv:qos".into(), json!("1"));
        form.insert("contentType".into(), json!("application/json"));
        if credentials {
            form.insert("security".into(), json!([BASIC]));
        }
        Value::Object(form)
    };
    for_each(td, "properties", |name, affordance| {
        let read_only = affordance.get("readOnly") == Some(&Value::Bool(true));
        let write_only = affordance.get("writeOnly") == Some(&Value::Bool(true));
        // Only what the hub publishes reaches the broker: a getter read on demand (not
        // observable) would leave a reader waiting for a retained value that never comes.
        let published = affordance.get("observable") == Some(&Value::Bool(true));
        let mut forms = Vec::new();
        if !write_only && published {
            forms.push(form(
                topics.property(name),
                "mqv:filter",
                json!(["readproperty", "observeproperty", "unobserveproperty"]),
                Some(true),
            ));
        }
        if !read_only {
            forms.push(form(
                topics.write_property(name),
                "mqv:topic",
                json!("writeproperty"),
                None,
            ));
        }
        forms
    });
    for_each(td, "actions", |name, _| {
        vec![form(
            topics.action(name),
            "mqv:topic",
            json!("invokeaction"),
            None,
        )]
    });
    for_each(td, "events", |name, _| {
        vec![form(
            topics.event(name),
            "mqv:filter",
            json!(["subscribeevent", "unsubscribeevent"]),
            Some(false),
        )]
    });
    add_context(td);
    if credentials && let Some(Value::Object(definitions)) = td.get_mut("securityDefinitions") {
        definitions.insert(
            BASIC.into(),
            json!({
                "description": "The MQTT broker's username and password (CONNECT), for the MQTT forms",
                "scheme": "basic",
            }),
        );
    }
}

/// Append `forms(name, affordance)` to each affordance's forms under `key`.
fn for_each(
    td: &mut Map<String, Value>,
    key: &str,
    forms: impl Fn(&str, &Map<String, Value>) -> Vec<Value>,
) {
    let Some(Value::Object(affordances)) = td.get_mut(key) else {
        return;
    };
    for (name, affordance) in affordances.iter_mut() {
        let Value::Object(affordance) = affordance else {
            continue;
        };
        let more = forms(name, affordance);
        if let Some(Value::Array(existing)) = affordance.get_mut("forms") {
            existing.extend(more);
        }
    }
}

/// `"mqv": "https://www.w3.org/2019/wot/mqtt#"` in `@context`: TD 1.1's context does not
/// define the prefix.
fn add_context(td: &mut Map<String, Value>) {
    let prefix = json!({ MQV_PREFIX: MQV_NAMESPACE });
    match td.get_mut("@context") {
        Some(Value::Array(context)) => context.push(prefix),
        Some(single) => *single = json!([single.take(), prefix]),
        None => {
            td.insert(
                "@context".into(),
                json!(["https://www.w3.org/2022/wot/td/v1.1", prefix]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_follow_the_http_ones_with_the_topic_in_both_places() {
        let mut td = json!({
            "@context": ["https://www.w3.org/2022/wot/td/v1.1"],
            "securityDefinitions": {"no_security": {"scheme": "nosec"}},
            "properties": {
                "count": {"readOnly": false, "observable": true, "forms": [{"href": "/counter/count"}]},
                "serial": {"readOnly": true, "observable": true, "forms": [{"href": "/counter/serial"}]},
                "reading": {"readOnly": true, "forms": [{"href": "/counter/reading"}]},
            },
            "actions": {"reset": {"forms": [{"href": "/counter/reset"}]}},
            "events": {"tick": {"forms": [{"href": "/counter/tick"}]}},
        });
        let topics = ThingTopics::new("labthings/lab1", "counter");
        add_forms(&mut td, &topics, "mqtt://127.0.0.1:1883", true);

        let count = td["properties"]["count"]["forms"].as_array().unwrap();
        assert_eq!(count[0]["href"], "/counter/count", "HTTP stays first");
        assert_eq!(
            count[1]["href"],
            "mqtt://127.0.0.1:1883/labthings/lab1/counter/properties/count"
        );
        assert_eq!(
            count[1]["mqv:filter"],
            "labthings/lab1/counter/properties/count"
        );
        assert_eq!(
            (&count[1]["mqv:retain"], &count[1]["mqv:qos"]),
            (&json!(true), &json!("1"))
        );
        assert_eq!(
            count[2]["mqv:topic"],
            "labthings/lab1/counter/properties/count/writeproperty"
        );
        assert!(
            count[2].get("mqv:retain").is_none(),
            "commands are not retained"
        );
        assert_eq!(count[2]["security"], json!([BASIC]));
        let serial = td["properties"]["serial"]["forms"].as_array().unwrap();
        assert_eq!(serial.len(), 2, "a read-only property gets no write form");
        assert_eq!(
            td["properties"]["reading"]["forms"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "a getter read on demand is never published: no MQTT form"
        );
        assert_eq!(td["actions"]["reset"]["forms"][1]["op"], "invokeaction");
        assert_eq!(
            td["events"]["tick"]["forms"][1]["mqv:filter"],
            "labthings/lab1/counter/events/tick"
        );
        assert_eq!(td["@context"][1]["mqv"], MQV_NAMESPACE);
        assert_eq!(td["securityDefinitions"][BASIC]["scheme"], "basic");
    }
}
