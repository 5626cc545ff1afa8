//! What `--mqtt URL` and the config's `"mqtt"` object say, and what they resolve to when the
//! server starts: the broker's address, the topic prefix, the credentials, the client id.

use std::path::PathBuf;

use labthings_protocol::mqtt::Broker;
use serde::Deserialize;

/// The config's `"mqtt"` object (`--mqtt URL` sets `url` alone):
/// `{"url": "mqtt://broker:1883", "prefix": "labthings/lab1", "username": "lab",
/// "password_file": "/etc/labthings/mqtt-password", "client_id": "lab1"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` (port 1883 by default).
    pub url: String,
    /// Topics go under `{prefix}/{thing}`; default `labthings/<server name>`, the server name
    /// being `<host name>-<port>` (Thing names are unique per server, not per broker).
    #[serde(default)]
    pub prefix: Option<String>,
    /// The broker account; its password is the first line of `password_file`.
    #[serde(default)]
    pub username: Option<String>,
    /// A file whose first line is the broker account's password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Each Thing connects as `{client_id}-{thing}`; default `labthings-<server name>`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `mqtts://` only: the CA certificate(s), PEM, that the broker's certificate must chain
    /// to; default: the system's CA certificates.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl MqttConfig {
    /// `--mqtt URL`: everything else by default.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: None,
            username: None,
            password_file: None,
            client_id: None,
            ca_file: None,
        }
    }
}

/// A config the server can't use, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mqtt: {0}")]
pub struct MqttConfigError(pub String);

/// The config resolved: what the links use.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub broker: Broker,
    pub prefix: String,
    /// Username and password.
    pub credentials: Option<(String, String)>,
    pub client_id: String,
    /// The TLS client of an `mqtts://` broker (read from `ca_file` when the server starts).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Resolved {
    /// Read the password file and fill the defaults from `server_name`.
    pub fn new(config: &MqttConfig, server_name: &str) -> Result<Self, MqttConfigError> {
        let mut resolved = Self::without_password(config, server_name)?;
        if let (Some((_, password)), Some(path)) =
            (&mut resolved.credentials, &config.password_file)
        {
            *password = read_password(path)?;
        }
        #[cfg(feature = "tls")]
        if resolved.broker.tls {
            resolved.tls = Some(crate::mqtt::tls::client_config(config.ca_file.as_deref())?);
        }
        Ok(resolved)
    }

    /// The options of a connection to the broker as `client_id`: address, keep-alive, clean
    /// session, credentials, TLS — the same for every connection this server makes.
    pub fn options(&self, client_id: String) -> rumqttc::MqttOptions {
        let mut options =
            rumqttc::MqttOptions::new(client_id, self.broker.host.clone(), self.broker.port);
        // A clean session: the broker keeps no subscriptions or queued messages between
        // connections (a link subscribes again at every `ConnAck`).
        options
            .set_keep_alive(std::time::Duration::from_secs(10))
            .set_clean_session(true);
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let tls = rumqttc::TlsConfiguration::Rustls(tls.clone());
            options.set_transport(rumqttc::Transport::tls_with_config(tls));
        }
        options
    }

    /// Everything but the password, left empty: enough for the TD's forms (which only say
    /// that the broker wants credentials), without reading a secret.
    pub fn without_password(
        config: &MqttConfig,
        server_name: &str,
    ) -> Result<Self, MqttConfigError> {
        let broker = parse_url(&config.url)?;
        let prefix = match &config.prefix {
            Some(prefix) => prefix.trim_end_matches('/').to_owned(),
            None => format!("labthings/{server_name}"),
        };
        if prefix.is_empty() || prefix.contains(['+', '#', '\0']) {
            return Err(MqttConfigError(format!(
                "the prefix `{prefix}` must be a topic: not empty, no `+`, `#` or NUL"
            )));
        }
        let credentials = match (&config.username, &config.password_file) {
            (Some(user), _) => Some((user.clone(), String::new())),
            (None, Some(_)) => {
                return Err(MqttConfigError("`password_file` needs a `username`".into()));
            }
            (None, None) => None,
        };
        let client_id = config
            .client_id
            .clone()
            .unwrap_or_else(|| format!("labthings-{server_name}"));
        // rumqttc refuses (panics on) an empty id or one starting with a space.
        if client_id.trim().is_empty() || client_id.starts_with(' ') {
            return Err(MqttConfigError(format!(
                "the client id `{client_id}` must not be empty or start with a space"
            )));
        }
        if config.ca_file.is_some() && !broker.tls {
            return Err(MqttConfigError(
                "`ca_file` is for an mqtts:// broker; this one is mqtt://".into(),
            ));
        }
        Ok(Self {
            broker,
            prefix,
            credentials,
            client_id,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }
}

/// A topic-safe server name: `<host name>-<port>`, anything but letters, digits, `_` and `-`
/// becoming `-`.
pub fn server_name(host: &str, port: u16) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{host}-{port}")
}

fn read_password(path: &std::path::Path) -> Result<String, MqttConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        MqttConfigError(format!(
            "could not read the password file {}: {e}",
            path.display()
        ))
    })?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// `mqtt://host[:port][/]`; `mqtts://` needs the `tls` feature.
pub fn parse_url(url: &str) -> Result<Broker, MqttConfigError> {
    let broker = Broker::parse(url).map_err(|e| MqttConfigError(e.0))?;
    if broker.tls && !cfg!(feature = "tls") {
        return Err(MqttConfigError(format!(
            "`{url}` needs TLS, which this build of the server lacks (the `tls` feature)"
        )));
    }
    Ok(broker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(feature = "tls"))]
    fn mqtts_needs_the_tls_feature() {
        let message = parse_url("mqtts://x").unwrap_err().0;
        assert!(message.contains("needs TLS"), "{message}");
        assert!(parse_url("mqtt://x").is_ok());
    }

    #[test]
    fn defaults_come_from_the_server_name_and_a_password_needs_a_user() {
        let name = server_name("lab.example", 5000);
        assert_eq!(name, "lab-example-5000");
        let resolved = Resolved::new(&MqttConfig::url("mqtt://b"), &name).unwrap();
        assert_eq!(resolved.prefix, "labthings/lab-example-5000");
        assert_eq!(resolved.client_id, "labthings-lab-example-5000");
        assert_eq!(resolved.credentials, None);

        let dir = std::env::temp_dir().join(format!("lt-mqtt-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "s3cret\n").unwrap();
        let mut config = MqttConfig::url("mqtt://b");
        config.password_file = Some(file.clone());
        assert!(
            Resolved::new(&config, &name)
                .unwrap_err()
                .0
                .contains("username")
        );
        config.username = Some("lab".into());
        config.prefix = Some("site/a/".into());
        let resolved = Resolved::new(&config, &name).unwrap();
        assert_eq!(resolved.credentials, Some(("lab".into(), "s3cret".into())));
        assert_eq!(resolved.prefix, "site/a");
        config.prefix = Some("site/#".into());
        assert!(Resolved::new(&config, &name).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
