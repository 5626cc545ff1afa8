//! Building and running a server: the Things to serve and how, then the accept loop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use labthings_core::{PropertyObserver, Thing};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::cors::Cors;
use crate::pool::ActionPool;
use crate::routes;
use crate::state::{ServedThing, ServerState};
use crate::store::InvocationStore;

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
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
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
        }
    }
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
    things: Vec<(String, Arc<dyn Thing>)>,
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
    pub fn thing(self, name: &str, thing: impl Thing) -> Self {
        self.shared_thing(name, Arc::new(thing))
    }

    /// Serve a Thing the caller keeps a handle to.
    pub fn shared_thing(mut self, name: &str, thing: Arc<dyn Thing>) -> Self {
        self.things.push((name.to_owned(), thing));
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
        for (i, (name, _)) in self.things.iter().enumerate() {
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
            if self.things[..i].iter().any(|(other, _)| other == name) {
                return Err(ServerError::DuplicateName(name.clone()));
            }
        }
        Ok(())
    }

    /// Bind and start serving in the background; the returned handle reports the address
    /// and stops the server.
    pub async fn start(self) -> Result<RunningServer, ServerError> {
        self.validate()?;
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
        let observer: Arc<dyn PropertyObserver> = Arc::new(Observers(self.observers));
        let things = self
            .things
            .into_iter()
            .map(|(name, thing)| {
                thing.attach(&name, observer.clone());
                ServedThing::new(&name, thing, &options.api_prefix)
            })
            .collect();
        let state = Arc::new(ServerState {
            things,
            prefix: options.api_prefix.clone(),
            store: InvocationStore::new(options.retention, options.max_invocations),
            pool: ActionPool::new(options.action_threads, options.action_queue),
            cors: options.cors.clone(),
            body_limit: options.body_limit,
            default_host: addr.to_string(),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state.clone(), stopped.clone()));
        tokio::spawn(expire_loop(state.clone(), stopped));
        Ok(RunningServer {
            addr,
            state,
            stop,
            task,
        })
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
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting connections, cancel running invocations, and wait up to `grace` for
    /// open requests and actions to finish.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        for invocation in self.state.store.list(|r| !r.status().is_finished()) {
            invocation.request_cancel();
        }
        let _ = tokio::time::timeout(grace, self.task).await;
        let pool = self.state.pool.clone();
        let _ = tokio::task::spawn_blocking(move || pool.wait_idle(grace)).await;
    }

    /// Serve until the task is stopped by a signal (Ctrl-C), then shut down gracefully.
    pub async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
        self.shutdown(Duration::from_secs(5)).await;
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
                let Ok((stream, _)) = accepted else { continue };
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
