//! What the builder holds: the server's options and the Things handed to it.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use labthings_core::Thing;
use labthings_protocol::paths::Scheme;

use crate::history::{HistoryLocation, Retention};
use crate::http::auth::Tokens;
use crate::http::cors::Cors;
use crate::mqtt::config::MqttConfig;
#[cfg(feature = "tls")]
use crate::net::tls::Tls;
use crate::runtime::store::DEFAULT_MEMORY_BUDGET;

/// Server settings; [`ThingServer`](crate::ThingServer)'s builder methods set them.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Prefix of every route, e.g. `/api/v1` (default empty).
    pub api_prefix: String,
    /// The address to listen on.
    pub addr: SocketAddr,
    /// Threads blocking actions may use at once (default 256).
    pub action_threads: usize,
    /// Invocations that may wait for a thread (default 4096); beyond, POST answers 503.
    pub action_queue: usize,
    /// How long finished invocations are kept (default 300 s).
    pub retention: Duration,
    /// At most this many invocation records are kept (default 10 000).
    pub max_invocations: usize,
    /// Bytes the kept invocation records (inputs, outputs, logs — running invocations' too —
    /// and in-memory blobs) may hold (default 64 MiB); beyond it the oldest finished are
    /// evicted, then running logs drop their oldest records.
    pub invocation_memory: usize,
    /// Which pages' origins may call the API.
    pub cors: Cors,
    /// Largest request body accepted (default 1 MiB); larger is 413.
    pub body_limit: usize,
    /// Where settings files live; `None` keeps settings in memory only.
    pub settings_folder: Option<PathBuf>,
    /// Where the durable history is kept (default: `history.sqlite3` in the settings folder,
    /// none without one).
    pub history: HistoryLocation,
    /// How much history is kept (default 1 GiB, no age limit).
    pub history_retention: Retention,
    /// Serialise actions and property writes through one re-entrant lock.
    pub global_lock: bool,
    /// How long shutdown waits for cancelled actions and open requests (default 5 s).
    pub shutdown_grace: Duration,
    /// The bearer tokens every request must carry one of; `None` (the default): no
    /// authentication. With tokens, CORS allows only listed origins.
    pub tokens: Option<Arc<Tokens>>,
    /// Host names answered besides IP literals, `localhost` and this machine's name, while
    /// there are no tokens (`*`: any); see `http/host_check.rs`.
    pub allowed_hosts: Vec<String>,
    /// Advertise every Thing on the local network by mDNS (DNS-SD `_wot._tcp`).
    pub mdns: bool,
    /// Serve HTTPS with this certificate and key (feature `tls`); `None`: plain HTTP.
    #[cfg(feature = "tls")]
    pub tls: Option<Tls>,
    /// Also serve every Thing through this MQTT broker; `None` (the default): no MQTT.
    pub mqtt: Option<MqttConfig>,
}

impl ServerOptions {
    /// `https` when serving TLS, else `http`: the scheme of every URL the server announces.
    pub fn scheme(&self) -> Scheme {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return Scheme::Https;
        }
        Scheme::Http
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            api_prefix: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            action_threads: 256,
            action_queue: 4096,
            retention: Duration::from_secs(300),
            max_invocations: 10_000,
            invocation_memory: DEFAULT_MEMORY_BUDGET,
            cors: Cors::default(),
            body_limit: 1024 * 1024,
            settings_folder: None,
            history: HistoryLocation::Default,
            history_retention: Retention::default(),
            global_lock: false,
            shutdown_grace: Duration::from_secs(5),
            tokens: None,
            allowed_hosts: Vec::new(),
            mdns: false,
            #[cfg(feature = "tls")]
            tls: None,
            mqtt: None,
        }
    }
}

/// A Thing to serve, as handed to the builder.
pub(crate) struct ThingEntry {
    pub(crate) name: String,
    pub(crate) thing: Arc<dyn Thing>,
    /// The same Thing as `Any`, so slots can hold it by its concrete type.
    pub(crate) any: Arc<dyn Any + Send + Sync>,
    /// Slot name → name of the Thing to put in it (the config's `thing_slots`).
    pub(crate) slots: HashMap<String, String>,
}
