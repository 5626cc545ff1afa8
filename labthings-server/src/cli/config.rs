//! The server config file (`-c FILE` / `-j JSON`), parsed by serde.
//!
//! ```json
//! {"things": {"counter": "Counter",
//!             "camera": {"class": "MockCamera", "kwargs": {"width": 640}, "thing_slots": {"stage": "stage"}}},
//!  "settings_folder": "./settings", "api_prefix": "", "enable_global_lock": false,
//!  "application_config": {},
//!  "auth": {"tokens_file": "/etc/labthings/tokens"}, "cors_origins": ["http://localhost:3000"],
//!  "mdns": false, "tls": {"cert": "cert.pem", "key": "key.pem"},
//!  "mqtt": {"url": "mqtt://127.0.0.1:1883", "prefix": "labthings/lab1", "username": "lab",
//!           "password_file": "/etc/labthings/mqtt-password", "client_id": "lab1"}}
//! ```
//!
//! Unknown keys are errors (a typo must not be silently ignored); `null` means "not given";
//! `things` keeps the file's order. A field's type error names the field, and an error inside
//! one Thing's entry names the Thing.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

pub use crate::cli::registry::{BuildContext, NoConfig, ThingRegistry};
use crate::mqtt::config::MqttConfig;

/// A config error: one clear message (the CLI prints it and exits with code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A parsed server config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object with a `things` key")]
pub struct ServerConfig {
    /// Thing name → what to build, in the config's order.
    #[serde(deserialize_with = "things")]
    pub things: Vec<(String, ThingSpec)>,
    /// Where settings are saved (none: not saved).
    #[serde(default, deserialize_with = "settings_folder")]
    pub settings_folder: Option<PathBuf>,
    /// The prefix of every route.
    #[serde(default, deserialize_with = "api_prefix")]
    pub api_prefix: String,
    /// Whether actions and property writes take one global lock.
    #[serde(default, deserialize_with = "enable_global_lock")]
    pub enable_global_lock: bool,
    /// Handed to every Thing constructor.
    #[serde(default = "empty_object")]
    pub application_config: Value,
    /// Bytes the kept invocation records may hold: a number of bytes or a string such as
    /// `"64MiB"` (default 64 MiB).
    #[serde(default, deserialize_with = "invocation_memory")]
    pub invocation_memory: Option<usize>,
    /// Where the durable history is kept: a SQLite file's path, `"off"`, or a PostgreSQL URL
    /// `"postgres://user@host:port/db"` (feature `postgres`); absent:
    /// `history.sqlite3` in the settings folder (or the working directory).
    #[serde(default, deserialize_with = "history")]
    pub history: Option<String>,
    /// Authentication; absent: none (unless the command line or the environment names tokens).
    #[serde(default, deserialize_with = "auth")]
    pub auth: Option<AuthConfig>,
    /// Origins whose pages may call the API from a browser; absent: any origin without tokens,
    /// none with them.
    #[serde(default, deserialize_with = "cors_origins")]
    pub cors_origins: Option<Vec<String>>,
    /// Host names answered besides IP literals, `localhost` and this machine's name while
    /// there are no tokens (`--allowed-host`).
    #[serde(default, deserialize_with = "allowed_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Advertise the Things by mDNS.
    #[serde(default, deserialize_with = "mdns")]
    pub mdns: bool,
    /// Serve HTTPS (feature `tls`); absent: plain HTTP (unless the command line names files).
    #[serde(default, deserialize_with = "tls")]
    pub tls: Option<TlsConfig>,
    /// Serve the Things through an MQTT broker too; absent: no MQTT (unless `--mqtt`).
    #[serde(default, deserialize_with = "mqtt")]
    pub mqtt: Option<MqttConfig>,
}

/// The config's `tls` object: PEM files.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// The config's `auth` object.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// One token or `sha256:<hex>` digest a line; reloaded on SIGHUP.
    #[serde(default, deserialize_with = "tokens_file")]
    pub tokens_file: Option<PathBuf>,
}

/// One entry of `things`: a type name, or `{"class": …, "kwargs": {…}, "thing_slots": {…}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThingSpec {
    /// The registered type name.
    pub class: String,
    /// The Thing's own config, deserialised into its constructor's type.
    pub kwargs: Map<String, Value>,
    /// Slot name → name of the Thing to put in it.
    pub thing_slots: HashMap<String, String>,
}

impl ServerConfig {
    /// Parse a config from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError(format!("the config is not valid JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Read a config from a JSON value.
    pub fn from_value(value: Value) -> Result<Self, ConfigError> {
        // Checked first: serde would also read a struct from an array, by position.
        if !value.is_object() {
            return Err(ConfigError(
                "the config must be a JSON object with a `things` key".into(),
            ));
        }
        Self::deserialize(value).map_err(|e| ConfigError(e.to_string()))
    }
}

