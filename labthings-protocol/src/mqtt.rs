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

/// A broker's address, as `mqtt://host[:port]` (or `mqtts://`, over TLS) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// A host name or an IP address (IPv6 without its brackets).
    pub host: String,
    /// The port (1883 by default, 8883 with TLS).
    pub port: u16,
    /// `mqtts://`: TLS.
    pub tls: bool,
}

/// The port of `mqtt://` when the URL gives none.
pub const DEFAULT_PORT: u16 = 1883;
/// The port of `mqtts://` when the URL gives none.
pub const DEFAULT_TLS_PORT: u16 = 8883;

impl Broker {
    /// Read `mqtt://host[:port][/]` or `mqtts://host[:port][/]`; a URL that is not one says
    /// why. Only the broker: credentials and topics have no place in it (the W3C binding
    /// keeps topics out of the broker URL too).
    pub fn parse(url: &str) -> Result<Self, BrokerUrlError> {
        let refuse = |why: &str| BrokerUrlError(format!("`{url}` {why}"));
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(refuse("is not a URL such as mqtt://127.0.0.1:1883"));
        };
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" => false,
            "mqtts" => true,
            _ => return Err(refuse("is not an mqtt:// or mqtts:// URL")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '@', '?', '#']) {
            return Err(refuse(
                "must be only mqtt://host[:port]: credentials go in `username`/`password_file`, \
                 topics under `prefix`",
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| refuse("has an unclosed `[`"))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| refuse("has a bad port"))?,
                    ),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(refuse("names no host"));
        }
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| refuse("has a port that is not 1-65535"))?,
            None if tls => DEFAULT_TLS_PORT,
            None => DEFAULT_PORT,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            tls,
        })
    }

    /// `mqtt[s]://host:port`, as TD forms give it (IPv6 hosts in brackets).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Why a broker URL was refused (the URL and the reason, in one sentence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrlError(pub String);

impl std::fmt::Display for BrokerUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BrokerUrlError {}

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

    #[test]
    fn broker_urls_read_with_their_defaults_and_bad_ones_say_why() {
        let broker = Broker::parse("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((broker.host.as_str(), broker.port), ("127.0.0.1", 1884));
        assert_eq!(Broker::parse("mqtt://broker/").unwrap().port, 1883);
        assert_eq!(Broker::parse("MQTTS://broker").unwrap().port, 8883);
        let v6 = Broker::parse("mqtt://[::1]:1885").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.url()),
            ("::1", "mqtt://[::1]:1885".into())
        );
        let v6 = Broker::parse("mqtts://[::1]").unwrap();
        assert_eq!(v6.url(), "mqtts://[::1]:8883");
        for (bad, why) in [
            ("127.0.0.1:1883", "not a URL"),
            ("http://x", "not an mqtt://"),
            ("mqtt://u:p@x", "credentials"),
            ("mqtt://x/topic", "topics"),
            ("mqtt://x:0", "not 1-65535"),
            ("mqtt://x:99999", "not 1-65535"),
            ("mqtt://x:y", "not 1-65535"),
            ("mqtt://[::1]x", "bad port"),
            ("mqtt://[::1", "unclosed"),
            ("mqtt://:1883", "no host"),
        ] {
            let message = Broker::parse(bad).unwrap_err().0;
            assert!(message.contains(why), "{bad}: {message}");
        }
    }
}
