//! The builder: which Things to serve and how, checked, wired and started.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use labthings_core::{PropertyObserver, Thing};
use labthings_protocol::paths::{ApiPaths, Origin, RESERVED_THING_NAMES};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::router;
use crate::app::checks;
use crate::app::error::ServerError;
use crate::app::hangup::reload_on_hangup;
use crate::app::lifecycle::{Lifecycle, Observers};
use crate::app::options::{ServerOptions, ThingEntry};
use crate::app::running::RunningServer;
use crate::app::security;
use crate::app::slots::wire_slots;
use crate::app::thing_id;
use crate::discovery::mdns::{advertise, host_name};
use crate::history::recorder::RecordedThing;
use crate::history::{History, HistoryLocation};
use crate::http::auth::Tokens;
use crate::http::cors::Cors;
use crate::http::host_check::AllowedHosts;
use crate::live;
use crate::mqtt::config::{MqttConfig, Resolved, server_name};
use crate::mqtt::link::Board;
use crate::mqtt::td_forms::MqttBinding;
use crate::net::serve::{Connections, serve};
#[cfg(feature = "tls")]
use crate::net::tls::Tls;
use crate::push::hub::ThingHub;
use crate::runtime::blocking::BlockingPermits;
use crate::runtime::expiry::expire_loop;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::ActionPool;
use crate::runtime::store::InvocationStore;
use crate::settings::store::SettingsStore;
use crate::state::{Binding, ServedAs, ServedThing, ServerState};

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
    /// A server with no Things, on 127.0.0.1:5000.
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

    /// Replace every option at once.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// Serve everything under `prefix` (empty, or starting with `/` and not ending with one).
    pub fn api_prefix(mut self, prefix: &str) -> Self {
        self.options.api_prefix = prefix.to_owned();
        self
    }

    /// Listen on `addr`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.options.addr = addr;
        self
    }

    /// Listen on 127.0.0.1 at `port` (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.options.addr.set_port(port);
        self
    }

    /// Threads for blocking actions (default 256).
    pub fn action_threads(mut self, threads: usize) -> Self {
        self.options.action_threads = threads;
        self
    }

    /// Invocations that may wait for a thread before a `POST` gets 503.
    pub fn action_queue(mut self, queue: usize) -> Self {
        self.options.action_queue = queue;
        self
    }

    /// How long a finished invocation is kept.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.options.retention = retention;
        self
    }

    /// Bytes the kept invocation records may hold before the oldest finished are evicted.
    pub fn invocation_memory(mut self, bytes: usize) -> Self {
        self.options.invocation_memory = bytes;
        self
    }

    /// At most this many finished invocations are kept.
    pub fn max_invocations(mut self, max: usize) -> Self {
        self.options.max_invocations = max;
        self
    }

    /// Which pages' origins may call the API.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.options.cors = cors;
        self
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.options.body_limit = bytes;
        self
    }

    /// Save settings under `folder` (and load them from there at start-up).
    pub fn settings_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.options.settings_folder = Some(folder.into());
        self
    }

    /// Keep the durable history here (`HistoryLocation::Off`: none). By default it is
    /// `history.sqlite3` in the settings folder, and there is none without a settings folder.
    pub fn history(mut self, location: HistoryLocation) -> Self {
        self.options.history = location;
        self
    }

    /// Keep at most `max_bytes` of history (database pages and blob files; default 1 GiB)
    /// and nothing older than `max_age` (default: no age limit); the oldest goes first.
    pub fn history_retention(mut self, max_bytes: u64, max_age: Option<Duration>) -> Self {
        self.options.history_retention.max_bytes = max_bytes;
        self.options.history_retention.max_age = max_age;
        self
    }

    /// Make actions and property writes take one global lock.
    pub fn global_lock(mut self, enabled: bool) -> Self {
        self.options.global_lock = enabled;
        self
    }

    /// How long shutdown waits for running actions and streams.
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

    /// Also serve every Thing through the MQTT broker `config` names (the W3C WoT MQTT
    /// binding: see the guide's MQTT chapter).
    pub fn mqtt(mut self, config: MqttConfig) -> Self {
        self.options.mqtt = Some(config);
        self
    }

    /// Also tell `observer` of every property change of every Thing.
    pub fn observer(mut self, observer: Arc<dyn PropertyObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The OpenAPI 3.1 document this server would serve at `origin` (e.g.
    /// `http://127.0.0.1:5000`), without starting it: what `--print-openapi` prints.
    pub fn openapi(&self, origin: &Origin) -> Result<serde_json::Value, ServerError> {
        self.validate()?;
        let origin = origin.to_string();
        let paths = ApiPaths::new(self.options.api_prefix.as_str());
        let surface = crate::docs::openapi::ApiSurface {
            things: self
                .things
                .iter()
                .map(|e| (e.name.as_str(), e.thing.as_ref()))
                .collect(),
            paths: &paths,
            bearer: self.options.tokens.is_some(),
            origin: Some(&origin),
        };
        Ok(crate::docs::openapi::document(&surface))
    }

    /// The TD of the Thing served as `name` as it would be served at `origin`, without
    /// starting: what `--print-td` prints, its `id` included. `Ok(None)`: no Thing of that
    /// name.
    pub fn thing_description(
        &self,
        name: &str,
        origin: &Origin,
    ) -> Result<Option<serde_json::Value>, ServerError> {
        self.validate()?;
        let Some(entry) = self.things.iter().find(|e| e.name == name) else {
            return Ok(None);
        };
        // The id the server would serve: from the settings folder (made there if it is new,
        // as starting would), else derived from this host and the address to bind.
        let named = [(name.to_owned(), entry.thing.clone())];
        let ids = thing_id::ids(
            &named,
            self.options.settings_folder.as_deref(),
            self.options.addr,
        )?;
        let binding = match &self.options.mqtt {
            // The forms only say the broker wants credentials: no password is read.
            Some(config) => {
                let server = server_name(&host_name(), self.options.addr.port());
                Some(Arc::new(MqttBinding {
                    config: Resolved::without_password(config, &server)?,
                    board: Arc::default(),
                }) as Arc<dyn Binding>)
            }
            None => None,
        };
        let served_as = ServedAs::new(
            name,
            &ApiPaths::new(self.options.api_prefix.as_str()),
            ids.into_iter().next(),
            self.options.tokens.is_some(),
        );
        Ok(Some(
            served_as
                .with_binding(binding)
                .td(entry.thing.as_ref(), origin),
        ))
    }

    /// The names the Things are served under, in order.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        self.things.iter().map(|e| e.name.as_str())
    }

    fn validate(&self) -> Result<(), ServerError> {
        let prefix = &self.options.api_prefix;
        if ApiPaths::prefix_problem(prefix).is_some() {
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
            if RESERVED_THING_NAMES.contains(&name.as_str()) {
                return Err(ServerError::ReservedName(name.clone()));
            }
            if self.things[..i].iter().any(|other| &other.name == name) {
                return Err(ServerError::DuplicateName(name.clone()));
            }
            checks::schemas(name, entry.thing.metadata())?;
            checks::endpoints(name, entry.thing.as_ref())?;
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
        // Read once: the MQTT server name, the allowed hosts, the history's server identity.
        let host = host_name();
        let named: Vec<(String, Arc<dyn Thing>)> = self
            .things
            .iter()
            .map(|e| (e.name.clone(), e.thing.clone()))
            .collect();

        // Resolved before anything runs that would need undoing: a missing password file
        // stops the start.
        let mqtt = match &options.mqtt {
            Some(config) => Some(Resolved::new(config, &server_name(&host, addr.port()))?),
            None => None,
        };
        // Before any on-start hook runs, so that a settings folder we can't write stops
        // nothing that would need undoing.
        let ids = thing_id::ids(&named, options.settings_folder.as_deref(), addr)?;
        // Saved settings are applied before anything is bound, so loading writes nothing back.
        let settings = options
            .settings_folder
            .as_ref()
            .map(|folder| Arc::new(SettingsStore::new(folder, &named)));
        let mut observers = self.observers;
        let loaded = match &settings {
            Some(settings) => {
                observers.push(settings.observer());
                settings.load()
            }
            None => Vec::new(),
        };
        let history = open_history(&options, &named, &ids, addr, &host)?;
        if let Some(history) = &history {
            // The load reached no observer; the history records it all the same.
            history.recorder.settings_loaded(loaded);
            observers.push(history.recorder.clone());
        }
        // Bound before the on-start hooks, so what they write is checked, announced and saved:
        // to the server-wide observers, and to the Thing's own hub, which pushes to clients.
        let hubs: Vec<Arc<ThingHub>> = named.iter().map(|_| Arc::new(ThingHub::new())).collect();
        let mut thing_observers = Vec::with_capacity(named.len());
        for ((name, thing), hub) in named.iter().zip(&hubs) {
            let mut fan_out = observers.clone();
            fan_out.push(hub.clone());
            let observer: Arc<dyn PropertyObserver> = Arc::new(Observers(fan_out));
            thing.attach(name, observer.clone());
            thing_observers.push(observer);
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

        let board = Arc::new(Board::default());
        let binding: Option<Arc<dyn Binding>> = mqtt.clone().map(|config| {
            Arc::new(MqttBinding {
                config,
                board: board.clone(),
            }) as Arc<dyn Binding>
        });
        let bearer = options.tokens.is_some();
        let paths = ApiPaths::new(options.api_prefix.as_str());
        let things: Vec<ServedThing> = named
            .iter()
            .zip(hubs)
            .zip(ids)
            .map(|(((name, thing), hub), id)| {
                ServedThing::new(name, thing.clone(), &paths, hub, bearer, id)
                    .with_binding(binding.clone())
            })
            .collect();
        security::check(&mut options, addr);
        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(ServerState {
            things,
            paths,
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
                .then(|| AllowedHosts::new(&host, &options.allowed_hosts)),
            body_limit: options.body_limit,
            default_host: addr.to_string(),
            scheme: options.scheme(),
            global_lock: options.global_lock.then(|| Arc::new(GlobalLock::default())),
            closing: AtomicBool::new(false),
            stopped: stopped.clone(),
            endpoint_slots: BlockingPermits::new(crate::api::endpoints::BLOCKING_SLOTS),
            binding,
            thing_observers,
            history,
        });
        // The TDs on the broker carry absolute HTTP links: to this machine by name when
        // listening on every interface.
        let mqtt = mqtt.map(|config| {
            let authority = if addr.ip().is_unspecified() {
                format!("{host}:{}", addr.port())
            } else {
                addr.to_string()
            };
            let origin = Origin::new(options.scheme(), authority);
            crate::mqtt::start(&state, &config, &board, &origin)
        });
        let advertiser = if options.mdns {
            let things = state.things.iter();
            let things = things
                .map(|t| (t.name.to_string(), t.path.clone()))
                .collect();
            advertise(things, addr, options.scheme().as_str()).await
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
        let handle = {
            let state = state.clone();
            move |request| {
                let state = state.clone();
                async move { router::handle(&state, request).await }
            }
        };
        for served in &state.things {
            live::start(&served.thing, &served.hub, &stopped);
        }
        let task = tokio::spawn(serve(listener, connections, handle, stopped.clone()));
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
            mqtt,
            // `absolute` doesn't touch the disk; the folder exists by now (the Thing ids are
            // kept in it), and a path it can't resolve is reported as given.
            settings_folder: options
                .settings_folder
                .as_ref()
                .map(|folder| std::path::absolute(folder).unwrap_or_else(|_| folder.clone())),
        })
    }
}

/// Open the history the options ask for (none by default without a settings folder), with
/// each Thing's TD digest as served at `addr`.
fn open_history(
    options: &ServerOptions,
    named: &[(String, Arc<dyn Thing>)],
    ids: &[String],
    addr: SocketAddr,
    host: &str,
) -> Result<Option<Arc<History>>, ServerError> {
    let Some(path) = options.history.file(options.settings_folder.as_deref()) else {
        return Ok(None);
    };
    let origin = Origin::new(options.scheme(), addr.to_string());
    let paths = ApiPaths::new(options.api_prefix.as_str());
    let things = named
        .iter()
        .zip(ids)
        .map(|((name, thing), id)| {
            let served_as = ServedAs::new(name, &paths, Some(id.clone()), options.tokens.is_some());
            let td = serde_json::to_vec(&served_as.td(thing.as_ref(), &origin)).unwrap_or_default();
            (name.clone(), RecordedThing::new(thing.clone(), &td))
        })
        .collect();
    let server = format!("{host}:{}", addr.port());
    let history = History::open(
        &options.history,
        &path,
        server,
        options.history_retention.clone(),
        things,
    )?;
    match history.database() {
        Some(database) => {
            tracing::info!(%database, spool = %history.path.display(), "keeping the history in PostgreSQL")
        }
        None => tracing::info!(path = %history.path.display(), "keeping the history"),
    }
    Ok(Some(Arc::new(history)))
}
