//! Swagger UI at `P/docs`, served from inside the binary so it works on a lab network with no
//! internet access (FastAPI's `/docs`, which the Python reference serves, loads it from a CDN
//! and stays blank offline).
//!
//! The files come from the Swagger UI release zip that the crates.io crate
//! `utoipa-swagger-ui-vendored` carries as a byte constant (`dist/` of swagger-ui 5.32.6);
//! `rawzip` finds them in it, with no copy of Swagger UI in this repository and no build
//! script. The zip holds them deflated, which is what a browser wants anyway: a client that
//! accepts `gzip` gets the deflate stream as it is, wrapped in a 10-byte gzip header and the
//! zip's own CRC and size (the bundle is 410 KB instead of 1.5 MB); others get it inflated once
//! by `miniz_oxide`, checked against the zip's CRC. Only `index.html` and
//! `swagger-initializer.js` are ours: the page must point at this server's `openapi.json`,
//! turn off Swagger UI's online validator badge (a request to validator.swagger.io), and run
//! under a CSP without inline scripts.

use std::sync::{LazyLock, OnceLock};

use bytes::{Bytes, BytesMut};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use crate::http::conditional::accepts_gzip;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::http::static_file::StaticFile;

/// What Swagger UI needs and no more: scripts and styles from here, its inline styles and
/// `data:` SVG icons, and `fetch` of the document (and "Try it out") to this server.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The Swagger UI version inside `utoipa-swagger-ui-vendored` (its zip's top folder).
const SWAGGER_UI_DIR: &str = "swagger-ui-5.32.6/dist/";

/// The `dist/` files served, with their media types. The standalone preset (its top bar
/// loads other documents by URL) and the source maps are left out.
const VENDORED_FILES: [(&str, &str); 5] = [
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("index.css", "text/css; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
    ("favicon-16x16.png", "image/png"),
];

/// The largest file we expect inflated (the bundle is 1.5 MB): a bound on what inflating a
/// corrupt entry may allocate.
const MAX_INFLATED: usize = 8 * 1024 * 1024;

/// One file of the zip: where its bytes lie and how to check them.
struct VendoredFile {
    name: &'static str,
    media_type: &'static str,
    /// The raw deflate stream (or the stored bytes), borrowed from the zip constant.
    data: &'static [u8],
    deflated: bool,
    crc32: u32,
    size: u32,
    /// Inflated, for clients that don't accept gzip: made on first need.
    identity: OnceLock<Result<Bytes, String>>,
    /// The deflate stream as a gzip member: made on first need.
    gzip: OnceLock<Bytes>,
}

impl VendoredFile {
    fn etag(&self) -> String {
        format!("\"{:08x}-{}\"", self.crc32, self.size)
    }

    fn identity(&self) -> Result<Bytes, ApiError> {
        self.identity
            .get_or_init(|| {
                let bytes = if self.deflated {
                    miniz_oxide::inflate::decompress_to_vec_with_limit(self.data, MAX_INFLATED)
                        .map_err(|e| format!("{}: could not inflate: {e}", self.name))?
                } else {
                    self.data.to_vec()
                };
                if bytes.len() != self.size as usize || rawzip::crc32(&bytes) != self.crc32 {
                    return Err(format!("{}: size or CRC differs from the zip's", self.name));
                }
                Ok(Bytes::from(bytes))
            })
            .clone()
            .map_err(broken)
    }

    /// The file as a gzip member (RFC 1952): header, the same deflate stream, CRC-32 and size.
    fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut member = BytesMut::with_capacity(self.data.len() + 18);
                // ID1 ID2, CM = deflate, no flags, no mtime, no extra flags, OS unknown.
                member.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
                member.extend_from_slice(self.data);
                member.extend_from_slice(&self.crc32.to_le_bytes());
                member.extend_from_slice(&self.size.to_le_bytes());
                member.freeze()
            })
            .clone()
    }
}

fn broken(message: String) -> ApiError {
    tracing::error!("the vendored Swagger UI is unusable: {message}");
    ApiError::detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The Swagger UI files built into this server are unreadable",
    )
}

/// The files of [`VENDORED_FILES`], found in the zip on first use.
static VENDORED: LazyLock<Result<Vec<VendoredFile>, String>> =
    LazyLock::new(|| read_vendored(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED));

fn read_vendored(zip: &'static [u8]) -> Result<Vec<VendoredFile>, String> {
    let archive = rawzip::ZipArchive::from_slice(zip).map_err(|e| e.to_string())?;
    let mut entries = archive.entries();
    let mut found = Vec::with_capacity(VENDORED_FILES.len());
    while let Some(entry) = entries.next_entry().map_err(|e| e.to_string())? {
        let path = entry.file_path();
        let Some(name) = path.as_bytes().strip_prefix(SWAGGER_UI_DIR.as_bytes()) else {
            continue;
        };
        let Some(&(name, media_type)) = VENDORED_FILES
            .iter()
            .find(|(wanted, _)| wanted.as_bytes() == name)
        else {
            continue;
        };
        let method = entry.compression_method();
        if method != rawzip::CompressionMethod::DEFLATE
            && method != rawzip::CompressionMethod::STORE
        {
            return Err(format!("{name}: unexpected compression {method:?}"));
        }
        let local = archive
            .get_entry(entry.wayfinder())
            .map_err(|e| e.to_string())?;
        let (start, end) = local.compressed_data_range();
        let data = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(start, end)| zip.get(start..end))
            .ok_or_else(|| format!("{name}: data outside the archive"))?;
        let verifier = local.claim_verifier();
        found.push(VendoredFile {
            name,
            media_type,
            data,
            deflated: method == rawzip::CompressionMethod::DEFLATE,
            crc32: verifier.crc,
            size: u32::try_from(verifier.uncompressed_size)
                .map_err(|_| format!("{name}: too large"))?,
            identity: OnceLock::new(),
            gzip: OnceLock::new(),
        });
    }
    if found.len() != VENDORED_FILES.len() {
        return Err(format!(
            "found {} of the {} files under {SWAGGER_UI_DIR}",
            found.len(),
            VENDORED_FILES.len()
        ));
    }
    Ok(found)
}

