//! Downloading blobs: any href, answered with bytes and a media type.
//!
//! An action whose output is a file completes with a [`BlobLink`] as its output (the
//! reference's shape: `{"href", "media_type", "rel", "description"}`); [`ThingClient::download`]
//! fetches the bytes it points at.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::client::ThingClient;
use crate::error::Result;

/// An action's output that is a file: where to download it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlobLink {
    /// Where the bytes are (absolute on both servers).
    pub href: String,
    /// Their media type, such as `image/jpeg`.
    pub media_type: String,
    /// `output` for an action's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// What the link is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Downloaded bytes and their media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The body.
    pub bytes: Bytes,
    /// The `Content-Type` the server sent, if any.
    pub media_type: Option<String>,
}

impl ThingClient {
    /// `GET` `href` (absolute, or relative to the TD's base) and return the body whole, with
    /// its media type. Errors as every other call: a missing blob is an [`crate::Error::Http`]
    /// with status 404.
    pub async fn download(&self, href: &str) -> Result<Blob> {
        let url = self.resolve(href)?;
        let reply = self
            .transport
            .fetch(
                Method::GET,
                &url,
                &[(ACCEPT, HeaderValue::from_static("*/*"))],
                None,
                Duration::ZERO,
            )
            .await?
            .success()?;
        Ok(Blob {
            media_type: reply.header(&CONTENT_TYPE).map(str::to_owned),
            bytes: reply.body,
        })
    }

    /// Download the file `link` points at.
    pub async fn download_link(&self, link: &BlobLink) -> Result<Blob> {
        self.download(&link.href).await
    }
}