/// The object form of a [`ThingSpec`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThingSpecObject {
    #[serde(deserialize_with = "class")]
    class: String,
    #[serde(default, deserialize_with = "kwargs")]
    kwargs: Map<String, Value>,
    #[serde(default, deserialize_with = "thing_slots")]
    thing_slots: HashMap<String, String>,
}

impl<'de> Deserialize<'de> for ThingSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = ThingSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a type name or {\"class\": …}")
            }
            fn visit_str<E: de::Error>(self, class: &str) -> Result<ThingSpec, E> {
                Ok(ThingSpec {
                    class: class.to_owned(),
                    kwargs: Map::new(),
                    thing_slots: HashMap::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ThingSpec, A::Error> {
                let object =
                    ThingSpecObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ThingSpec {
                    class: object.class,
                    kwargs: object.kwargs,
                    thing_slots: object.thing_slots,
                })
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

/// `things`, in file order; an error inside one entry is prefixed with the Thing's name.
fn things<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, ThingSpec)>, D::Error> {
    struct ThingsVisitor;
    impl<'de> Visitor<'de> for ThingsVisitor {
        type Value = Vec<(String, ThingSpec)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("`things` to be an object of Thing name → type name or {\"class\": …}")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut things = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(name) = map.next_key::<String>()? {
                let spec = map
                    .next_value::<ThingSpec>()
                    .map_err(|e| de::Error::custom(format_args!("thing `{name}`: {e}")))?;
                things.push((name, spec));
            }
            Ok(things)
        }
    }
    deserializer.deserialize_map(ThingsVisitor)
}

/// Prefix a field's error with its name: serde's messages name the type, not the key.
fn named<T, E: de::Error>(field: &str, result: Result<T, E>) -> Result<T, E> {
    result.map_err(|e| E::custom(format_args!("`{field}`: {e}")))
}

/// A field where `null` means "not given": its default.
fn optional<'de, D, T>(field: &str, deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    named(field, Option::<T>::deserialize(deserializer)).map(Option::unwrap_or_default)
}

fn invocation_memory<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(usize),
        Text(String),
    }
    let size: Option<Size> = optional("invocation_memory", d)?;
    size.map(|size| match size {
        Size::Bytes(bytes) => Ok(bytes),
        Size::Text(text) => parse_bytes(&text)
            .map_err(|e| serde::de::Error::custom(format!("`invocation_memory`: {e}"))),
    })
    .transpose()
}

/// A size in bytes: `1048576`, `512KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB`, as powers of
/// 1000, and `B`).
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 64MiB"))?;
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use B, KiB, MiB or GiB"
            ));
        }
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

fn settings_folder<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    optional("settings_folder", d)
}

fn history<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    optional("history", d)
}

fn api_prefix<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    optional("api_prefix", d)
}

fn enable_global_lock<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    optional("enable_global_lock", d)
}

fn auth<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AuthConfig>, D::Error> {
    named("auth", Option::<AuthConfig>::deserialize(d))
}

fn tokens_file<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    optional("tokens_file", d)
}

fn cors_origins<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    named("cors_origins", Option::<Vec<String>>::deserialize(d))
}

fn allowed_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    optional("allowed_hosts", d)
}

fn mdns<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    optional("mdns", d)
}

fn tls<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TlsConfig>, D::Error> {
    named("tls", Option::<TlsConfig>::deserialize(d))
}

fn mqtt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MqttConfig>, D::Error> {
    named("mqtt", Option::<MqttConfig>::deserialize(d))
}

fn class<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    named("class", String::deserialize(d))
}

fn kwargs<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    optional("kwargs", d)
}

