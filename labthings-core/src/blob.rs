//! Binary action outputs: images, archives, anything that isn't JSON.
//!
//! An action returns a [`Blob`] (directly, in a `Result`, or inside its output value). The
//! invocation's `output` then holds a link, in the shape of `labthings-fastapi`:
//! `{"href": "…/blob/<id>", "media_type": "image/jpeg", "rel": "output", "description": …}`,
//! and the server serves the bytes at `href` for as long as it keeps the invocation.
//!
//! ```
//! use labthings_core::prelude::*;
//!
//! /// A camera.
//! #[thing]
//! pub struct Camera {}
//!
//! #[thing]
//! impl Camera {
//!     /// Capture a frame.
//!     #[action]
//!     fn capture(&self) -> Blob {
//!         Blob::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9])
//!     }
//! }
//! ```
//!
//! A blob is cheap to clone and never copies its data: bytes are a shared [`Bytes`], and a
//! file ([`Blob::from_file`]) is read from disk as it is sent. A file the blob owns
//! ([`Blob::temporary`]) is deleted when the last clone of the blob is dropped, which for an
//! action's output is when the server forgets the invocation.
//!
//! A link posted back as an action input (a parameter typed `Blob`) resolves to the blob it
//! names, as long as the server still keeps it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use bytes::Bytes;
use regex::Regex;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The `description` the reference puts in every blob link.
pub const LINK_DESCRIPTION: &str = "The output from this action is not serialised to JSON, so it \
must be retrieved as a file. This link will return the file.";

/// The description of the link's schema, as the reference's `BlobModel` has it.
const SCHEMA_DESCRIPTION: &str = "A model for JSON-serialised `.Blob` objects.\n\nThis model \
describes the JSON representation of a `.Blob`\nand is used to describe the `.Blob` object in \
JSON responses.\n\nThe binary data may be retrieved with a ``GET`` request to the URL\nspecified \
in ``href`` which should return it directly in the body of\nthe response.";

/// Binary data with a media type, sent to clients by link. See the [module docs](self).
#[derive(Clone)]
pub struct Blob(Arc<Inner>);

struct Inner {
    id: Uuid,
    media_type: String,
    data: Data,
    /// Whether the file is deleted when the blob dies.
    owns_file: bool,
    /// The name a browser saves it under (`Content-Disposition`); without one, the last
    /// segment of the URL, the blob's UUID, is all a browser has.
    filename: OnceLock<String>,
}

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum Data {
    /// In memory, shared by every client that downloads them.
    Bytes(Bytes),
    /// In a file, read as it is sent.
    File(PathBuf),
}

impl Blob {
    /// A blob of `bytes` (a `Vec<u8>`, `&'static [u8]`, `Bytes`…), e.g. `"image/png"`.
    pub fn new(media_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self::with_data(media_type.into(), Data::Bytes(bytes.into()), false)
    }

    /// An `image/jpeg` blob.
    pub fn jpeg(bytes: impl Into<Bytes>) -> Self {
        Self::new("image/jpeg", bytes)
    }

    /// An `image/png` blob.
    pub fn png(bytes: impl Into<Bytes>) -> Self {
        Self::new("image/png", bytes)
    }

    /// A blob of the file at `path`, read from disk whenever it is downloaded (the file is left
    /// in place). Fails if nothing is at `path` or it is not a file.
    pub fn from_file(media_type: impl Into<String>, path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        check_file(&path)?;
        Ok(Self::with_data(media_type.into(), Data::File(path), false))
    }

    /// Like [`Blob::from_file`], but the blob owns the file: it is deleted when the last clone
    /// of the blob is dropped (for an action's output, when its invocation expires or the
    /// server stops).
    pub fn temporary(media_type: impl Into<String>, path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        check_file(&path)?;
        Ok(Self::with_data(media_type.into(), Data::File(path), true))
    }

    fn with_data(media_type: String, data: Data, owns_file: bool) -> Self {
        Blob(Arc::new(Inner {
            id: Uuid::new_v4(),
            media_type,
            data,
            owns_file,
            filename: OnceLock::new(),
        }))
    }

