//! The builder: which Things to serve and how, checked, wired and started.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use labthings_core::validate::check_supported;
use labthings_core::{PropertyObserver, Thing, ThingMetadata};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::router;
use crate::api::state::{ServedThing, ServerState};
use crate::app::error::ServerError;
use crate::app::hangup::reload_on_hangup;
use crate::app::lifecycle::{Lifecycle, Observers};
use crate::app::running::RunningServer;
use crate::app::security;
use crate::app::slots::wire_slots;
use crate::app::thing_id;
use crate::discovery::mdns::{Advertiser, host_name};
use crate::http::auth::Tokens;
use crate::http::cors::Cors;
use crate::http::host_check::AllowedHosts;
use crate::net::connection::serve_connection;
use crate::net::listener::accept_until;
#[cfg(feature = "tls")]
use crate::net::tls::Tls;
use crate::push::hub::ThingHub;
use crate::runtime::expiry::expire_loop;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::ActionPool;
use crate::runtime::store::{DEFAULT_MEMORY_BUDGET, InvocationStore};
use crate::settings::store::SettingsStore;

/// Names a Thing can't have because the server's own routes use them.
pub const RESERVED_NAMES: [&str; 10] = [
    "action_invocations",
    "things",
    "thing_descriptions",
    "blob",
    "docs",
    "redoc",
    "openapi.json",
    "labthings_fallback",
    "ws",
    // The web UI, `P/ui/`.
    "ui",
];

/// Server settings; [`ThingServer`]'s builder methods set them.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Prefix of every route, e.g. `/api/v1` (default empty).
    pub api_prefix: String,
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
    pub cors: Cors,
    /// Largest request body accepted (default 1 MiB); larger is 413.
    pub body_limit: usize,
    /// Where settings files live; `None` keeps settings in memory only.
    pub settings_folder: Option<PathBuf>,
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
}

impl ServerOptions {
    /// `https` when serving TLS, else `http`: the scheme of every URL the server announces.
    pub fn scheme(&self) -> &'static str {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return "https";
        }
        "http"
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
            global_lock: false,
            shutdown_grace: Duration::from_secs(5),
            tokens: None,
            allowed_hosts: Vec::new(),
            mdns: false,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// A Thing to serve, as handed to the builder.
pub(super) struct ThingEntry {
    pub(super) name: String,
    pub(super) thing: Arc<dyn Thing>,
    /// The same Thing as `Any`, so slots can hold it by its concrete type.
    pub(super) any: Arc<dyn Any + Send + Sync>,
    /// Slot name → name of the Thing to put in it (the config's `thing_slots`).
    pub(super) slots: HashMap<String, String>,
}

/// A server for a set of Things.
///
/// ```no_run
/// # async fn run(counter: impl labthings_core::Thing) -> Result<(), labthings_server::ServerError> {
/// use labthings_server::ThingServer;
/// let server = ThingServer::new().thing("counter", counter).port(5000).start().await?;
/// println!("serving on http://{}", server.local_addr());
/// server.wait().await;
/// # Ok(()) }
/// ```
pub struct ThingServer {
    things: Vec<ThingEntry>,
    options: ServerOptions,
    observers: Vec<Arc<dyn PropertyObserver>>,
}

impl Default for ThingServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ThingServer {
    pub fn new() -> Self {
        Self {
            things: Vec::new(),
            options: ServerOptions::default(),
            observers: Vec::new(),
        }
    }

    /// Serve `thing` at `/<name>/`.
    pub fn thing<T: Thing>(self, name: &str, thing: T) -> Self {
        self.shared_thing(name, Arc::new(thing))
    }

    /// Serve a Thing the caller keeps a handle to.
    pub fn shared_thing<T: Thing>(self, name: &str, thing: Arc<T>) -> Self {
        self.thing_with_slots(name, thing, HashMap::new())
    }

    /// Serve a Thing whose slots are filled with the Things named in `slots` (slot name →
    /// Thing name); slots not named are filled by type.
    pub fn thing_with_slots<T: Thing>(
        self,
        name: &str,
        thing: Arc<T>,
        slots: HashMap<String, String>,
    ) -> Self {
        self.erased_thing(name, thing.clone(), thing, slots)
    }

