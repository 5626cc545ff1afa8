//! Building and running a server: the Things to serve and how, then the accept loop.

use std::any::Any;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use labthings_core::{PropertyObserver, Thing};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::api::router as routes;
use crate::api::state::{ServedThing, ServerState};
use crate::http::cors::Cors;
use crate::runtime::lock::GlobalLock;
use crate::runtime::pool::ActionPool;
use crate::runtime::store::InvocationStore;
use crate::settings::store::SettingsStore;

/// Names a Thing can't have because the server's own routes use them.
pub const RESERVED_NAMES: [&str; 9] = [
    "action_invocations",
    "things",
    "thing_descriptions",
    "blob",
    "docs",
    "redoc",
    "openapi.json",
    "labthings_fallback",
    "ws",
];

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("invalid Thing name `{0}`: names may use only letters, digits, `_` and `-`")]
    InvalidName(String),
    #[error("the Thing name `{0}` is taken by one of the server's own routes")]
    ReservedName(String),
    #[error("two Things are named `{0}`")]
    DuplicateName(String),
    #[error("invalid API prefix `{0}`: it must be empty or start with `/` and not end with `/`")]
    InvalidPrefix(String),
    #[error("slot `{slot}` of Thing `{thing}`: {problem}")]
    Slot {
        thing: String,
        slot: String,
        problem: String,
    },
    #[error("Thing `{thing}` failed to start: {title}: {detail}")]
    StartHook {
        thing: String,
        title: String,
        detail: String,
    },
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not start the settings writer: {0}")]
    Settings(std::io::Error),
}

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
    pub cors: Cors,
    /// Largest request body accepted (default 1 MiB); larger is 413.
    pub body_limit: usize,
    /// Where settings files live; `None` keeps settings in memory only.
    pub settings_folder: Option<PathBuf>,
    /// Serialise actions and property writes through one re-entrant lock.
    pub global_lock: bool,
    /// How long shutdown waits for cancelled actions and open requests (default 5 s).
    pub shutdown_grace: Duration,
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
            cors: Cors::default(),
            body_limit: 1024 * 1024,
            settings_folder: None,
            global_lock: false,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// A Thing to serve, as handed to the builder.
struct ThingEntry {
    name: String,
    thing: Arc<dyn Thing>,
    /// The same Thing as `Any`, so slots can hold it by its concrete type.
    any: Arc<dyn Any + Send + Sync>,
    /// Slot name → name of the Thing to put in it (the config's `thing_slots`).
    slots: HashMap<String, String>,
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

    /// Also tell `observer` of every property change of every Thing.
    pub fn observer(mut self, observer: Arc<dyn PropertyObserver>) -> Self {
        self.observers.push(observer);
        self
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
        }
        Ok(())
    }

    /// Fill every slot: by the name the config gives, else by type.
    fn wire_slots(&self) -> Result<(), ServerError> {
        for entry in &self.things {
            for slot in &entry.thing.metadata().slots {
                let error = |problem: String| ServerError::Slot {
                    thing: entry.name.clone(),
                    slot: slot.name.to_owned(),
                    problem,
                };
                let target = match entry.slots.get(slot.name) {
                    Some(wanted) => match self.things.iter().find(|t| &t.name == wanted) {
                        Some(target) => target,
                        None => {
                            return Err(error(format!(
                                "it names `{wanted}`, which is not a Thing of this server"
                            )));
                        }
                    },
                    None => {
                        let candidates: Vec<&ThingEntry> = self
                            .things
                            .iter()
                            .filter(|t| (*t.any).type_id() == slot.target_type)
                            .collect();
                        match candidates.as_slice() {
                            [one] => *one,
                            [] if slot.optional => continue,
                            [] => {
                                return Err(error(format!(
                                    "it needs a `{}` and the server has none",
                                    slot.target_type_name
                                )));
                            }
                            several => {
                                let names: Vec<&str> =
                                    several.iter().map(|t| t.name.as_str()).collect();
                                return Err(error(format!(
                                    "several Things could fill it ({}); name one in `thing_slots`",
                                    names.join(", ")
                                )));
                            }
                        }
                    }
                };
                entry
                    .thing
                    .wire_slot(slot.name, target.any.clone())
                    .map_err(|wrong| error(format!("`{}` can't go in it: {wrong}", target.name)))?;
            }
        }
        Ok(())
    }

    /// Bind, wire slots, load settings, run on-start hooks (in order) and start serving in
    /// the background; the returned handle reports the address and stops the server.
    pub async fn start(self) -> Result<RunningServer, ServerError> {
        self.validate()?;
        self.wire_slots()?;
        let options = self.options;
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
        // Bound before the on-start hooks, so what they write is checked, announced and saved.
        let observer: Arc<dyn PropertyObserver> = Arc::new(Observers(observers));
        for (name, thing) in &named {
            thing.attach(name, observer.clone());
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

        let things = named
            .iter()
            .map(|(name, thing)| ServedThing::new(name, thing.clone(), &options.api_prefix))
            .collect();
        let state = Arc::new(ServerState {
            things,
            prefix: options.api_prefix.clone(),
            store: InvocationStore::new(options.retention, options.max_invocations),
            pool: ActionPool::new(options.action_threads, options.action_queue),
            cors: options.cors.clone(),
            body_limit: options.body_limit,
            default_host: addr.to_string(),
            global_lock: options.global_lock.then(|| Arc::new(GlobalLock::default())),
            closing: AtomicBool::new(false),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state.clone(), stopped.clone()));
        tokio::spawn(expire_loop(state.clone(), stopped));
        Ok(RunningServer {
            addr,
            state,
            stop,
            task,
            settings,
            lifecycle,
            grace: options.shutdown_grace,
        })
    }
}