/// `GET P/docs` (`file` empty or `index.html`) and `GET P/docs/<file>`.
pub fn response(prefix: &str, file: &str, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    match file {
        "" | "index.html" => Ok(generated(
            index_html(prefix),
            "text/html; charset=utf-8",
            headers,
        )),
        "swagger-initializer.js" => Ok(generated(
            initializer_js(prefix),
            "text/javascript; charset=utf-8",
            headers,
        )),
        _ => {
            let files = VENDORED.as_ref().map_err(|e| broken(e.clone()))?;
            let vendored = files
                .iter()
                .find(|f| f.name == file)
                .ok_or(ApiError::NotFound)?;
            let gzip = vendored.deflated.then(|| vendored.gzip());
            let file = StaticFile {
                etag: &vendored.etag(),
                media_type: vendored.media_type,
                // Inflated only for a client that needs it (or to check it once).
                identity: match gzip {
                    Some(_) if accepts_gzip(headers) => Bytes::new(),
                    _ => vendored.identity()?,
                },
                gzip,
            };
            Ok(file.respond(headers, csp()))
        }
    }
}

/// A file we make (small, not compressed), with an ETag of its content.
fn generated(body: String, media_type: &'static str, headers: &HeaderMap) -> Response<Body> {
    let etag = format!("\"{:08x}-{}\"", rawzip::crc32(body.as_bytes()), body.len());
    StaticFile {
        etag: &etag,
        media_type,
        identity: Bytes::from(body),
        gzip: None,
    }
    .respond(headers, csp())
}

fn csp() -> HeaderValue {
    HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE)
}

/// The page: Swagger UI's own `index.html` with absolute URLs (so `P/docs` works without a
/// trailing slash) and no standalone preset.
fn index_html(prefix: &str) -> String {
    let base = format!("{prefix}/docs");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>LabThings API docs</title>\n\
         <link rel=\"stylesheet\" href=\"{base}/swagger-ui.css\">\n\
         <link rel=\"stylesheet\" href=\"{base}/index.css\">\n\
         <link rel=\"icon\" type=\"image/png\" href=\"{base}/favicon-32x32.png\" sizes=\"32x32\">\n\
         <link rel=\"icon\" type=\"image/png\" href=\"{base}/favicon-16x16.png\" sizes=\"16x16\">\n\
         </head>\n<body>\n<div id=\"swagger-ui\"></div>\n\
         <script src=\"{base}/swagger-ui-bundle.js\" charset=\"utf-8\"></script>\n\
         <script src=\"{base}/swagger-initializer.js\" charset=\"utf-8\"></script>\n\
         </body>\n</html>\n"
    )
}

/// Swagger UI's start-up script, pointed at this server's document.
fn initializer_js(prefix: &str) -> String {
    // The prefix is checked at start-up (`/` + URL-safe segments); JSON-quoting keeps it a
    // string literal whatever it holds.
    let url = serde_json::to_string(&format!("{prefix}/openapi.json")).unwrap_or_default();
    format!(
        "window.onload = function () {{\n\
         \x20 window.ui = SwaggerUIBundle({{\n\
         \x20   url: {url},\n\
         \x20   dom_id: \"#swagger-ui\",\n\
         \x20   deepLinking: true,\n\
         \x20   // The default sends the document to validator.swagger.io for a badge.\n\
         \x20   validatorUrl: null,\n\
         \x20   presets: [SwaggerUIBundle.presets.apis],\n\
         \x20   layout: \"BaseLayout\",\n\
         \x20 }});\n\
         }};\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_found_and_inflates_to_its_crc() {
        let files = VENDORED.as_ref().expect("the vendored zip reads");
        for file in files {
            let bytes = file.identity().unwrap_or_else(|_| panic!("{}", file.name));
            assert_eq!(bytes.len(), file.size as usize, "{}", file.name);
        }
        let bundle = files
            .iter()
            .find(|f| f.name == "swagger-ui-bundle.js")
            .expect("the bundle");
        assert!(bundle.identity().is_ok_and(|b| b.starts_with(b"/*!")));
    }

    #[test]
    fn the_gzip_member_inflates_to_the_file() {
        let files = VENDORED.as_ref().expect("the vendored zip reads");
        let css = files
            .iter()
            .find(|f| f.name == "swagger-ui.css")
            .expect("css");
        let gzip = css.gzip();
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8]);
        // The member's body is the raw deflate stream between the 10-byte header and the
        // 8-byte trailer.
        let inflated =
            miniz_oxide::inflate::decompress_to_vec(&gzip[10..gzip.len() - 8]).expect("inflates");
        assert_eq!(
            rawzip::crc32(&inflated).to_le_bytes(),
            gzip[gzip.len() - 8..gzip.len() - 4]
        );
        assert_eq!(inflated, css.identity().expect("identity"));
    }

    #[test]
    fn the_initializer_points_at_the_prefixed_document() {
        let js = initializer_js("/api/v1");
        assert!(js.contains("url: \"/api/v1/openapi.json\""), "{js}");
        assert!(js.contains("validatorUrl: null"));
        assert!(index_html("/api/v1").contains("src=\"/api/v1/docs/swagger-ui-bundle.js\""));
    }
}
