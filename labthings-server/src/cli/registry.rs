//! The Thing types a binary can build from a config, by name.

use std::any::Any;
use std::sync::Arc;

use labthings_core::Thing;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::builder::ThingServer;
use crate::cli::config::{ConfigError, ServerConfig};
use crate::http::cors::Cors;

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
    /// A registry with no types.
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
        if let Some(bytes) = config.invocation_memory {
            server = server.invocation_memory(bytes);
        }
        if let Some(folder) = &config.settings_folder {
            server = server.settings_folder(folder);
        }
        if let Some(origins) = &config.cors_origins {
            server = server.cors(Cors::Origins(origins.clone()));
        }
        for name in &config.allowed_hosts {
            server = server.allowed_host(name);
        }
        server = server.mdns(config.mdns);
        if let Some(mqtt) = &config.mqtt {
            server = server.mqtt(mqtt.clone());
        }
        for (name, spec) in &config.things {
            let Some((_, constructor)) = self.types.iter().find(|(class, _)| *class == spec.class)
            else {
                return Err(ConfigError(format!(
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
                .map_err(|e| ConfigError(format!("thing `{name}` ({}): {e}", spec.class)))?;
            server = server.erased_thing(name, thing, any, spec.thing_slots.clone());
        }
        Ok(server)
    }
}
