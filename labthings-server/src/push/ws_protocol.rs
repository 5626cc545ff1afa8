//! The messages of the WebSocket at `T` + `ws`: the reference's, byte for byte, plus the
//! additive extensions of PROTOCOL.md (remove-observation, event subscription, invocation
//! `id`/`href`/`progress` in `actionStatus`, error replies to malformed frames, drop notices).
//!
//! Parsing and rendering only; the session (`ws_session`) applies them.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::hub::ActionStatus;

const ERRORS: &str = "https://w3c.github.io/web-thing-protocol/errors";

/// The kinds of affordance a client can listen to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Property,
    Action,
    Event,
}

impl Topic {
    /// The WoT operation named in error replies (`observeaction` is the reference's word).
    pub fn operation(self, adding: bool) -> &'static str {
        match (self, adding) {
            (Topic::Property, true) => "observeproperty",
            (Topic::Property, false) => "unobserveproperty",
            (Topic::Action, true) => "observeaction",
            (Topic::Action, false) => "unobserveaction",
            (Topic::Event, true) => "subscribeevent",
            (Topic::Event, false) => "unsubscribeevent",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Topic::Property => "property",
            Topic::Action => "action",
            Topic::Event => "event",
        }
    }
}

/// What a client asked for.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// Start (`adding`) or stop listening to the named affordances.
    Listen {
        topic: Topic,
        adding: bool,
        names: Vec<String>,
    },
    /// A `messageType` this server doesn't know: ignored without a reply, as the reference.
    Unknown,
}

/// Read one text frame. `Err` carries the reason a malformed frame is refused.
pub fn parse(frame: &str) -> Result<Request, String> {
    let value: Value =
        serde_json::from_str(frame).map_err(|e| format!("The message is not JSON: {e}."))?;
    let Some(message) = value.as_object() else {
        return Err("The message must be a JSON object.".into());
    };
    let Some(kind) = message.get("messageType").and_then(Value::as_str) else {
        return Err("The message has no string `messageType`.".into());
    };
    let (topic, adding) = match kind {
        "addPropertyObservation" => (Topic::Property, true),
        "removePropertyObservation" => (Topic::Property, false),
        "addActionObservation" => (Topic::Action, true),
        "removeActionObservation" => (Topic::Action, false),
        "addEventSubscription" => (Topic::Event, true),
        "removeEventSubscription" => (Topic::Event, false),
        _ => return Ok(Request::Unknown),
    };
    let Some(data) = message.get("data").and_then(Value::as_object) else {
        return Err(format!(
            "`{kind}` needs `data`, an object whose keys name the affordances."
        ));
    };
    Ok(Request::Listen {
        topic,
        adding,
        names: data.keys().cloned().collect(),
    })
}

/// `{"messageType":"propertyStatus","data":{<name>:<value>}}`; `value` is JSON text.
pub fn property_status(name: &str, value: &str) -> String {
    format!(
        r#"{{"messageType":"propertyStatus","data":{{{}:{value}}}}}"#,
        quoted(name)
    )
}

/// `actionStatus` as the reference sends it, plus the invocation's `id`, `href` and `progress`.
pub fn action_status(status: &ActionStatus, href: &str) -> String {
    format!(
        r#"{{"messageType":"actionStatus","data":{}}}"#,
        action_status_data(status, href)
    )
}

/// The `data` of an `actionStatus` message (also an SSE action stream's message).
pub fn action_status_data(status: &ActionStatus, href: &str) -> String {
    json!({
        "action name": status.action,
        "status": status.status,
        "id": status.id.to_string(),
        "href": href,
        "progress": status.progress,
    })
    .to_string()
}

/// `{"messageType":"event","data":{<name>:{"data":<data>,"timestamp":"…Z"}}}`.
pub fn event(name: &str, data: &str, time: DateTime<Utc>) -> String {
    format!(
        r#"{{"messageType":"event","data":{{{}:{{"data":{data},"timestamp":"{}"}}}}}}"#,
        quoted(name),
        labthings_core::rfc3339(time)
    )
}

