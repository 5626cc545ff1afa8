//! Where a server binary's TLS certificate and key come from: `--tls-cert`/`--tls-key`, else
//! the config's `"tls": {"cert": …, "key": …}`. Neither: plain HTTP. TLS is a cargo feature
//! (`tls`) of `labthings-server`; a binary built without it refuses to start when asked for
//! TLS rather than serve plain HTTP to someone expecting HTTPS.

use std::path::{Path, PathBuf};

use crate::app::builder::ThingServer;
use crate::cli::config::ServerConfig;

/// The certificate and key files to serve HTTPS with, if any are configured.
pub fn files(
    cert: Option<&PathBuf>,
    key: Option<&PathBuf>,
    config: &ServerConfig,
) -> Result<Option<(PathBuf, PathBuf)>, String> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some((cert.clone(), key.clone()))),
        (Some(_), None) => Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => Err("--tls-key needs --tls-cert".into()),
        (None, None) => Ok(config
            .tls
            .as_ref()
            .map(|tls| (tls.cert.clone(), tls.key.clone()))),
    }
}

/// `server`, serving HTTPS with `cert` and `key`; an error naming the file that can't be used.
#[cfg(feature = "tls")]
pub fn apply(server: ThingServer, cert: &Path, key: &Path) -> Result<ThingServer, String> {
    crate::net::tls::Tls::from_pem_files(cert, key)
        .map(|tls| server.tls(tls))
        .map_err(|e| e.to_string())
}

/// Without the `tls` feature: a clear refusal.
#[cfg(not(feature = "tls"))]
pub fn apply(server: ThingServer, cert: &Path, key: &Path) -> Result<ThingServer, String> {
    let _ = (server, key);
    Err(format!(
        "TLS was asked for (certificate {}), but this binary was built without the `tls` \
         feature of labthings-server",
        cert.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ServerConfig {
        ServerConfig::from_json(json).unwrap()
    }

    #[test]
    fn the_flags_win_over_the_config_and_come_in_pairs() {
        let config = config(r#"{"things": {}, "tls": {"cert": "c.pem", "key": "k.pem"}}"#);
        let (cert, key) = (PathBuf::from("flag.pem"), PathBuf::from("flag.key"));
        assert_eq!(
            files(Some(&cert), Some(&key), &config),
            Ok(Some((cert.clone(), key.clone())))
        );
        assert_eq!(
            files(None, None, &config),
            Ok(Some(("c.pem".into(), "k.pem".into())))
        );
        assert!(
            files(Some(&cert), None, &config)
                .unwrap_err()
                .contains("--tls-key")
        );
        assert!(
            files(None, Some(&key), &config)
                .unwrap_err()
                .contains("--tls-cert")
        );
    }

    #[test]
    fn the_config_needs_both_files_and_nothing_else() {
        let none = config(r#"{"things": {}}"#);
        assert_eq!(files(None, None, &none), Ok(None));
        for bad in [
            r#"{"things": {}, "tls": {"cert": "c.pem"}}"#,
            r#"{"things": {}, "tls": {"cert": "c.pem", "key": "k.pem", "ca": "x"}}"#,
            r#"{"things": {}, "tls": "c.pem"}"#,
        ] {
            let error = ServerConfig::from_json(bad).unwrap_err().0;
            assert!(error.contains("tls"), "{bad}: {error}");
        }
    }
}
