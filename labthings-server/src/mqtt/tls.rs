//! `mqtts://` (feature `tls`): the links' TLS client, verifying the broker's certificate
//! against the config's `ca_file` or, without one, the system's CA certificates. rustls with
//! the ring provider, as the server's own HTTPS (`net/tls.rs`) uses.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::mqtt::config::MqttConfigError;

/// The TLS client configuration of every link, trusting the certificates of `ca_file` (PEM),
/// or the system's when `None`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, MqttConfigError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let unusable =
                |why: String| MqttConfigError(format!("the CA file {}: {why}", path.display()));
            let certificates =
                CertificateDer::pem_file_iter(path).map_err(|e| unusable(e.to_string()))?;
            for certificate in certificates {
                let certificate = certificate.map_err(|e| unusable(e.to_string()))?;
                roots
                    .add(certificate)
                    .map_err(|e| unusable(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(unusable("no certificate in it".into()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(MqttConfigError(
                    "no CA certificates on this system to check the broker's: give `ca_file`"
                        .into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MqttConfigError(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