/// Why a name can't be listened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No affordance of that kind has the name (404).
    NotFound,
    /// A functional property: its value changes without a write to announce it (403).
    NotObservable,
}

/// Refused names answered one by one (the reference's reply) in one frame; beyond this, one
/// reply lists them all.
pub const REPLIES_PER_FRAME: usize = 8;

/// The replies to a frame's refused names: the reference's reply for each while there are at
/// most [`REPLIES_PER_FRAME`], else one reply listing them ([`refusals`]). A frame naming
/// thousands of unknown names must not fan out into thousands of replies (~18× the frame's
/// size), nor cost the work of building them: a reply is built only once it is known to be
/// sent.
pub fn refusal_replies(topic: Topic, adding: bool, refused: Vec<(String, Refusal)>) -> Vec<String> {
    if refused.len() > REPLIES_PER_FRAME {
        let names: Vec<String> = refused.into_iter().map(|(name, _)| name).collect();
        return vec![refusals(topic, adding, &names)];
    }
    refused
        .iter()
        .map(|(name, why)| refusal(topic, adding, name, *why))
        .collect()
}

/// The reply to a name that can't be listened to.
pub fn refusal(topic: Topic, adding: bool, name: &str, why: Refusal) -> String {
    #[cfg(test)]
    tests::BUILT.with(|built| built.set(built.get() + 1));
    let noun = topic.noun();
    let error = match why {
        Refusal::NotFound => error(
            "404",
            "not-found",
            "Not Found",
            &format!("No {noun} found with the name '{name}'."),
        ),
        Refusal::NotObservable => error(
            "403",
            "not-observable",
            "Not Observable",
            &format!("Property '{name}' is not observable."),
        ),
    };
    json!({
        "messageType": "response",
        "operation": topic.operation(adding),
        "name": name,
        "error": error,
    })
    .to_string()
}

/// Refused names listed by name in [`refusals`]; the rest are only counted.
const NAMES_LISTED: usize = 32;

/// One reply for many refused names (a frame may name thousands): the first
/// [`NAMES_LISTED`] by name, and how many there were.
pub fn refusals(topic: Topic, adding: bool, names: &[String]) -> String {
    let listed = &names[..names.len().min(NAMES_LISTED)];
    let more = match names.len() - listed.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let detail = format!(
        "{} {} names can't be listened to (unknown, or not observable): {}{more}.",
        names.len(),
        topic.noun(),
        listed.join(", "),
    );
    json!({
        "messageType": "response",
        "operation": topic.operation(adding),
        "names": listed,
        "error": error("404", "not-found", "Not Found", &detail),
    })
    .to_string()
}

/// The reply to a frame that isn't a message (the reference closes the socket instead).
pub fn malformed(detail: &str) -> String {
    response(error("400", "bad-request", "Bad Request", detail))
}

/// Told once each time this client falls behind, before the newest messages.
pub fn dropped(count: u64) -> String {
    response(error(
        "503",
        "service-unavailable",
        "Messages dropped",
        &format!(
            "{count} messages were dropped because this client read too slowly; newer ones follow."
        ),
    ))
}

fn response(error: Value) -> String {
    json!({ "messageType": "response", "error": error }).to_string()
}

fn error(status: &str, anchor: &str, title: &str, detail: &str) -> Value {
    let mut error = Map::new();
    error.insert("status".into(), json!(status));
    error.insert("type".into(), json!(format!("{ERRORS}#{anchor}")));
    error.insert("title".into(), json!(title));
    error.insert("detail".into(), json!(detail));
    Value::Object(error)
}