    /// Name the blob for whoever saves it: its download then says
    /// `Content-Disposition: inline; filename="sweep.csv"`, so that a browser saves
    /// `sweep.csv`, not a file named after the blob's UUID. The name belongs to the blob and
    /// every clone of it, and is set once: a second call keeps the first name.
    ///
    /// ```
    /// # use labthings_core::Blob;
    /// let csv = Blob::new("text/csv", "V,A\n1.0,0.1\n").with_filename("sweep.csv");
    /// assert_eq!(csv.filename(), Some("sweep.csv"));
    /// ```
    pub fn with_filename(self, name: impl Into<String>) -> Self {
        let _ = self.0.filename.set(name.into());
        self
    }

    /// The name given by [`Blob::with_filename`], if any.
    pub fn filename(&self) -> Option<&str> {
        self.0.filename.get().map(String::as_str)
    }

    /// The id in the blob's download URL (`…/blob/<id>`).
    pub fn id(&self) -> Uuid {
        self.0.id
    }

    /// The media type it is served as (`Content-Type`).
    pub fn media_type(&self) -> &str {
        &self.0.media_type
    }

    /// Where its bytes are: in memory or in a file.
    pub fn data(&self) -> &Data {
        &self.0.data
    }

    /// The blob's bytes, read from disk for a file.
    pub fn content(&self) -> io::Result<Bytes> {
        match &self.0.data {
            Data::Bytes(bytes) => Ok(bytes.clone()),
            Data::File(path) => std::fs::read(path).map(Bytes::from),
        }
    }

    /// The link as an output holds it before a server makes `href` absolute.
    pub fn relative_href(&self) -> String {
        labthings_protocol::paths::relative_blob_href(self.0.id)
    }
}

fn check_file(path: &Path) -> io::Result<()> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file", path.display()),
        ))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Data::File(path) = &self.data
            && self.owns_file
            && let Err(error) = std::fs::remove_file(path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!("could not delete the blob file {}: {error}", path.display());
        }
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Blob");
        s.field("id", &self.0.id)
            .field("media_type", &self.0.media_type);
        match &self.0.data {
            Data::Bytes(bytes) => s.field("bytes", &bytes.len()),
            Data::File(path) => s.field("file", path),
        };
        s.finish()
    }
}

/// Two blobs are equal when they are clones of one blob.
impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Blob {}

thread_local! {
    /// Blobs serialised while [`collect`] runs on this thread.
    static COLLECTED: RefCell<Option<Vec<Blob>>> = const { RefCell::new(None) };
    /// How blob links in action inputs are resolved while [`resolving`] runs on this thread.
    static LOOKUP: RefCell<Option<Lookup>> = const { RefCell::new(None) };
}

type Lookup = Box<dyn Fn(&Uuid) -> Option<Blob>>;

/// Run `serialize` and return, beside its result, every blob it serialised (in order, each
/// once). This is how an action's output hands its blobs to the invocation that keeps them.
pub fn collect<R>(serialize: impl FnOnce() -> R) -> (R, Vec<Blob>) {
    let outer = COLLECTED.with(|c| c.replace(Some(Vec::new())));
    // Restored even if `serialize` panics, so a caught panic leaves no collector behind.
    struct Restore(Option<Option<Vec<Blob>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take().flatten();
            COLLECTED.with(|c| *c.borrow_mut() = outer);
        }
    }
    let mut restore = Restore(Some(outer));
    let result = serialize();
    let blobs = COLLECTED
        .with(|c| c.borrow_mut().take())
        .unwrap_or_default();
    if let Some(Some(outer)) = &mut restore.0 {
        outer.extend(blobs.iter().cloned());
    }
    drop(restore);
    (result, blobs)
}

/// Run `decode` with blob links resolved by `lookup` (the server's registry of the blobs its
/// invocations keep). Without it, every link is "not found".
pub fn resolving<R>(
    lookup: impl Fn(&Uuid) -> Option<Blob> + 'static,
    decode: impl FnOnce() -> R,
) -> R {
    let outer = LOOKUP.with(|l| l.replace(Some(Box::new(lookup))));
    struct Restore(Option<Lookup>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            LOOKUP.with(|l| *l.borrow_mut() = outer);
        }
    }
    let _restore = Restore(outer);
    decode()
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        COLLECTED.with(|c| {
            if let Some(blobs) = c.borrow_mut().as_mut()
                && !blobs.contains(self)
            {
                blobs.push(self.clone());
            }
        });
        let mut s = serializer.serialize_struct("Blob", 4)?;
        s.serialize_field("href", &self.relative_href())?;
        s.serialize_field("media_type", &self.0.media_type)?;
        s.serialize_field("rel", "output")?;
        s.serialize_field("description", LINK_DESCRIPTION)?;
        s.end()
    }
}

