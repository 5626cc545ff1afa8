//! The MQTT binding's names: the topic of every resource a Thing has on a broker, and the
//! W3C binding's vocabulary (`mqv`) its TD forms use.
//!
//! Under a prefix (default `labthings/<server name>`, since Thing names are unique per server,
//! not per broker), Thing `t` has:
//!
//! | topic | what | retained |
//! |---|---|---|
//! | `{p}/t` | the TD | yes |
//! | `{p}/t/status` | `online`, or `offline` (the Last Will) | yes |
//! | `{p}/t/errors` | refused commands, as problem JSON | no |
//! | `{p}/t/properties/{name}` | the value, JSON | yes |
//! | `{p}/t/properties/{name}/writeproperty` | write it (the server subscribes) | ignored if so |
//! | `{p}/t/actions/{name}` | invoke it, the payload its input | ignored if so |
//! | `{p}/t/actions/{name}/status` | its invocations' statuses | no |
//! | `{p}/t/events/{name}` | each event's data, JSON | no |

/// The `mqv` prefix and the namespace it stands for (the W3C MQTT binding template).
pub const MQV_PREFIX: &str = "mqv";
/// The namespace of the W3C MQTT binding's terms.
pub const MQV_NAMESPACE: &str = "https://www.w3.org/2019/wot/mqtt#";

/// Topic words.
pub mod word {
    /// Under a Thing: its properties.
    pub const PROPERTIES: &str = "properties";
    /// Under a property: the command topic that writes it.
    pub const WRITE_PROPERTY: &str = "writeproperty";
    /// Under a Thing: its actions.
    pub const ACTIONS: &str = "actions";
    /// Under a Thing: its events.
    pub const EVENTS: &str = "events";
    /// Under a Thing: `online`/`offline`; under an action: its invocations' statuses.
    pub const STATUS: &str = "status";
    /// Under a Thing: refused commands.
    pub const ERRORS: &str = "errors";
    /// The retained payload of a served Thing's status topic.
    pub const ONLINE: &str = "online";
    /// The Last Will (and clean goodbye) on a Thing's status topic.
    pub const OFFLINE: &str = "offline";
}

/// The topics of one Thing under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingTopics {
    /// `{prefix}/{thing}`: also the TD's topic.
    base: String,
}

impl ThingTopics {
    /// The topics of `thing` under `prefix` (no trailing `/`).
    pub fn new(prefix: &str, thing: &str) -> Self {
        Self {
            base: format!("{}/{thing}", prefix.trim_end_matches('/')),
        }
    }

    /// The TD's topic.
    pub fn td(&self) -> &str {
        &self.base
    }

    /// `online`/`offline`, retained (the Last Will says `offline`).
    pub fn status(&self) -> String {
        format!("{}/{}", self.base, word::STATUS)
    }

    /// Where refused commands are reported (problem JSON naming the topic).
    pub fn errors(&self) -> String {
        format!("{}/{}", self.base, word::ERRORS)
    }

    /// A property's value, retained.
    pub fn property(&self, name: &str) -> String {
        let mut topic = String::new();
        self.property_into(name, &mut topic);
        topic
    }

    /// [`ThingTopics::property`], written into `topic` (cleared first): for a caller that
    /// reuses one buffer for every notification.
    pub fn property_into(&self, name: &str, topic: &mut String) {
        topic.clear();
        topic.push_str(&self.base);
        topic.push('/');
        topic.push_str(word::PROPERTIES);
        topic.push('/');
        topic.push_str(name);
    }

    /// Where a client asks to write a property.
    pub fn write_property(&self, name: &str) -> String {
        format!(
            "{}/{}/{name}/{}",
            self.base,
            word::PROPERTIES,
            word::WRITE_PROPERTY
        )
    }

    /// Where a client invokes an action (the payload is its input).
    pub fn action(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.base, word::ACTIONS)
    }

    /// An action's invocations' status messages.
    pub fn action_status(&self, name: &str) -> String {
        format!("{}/{}/{name}/{}", self.base, word::ACTIONS, word::STATUS)
    }

    /// An event's occurrences.
    pub fn event(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.base, word::EVENTS)
    }

    /// The filters of every command topic: property writes and action invocations.
    pub fn command_filters(&self) -> [String; 2] {
        [
            format!(
                "{}/{}/+/{}",
                self.base,
                word::PROPERTIES,
                word::WRITE_PROPERTY
            ),
            format!("{}/{}/+", self.base, word::ACTIONS),
        ]
    }

    /// What a topic under this Thing commands, if it is a command topic.
    pub fn command<'t>(&self, topic: &'t str) -> Option<Command<'t>> {
        let rest = topic.strip_prefix(self.base.as_str())?.strip_prefix('/')?;
        let mut words = rest.split('/');
        match (words.next()?, words.next()?, words.next(), words.next()) {
            (word::PROPERTIES, name, Some(word::WRITE_PROPERTY), None) => {
                Some(Command::WriteProperty(name))
            }
            (word::ACTIONS, name, None, None) => Some(Command::InvokeAction(name)),
            _ => None,
        }
    }
}

/// A command topic, by what it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'t> {
    /// Write the named property.
    WriteProperty(&'t str),
    /// Invoke the named action.
    InvokeAction(&'t str),
}

/// The filter that sees every Thing's TD under `prefix` (`{prefix}/+`): what a client lists.
pub fn td_filter(prefix: &str) -> String {
    format!("{}/+", prefix.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_commands_round_trip() {
        let topics = ThingTopics::new("labthings/lab1/", "counter");
        assert_eq!(topics.td(), "labthings/lab1/counter");
        assert_eq!(
            topics.write_property("count"),
            "labthings/lab1/counter/properties/count/writeproperty"
        );
        assert_eq!(
            topics.command(&topics.write_property("count")),
            Some(Command::WriteProperty("count"))
        );
        assert_eq!(
            topics.command(&topics.action("reset")),
            Some(Command::InvokeAction("reset"))
        );
        for not_a_command in [
            topics.property("count"),
            topics.action_status("reset"),
            topics.status(),
            "labthings/lab1/counterx/actions/reset".to_owned(),
            "labthings/lab1/counter/actions/reset/extra/more".to_owned(),
        ] {
            assert_eq!(topics.command(&not_a_command), None, "{not_a_command}");
        }
        assert_eq!(td_filter("labthings/lab1"), "labthings/lab1/+");
    }
}
