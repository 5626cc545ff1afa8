//! The checks RFC 6455 §4.2.1–4.2.2 asks of a WebSocket opening handshake before the server
//! answers 101: version 13 (else 426 naming the version spoken) and a `Sec-WebSocket-Key`
//! that is the base64 of 16 bytes (else 400). Browsers always send both right; a client that
//! doesn't is told why in a problem+json body instead of getting a socket it can't trust.

use hyper::Response;
use hyper::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION};

use crate::http::response::{self, Body};
use labthings_protocol::problem::Problem;

/// The only version this server speaks.
const VERSION: &str = "13";

/// `Ok` when the handshake's version and key are valid, else the refusal to send.
pub fn check(headers: &HeaderMap) -> Result<(), Box<Response<Body>>> {
    let mut versions = headers.get_all(SEC_WEBSOCKET_VERSION).iter();
    let version_ok = versions
        .next()
        .is_some_and(|v| v.as_bytes().trim_ascii() == VERSION.as_bytes())
        && versions.next().is_none();
    if !version_ok {
        let mut refusal = response::problem(&Problem::about_blank(
            426,
            "UpgradeRequired",
            "This server speaks WebSocket version 13 (RFC 6455): send `Sec-WebSocket-Version: 13`.",
        ));
        refusal
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static(VERSION));
        return Err(Box::new(refusal));
    }
    let mut keys = headers.get_all(SEC_WEBSOCKET_KEY).iter();
    let key_ok = keys.next().is_some_and(valid_key) && keys.next().is_none();
    if !key_ok {
        return Err(Box::new(response::problem(&Problem::about_blank(
            400,
            "Bad Request",
            "`Sec-WebSocket-Key` must be the base64 encoding of 16 random bytes (RFC 6455 §4.1).",
        ))));
    }
    Ok(())
}

/// Whether `key` is the base64 of exactly 16 bytes.
fn valid_key(key: &HeaderValue) -> bool {
    data_encoding::BASE64
        .decode(key.as_bytes().trim_ascii())
        .is_ok_and(|bytes| bytes.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(version: Option<&str>, key: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(version) = version {
            headers.insert(SEC_WEBSOCKET_VERSION, version.parse().unwrap());
        }
        if let Some(key) = key {
            headers.insert(SEC_WEBSOCKET_KEY, key.parse().unwrap());
        }
        headers
    }

    #[test]
    fn version_13_and_a_16_byte_key_pass() {
        let key = Some("dGhlIHNhbXBsZSBub25jZQ==");
        assert!(check(&headers(Some("13"), key)).is_ok());
        for version in [None, Some("8"), Some("13, 8"), Some("")] {
            let refusal = check(&headers(version, key)).unwrap_err();
            assert_eq!(refusal.status(), 426, "{version:?}");
            assert_eq!(refusal.headers()[SEC_WEBSOCKET_VERSION], "13");
        }
        for key in [
            None,
            Some(""),
            Some("!!!"),
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ] {
            assert_eq!(
                check(&headers(Some("13"), key)).unwrap_err().status(),
                400,
                "{key:?}"
            );
        }
    }
}
