//! What every request handler shares: the served Things, the invocation store and the pool.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::{HeaderMap, Uri};
use labthings_core::{Served, Thing, thing_description};
use labthings_protocol::paths::{ApiPaths, Origin, Scheme};
use serde_json::Value;

use tokio::sync::watch;

use crate::history::History;
use crate::http::auth::Tokens;
use crate::http::cors::Cors;
use crate::http::host_check::AllowedHosts;
use crate::http::origin;
use crate::push::hub::ThingHub;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::ActionPool;
use crate::runtime::store::InvocationStore;

/// A Thing as served under a name.
pub struct ServedThing {
    pub name: Arc<str>,
    pub thing: Arc<dyn Thing>,
    /// Its path with the API prefix and a trailing slash, e.g. `/api/counter/`.
    pub path: String,
    /// Each action's path (`/api/counter/slow`), shared by all its invocation records.
    pub action_paths: HashMap<&'static str, Arc<str>>,
    /// Where its property writes, events and invocation statuses are pushed to clients.
    pub hub: Arc<ThingHub>,
    /// How its TD is made.
    served_as: ServedAs,
    /// Serialised TDs by origin: the TD only changes with the `Host` a client used.
    td_cache: Mutex<HashMap<Origin, Bytes>>,
}

/// How a Thing is served, as its TD says: under what name and paths, with what `id`, whether
/// requests need a token, and over which other protocol — everything its TD depends on but the
/// Thing and the origin a client reached the server at. The one place a TD is made, so what
/// `GET T` answers, what `--print-td` prints and the TD whose digest the history records agree.
pub struct ServedAs {
    name: Arc<str>,
    paths: ApiPaths,
    /// `urn:uuid:…`, stable across restarts (see `app::thing_id`); `None` only without one.
    id: Option<String>,
    /// Whether requests need a bearer token (the TD declares it).
    bearer: bool,
    /// Another protocol the Thing is also served over, whose forms its TD carries.
    binding: Option<Arc<dyn Binding>>,
}

impl ServedAs {
    pub fn new(name: &str, paths: &ApiPaths, id: Option<String>, bearer: bool) -> Self {
        Self {
            name: Arc::from(name),
            paths: paths.clone(),
            id,
            bearer,
            binding: None,
        }
    }

    /// Also served over `binding`: its forms join the TD.
    pub fn with_binding(mut self, binding: Option<Arc<dyn Binding>>) -> Self {
        self.binding = binding;
        self
    }

    /// `thing`'s TD as seen from `origin` (e.g. `http://127.0.0.1:5000`).
    pub fn td(&self, thing: &dyn Thing, origin: &Origin) -> Value {
        let served = Served {
            origin,
            paths: &self.paths,
            name: &self.name,
            id: self.id.as_deref(),
            bearer: self.bearer,
        };
        let mut td = thing_description(thing, &served);
        if let Some(binding) = &self.binding {
            binding.extend_td(&self.name, &mut td);
        }
        td
    }
}

/// A second binding the Things are served over (MQTT, `mqtt/`): it adds its forms to their
/// TDs and reports its link's state in the directory TD.
pub trait Binding: Send + Sync {
    /// Add this binding's forms (and its `@context` term, its security) to `thing`'s TD.
    fn extend_td(&self, thing: &str, td: &mut Value);
    /// The link's state, as the directory TD shows it.
    fn report(&self) -> Value;
}

impl ServedThing {
    pub fn new(
        name: &str,
        thing: Arc<dyn Thing>,
        paths: &ApiPaths,
        hub: Arc<ThingHub>,
        bearer: bool,
        id: String,
    ) -> Self {
        let action_paths = thing
            .metadata()
            .actions
            .iter()
            .map(|action| (action.name, Arc::from(paths.affordance(name, action.name))))
            .collect();
        Self {
            name: Arc::from(name),
            thing,
            path: paths.thing(name),
            action_paths,
            hub,
            served_as: ServedAs::new(name, paths, Some(id), bearer),
            td_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Also served over `binding`: its forms join the TD.
    pub fn with_binding(mut self, binding: Option<Arc<dyn Binding>>) -> Self {
        self.served_as = self.served_as.with_binding(binding);
        self
    }

    /// The TD as JSON, as seen from `origin` (e.g. `http://127.0.0.1:5000`).
    pub fn td_json(&self, origin: &Origin) -> Bytes {
        let mut cache = self.td_cache.lock().unwrap_or_else(|p| p.into_inner());
        // Keyed by the origin itself: formatting it into a key cost more than the lookup.
        if let Some(bytes) = cache.get(origin) {
            return bytes.clone();
        }
        let td = self.served_as.td(self.thing.as_ref(), origin);
        let bytes = Bytes::from(serde_json::to_vec(&td).unwrap_or_default());
        // Hosts are client-chosen: bound the cache so odd Host headers can't grow it forever.
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(origin.clone(), bytes.clone());
        bytes
    }
}

pub struct ServerState {
    /// In the order they were added.
    pub things: Vec<ServedThing>,
    /// Where everything is, under the API prefix.
    pub paths: ApiPaths,
    /// Shared with the expiry timer.
    pub store: Arc<InvocationStore>,
    pub pool: ActionPool,
    pub cors: Cors,
    /// The accepted bearer tokens; `None`: no authentication.
    pub tokens: Option<Arc<Tokens>>,
    /// The host names answered (see `http/host_check.rs`); `None` (with tokens): any.
    pub allowed_hosts: Option<AllowedHosts>,
    pub body_limit: usize,
    /// `host:port` used when a request has no usable `Host` header.
    pub default_host: String,
    /// `https` when serving TLS, else `http`: absolute URLs are built on it.
    pub scheme: Scheme,
    /// Present when `enable_global_lock` is on.
    pub global_lock: Option<Arc<GlobalLock>>,
    /// Set when shutdown begins: new invocations are refused.
    pub closing: AtomicBool,
    /// Becomes `true` when the server stops: long-lived streams and sockets end.
    pub stopped: watch::Receiver<bool>,
    /// Admission of blocking `#[endpoint]` calls.
    pub endpoint_slots: crate::runtime::blocking::BlockingPermits,
    /// The MQTT binding, when on.
    pub binding: Option<Arc<dyn Binding>>,
    /// Each Thing's observer, held while the server runs: a Thing's `notify_<name>()` reaches
    /// it only through a weak handle (so a Thing that outlives its server notifies nobody).
    #[expect(dead_code, reason = "held, never read")]
    pub thing_observers: Vec<Arc<dyn labthings_core::PropertyObserver>>,
    /// The durable history, when kept.
    pub history: Option<Arc<History>>,
}

impl ServerState {
    /// The origin a request was made to (see [`origin::of`]).
    pub fn origin_of(&self, uri: &Uri, headers: &HeaderMap) -> Origin {
        origin::of(uri, headers, self.scheme, &self.default_host)
    }

    pub fn thing(&self, name: &str) -> Option<&ServedThing> {
        self.things.iter().find(|t| &*t.name == name)
    }

    /// The global lock an affordance must hold, if the server has one and the affordance
    /// `uses_global_lock`.
    pub fn lock_for(&self, uses_global_lock: bool) -> Option<Arc<GlobalLock>> {
        self.global_lock.clone().filter(|_| uses_global_lock)
    }
}
