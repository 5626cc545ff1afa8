//! The token a long-lived stream was opened with. The token check runs once, when a request
//! arrives; a WebSocket, SSE or MJPEG stream can last for days, so each keeps the digest that
//! let it in and ends when a tokens-file reload (SIGHUP) drops that digest — woken by the
//! reload itself, not by polling.

use std::sync::Arc;

use tokio::sync::watch;

use super::auth::{Digest, Tokens};

/// A request's admission by token, kept in its extensions by the router.
#[derive(Clone)]
pub struct Grant {
    tokens: Arc<Tokens>,
    digest: Digest,
    reloads: watch::Receiver<u64>,
}

impl Grant {
    pub(crate) fn new(tokens: Arc<Tokens>, digest: Digest) -> Self {
        let reloads = tokens.reloads();
        Self {
            tokens,
            digest,
            reloads,
        }
    }

    /// The token's label in the tokens file, if it has one.
    pub fn label(&self) -> Option<Arc<str>> {
        self.tokens.label(&self.digest)
    }

    /// Resolve once a reload has dropped the token (never if it stays accepted).
    pub async fn revoked(&mut self) {
        loop {
            if self.reloads.changed().await.is_err() {
                // The tokens are gone with the server: nothing will revoke this any more.
                return std::future::pending().await;
            }
            if !self.tokens.accepts_digest(&self.digest) {
                return;
            }
        }
    }
}

/// Resolve once `grant` is revoked; never without one (a server without tokens).
pub async fn revoked(grant: &mut Option<Grant>) {
    match grant {
        Some(grant) => grant.revoked().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_reload_that_drops_the_token_revokes_its_grant_only() {
        let dir = std::env::temp_dir().join(format!("grant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tokens");
        std::fs::write(&file, "a\nb\n").unwrap();
        let tokens = Arc::new(Tokens::from_file(&file).unwrap());
        let digest = |t: &str| super::super::auth::digest(t.as_bytes());
        let mut a = Grant::new(tokens.clone(), digest("a"));
        let mut b = Grant::new(tokens.clone(), digest("b"));
        std::fs::write(&file, "b\n").unwrap();
        tokens.reload().unwrap();
        tokio::time::timeout(Duration::from_secs(1), a.revoked())
            .await
            .expect("a is revoked");
        let still = tokio::time::timeout(Duration::from_millis(50), b.revoked()).await;
        assert!(still.is_err(), "b stays");
    }
}