    /// A Thing whose type is known only at run time (built from a config): `thing` and `any`
    /// are the same object.
    pub(crate) fn erased_thing(
        mut self,
        name: &str,
        thing: Arc<dyn Thing>,
        any: Arc<dyn Any + Send + Sync>,
        slots: HashMap<String, String>,
    ) -> Self {
        self.things.push(ThingEntry {
            name: name.to_owned(),
            thing,
            any,
            slots,
        });
        self
    }

    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    pub fn api_prefix(mut self, prefix: &str) -> Self {
        self.options.api_prefix = prefix.to_owned();
        self
    }

    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.options.addr = addr;
        self
    }

    /// Listen on 127.0.0.1 at `port` (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.options.addr.set_port(port);
        self
    }

    pub fn action_threads(mut self, threads: usize) -> Self {
        self.options.action_threads = threads;
        self
    }

    pub fn action_queue(mut self, queue: usize) -> Self {
        self.options.action_queue = queue;
        self
    }

    pub fn retention(mut self, retention: Duration) -> Self {
        self.options.retention = retention;
        self
    }

    /// Bytes the kept invocation records may hold before the oldest finished are evicted.
    pub fn invocation_memory(mut self, bytes: usize) -> Self {
        self.options.invocation_memory = bytes;
        self
    }

    pub fn max_invocations(mut self, max: usize) -> Self {
        self.options.max_invocations = max;
        self
    }

    pub fn cors(mut self, cors: Cors) -> Self {
        self.options.cors = cors;
        self
    }

    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.options.body_limit = bytes;
        self
    }

    /// Save settings under `folder` (and load them from there at start-up).
    pub fn settings_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.options.settings_folder = Some(folder.into());
        self
    }

    pub fn global_lock(mut self, enabled: bool) -> Self {
        self.options.global_lock = enabled;
        self
    }

    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.options.shutdown_grace = grace;
        self
    }

    /// Require one of `tokens` on every request but CORS preflights; the tokens file (if any)
    /// is read again on SIGHUP.
    pub fn tokens(mut self, tokens: Tokens) -> Self {
        self.options.tokens = Some(Arc::new(tokens));
        self
    }

    /// Also answer requests whose `Host` is `name` while there are no tokens (by default only
    /// IP literals, `localhost` and this machine's name are answered, against DNS rebinding);
    /// `*` answers any name.
    pub fn allowed_host(mut self, name: impl Into<String>) -> Self {
        self.options.allowed_hosts.push(name.into());
        self
    }

    /// Advertise every Thing by mDNS while serving.
    pub fn mdns(mut self, enabled: bool) -> Self {
        self.options.mdns = enabled;
        self
    }

    /// Serve HTTPS (and WSS) with `tls` instead of plain HTTP (feature `tls`): see
    /// [`Tls::from_pem_files`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: Tls) -> Self {
        self.options.tls = Some(tls);
        self
    }

    /// Also tell `observer` of every property change of every Thing.
    pub fn observer(mut self, observer: Arc<dyn PropertyObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The OpenAPI 3.1 document this server would serve at `origin` (e.g.
    /// `http://127.0.0.1:5000`), without starting it: what `--print-openapi` prints.
    pub fn openapi(&self, origin: &str) -> Result<serde_json::Value, ServerError> {
        self.validate()?;
        let surface = crate::docs::openapi::ApiSurface {
            things: self
                .things
                .iter()
                .map(|e| (e.name.as_str(), e.thing.as_ref()))
                .collect(),
            prefix: &self.options.api_prefix,
            bearer: self.options.tokens.is_some(),
            origin: Some(origin),
        };
        Ok(crate::docs::openapi::document(&surface))
    }

    /// The TD of the Thing served as `name` as it would be served at `origin`, without
    /// starting: what `--print-td` prints, its `id` included. `Ok(None)`: no Thing of that
    /// name.
    pub fn thing_description(
        &self,
        name: &str,
        origin: &str,
    ) -> Result<Option<serde_json::Value>, ServerError> {
        self.validate()?;
        let Some(entry) = self.things.iter().find(|e| e.name == name) else {
            return Ok(None);
        };
        let base = format!("{origin}/");
        let thing_path = format!("{}/{name}/", self.options.api_prefix);
        // The id the server would serve: from the settings folder (made there if it is new,
        // as starting would), else derived from this host and the address to bind.
        let named = [(name.to_owned(), entry.thing.clone())];
        let ids = thing_ids(
            &named,
            self.options.settings_folder.as_deref(),
            self.options.addr,
        )?;
        let served = labthings_core::Served {
            base: &base,
            thing_path: &thing_path,
            id: ids.first().map(String::as_str),
            bearer: self.options.tokens.is_some(),
        };
        Ok(Some(labthings_core::thing_description(
            entry.thing.as_ref(),
            &served,
        )))
    }

    /// The names the Things are served under, in order.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        self.things.iter().map(|e| e.name.as_str())
    }

    fn validate(&self) -> Result<(), ServerError> {
        let prefix = &self.options.api_prefix;
        if !prefix.is_empty()
            && (!prefix.starts_with('/') || prefix.ends_with('/') || prefix.contains("//"))
        {
            return Err(ServerError::InvalidPrefix(prefix.clone()));
        }
        for (i, entry) in self.things.iter().enumerate() {
            let name = &entry.name;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(ServerError::InvalidName(name.clone()));
            }
            if RESERVED_NAMES.contains(&name.as_str()) {
                return Err(ServerError::ReservedName(name.clone()));
            }
            if self.things[..i].iter().any(|other| &other.name == name) {
                return Err(ServerError::DuplicateName(name.clone()));
            }
            check_schemas(name, entry.thing.metadata())?;
            crate::api::endpoints::check(name, entry.thing.as_ref())?;
        }
        Ok(())
    }

    /// Bind, wire slots, load settings, run on-start hooks (in order) and start serving in
    /// the background; the returned handle reports the address and stops the server.
    pub async fn start(self) -> Result<RunningServer, ServerError> {
        self.validate()?;
        wire_slots(&self.things)?;
        let mut options = self.options;
        let listener =
            TcpListener::bind(options.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: options.addr,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: options.addr,
            source,
        })?;
        let named: Vec<(String, Arc<dyn Thing>)> = self
            .things
            .iter()
            .map(|e| (e.name.clone(), e.thing.clone()))
            .collect();

        // Before any on-start hook runs, so that a settings folder we can't write stops
        // nothing that would need undoing.
        let ids = thing_ids(&named, options.settings_folder.as_deref(), addr)?;
        // Saved settings are applied before anything is bound, so loading writes nothing back.
        let settings = options
            .settings_folder
            .as_ref()
            .map(|folder| Arc::new(SettingsStore::new(folder, &named)));
        let mut observers = self.observers;
        if let Some(settings) = &settings {
            settings.load();
            observers.push(settings.observer());
        }
        // Bound before the on-start hooks, so what they write is checked, announced and saved:
        // to the server-wide observers, and to the Thing's own hub, which pushes to clients.
        let hubs: Vec<Arc<ThingHub>> = named.iter().map(|_| Arc::new(ThingHub::new())).collect();
        for ((name, thing), hub) in named.iter().zip(&hubs) {
            let mut fan_out = observers.clone();
            fan_out.push(hub.clone());
            let observer: Arc<dyn PropertyObserver> = Arc::new(Observers(fan_out));
            thing.attach(name, observer);
        }
        let lifecycle = Lifecycle {
            things: named.clone(),
        };
        lifecycle.start().await?;
        if let Some(settings) = &settings
            && let Err(error) = settings.start_writer()
        {
            lifecycle.stop().await;
            return Err(ServerError::Settings(error));
        }

        let bearer = options.tokens.is_some();
        let things: Vec<ServedThing> = named
            .iter()
            .zip(hubs)
            .zip(ids)
            .map(|(((name, thing), hub), id)| {
                ServedThing::new(name, thing.clone(), &options.api_prefix, hub, bearer, id)
            })
            .collect();
        security::check(&mut options, addr);
        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(ServerState {
            things,
            prefix: options.api_prefix.clone(),
            store: Arc::new(InvocationStore::new(
                options.retention,
                options.max_invocations,
                options.invocation_memory,
            )),
            pool: ActionPool::new(options.action_threads, options.action_queue),
            cors: options.cors.clone(),
            tokens: options.tokens.clone(),
            // With tokens a rebound page has no token to send; and such servers are the ones
            // reached through names (proxies, DNS) nobody listed.
            allowed_hosts: options
                .tokens
                .is_none()
                .then(|| AllowedHosts::new(&host_name(), &options.allowed_hosts)),
            body_limit: options.body_limit,
            default_host: addr.to_string(),
            scheme: options.scheme(),
            global_lock: options.global_lock.then(|| Arc::new(GlobalLock::default())),
            closing: AtomicBool::new(false),
            stopped: stopped.clone(),
        });
        let advertiser = if options.mdns {
            advertise(&state.things, addr, options.scheme()).await
        } else {
            None
        };
        if let Some(tokens) = &options.tokens
            && tokens.file().is_some()
        {
            tokio::spawn(reload_on_hangup(tokens.clone(), stopped.clone()));
        }
        let connections = Connections {
            #[cfg(feature = "tls")]
            tls: options.tls.clone(),
        };
        let task = tokio::spawn(serve(listener, connections, state.clone(), stopped.clone()));
        tokio::spawn(expire_loop(state.store.clone(), stopped));
        Ok(RunningServer {
            addr,
            state,
            stop,
            task,
            settings,
            lifecycle,
            grace: options.shutdown_grace,
            advertiser,
        })
    }
}