/// Runs the Things' `on_start` hooks in order and their `on_stop` hooks in reverse, off the
/// async runtime (they may talk to hardware).
struct Lifecycle {
    things: Vec<(String, Arc<dyn Thing>)>,
}

impl Lifecycle {
    async fn start(&self) -> Result<(), ServerError> {
        for (index, (name, thing)) in self.things.iter().enumerate() {
            let hook_thing = thing.clone();
            let started = tokio::task::spawn_blocking(move || hook_thing.on_start()).await;
            let failure = match started {
                Ok(Ok(())) => continue,
                Ok(Err(failure)) => failure,
                Err(_) => labthings_core::Failure {
                    title: "Panic".into(),
                    detail: "the on_start hook panicked".into(),
                },
            };
            // Stop what already started, newest first.
            Lifecycle {
                things: self.things[..index].to_vec(),
            }
            .stop()
            .await;
            return Err(ServerError::StartHook {
                thing: name.clone(),
                title: failure.title,
                detail: failure.detail,
            });
        }
        Ok(())
    }

    async fn stop(&self) {
        for (name, thing) in self.things.iter().rev() {
            let hook_thing = thing.clone();
            if tokio::task::spawn_blocking(move || hook_thing.on_stop())
                .await
                .is_err()
            {
                tracing::error!(thing = %name, "the on_stop hook panicked");
            }
        }
    }
}

/// Forwards property changes to every registered observer.
struct Observers(Vec<Arc<dyn PropertyObserver>>);

impl PropertyObserver for Observers {
    fn property_changed(&self, thing: &str, property: &str, value: &Value) {
        for observer in &self.0 {
            observer.property_changed(thing, property, value);
        }
    }
}

/// A server that is running.
/// Dropping it stops serving at once, without the orderly shutdown: call
/// [`shutdown`](Self::shutdown) or [`wait`](Self::wait).
#[must_use = "the server stops when this is dropped: call `wait()` or `shutdown()`"]
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    settings: Option<Arc<SettingsStore>>,
    lifecycle: Lifecycle,
    grace: Duration,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of each Thing's description, as seen on the bound address.
    pub fn thing_urls(&self) -> Vec<String> {
        self.state
            .things
            .iter()
            .map(|t| format!("http://{}{}", self.addr, t.path))
            .collect()
    }

    /// Wait (at most `timeout`) until every settings change so far is on disk; false if some
    /// change is not.
    pub async fn flush_settings(&self, timeout: Duration) -> bool {
        match self.settings.clone() {
            Some(settings) => tokio::task::spawn_blocking(move || settings.flush(timeout))
                .await
                .unwrap_or(false),
            None => true,
        }
    }

    /// Stop: refuse new invocations, stop accepting connections, cancel running and pending
    /// invocations, wait — all within one grace period — for them and for open requests, then
    /// run the on-stop hooks (in reverse order) and make sure settings are on disk.
    pub async fn shutdown(self) {
        let deadline = tokio::time::Instant::now() + self.grace;
        // Set before the snapshot: an invocation recorded after it sees the flag and withdraws.
        self.state.closing.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        let unfinished = self.state.store.list(|r| !r.status().is_finished());
        for invocation in &unfinished {
            let _ = invocation.request_cancel();
        }
        let _ = tokio::time::timeout_at(deadline, self.task).await;
        for invocation in &unfinished {
            let _ = tokio::time::timeout_at(deadline, invocation.wait_finished()).await;
            tracing::info!(
                invocation = %invocation.id,
                thing = %invocation.thing,
                action = invocation.action,
                status = invocation.status().as_str(),
                "invocation stopped by shutdown"
            );
        }
        let pool = self.state.pool.clone();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let _ = tokio::task::spawn_blocking(move || pool.wait_idle(left)).await;
        self.lifecycle.stop().await;
        if let Some(settings) = self.settings {
            let _ = tokio::task::spawn_blocking(move || settings.stop()).await;
        }
    }

    /// Serve until SIGINT (Ctrl-C) or SIGTERM, then shut down gracefully.
    pub async fn wait(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ServerState>,
    mut stopped: watch::Receiver<bool>,
) {
    // Connections are tracked so that shutdown can let each finish its current request.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Typically out of file descriptors: back off instead of spinning.
                        tracing::warn!(%error, "could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(stream, state.clone(), stopped.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: TcpStream,
    state: Arc<ServerState>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(routes::handle(&state, request).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
}

async fn expire_loop(state: Arc<ServerState>, mut stopped: watch::Receiver<bool>) {
    let period =
        (state.store.retention() / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = ticks.tick() => { state.store.expire(Instant::now()); }
            _ = stopped.changed() => break,
        }
    }
}
