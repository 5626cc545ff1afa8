//! Downloading blobs: any href, answered with bytes and a media type.
//!
//! An action whose output is a file completes with a [`BlobLink`] as its output (the
//! reference's shape: `{"href", "media_type", "rel", "description"}`); [`ThingClient::download`]
//! fetches the bytes it points at. Decoded as a [`RemoteBlob`] instead, the link downloads
//! itself, with the client that read it: that is what typed clients return for a `Blob`.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Uri};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::ThingClient;
use crate::error::{Error, Result};
use crate::transport::Transport;
use crate::url::resolve;

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
        fetch_blob(&self.transport, &url).await
    }

    /// Download the file `link` points at.
    pub async fn download_link(&self, link: &BlobLink) -> Result<Blob> {
        self.download(&link.href).await
    }
}

async fn fetch_blob(transport: &Transport, url: &Uri) -> Result<Blob> {
    let reply = transport
        .fetch(
            Method::GET,
            url,
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

/// A file on the server, as an action's output (or part of one) decoded by this client: its
/// link, and the client's connection (token included) to download it with.
///
/// It is what a typed client (`<Thing>Client`) returns where the Thing's action returns a
/// `labthings_core::Blob`. Sent back as an action input, it is the link again, which the
/// server resolves to the blob while it keeps the invocation.
///
/// ```no_run
/// # async fn demo(camera: labthings_client::ThingClient) -> labthings_client::Result<()> {
/// use labthings_client::RemoteBlob;
/// let image: RemoteBlob = camera.invoke("capture", &()).await?;
/// assert_eq!(image.media_type(), "image/jpeg");
/// let jpeg = image.bytes().await?;
/// # let _ = jpeg;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RemoteBlob {
    link: BlobLink,
    /// `None` when decoded outside the client (by `serde_json` directly, say).
    source: Option<Source>,
}

/// Where a [`RemoteBlob`] downloads from: the connection that read it, and the URL its link
/// is relative to.
#[derive(Clone)]
struct Source {
    transport: Transport,
    base: Uri,
}

thread_local! {
    /// The client decoding a value on this thread right now, if any: set by
    /// [`decoding_blobs_from`] around the (synchronous) decoding, so a [`RemoteBlob`] anywhere
    /// in the value (`Option<RemoteBlob>`, `Vec<RemoteBlob>`, a field) learns where to
    /// download from.
    static SOURCE: RefCell<Option<Source>> = const { RefCell::new(None) };
}

/// Run `decode` with `transport` (and `base`, for relative links) as where any [`RemoteBlob`]
/// it decodes downloads from.
pub(crate) fn decoding_blobs_from<T>(
    transport: &Transport,
    base: &Uri,
    decode: impl FnOnce() -> T,
) -> T {
    /// Puts back what was there, even if `decode` panics.
    struct Restore(Option<Source>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SOURCE.with(|source| *source.borrow_mut() = previous);
        }
    }
    let source = Source {
        transport: transport.clone(),
        base: base.clone(),
    };
    let _restore = Restore(SOURCE.with(|current| current.replace(Some(source))));
    decode()
}

impl RemoteBlob {
    /// Where the bytes are.
    pub fn href(&self) -> &str {
        &self.link.href
    }

    /// Their media type, as the link gives it (`image/jpeg`, say).
    pub fn media_type(&self) -> &str {
        &self.link.media_type
    }

    /// The link, as the server sent it.
    pub fn link(&self) -> &BlobLink {
        &self.link
    }

    /// Download the bytes and the media type the server sends with them.
    pub async fn download(&self) -> Result<Blob> {
        let Some(source) = &self.source else {
            return Err(Error::InvalidRequest(format!(
                "the blob at {} was not decoded by a labthings-client call, so it has no \
                 connection to download with: use ThingClient::download",
                self.link.href
            )));
        };
        let url = resolve(&source.base, &self.link.href)?;
        fetch_blob(&source.transport, &url).await
    }

    /// Download the bytes.
    pub async fn bytes(&self) -> Result<Bytes> {
        Ok(self.download().await?.bytes)
    }
}

impl fmt::Debug for RemoteBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteBlob")
            .field("href", &self.link.href)
            .field("media_type", &self.link.media_type)
            .finish()
    }
}

impl PartialEq for RemoteBlob {
    fn eq(&self, other: &Self) -> bool {
        self.link == other.link
    }
}

impl Serialize for RemoteBlob {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.link.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RemoteBlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let link = BlobLink::deserialize(deserializer)?;
        let source = SOURCE.with(|source| source.borrow().clone());
        Ok(Self { link, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = r#"{"href": "http://127.0.0.1:5000/camera/blob/1", "media_type": "image/jpeg", "rel": "output"}"#;

    #[test]
    fn a_remote_blob_knows_its_source_only_when_the_client_decoded_it() {
        let alone: RemoteBlob = serde_json::from_str(LINK).expect("a link");
        assert!(alone.source.is_none());
        assert_eq!(alone.media_type(), "image/jpeg");
        let base: Uri = "http://127.0.0.1:5000/action_invocations/x"
            .parse()
            .expect("uri");
        let inside: Vec<Option<RemoteBlob>> = decoding_blobs_from(&Transport::new(), &base, || {
            serde_json::from_str(&format!("[{LINK}, null]")).expect("links")
        });
        let blob = inside[0].as_ref().expect("a blob");
        assert_eq!(blob.source.as_ref().map(|s| s.base.clone()), Some(base));
        // The scope ends with the call.
        let after: RemoteBlob = serde_json::from_str(LINK).expect("a link");
        assert!(after.source.is_none());
        // Sent back, it is the link again.
        assert_eq!(
            serde_json::to_value(blob).expect("json"),
            serde_json::to_value(blob.link()).expect("json")
        );
    }
}
