//! What `--mqtt URL` and the config's `"mqtt"` object say, and what they resolve to when the
//! server starts: the broker's address, the topic prefix, the credentials, the client id.

use std::path::PathBuf;

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
        }
    }
}

/// A config the server can't use, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mqtt: {0}")]
pub struct MqttConfigError(pub String);

/// The broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
}

impl Broker {
    /// `mqtt://host:port`, as TD forms give it (IPv6 hosts in brackets).
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("mqtt://[{}]:{}", self.host, self.port)
        } else {
            format!("mqtt://{}:{}", self.host, self.port)
        }
    }
}

/// The config resolved: what the links use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub broker: Broker,
    pub prefix: String,
    /// Username and password.
    pub credentials: Option<(String, String)>,
    pub client_id: String,
}

impl Resolved {
    /// Read the password file and fill the defaults from `server_name`.
    pub fn new(config: &MqttConfig, server_name: &str) -> Result<Self, MqttConfigError> {
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
        let password = match &config.password_file {
            Some(path) => Some(read_password(path)?),
            None => None,
        };
        let credentials = match (&config.username, password) {
            (Some(user), password) => Some((user.clone(), password.unwrap_or_default())),
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
        Ok(Self {
            broker,
            prefix,
            credentials,
            client_id,
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

/// `mqtt://host[:port][/]`; `mqtts://` needs TLS, which this build does not have.
pub fn parse_url(url: &str) -> Result<Broker, MqttConfigError> {
    let refuse = |why: &str| MqttConfigError(format!("`{url}` {why}"));
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(refuse("is not a URL such as mqtt://127.0.0.1:1883"));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "mqtt" => {}
        "mqtts" => return Err(refuse("needs TLS, which this build of the server lacks")),
        _ => return Err(refuse("is not an mqtt:// URL")),
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '@', '?', '#']) {
        return Err(refuse(
            "must be only mqtt://host[:port]: credentials go in `username`/`password_file`, \
             topics under `prefix`",
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| refuse("has an unclosed `[`"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(refuse("names no host"));
    }
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| refuse("has a port that is not 1-65535"))?,
        None => 1883,
    };
    Ok(Broker {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_read_with_their_defaults_and_bad_ones_say_why() {
        let broker = parse_url("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((broker.host.as_str(), broker.port), ("127.0.0.1", 1884));
        assert_eq!(parse_url("mqtt://broker/").unwrap().port, 1883);
        let v6 = parse_url("mqtt://[::1]:1885").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.url()),
            ("::1", "mqtt://[::1]:1885".into())
        );
        for (bad, why) in [
            ("127.0.0.1:1883", "not a URL"),
            ("http://x", "not an mqtt://"),
            ("mqtts://x", "needs TLS"),
            ("mqtt://u:p@x", "credentials"),
            ("mqtt://x/topic", "topics"),
            ("mqtt://x:0", "not 1-65535"),
            ("mqtt://x:99999", "not 1-65535"),
            ("mqtt://:1883", "no host"),
        ] {
            let message = parse_url(bad).unwrap_err().0;
            assert!(message.contains(why), "{bad}: {message}");
        }
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