/// What runs on an accepted connection before HTTP: nothing, or (feature `tls`) a TLS
/// handshake.
#[derive(Clone)]
struct Connections {
    #[cfg(feature = "tls")]
    tls: Option<Tls>,
}

/// Serve the API on `listener` until `stopped` changes, then let each open connection finish
/// its current request.
async fn serve(
    listener: TcpListener,
    connections: Connections,
    state: Arc<ServerState>,
    stopped: watch::Receiver<bool>,
) {
    let mut stop = stopped.clone();
    let stop = async move {
        let _ = stop.changed().await;
    };
    let mut connections = accept_until(listener, stop, |stream| {
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let handle = move |request| {
            let state = state.clone();
            async move { router::handle(&state, request).await }
        };
        let (stopped, connections) = (stopped.clone(), connections.clone());
        async move {
            #[cfg(feature = "tls")]
            if let Some(tls) = &connections.tls {
                if let Some(stream) = tls.accept(stream, stopped.clone()).await {
                    serve_connection(stream, handle, stopped).await;
                }
                return;
            }
            let _ = connections;
            serve_connection(stream, handle, stopped).await
        }
    })
    .await;
    while connections.join_next().await.is_some() {}
}

/// Each Thing's TD `id`: kept in the settings folder when there is one, else derived from
/// this host, the address and the name (see `thing_id`).
fn thing_ids(
    things: &[(String, Arc<dyn Thing>)],
    settings_folder: Option<&Path>,
    addr: SocketAddr,
) -> Result<Vec<String>, ServerError> {
    let host = host_name();
    things
        .iter()
        .map(|(name, _)| match settings_folder {
            Some(folder) => {
                let path = thing_id::id_path(folder, name);
                thing_id::load_or_create(&path)
                    .map_err(|source| ServerError::ThingId { path, source })
            }
            None => Ok(thing_id::derived(&host, addr, name)),
        })
        .collect()
}

