//! Reading, writing and resetting properties, serde-typed.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::ThingClient;
use crate::error::{Error, Result};

impl ThingClient {
    /// Read the property `name` as a `T` (`serde_json::Value` for anything).
    ///
    /// A getter that fails comes back as [`Error::Problem`]; an unknown name as
    /// [`Error::Http`] with status 404.
    pub async fn read<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let url = self.affordance_url(name, self.property_forms(name), &["readproperty"], false)?;
        self.transport
            .get_json(&url, &format!("property '{name}'"))
            .await
    }

    /// Write `value` to the property `name`.
    ///
    /// A value the server refuses is an [`Error::Validation`] (as `Input should be a valid
    /// integer`); a read-only property answers [`Error::Http`] with status 405.
    pub async fn write<V: Serialize + ?Sized>(&self, name: &str, value: &V) -> Result<()> {
        let url = self.affordance_url(
            name,
            self.property_forms(name),
            &["writeproperty", "readproperty"],
            false,
        )?;
        let body = serde_json::to_vec(value).map_err(Error::Encode)?;
        self.transport
            .fetch(
                Method::PUT,
                &url,
                &[],
                Some(Bytes::from(body)),
                Duration::ZERO,
            )
            .await?
            .success()
            .map(drop)
    }

    /// Reset the property `name` to its default (`POST T<prop>/reset`, on servers that have
    /// the route: writable data properties with a default).
    pub async fn reset(&self, name: &str) -> Result<()> {
        let url = self.affordance_url(name, self.property_forms(name), &["readproperty"], false)?;
        let url = url.to_string();
        let slash = if url.ends_with('/') { "" } else { "/" };
        let url = self.resolve(&format!("{url}{slash}reset"))?;
        self.transport
            .fetch(Method::POST, &url, &[], None, Duration::ZERO)
            .await?
            .success()
            .map(drop)
    }
}
