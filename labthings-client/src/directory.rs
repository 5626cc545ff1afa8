//! Listing the Things a server serves (`GET P/things/`: `{name: TD URL}`), on both our server
//! and the reference. Finding servers (mDNS) is not this crate's job; this is where a browser
//! of `_wot._tcp` would hand over, with the URL it found.

use std::collections::BTreeMap;

use crate::client::{ClientBuilder, ThingClient};
use crate::error::Result;
use crate::url::{parse_absolute, resolve, with_trailing_slash};

impl ClientBuilder {
    /// The Things served at `server_url` (the server's base URL, with its `api_prefix` if it
    /// has one): each name with its TD URL.
    pub async fn list_things(&self, server_url: &str) -> Result<BTreeMap<String, String>> {
        let base = with_trailing_slash(&parse_absolute(server_url)?)?;
        let url = resolve(&base, "things/")?;
        self.transport().get_json(&url, "the list of Things").await
    }

    /// A client for every Thing served at `server_url`, by name.
    pub async fn connect_all(&self, server_url: &str) -> Result<BTreeMap<String, ThingClient>> {
        let mut clients = BTreeMap::new();
        for (name, url) in self.list_things(server_url).await? {
            let client = self.clone().connect(&url).await?;
            clients.insert(name, client);
        }
        Ok(clients)
    }
}

impl ThingClient {
    /// The Things served at `server_url`, each name with its TD URL (see
    /// [`ClientBuilder::list_things`]).
    pub async fn list_things(server_url: &str) -> Result<BTreeMap<String, String>> {
        ClientBuilder::default().list_things(server_url).await
    }
}