fn thing_slots<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<String, String>, D::Error> {
    optional("thing_slots", d)
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_with_their_units() {
        use super::parse_bytes;
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes(" 2 GiB "), Ok(2 << 30));
        assert_eq!(parse_bytes("5KB"), Ok(5000));
        assert!(parse_bytes("lots").is_err());
        assert!(
            parse_bytes("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        let config =
            super::ServerConfig::from_json(r#"{"things": {}, "invocation_memory": "16MiB"}"#)
                .unwrap();
        assert_eq!(config.invocation_memory, Some(16 << 20));
    }

    use super::*;
    use serde_json::json;

    fn message(value: Value) -> String {
        ServerConfig::from_value(value).unwrap_err().0
    }

    #[test]
    fn parses_both_thing_forms_and_rejects_unknown_keys() {
        let config = ServerConfig::from_value(json!({
            "things": {"counter": "Counter", "camera": {"class": "MockCamera", "kwargs": {"width": 640}, "thing_slots": {"stage": "stage"}}},
            "settings_folder": "./settings", "enable_global_lock": true
        }))
        .unwrap();
        assert_eq!(config.things[0].0, "counter");
        assert_eq!(config.things[1].1.class, "MockCamera");
        assert_eq!(config.things[1].1.thing_slots["stage"], "stage");
        assert!(config.enable_global_lock);
        assert!(message(json!({"thing": {}})).contains("unknown field `thing`"));
        assert!(
            ServerConfig::from_json("{")
                .unwrap_err()
                .0
                .contains("not valid JSON")
        );
        assert!(message(json!({"things": {"a": {"klass": "X"}}})).contains("`klass`"));
    }

    #[test]
    fn reads_auth_cors_and_mdns() {
        let config = ServerConfig::from_value(json!({
            "things": {}, "auth": {"tokens_file": "/etc/lt/tokens"},
            "cors_origins": ["http://a"], "mdns": true
        }))
        .unwrap();
        assert_eq!(
            config.auth.unwrap().tokens_file.unwrap(),
            PathBuf::from("/etc/lt/tokens")
        );
        assert_eq!(config.cors_origins.unwrap(), ["http://a"]);
        assert!(config.mdns);
        let config = ServerConfig::from_value(json!({"things": {}})).unwrap();
        assert_eq!(
            (config.auth, config.cors_origins, config.mdns),
            (None, None, false)
        );
        assert!(
            message(json!({"things": {}, "auth": {"token": "x"}}))
                .contains("unknown field `token`")
        );
        assert!(message(json!({"things": {}, "mdns": "yes"})).contains("`mdns`"));
        let config = ServerConfig::from_value(json!({
            "things": {}, "mqtt": {"url": "mqtt://b:1884", "prefix": "lab/a", "username": "u",
                                   "password_file": "/etc/pw", "client_id": "c"}
        }))
        .unwrap();
        let mqtt = config.mqtt.unwrap();
        assert_eq!(
            (mqtt.url.as_str(), mqtt.prefix.as_deref()),
            ("mqtt://b:1884", Some("lab/a"))
        );
        assert!(
            message(json!({"things": {}, "mqtt": {"url": "mqtt://b", "pasword_file": "x"}}))
                .contains("`mqtt`: unknown field `pasword_file`")
        );
    }

    #[test]
    fn keeps_file_order_and_reads_null_as_not_given() {
        let config = ServerConfig::from_json(
            r#"{"things": {"zeta": "Z", "alpha": {"class": "A", "kwargs": null, "thing_slots": null}, "mid": "M"},
                "settings_folder": null, "api_prefix": null, "enable_global_lock": null}"#,
        )
        .unwrap();
        let names: Vec<&str> = config.things.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "mid"]);
        assert_eq!(config.settings_folder, None);
        assert_eq!(config.api_prefix, "");
        assert!(!config.enable_global_lock);
        assert_eq!(config.application_config, json!({}));
        assert!(config.things[1].1.kwargs.is_empty() && config.things[1].1.thing_slots.is_empty());
    }

    #[test]
    fn errors_name_the_field_and_the_thing() {
        let cases = [
            (
                json!([]),
                "the config must be a JSON object with a `things` key",
            ),
            (json!({}), "missing field `things`"),
            (
                json!({"things": "x"}),
                "invalid type: string \"x\", expected `things` to be an object of Thing name",
            ),
            (
                json!({"things": {}, "settings_folder": 3}),
                "`settings_folder`: invalid type: integer `3`",
            ),
            (
                json!({"things": {}, "api_prefix": 3}),
                "`api_prefix`: invalid type: integer `3`",
            ),
            (
                json!({"things": {}, "enable_global_lock": "yes"}),
                "`enable_global_lock`: invalid type: string \"yes\"",
            ),
            (
                json!({"things": {"a": {"klass": "X"}}}),
                "thing `a`: unknown field `klass`, expected one of `class`, `kwargs`, `thing_slots`",
            ),
            (
                json!({"things": {"a": {}}}),
                "thing `a`: missing field `class`",
            ),
            (
                json!({"things": {"a": {"class": 3}}}),
                "thing `a`: `class`: invalid type: integer `3`",
            ),
            (
                json!({"things": {"a": {"class": "A", "kwargs": 3}}}),
                "thing `a`: `kwargs`: invalid type: integer `3`",
            ),
            (
                json!({"things": {"a": {"class": "A", "thing_slots": {"s": 1}}}}),
                "thing `a`: `thing_slots`: invalid type: integer `1`",
            ),
            (
                json!({"things": {"a": 3}}),
                "thing `a`: invalid type: integer `3`, expected a type name or {\"class\": …}",
            ),
        ];
        for (config, expected) in cases {
            let message = message(config.clone());
            assert!(message.contains(expected), "{config}: {message}");
        }
    }
}
