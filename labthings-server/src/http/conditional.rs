//! Request headers that decide how a stored representation is sent: `If-None-Match` (answer
//! 304 instead of the bytes) and `Accept-Encoding` (gzip or not). Shared by the blob downloads,
//! the web UI's files and Swagger UI's.

use hyper::HeaderMap;
use hyper::header::{ACCEPT_ENCODING, IF_NONE_MATCH};

/// Whether `If-None-Match` names `etag` (the weak comparison RFC 9110 §13.1.2 asks for: `W/`
/// ignored), possibly in a list, or is `*`.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// Whether `Accept-Encoding` allows gzip: named (any case) with a non-zero `q`, or, when gzip
/// isn't named, `*` with a non-zero `q` (RFC 9110 §12.5.3: the named coding's own weight wins).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    let codings = headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for coding in codings {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|param| {
            let param = param.trim().replace(' ', "");
            param
                .strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        if name.eq_ignore_ascii_case("gzip") {
            gzip = Some(gzip.unwrap_or(false) || !refused);
        } else if name == "*" {
            any = Some(any.unwrap_or(false) || !refused);
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use hyper::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn gzip_is_used_only_when_accepted() {
        let accepts = |value| accepts_gzip(&headers(&[("accept-encoding", value)]));
        assert!(accepts("gzip, deflate, br"));
        assert!(accepts("br;q=1, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, gzip; q=0"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("*;q=0"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&headers(&[])));
    }

    #[test]
    fn etags_match_strong_weak_lists_and_star() {
        let matches = |value| none_match(&headers(&[("if-none-match", value)]), "\"abc\"");
        assert!(matches("\"abc\""));
        assert!(matches("W/\"abc\""));
        assert!(matches("\"x\", \"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abd\""));
        assert!(!none_match(&headers(&[]), "\"abc\""));
    }
}
