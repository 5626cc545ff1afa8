//! `P/blob/{id}`: the bytes of a blob an action returned, for as long as its invocation is
//! kept. Also how `P/action_invocations/{id}/output` answers for a blob output.
//!
//! The blob is taken out of the store (a clone of an `Arc`) and every lock released before a
//! byte is sent. Bytes in memory are sent as they are (a slice for a range, never a copy);
//! a file is read in chunks as the client takes them. Answers carry the media type,
//! `Content-Length`, a strong `ETag` (`If-None-Match` → 304) and `Accept-Ranges: bytes`; a
//! single `Range` gets 206 with `Content-Range`, an unsatisfiable one 416, several ranges the
//! whole blob (200). A blob given a name (`Blob::with_filename`) says it in
//! `Content-Disposition`, so that a browser saves it under that name.

use std::io::SeekFrom;

use bytes::Bytes;
use hyper::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    HeaderMap, HeaderValue, IF_RANGE, RANGE,
};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use labthings_core::Blob;
use labthings_core::blob::Data;
use labthings_protocol::problem::Problem;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use crate::http::conditional::none_match;
use crate::http::error::ApiError;
use crate::http::path_param::parse_uuid;
use crate::http::response::Body;
use crate::state::ServerState;

/// `inline; filename="…"` (RFC 6266): `inline`, so that a browser still shows an image or a
/// text in place, and the name for when it is saved. A name that isn't plain printable ASCII
/// also goes as `filename*=UTF-8''…` (RFC 8187), after an ASCII stand-in for old clients;
/// quotes, backslashes, slashes and control characters never reach the header.
fn content_disposition(name: &str) -> HeaderValue {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 8187's attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
    // "_" / "`" / "|" / "~" stay as they are.
    const ATTR: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let plain = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/') || c == ' ';
    let ascii: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let value = if ascii == name {
        format!("inline; filename=\"{ascii}\"")
    } else {
        let cleaned: String = name
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        format!(
            "inline; filename=\"{ascii}\"; filename*=UTF-8''{}",
            utf8_percent_encode(&cleaned, ATTR)
        )
    };
    // Every character above is printable ASCII, so this can't fail; `inline` if it somehow did.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("inline"))
}

/// How much of a file is read at a time.
const CHUNK: usize = 64 * 1024;

/// `GET P/blob/{id}`: 422 for a malformed id, 404 `{"detail":"Blob not found"}` for one no
/// kept invocation holds.
pub async fn download(
    state: &ServerState,
    id: &str,
    request: &Parts,
) -> Result<Response<Body>, ApiError> {
    let id = parse_uuid(id, "blob_id")?;
    let kept = state.store.find_blob(&id);
    // One no kept invocation holds may be in the history.
    let blob = match kept {
        Some(blob) => Some(blob),
        None => crate::api::history::expired_blob(state, &id).await,
    };
    let blob = blob.ok_or_else(|| ApiError::detail(StatusCode::NOT_FOUND, "Blob not found"))?;
    serve(blob, request).await
}

/// Answer `request` with `blob`'s bytes.
pub async fn serve(blob: Blob, request: &Parts) -> Result<Response<Body>, ApiError> {
    let source = Source::open(&blob).await?;
    let (length, etag) = (source.length(), source.etag(&blob));
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    let media_type = HeaderValue::from_str(blob.media_type())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(CONTENT_TYPE, media_type);
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(name) = blob.filename() {
        headers.insert(CONTENT_DISPOSITION, content_disposition(name));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    if none_match(&request.headers, &etag) {
        headers.remove(CONTENT_TYPE);
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(response);
    }
    let range = if if_range_holds(&request.headers, &etag) {
        requested_range(&request.headers, length)
    } else {
        None
    };
    let (start, end) = match range {
        None => (0, length),
        Some(Ok((start, end))) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let range = format!("bytes {start}-{}/{length}", end - 1);
            response
                .headers_mut()
                .insert(CONTENT_RANGE, header_value(&range));
            (start, end)
        }
        Some(Err(Unsatisfiable)) => {
            let mut refusal = ApiError::detail(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "Requested Range Not Satisfiable",
            )
            .into_response();
            refusal
                .headers_mut()
                .insert(CONTENT_RANGE, header_value(&format!("bytes */{length}")));
            return Ok(refusal);
        }
    };
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, header_value(&(end - start).to_string()));
    if request.method != Method::HEAD {
        *response.body_mut() = source.body(blob, start, end);
    }
    Ok(response)
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("digits, spaces, `-`, `/` and `*` make a header value")
}

/// A blob's bytes, ready to send.
enum Source {
    Bytes(Bytes),
    File {
        file: tokio::fs::File,
        length: u64,
        /// Nanoseconds since the epoch of the last change, for the ETag.
        modified: u128,
    },
}

impl Source {
    async fn open(blob: &Blob) -> Result<Self, ApiError> {
        match blob.data() {
            Data::Bytes(bytes) => Ok(Source::Bytes(bytes.clone())),
            Data::File(path) => {
                let unreadable = |error: std::io::Error| {
                    ApiError::from(Problem::internal(
                        "BlobFileError",
                        format!("The blob's file could not be read: {error}"),
                    ))
                };
                let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
                let metadata = file.metadata().await.map_err(unreadable)?;
                let modified = metadata
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                Ok(Source::File {
                    file,
                    length: metadata.len(),
                    modified,
                })
            }
        }
    }

