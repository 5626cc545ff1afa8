//! A server that is serving: its address, and the orderly shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use labthings_protocol::paths::Origin;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::lifecycle::Lifecycle;
use crate::discovery::mdns::Advertiser;
use crate::http::auth::TokenError;
use crate::mqtt::MqttLinks;
use crate::settings::store::SettingsStore;
use crate::state::ServerState;

/// A server that is running.
/// Dropping it stops serving at once, without the orderly shutdown: call
/// [`shutdown`](Self::shutdown) or [`wait`](Self::wait).
#[must_use = "the server stops when this is dropped: call `wait()` or `shutdown()`"]
pub struct RunningServer {
    pub(super) addr: SocketAddr,
    pub(super) state: Arc<ServerState>,
    pub(super) stop: watch::Sender<bool>,
    pub(super) task: JoinHandle<()>,
    pub(super) settings: Option<Arc<SettingsStore>>,
    pub(super) lifecycle: Lifecycle,
    pub(super) grace: Duration,
    pub(super) advertiser: Option<Advertiser>,
    pub(super) mqtt: Option<MqttLinks>,
    pub(super) settings_folder: Option<PathBuf>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's URL on the bound address: `http://127.0.0.1:5000`, or `https://…` when
    /// serving TLS.
    pub fn url(&self) -> String {
        Origin::new(self.state.scheme, self.addr.to_string()).to_string()
    }

    /// The URL of each Thing's description, as seen on the bound address.
    pub fn thing_urls(&self) -> Vec<String> {
        self.state
            .things
            .iter()
            .map(|t| format!("{}{}", self.url(), t.path))
            .collect()
    }

    /// Where settings are saved, as an absolute path (a relative `settings_folder` is taken
    /// from the working directory, which differs between a terminal, a service and an IDE).
    pub fn settings_folder(&self) -> Option<&Path> {
        self.settings_folder.as_deref()
    }

    /// Read the tokens file again (as SIGHUP does); the number of tokens it now holds. `Ok(0)`
    /// when the server has no tokens file.
    pub fn reload_tokens(&self) -> Result<usize, TokenError> {
        match &self.state.tokens {
            Some(tokens) => tokens.reload(),
            None => Ok(0),
        }
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

    /// Wait until everything recorded so far is committed to the history (at once without
    /// one): for tests and benchmarks that read the file.
    pub async fn flush_history(&self) {
        if let Some(history) = self.state.history.clone() {
            let _ = tokio::task::spawn_blocking(move || history.writer.flush()).await;
        }
    }

    /// Stop: refuse new invocations, stop accepting connections, cancel running and pending
    /// invocations, wait — all within one grace period — for them and for open requests, then
    /// run the on-stop hooks (in reverse order), forget the invocations (deleting temporary
    /// blob files) and make sure settings are on disk.
    pub async fn shutdown(self) {
        let deadline = tokio::time::Instant::now() + self.grace;
        // First, so clients stop finding a server that is going away.
        if let Some(advertiser) = self.advertiser {
            let _ = tokio::task::spawn_blocking(move || advertiser.withdraw()).await;
        }
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
        // After the invocations ended, so their last statuses reach the broker; `offline`
        // before the on-stop hooks run.
        if let Some(mqtt) = self.mqtt {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            mqtt.stop(left.max(Duration::from_secs(1))).await;
        }
        self.lifecycle.stop().await;
        // Invocation records and their blobs (temporary blob files are deleted) go now, not
        // whenever the last connection task lets go of the state.
        self.state.store.clear();
        if let Some(settings) = self.settings {
            let _ = tokio::task::spawn_blocking(move || settings.stop()).await;
        }
        // Last: the invocations' final states and the on-stop hooks' writes are in it.
        if let Some(history) = self.state.history.clone() {
            let _ = tokio::task::spawn_blocking(move || history.writer.stop()).await;
        }
    }

    /// Serve until SIGINT (Ctrl-C) or SIGTERM, then shut down gracefully.
    pub async fn wait(self) {
        self.wait_for(shutdown_signal()).await;
    }

    /// Serve until `signal` resolves, then shut down gracefully.
    pub(crate) async fn wait_for(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    listen_for_shutdown().await;
}

/// Start listening for SIGINT and SIGTERM at once — from here on they no longer kill the
/// process — and resolve when one arrives. Listening before announcing the address closes the
/// window in which a supervisor's SIGTERM would kill a server that is already serving.
pub(crate) fn listen_for_shutdown() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        async fn received(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        async move {
            tokio::select! {
                _ = received(&mut interrupt) => {}
                _ = received(&mut terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