/// A blob link as a client sends it back.
#[derive(Deserialize)]
struct Link {
    href: String,
    #[allow(dead_code)]
    media_type: String,
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let link = Link::deserialize(deserializer)?;
        // The reference's `url_to_id`: the id after `blob/`, anywhere in the href.
        static ID: OnceLock<Regex> = OnceLock::new();
        let id = ID.get_or_init(|| Regex::new("blob/([0-9a-z\\-]+)").expect("valid pattern"));
        let Some(found) = id.captures(&link.href).and_then(|c| c.get(1)) else {
            return Err(D::Error::custom("Blob URLs must contain a Blob ID."));
        };
        let id = Uuid::parse_str(found.as_str())
            .map_err(|_| D::Error::custom("badly formed hexadecimal UUID string"))?;
        LOOKUP
            .with(|l| l.borrow().as_ref().and_then(|lookup| lookup(&id)))
            .ok_or_else(|| D::Error::custom(format!("Blob ID {id} wasn't found on this server.")))
    }
}

/// The reference's schema of a blob link (its `Blob` type's, media type `*/*`).
impl JsonSchema for Blob {
    fn schema_name() -> Cow<'static, str> {
        "Blob".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "labthings_core::Blob".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": SCHEMA_DESCRIPTION,
            "title": "Blob",
            "type": "object",
            "properties": {
                "href": {"title": "Href", "type": "string"},
                "media_type": {"title": "Media Type", "default": "*/*", "type": "string"},
                "rel": {"title": "Rel", "const": "output", "default": "output", "type": "string"},
                "description": {"title": "Description", "default": LINK_DESCRIPTION, "type": "string"}
            },
            "required": ["href", "media_type"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_to_the_reference_link_and_collects_itself() {
        let blob = Blob::jpeg(vec![1, 2, 3]);
        let ((value, again), blobs) = collect(|| {
            (
                serde_json::to_value((&blob, &blob)).unwrap(),
                serde_json::to_value(&blob).unwrap(),
            )
        });
        assert_eq!(blobs, vec![blob.clone()]);
        assert_eq!(
            again,
            json!({"href": format!("blob/{}", blob.id()), "media_type": "image/jpeg",
                   "rel": "output", "description": LINK_DESCRIPTION})
        );
        assert_eq!(value[0], again);
        // Outside `collect`, nothing is kept.
        serde_json::to_value(&blob).unwrap();
        assert!(COLLECTED.with(|c| c.borrow().is_none()));
    }

    #[test]
    fn links_resolve_only_through_the_lookup() {
        let blob = Blob::new("text/plain", &b"hi"[..]);
        let link =
            json!({"href": format!("http://h:1/blob/{}", blob.id()), "media_type": "text/plain"});
        let error = serde_json::from_value::<Blob>(link.clone()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("Blob ID {} wasn't found on this server.", blob.id())
        );
        let known = blob.clone();
        let found = resolving(
            move |id| (*id == known.id()).then(|| known.clone()),
            || serde_json::from_value::<Blob>(link),
        );
        assert_eq!(found.unwrap(), blob);
        let error = serde_json::from_value::<Blob>(json!({"href": "x", "media_type": "a/b"}));
        assert_eq!(
            error.unwrap_err().to_string(),
            "Blob URLs must contain a Blob ID."
        );
    }

    #[test]
    fn a_temporary_file_goes_with_its_last_clone() {
        let path = std::env::temp_dir().join(format!("lt-blob-{}", Uuid::new_v4()));
        std::fs::write(&path, b"data").unwrap();
        let blob = Blob::temporary("application/octet-stream", &path).unwrap();
        let clone = blob.clone();
        drop(blob);
        assert_eq!(&clone.content().unwrap()[..], b"data");
        drop(clone);
        assert!(!path.exists());
        let kept = std::env::temp_dir().join(format!("lt-blob-{}", Uuid::new_v4()));
        std::fs::write(&kept, b"data").unwrap();
        drop(Blob::from_file("application/octet-stream", &kept).unwrap());
        assert!(kept.exists());
        std::fs::remove_file(kept).unwrap();
        assert!(Blob::from_file("a/b", std::env::temp_dir()).is_err());
    }
}
