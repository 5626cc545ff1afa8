//! HTTPS (feature `tls`): a certificate chain and its private key from PEM files, and the TLS
//! handshake in front of each connection. rustls with the `ring` provider, TLS 1.2 and 1.3,
//! ALPN `http/1.1` (the server speaks HTTP/1.1 only). The WebSocket upgrade runs inside the TLS
//! stream, so `wss://` needs nothing more.
//!
//! A client that speaks plain HTTP to the TLS port fails the handshake: the connection is
//! closed (logged at DEBUG), and nothing else is affected.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete the TLS handshake (as for sending a request's
/// headers, a silent client must not hold a connection forever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the certificate or key can't be used: the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate chain can't be read or parsed.
    #[error("the TLS certificate file {path}: {problem}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The private key can't be read or parsed.
    #[error("the TLS key file {path}: {problem}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The key is not the certificate's.
    #[error("the TLS key file {key} does not fit the certificate {cert}: {problem}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        problem: String,
    },
}

/// A server's TLS set-up: cheap to clone.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// Load a certificate chain (`cert`: PEM, the server's certificate first, then any
    /// intermediates) and its private key (`key`: PEM, PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let certificate_error = |problem: String| TlsError::Certificate {
            path: cert.to_owned(),
            problem,
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| certificate_error(pem_problem(&e)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| certificate_error(pem_problem(&e)))?;
        if chain.is_empty() {
            return Err(certificate_error(
                "no PEM `CERTIFICATE` block in it".to_owned(),
            ));
        }
        let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
            path: key.to_owned(),
            problem: pem_problem(&e),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| certificate_error(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
                problem: e.to_string(),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The TLS handshake on a newly accepted connection; `None` (logged at DEBUG) if it fails,
    /// takes too long, or the server stops meanwhile.
    pub async fn accept(
        &self,
        stream: TcpStream,
        mut stopped: watch::Receiver<bool>,
    ) -> Option<TlsStream<TcpStream>> {
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream));
        tokio::select! {
            result = handshake => match result {
                Ok(Ok(stream)) => Some(stream),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!("TLS handshake timed out");
                    None
                }
            },
            _ = stopped.changed() => None,
        }
    }
}

/// A PEM error in words: the I/O error as the OS gives it, or what was wrong with the file.
fn pem_problem(error: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    match error {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM block of the expected kind in it".to_owned(),
        other => format!("not valid PEM ({other:?})"),
    }
}
