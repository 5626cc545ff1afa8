//! The server config file (`-c FILE` / `-j JSON`) and the registry of Thing types it names.
//!
//! ```json
//! {"things": {"counter": "Counter",
//!             "camera": {"class": "MockCamera", "kwargs": {"width": 640}, "thing_slots": {"stage": "stage"}}},
//!  "settings_folder": "./settings", "api_prefix": "", "enable_global_lock": false,
//!  "application_config": {}}
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use labthings_core::Thing;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ThingServer;

/// A config error: one clear message (the CLI prints it and exits with code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// One entry of `things`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThingSpec {
    /// The registered type name.
    pub class: String,
    pub kwargs: Map<String, Value>,
    /// Slot name → name of the Thing to put in it.
    pub thing_slots: HashMap<String, String>,
}

/// A parsed server config.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Thing name → what to build, in the config's order.
    pub things: Vec<(String, ThingSpec)>,
    pub settings_folder: Option<PathBuf>,
    pub api_prefix: String,
    pub enable_global_lock: bool,
    pub application_config: Value,
}

impl ServerConfig {
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| error(format!("the config is not valid JSON: {e}")))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Self, ConfigError> {
        let Value::Object(mut top) = value else {
            return Err(error(
                "the config must be a JSON object with a `things` key",
            ));
        };
        const KEYS: [&str; 5] = [
            "things",
            "settings_folder",
            "api_prefix",
            "enable_global_lock",
            "application_config",
        ];
        if let Some(unknown) = top.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(error(format!(
                "unknown config key `{unknown}`; valid keys are: {}",
                KEYS.join(", ")
            )));
        }
        let Some(Value::Object(things)) = top.remove("things") else {
            return Err(error(
                "the config needs `things`: an object of Thing name → type name or {\"class\": …}",
            ));
        };
        let things = things
            .into_iter()
            .map(|(name, spec)| Ok((name.clone(), thing_spec(&name, spec)?)))
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let settings_folder = match top.remove("settings_folder") {
            None | Some(Value::Null) => None,
            Some(Value::String(folder)) => Some(PathBuf::from(folder)),
            Some(other) => {
                return Err(error(format!(
                    "`settings_folder` must be a path string, not {other}"
                )));
            }
        };
        let api_prefix = match top.remove("api_prefix") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(prefix)) => prefix,
            Some(other) => {
                return Err(error(format!("`api_prefix` must be a string, not {other}")));
            }
        };
        let enable_global_lock = match top.remove("enable_global_lock") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(enabled)) => enabled,
            Some(other) => {
                return Err(error(format!(
                    "`enable_global_lock` must be true or false, not {other}"
                )));
            }
        };
        let application_config = top
            .remove("application_config")
            .unwrap_or(Value::Object(Map::new()));
        Ok(Self {
            things,
            settings_folder,
            api_prefix,
            enable_global_lock,
            application_config,
        })
    }
}

fn thing_spec(name: &str, spec: Value) -> Result<ThingSpec, ConfigError> {
    match spec {
        Value::String(class) => Ok(ThingSpec {
            class,
            kwargs: Map::new(),
            thing_slots: HashMap::new(),
        }),
        Value::Object(mut fields) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| !["class", "kwargs", "thing_slots"].contains(&k.as_str()))
            {
                return Err(error(format!(
                    "thing `{name}`: unknown key `{unknown}`; valid keys are: class, kwargs, thing_slots"
                )));
            }
            let class = match fields.remove("class") {
                Some(Value::String(class)) => class,
                _ => {
                    return Err(error(format!(
                        "thing `{name}`: `class` must name a Thing type"
                    )));
                }
            };
            let kwargs = match fields.remove("kwargs") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(kwargs)) => kwargs,
                Some(other) => {
                    return Err(error(format!(
                        "thing `{name}`: `kwargs` must be an object, not {other}"
                    )));
                }
            };
            let thing_slots = match fields.remove("thing_slots") {
                None | Some(Value::Null) => HashMap::new(),
                Some(slots) => serde_json::from_value(slots).map_err(|_| {
                    error(format!(
                        "thing `{name}`: `thing_slots` must map slot names to Thing names"
                    ))
                })?,
            };
            Ok(ThingSpec {
                class,
                kwargs,
                thing_slots,
            })
        }
        other => Err(error(format!(
            "thing `{name}`: expected a type name or {{\"class\": …}}, not {other}"
        ))),
    }
}

/// What a Thing's constructor can see besides its own `kwargs`.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The name the Thing is served under.
    pub name: String,
    /// The config's `application_config`.
    pub application_config: Value,
}

/// The `kwargs` of a Thing type that takes none: any key is an error.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

type Constructor = Box<
    dyn Fn(Value, &BuildContext) -> Result<(Arc<dyn Thing>, Arc<dyn Any + Send + Sync>), String>
        + Send
        + Sync,
>;

/// The Thing types a binary can build from a config, by name.
#[derive(Default)]
pub struct ThingRegistry {
    types: Vec<(String, Constructor)>,
}

impl ThingRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register type `class`, built by `build` from its `kwargs` deserialised as `C` (use
    /// [`NoConfig`] for none; `#[serde(deny_unknown_fields)]` on `C` makes typos errors).
    pub fn register<T, C, F>(mut self, class: &str, build: F) -> Self
    where
        T: Thing,
        C: DeserializeOwned,
        F: Fn(C, &BuildContext) -> T + Send + Sync + 'static,
    {
        let constructor: Constructor = Box::new(move |kwargs, context| {
            let config: C =
                serde_json::from_value(kwargs).map_err(|e| format!("invalid kwargs: {e}"))?;
            let thing = Arc::new(build(config, context));
            Ok((
                thing.clone() as Arc<dyn Thing>,
                thing as Arc<dyn Any + Send + Sync>,
            ))
        });
        self.types.push((class.to_owned(), constructor));
        self
    }

    /// The registered type names.
    pub fn names(&self) -> Vec<&str> {
        self.types.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// A server with the Things and options `config` asks for (the caller still sets the
    /// address).
    pub fn build(&self, config: &ServerConfig) -> Result<ThingServer, ConfigError> {
        let mut server = ThingServer::new()
            .api_prefix(&config.api_prefix)
            .global_lock(config.enable_global_lock);
        if let Some(folder) = &config.settings_folder {
            server = server.settings_folder(folder);
        }
        for (name, spec) in &config.things {
            let Some((_, constructor)) = self.types.iter().find(|(class, _)| *class == spec.class)
            else {
                return Err(error(format!(
                    "thing `{name}`: unknown type `{}`; this server knows: {}",
                    spec.class,
                    self.names().join(", ")
                )));
            };
            let context = BuildContext {
                name: name.clone(),
                application_config: config.application_config.clone(),
            };
            let (thing, any) = constructor(Value::Object(spec.kwargs.clone()), &context)
                .map_err(|e| error(format!("thing `{name}` ({}): {e}", spec.class)))?;
            server = server.erased_thing(name, thing, any, spec.thing_slots.clone());
        }
        Ok(server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(
            ServerConfig::from_value(json!({"thing": {}}))
                .unwrap_err()
                .0
                .contains("unknown config key `thing`")
        );
        assert!(
            ServerConfig::from_json("{")
                .unwrap_err()
                .0
                .contains("not valid JSON")
        );
        assert!(
            ServerConfig::from_value(json!({"things": {"a": {"klass": "X"}}}))
                .unwrap_err()
                .0
                .contains("`klass`")
        );
    }
}