    fn length(&self) -> u64 {
        match self {
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::File { length, .. } => *length,
        }
    }

    /// Bytes never change under an id; a file may, so its size and time are in the tag.
    fn etag(&self, blob: &Blob) -> String {
        match self {
            Source::Bytes(_) => format!("\"{}\"", blob.id().simple()),
            Source::File {
                length, modified, ..
            } => format!("\"{}-{length:x}-{modified:x}\"", blob.id().simple()),
        }
    }

    /// The bytes `start..end`. A file is streamed by a task that holds `blob` (so a temporary
    /// file outlives the download) and stops when the client goes.
    fn body(self, blob: Blob, start: u64, end: u64) -> Body {
        match self {
            // Lengths came from `bytes.len()`, so they fit `usize`.
            Source::Bytes(bytes) => Body::full(bytes.slice(start as usize..end as usize)),
            Source::File { mut file, .. } => {
                let (frames, body) = mpsc::channel(2);
                tokio::spawn(async move {
                    let _keep = blob;
                    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
                        return;
                    }
                    let mut left = end - start;
                    while left > 0 {
                        let mut chunk = vec![0; CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))];
                        let read = match file.read(&mut chunk).await {
                            Ok(0) | Err(_) => return, // shorter than announced: hyper fails it
                            Ok(read) => read,
                        };
                        chunk.truncate(read);
                        left -= read as u64;
                        if frames.send(Bytes::from(chunk)).await.is_err() {
                            return; // the client went
                        }
                    }
                });
                Body::channel(body)
            }
        }
    }
}

/// Whether a `Range` is to be honoured: no `If-Range`, or one naming the current ETag.
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag))
}

#[derive(Debug, PartialEq)]
struct Unsatisfiable;

/// The single byte range asked for, as `start..end`: `None` without a usable `Range` (absent,
/// malformed, another unit, or several ranges: the whole blob is sent).
fn requested_range(headers: &HeaderMap, length: u64) -> Option<Result<(u64, u64), Unsatisfiable>> {
    let value = headers.get(RANGE)?.to_str().ok()?.trim();
    let (unit, spec) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    // Saturating: a number above 2^64 is still a number (RFC 9110 §14.1.1 sets no limit), so a
    // huge first-pos is unsatisfiable and a huge last-pos or suffix means "to the end".
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| {
            text.bytes().fold(0u64, |n, digit| {
                n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
            })
        })
    };
    let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
        // `-N`: the last N bytes.
        (true, false) => {
            let suffix = number(last)?;
            if suffix == 0 || length == 0 {
                return Some(Err(Unsatisfiable));
            }
            (length.saturating_sub(suffix), length)
        }
        // `A-`: from A to the end.
        (false, true) => (number(first)?, length),
        // `A-B`, both inclusive.
        (false, false) => {
            let (start, last) = (number(first)?, number(last)?);
            if last < start {
                return None;
            }
            (start, last.saturating_add(1).min(length))
        }
        (true, true) => return None,
    };
    if start >= length {
        return Some(Err(Unsatisfiable));
    }
    Some(Ok((start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_blobs_for_browsers() {
        let header = |name| content_disposition(name).to_str().unwrap().to_owned();
        assert_eq!(header("sweep 1.csv"), r#"inline; filename="sweep 1.csv""#);
        assert_eq!(
            header("a\"b\\c/d.txt"),
            r#"inline; filename="a_b_c_d.txt"; filename*=UTF-8''a%22b_c_d.txt"#
        );
        assert_eq!(
            header("Messung µV.csv"),
            r#"inline; filename="Messung _V.csv"; filename*=UTF-8''Messung%20%C2%B5V.csv"#
        );
        assert_eq!(
            header("evil\r\nSet-Cookie: x"),
            r#"inline; filename="evil__Set-Cookie: x"; filename*=UTF-8''evil__Set-Cookie%3A%20x"#
        );
    }

    fn range(value: &str, length: u64) -> Option<Result<(u64, u64), Unsatisfiable>> {
        let mut headers = HeaderMap::new();
        headers.insert(RANGE, HeaderValue::from_str(value).unwrap());
        requested_range(&headers, length)
    }

    #[test]
    fn reads_single_byte_ranges() {
        assert_eq!(range("bytes=0-3", 10), Some(Ok((0, 4))));
        assert_eq!(range("bytes=4-", 10), Some(Ok((4, 10))));
        assert_eq!(range("bytes=-3", 10), Some(Ok((7, 10))));
        assert_eq!(range("bytes=-30", 10), Some(Ok((0, 10))));
        assert_eq!(range("bytes=5-100", 10), Some(Ok((5, 10))));
        assert_eq!(range("bytes=10-", 10), Some(Err(Unsatisfiable)));
        assert_eq!(range("bytes=-0", 10), Some(Err(Unsatisfiable)));
        assert_eq!(range("bytes=0-0", 0), Some(Err(Unsatisfiable)));
        let huge = "99999999999999999999";
        assert_eq!(
            range(&format!("bytes={huge}-"), 10),
            Some(Err(Unsatisfiable))
        );
        assert_eq!(range(&format!("bytes=0-{huge}"), 10), Some(Ok((0, 10))));
        assert_eq!(range(&format!("bytes=-{huge}"), 10), Some(Ok((0, 10))));
        for ignored in [
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert_eq!(range(ignored, 10), None, "{ignored}");
        }
    }
}