/// Start advertising `things` served at `addr` by mDNS; a failure is logged, not fatal: the
/// instruments stay reachable by address.
async fn advertise(
    things: &[ServedThing],
    addr: SocketAddr,
    scheme: &'static str,
) -> Option<Advertiser> {
    let things: Vec<(String, String)> = things
        .iter()
        .map(|t| (t.name.to_string(), t.path.clone()))
        .collect();
    let started = tokio::task::spawn_blocking(move || {
        let things: Vec<(&str, &str)> = things
            .iter()
            .map(|(name, path)| (name.as_str(), path.as_str()))
            .collect();
        Advertiser::start(&things, addr, scheme)
    })
    .await;
    match started {
        Ok(Ok(advertiser)) => {
            tracing::info!("advertising the Things by mDNS as _wot._tcp");
            Some(advertiser)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "could not advertise the Things by mDNS");
            None
        }
        Err(_) => None,
    }
}

/// Refuse a Thing whose property or action-input schemas use JSON Schema the validator does
/// not implement (a `$ref` from a recursive type, say): requests would not be checked against
/// it, so this is found at start-up instead of passed over at every request.
fn check_schemas(thing: &str, metadata: &ThingMetadata) -> Result<(), ServerError> {
    let properties = metadata
        .properties
        .iter()
        .map(|p| (format!("property `{}`", p.name), &p.schema));
    let inputs = metadata
        .actions
        .iter()
        .map(|a| (format!("the input of action `{}`", a.name), &a.input_schema));
    for (affordance, schema) in properties.chain(inputs) {
        check_supported(schema).map_err(|problem| ServerError::UnsupportedSchema {
            thing: thing.to_owned(),
            affordance,
            problem,
        })?;
    }
    Ok(())
}
