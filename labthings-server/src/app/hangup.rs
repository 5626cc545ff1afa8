//! SIGHUP reloads the tokens file, without a restart. A file that can't be loaded keeps the
//! tokens in force, and says why in the log.

use std::sync::Arc;

use tokio::sync::watch;

use crate::http::auth::Tokens;

/// Reload `tokens` on every SIGHUP until `stopped` changes.
pub async fn reload_on_hangup(tokens: Arc<Tokens>, mut stopped: watch::Receiver<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = match signal(SignalKind::hangup()) {
            Ok(hangup) => hangup,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGHUP: tokens won't be reloaded");
                return;
            }
        };
        loop {
            tokio::select! {
                received = hangup.recv() => {
                    if received.is_none() {
                        return;
                    }
                    reload(&tokens).await;
                }
                _ = stopped.changed() => return,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (tokens, stopped.changed().await);
    }
}

async fn reload(tokens: &Arc<Tokens>) {
    let tokens = tokens.clone();
    match tokio::task::spawn_blocking(move || tokens.reload()).await {
        Ok(Ok(count)) => tracing::info!(tokens = count, "tokens file reloaded"),
        Ok(Err(error)) => {
            tracing::error!(%error, "tokens file not reloaded: the previous tokens stay in force")
        }
        Err(_) => {}
    }
}