fn quoted(name: &str) -> String {
    Value::from(name).to_string()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use labthings_core::InvocationId;

    use super::*;

    thread_local! {
        /// How many single refusal replies this test thread has built.
        pub(super) static BUILT: Cell<usize> = const { Cell::new(0) };
    }

    #[test]
    fn a_flood_of_refused_names_builds_only_the_reply_that_is_sent() {
        let refused = |count: usize| {
            (0..count)
                .map(|i| (format!("n{i}"), Refusal::NotFound))
                .collect::<Vec<_>>()
        };
        let built_by = |names| {
            let before = BUILT.with(Cell::get);
            let replies = refusal_replies(Topic::Property, true, names);
            (replies, BUILT.with(Cell::get) - before)
        };
        let (replies, built) = built_by(refused(5000));
        assert_eq!(
            (replies.len(), built),
            (1, 0),
            "one listing reply, no single ones"
        );
        let listing: Value = serde_json::from_str(&replies[0]).unwrap();
        assert_eq!(listing["names"].as_array().map(Vec::len), Some(32));
        let (replies, built) = built_by(refused(REPLIES_PER_FRAME));
        assert_eq!(
            (replies.len(), built),
            (REPLIES_PER_FRAME, REPLIES_PER_FRAME)
        );
        let first: Value = serde_json::from_str(&replies[0]).unwrap();
        assert_eq!(first["name"], "n0");
    }

    #[test]
    fn replies_match_the_reference_capture_byte_for_byte() {
        // 99_websocket.txt, sections 2 and 3.
        assert_eq!(
            property_status("count", "1234"),
            r#"{"messageType":"propertyStatus","data":{"count":1234}}"#
        );
        assert_eq!(
            refusal(Topic::Property, true, "nope", Refusal::NotFound),
            r#"{"messageType":"response","operation":"observeproperty","name":"nope","error":{"status":"404","type":"https://w3c.github.io/web-thing-protocol/errors#not-found","title":"Not Found","detail":"No property found with the name 'nope'."}}"#
        );
        assert_eq!(
            refusal(Topic::Property, true, "uptime", Refusal::NotObservable),
            r#"{"messageType":"response","operation":"observeproperty","name":"uptime","error":{"status":"403","type":"https://w3c.github.io/web-thing-protocol/errors#not-observable","title":"Not Observable","detail":"Property 'uptime' is not observable."}}"#
        );
        assert_eq!(
            refusal(Topic::Action, true, "nope", Refusal::NotFound),
            r#"{"messageType":"response","operation":"observeaction","name":"nope","error":{"status":"404","type":"https://w3c.github.io/web-thing-protocol/errors#not-found","title":"Not Found","detail":"No action found with the name 'nope'."}}"#
        );
        let status = ActionStatus {
            action: "increment",
            id: InvocationId::new(),
            status: labthings_protocol::InvocationStatus::Pending,
            progress: None,
        };
        let sent = action_status(&status, "http://h/action_invocations/x");
        assert!(
            sent.starts_with(
                r#"{"messageType":"actionStatus","data":{"action name":"increment","status":"pending","id":""#
            ),
            "{sent}"
        );
    }

    #[test]
    fn parses_every_request_and_refuses_malformed_frames() {
        assert_eq!(
            parse(r#"{"messageType":"addPropertyObservation","data":{"count":true,"x":1}}"#),
            Ok(Request::Listen {
                topic: Topic::Property,
                adding: true,
                names: vec!["count".into(), "x".into()]
            })
        );
        assert_eq!(
            parse(r#"{"messageType":"removeEventSubscription","data":{}}"#),
            Ok(Request::Listen {
                topic: Topic::Event,
                adding: false,
                names: vec![]
            })
        );
        assert_eq!(
            parse(r#"{"messageType":"somethingElse","data":{}}"#),
            Ok(Request::Unknown)
        );
        for bad in [
            "this is not json",
            "[1]",
            r#"{"data":{"count":true}}"#,
            r#"{"messageType":"addActionObservation","data":["slow"]}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let reply: Value = serde_json::from_str(&malformed("nope")).unwrap();
        assert_eq!(reply["error"]["status"], "400");
        let notice: Value = serde_json::from_str(&dropped(12)).unwrap();
        assert_eq!(notice["error"]["title"], "Messages dropped");
    }
}
