//! The parts of a W3C Thing Description (TD 1.1) a client needs: the affordances, their forms
//! and schemas. Anything else the TD holds is kept, untyped, in `other`.
//!
//! Both our server's TDs and the Python reference's deserialise: `op` may be a string or an
//! array, `events` and Thing-level `forms` may be absent, and unknown keys are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::paths;

/// A Thing Description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThingDescription {
    /// The Thing's title (the reference uses the class name).
    #[serde(default)]
    pub title: String,
    /// The Thing's `id` (`urn:uuid:…` on our server; absent on the reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the Thing is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The URL relative hrefs resolve against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Properties by name.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyAffordance>,
    /// Actions by name.
    #[serde(default)]
    pub actions: BTreeMap<String, ActionAffordance>,
    /// Events by name.
    #[serde(default)]
    pub events: BTreeMap<String, EventAffordance>,
    /// Thing-level forms (`observeallproperties`, `subscribeallevents`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<Form>,
    /// Everything else (`@context`, `security`, `links`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A property: the DataSchema of its value, and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyAffordance {
    /// The first line of its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether writing is refused.
    #[serde(rename = "readOnly", default)]
    pub read_only: bool,
    /// Whether reading is refused.
    #[serde(rename = "writeOnly", default)]
    pub write_only: bool,
    /// Whether changes are pushed to observers.
    #[serde(default)]
    pub observable: bool,
    /// How to reach it.
    #[serde(default)]
    pub forms: Vec<Form>,
    /// The rest of the DataSchema (`type`, `minimum`, `default`, …).
    #[serde(flatten)]
    pub schema: Map<String, Value>,
}

/// An action: its input and output schemas, and how to invoke it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionAffordance {
    /// The first line of its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The JSON Schema of its output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// How to invoke it.
    #[serde(default)]
    pub forms: Vec<Form>,
    /// Everything else (`safe`, `idempotent`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An event: the schema of its data, and how to subscribe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAffordance {
    /// The first line of its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of each occurrence's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// How to subscribe.
    #[serde(default)]
    pub forms: Vec<Form>,
    /// Everything else.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One way to perform operations on an affordance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Where (absolute, or relative to the TD's `base`).
    pub href: String,
    /// Which operations (`readproperty`, `invokeaction`, `observeproperty`, …).
    #[serde(default, deserialize_with = "one_or_many")]
    pub op: Vec<String>,
    /// `sse` for server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subprotocol: Option<String>,
    /// The media type exchanged.
    #[serde(
        rename = "contentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type: Option<String>,
    /// Everything else (`htv:methodName`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Form {
    /// Whether this form is for `op`.
    pub fn has_op(&self, op: &str) -> bool {
        self.op.iter().any(|o| o == op)
    }

    /// Whether this is a LabThings server's synchronous invoke form (`?sync=true`), which
    /// answers an action's output rather than its invocation.
    pub fn is_synchronous_invoke(&self) -> bool {
        self.href
            .split_once('?')
            .is_some_and(|(_, query)| paths::asks_sync(query))
    }

    /// Whether the href is an HTTP one (not `ws://`, `coap://`, …); relative hrefs are.
    pub fn is_http(&self) -> bool {
        match self.href.split_once("://") {
            Some((scheme, _)) => scheme.eq_ignore_ascii_case("http"),
            None => true,
        }
    }
}

/// The href of the first HTTP form for `op` (but a synchronous invoke form); for `sse`, a form
/// with `subprotocol: "sse"` is preferred over one without.
pub fn href_for<'a>(forms: &'a [Form], op: &str, sse: bool) -> Option<&'a str> {
    // This client follows invocations: never the synchronous invoke form.
    let mut candidates = forms
        .iter()
        .filter(|f| f.is_http() && f.has_op(op) && !f.is_synchronous_invoke());
    if sse {
        let all: Vec<&Form> = candidates.collect();
        all.iter()
            .find(|f| f.subprotocol.as_deref() == Some("sse"))
            .or_else(|| all.first())
            .map(|f| f.href.as_str())
    } else {
        candidates.next().map(|f| f.href.as_str())
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(op) => vec![op],
        OneOrMany::Many(ops) => ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_counter_td_deserialises() {
        // The body of capture 03 (abridged to the shapes that matter).
        let td: ThingDescription = serde_json::from_str(
            r#"{"title":"PeerCounter","properties":{"count":{"description":"The current count (read/write).","title":"The current count (read/write).","writeOnly":false,"readOnly":false,"default":0,"type":"integer","forms":[{"href":"/counter/count","op":["readproperty","writeproperty"]}]},"serial":{"writeOnly":false,"readOnly":true,"type":"string","forms":[{"href":"/counter/serial","op":["readproperty"]}]}},"actions":{"slow":{"title":"Sleep","forms":[{"href":"/counter/slow","op":["invokeaction"]}],"input":{"title":"slow_input","type":"object"},"output":{"title":"slow_output","type":"integer"}}},"description":"A counter","base":"http://127.0.0.1:5000/","securityDefinitions":{"no_security":{"description":"No security","scheme":"nosec"}},"security":"no_security","@context":"https://www.w3.org/2022/wot/td/v1.1"}"#,
        )
        .expect("TD");
        assert_eq!(td.title, "PeerCounter");
        assert!(td.events.is_empty());
        assert!(td.properties["serial"].read_only);
        assert_eq!(td.properties["count"].schema["type"], "integer");
        assert_eq!(
            href_for(&td.properties["count"].forms, "writeproperty", false),
            Some("/counter/count")
        );
        assert_eq!(
            href_for(&td.actions["slow"].forms, "readproperty", false),
            None
        );
        assert!(td.other.contains_key("@context"));
    }

    #[test]
    fn the_synchronous_invoke_form_is_skipped() {
        let forms: Vec<Form> = serde_json::from_value(serde_json::json!([
            {"href": "/counter/increment?sync=true", "op": ["invokeaction"]},
            {"href": "/counter/increment", "op": ["invokeaction"]},
        ]))
        .expect("forms");
        assert!(forms[0].is_synchronous_invoke());
        assert_eq!(
            href_for(&forms, "invokeaction", false),
            Some("/counter/increment")
        );
    }

    #[test]
    fn sse_forms_are_preferred_and_websockets_skipped() {
        let forms: Vec<Form> = serde_json::from_value(serde_json::json!([
            {"href": "ws://h/counter/ws", "op": ["observeproperty"]},
            {"href": "/counter/count", "op": "readproperty"},
            {"href": "/counter/count?sse", "op": ["observeproperty", "unobserveproperty"], "subprotocol": "sse"},
        ]))
        .expect("forms");
        assert_eq!(forms[1].op, vec!["readproperty"]);
        assert_eq!(
            href_for(&forms, "observeproperty", true),
            Some("/counter/count?sse")
        );
        assert_eq!(
            href_for(&forms, "observeproperty", false),
            Some("/counter/count?sse")
        );
    }
}
