//! The UI's files, embedded in the binary, each with its `ETag` and, made once on first use,
//! its gzipped bytes; and the response that serves one (304 on a matching `If-None-Match`,
//! gzip when the client accepts it, a strict `Content-Security-Policy`).

use std::io::Write as _;
use std::sync::OnceLock;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Response};
use sha2::{Digest as _, Sha256};

use crate::http::response::Body;
use crate::http::static_file::StaticFile;

/// One embedded file.
pub struct Asset {
    /// Its name under `P/ui/assets/` (pages are served at their own routes).
    pub name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Worked out on first use, then kept for the life of the process.
    prepared: OnceLock<Prepared>,
}

struct Prepared {
    etag: HeaderValue,
    /// `None` when gzip doesn't make it smaller.
    gzipped: Option<Bytes>,
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/ui/", $name)),
            prepared: OnceLock::new(),
        }
    };
}

/// `P/ui/`.
pub static INDEX_PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");
/// `P/ui/<thing>`.
pub static THING_PAGE: Asset = asset!("thing.html", "text/html; charset=utf-8");

/// What `P/ui/assets/<name>` serves.
static FILES: [Asset; 9] = [
    asset!("ui.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("forms.js", "text/javascript; charset=utf-8"),
    asset!("index.js", "text/javascript; charset=utf-8"),
    asset!("thing.js", "text/javascript; charset=utf-8"),
    asset!("units.js", "text/javascript; charset=utf-8"),
    asset!("plot.js", "text/javascript; charset=utf-8"),
    asset!("history.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The file served at `P/ui/assets/<name>`.
pub fn file(name: &str) -> Option<&'static Asset> {
    FILES.iter().find(|asset| asset.name == name)
}

impl Asset {
    fn prepared(&self) -> &Prepared {
        self.prepared.get_or_init(|| {
            let digest = Sha256::digest(self.bytes);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            let etag = HeaderValue::from_str(&format!("\"{hex}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
            Prepared {
                etag,
                gzipped: gzip(self.bytes).filter(|packed| packed.len() < self.bytes.len()),
            }
        })
    }

    /// The response to a `GET` of this file (see [`StaticFile`]). `csp` is the page's
    /// `Content-Security-Policy`.
    pub fn respond(&self, request: &HeaderMap, csp: &HeaderValue) -> Response<Body> {
        let prepared = self.prepared();
        StaticFile {
            etag: prepared.etag.to_str().unwrap_or("\"0\""),
            media_type: self.content_type,
            identity: Bytes::from_static(self.bytes),
            gzip: prepared.gzipped.clone(),
        }
        .respond(request, csp.clone())
    }
}

/// The total size of the embedded files, uncompressed.
#[cfg(test)]
fn total_size() -> usize {
    FILES
        .iter()
        .chain([&INDEX_PAGE, &THING_PAGE])
        .map(|asset| asset.bytes.len())
        .sum()
}

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_within_budget_and_compress() {
        // Issue #12: the UI's assets stay under 150 KB.
        assert!(total_size() <= 150 * 1024, "{} bytes", total_size());
        for asset in FILES.iter().filter(|a| a.content_type.starts_with("text/")) {
            let prepared = asset.prepared();
            assert!(
                prepared.gzipped.is_some(),
                "{} does not compress",
                asset.name
            );
        }
    }

    #[test]
    fn the_page_shows_the_symbol_of_every_unit_term_the_protocol_writes() {
        let units = file("units.js").expect("units.js");
        let text = std::str::from_utf8(units.bytes).expect("UTF-8");
        for (_, term) in labthings_protocol::units::UNITS {
            let symbol = labthings_protocol::units::symbol(term);
            let entry = format!("\"{term}\": \"{symbol}\"");
            assert!(text.contains(&entry), "units.js lacks {entry}");
        }
    }
}
