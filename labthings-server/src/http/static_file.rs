//! A file built into the binary, sent as browsers want it: `304` when the client's copy is
//! current (`If-None-Match`), gzip when the client accepts it and there is a gzipped form,
//! revalidated on every use, never sniffed, never framed, under the caller's
//! `Content-Security-Policy`. The web UI's files and Swagger UI's share it, so the two can't
//! drift apart again (they once disagreed on `Vary`).

use bytes::Bytes;
use hyper::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderMap,
    HeaderName, HeaderValue, VARY, X_CONTENT_TYPE_OPTIONS,
};
use hyper::{Response, StatusCode};

use crate::http::conditional::{accepts_gzip, none_match};
use crate::http::response::Body;

/// One representation of a file, ready to send.
pub struct StaticFile<'a> {
    /// The strong `ETag`, quoted (`"…"`).
    pub etag: &'a str,
    pub media_type: &'static str,
    /// The bytes as they are.
    pub identity: Bytes,
    /// The same bytes gzipped, when that is worth sending.
    pub gzip: Option<Bytes>,
}

impl StaticFile<'_> {
    /// The answer to a `GET` (or `HEAD`) whose request headers are `request`.
    pub fn respond(self, request: &HeaderMap, csp: HeaderValue) -> Response<Body> {
        let mut response = if none_match(request, self.etag) {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response
        } else {
            let gzip = self.gzip.filter(|_| accepts_gzip(request));
            let gzipped = gzip.is_some();
            let mut response = Response::new(Body::full(gzip.unwrap_or(self.identity)));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.media_type));
            if gzipped {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        };
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(self.etag) {
            headers.insert(ETAG, etag);
        }
        // Stored, but checked with the server on each use (a cheap 304): a new server version
        // is picked up at once, with no versioned URLs to keep in step.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // On the 304 too (RFC 9110 §15.4.5). `Origin` is CORS's to add when it answers by
        // origin (`http/cors.rs` appends it to this one).
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(CONTENT_SECURITY_POLICY, csp);
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::{ACCEPT_ENCODING, IF_NONE_MATCH};

    use super::*;

    fn file() -> StaticFile<'static> {
        StaticFile {
            etag: "\"abc\"",
            media_type: "text/css; charset=utf-8",
            identity: Bytes::from_static(b"plain"),
            gzip: Some(Bytes::from_static(b"packed")),
        }
    }

    fn csp() -> HeaderValue {
        HeaderValue::from_static("default-src 'none'")
    }

    #[test]
    fn gzip_only_for_clients_that_accept_it_and_vary_says_so() {
        let mut request = HeaderMap::new();
        let plain = file().respond(&request, csp());
        assert_eq!(plain.headers().get(CONTENT_ENCODING), None);
        request.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let packed = file().respond(&request, csp());
        assert_eq!(packed.headers()[CONTENT_ENCODING], "gzip");
        for response in [plain, packed] {
            assert_eq!(response.headers()[VARY], "Accept-Encoding");
            assert_eq!(
                response.headers()[CONTENT_SECURITY_POLICY],
                "default-src 'none'"
            );
            assert_eq!(response.headers()["x-frame-options"], "DENY");
        }
    }

    #[test]
    fn a_current_copy_is_a_304_with_the_same_validators() {
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\""));
        let response = file().respond(&request, csp());
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[ETAG], "\"abc\"");
        assert_eq!(response.headers()[VARY], "Accept-Encoding");
        assert_eq!(response.headers().get(CONTENT_TYPE), None);
    }
}
