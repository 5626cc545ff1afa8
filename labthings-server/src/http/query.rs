//! The query string, decoded the one way every route reads it: as a form is
//! (`application/x-www-form-urlencoded`): pairs split on `&`, a name from its value on the
//! first `=`, `+` a space, `%XX` a byte, and the bytes UTF-8.
//!
//! Where the WHATWG parser (the `form_urlencoded` crate) passes a bad escape on as it is and
//! replaces bytes that aren't UTF-8, a route here answers 400: a value it would read altered is
//! the client's mistake to hear about, not a different value to act on. `percent-encoding`
//! decodes; what it lets through (a `%` not followed by two hex digits) is checked first.

use std::borrow::Cow;

use labthings_protocol::problem::Problem;

use crate::http::error::ApiError;

/// A query's pairs, in order, every name and value decoded.
#[derive(Debug, Default, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Decode the whole query (`None`: there was none); the first bad pair is a 400.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        raw_pairs(raw)
            .map(|(name, value)| Ok((decode(name)?.into_owned(), decode(value)?.into_owned())))
            .collect::<Result<_, BadQuery>>()
            .map(Self)
            .map_err(ApiError::from)
    }

    /// Every pair, in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// The first value of `name` in `raw`, decoding nothing else: for the token check, which runs
/// before any route and must not judge the rest of a query (an endpoint reads its own).
/// A pair whose name doesn't decode can't be `name`.
pub fn first(raw: Option<&str>, name: &str) -> Option<Result<String, BadQuery>> {
    raw_pairs(raw)
        .find(|(n, _)| decode(n).is_ok_and(|n| n == name))
        .map(|(_, value)| decode(value).map(Cow::into_owned))
}

/// The first value of `name` in `raw` (`None`: not there), judging only that pair: for the
/// reference's routes, which read one or two parameters and ignore the rest (as FastAPI does,
/// however the rest is spelled). A bad escape in the value read is a 400.
pub fn param(raw: Option<&str>, name: &str) -> Result<Option<String>, ApiError> {
    Ok(first(raw, name).transpose()?)
}

/// Why a query can't be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadQuery {
    /// A `%` not followed by two hexadecimal digits.
    Escape,
    /// Decoded bytes that aren't UTF-8.
    NotUtf8,
}

impl BadQuery {
    /// The 400 that answers it.
    pub fn problem(self) -> Problem {
        let detail = match self {
            BadQuery::Escape => "The query has a `%` not followed by two hexadecimal digits.",
            BadQuery::NotUtf8 => "The query's percent-encoded bytes are not UTF-8.",
        };
        Problem::about_blank(400, "Bad Request", detail)
    }
}

impl From<BadQuery> for ApiError {
    fn from(bad: BadQuery) -> Self {
        ApiError::Problem(bad.problem())
    }
}

/// The pairs as sent: empty ones (`a=1&&b=2`) skipped, a pair without `=` a name with an
/// empty value.
fn raw_pairs(raw: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// One name or value decoded (borrowed when there is nothing to decode, as most names are).
fn decode(text: &str) -> Result<Cow<'_, str>, BadQuery> {
    if !text.contains(['%', '+']) {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let escapes_whole = bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_whole {
        return Err(BadQuery::Escape);
    }
    // `+` before `%XX`: an escaped `%2B` stays a `+`.
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| Cow::Owned(decoded.into_owned()))
        .map_err(|_| BadQuery::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &str) -> Result<Vec<(String, String)>, BadQuery> {
        raw_pairs(Some(raw))
            .map(|(n, v)| Ok((decode(n)?.into_owned(), decode(v)?.into_owned())))
            .collect()
    }

    #[test]
    fn decodes_as_a_form_does() {
        let owned = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs("a=1&&b=x+y%2By&c&d=&%6Eame=%C3%A9=").unwrap(),
            owned(&[
                ("a", "1"),
                ("b", "x y+y"),
                ("c", ""),
                ("d", ""),
                ("name", "é=")
            ])
        );
        assert_eq!(pairs("").unwrap(), owned(&[]));
        let query = Query::parse(Some("a=1&a=2&b")).unwrap();
        let pairs: Vec<_> = query.pairs().collect();
        assert_eq!(pairs, [("a", "1"), ("a", "2"), ("b", "")]);
        // One parameter read, the rest not judged: only its own bad escape is refused.
        let raw = Some("x=%zz&limit=%31&bad=%FF");
        assert_eq!(param(raw, "limit").unwrap().as_deref(), Some("1"));
        assert_eq!(param(raw, "after").unwrap(), None);
        assert!(param(raw, "x").is_err());
        assert_eq!(Query::parse(None).unwrap(), Query::default());
    }

    #[test]
    fn a_bad_escape_or_bytes_not_utf8_are_refused() {
        for raw in ["a=100%", "a=%4", "a=%zz", "%g0=1", "a=%%41"] {
            assert_eq!(pairs(raw), Err(BadQuery::Escape), "{raw}");
        }
        for raw in ["a=%FF", "a=%C3", "%C3%28=1"] {
            assert_eq!(pairs(raw), Err(BadQuery::NotUtf8), "{raw}");
        }
        assert!(Query::parse(Some("ok=1&a=%zz")).is_err());
    }

    #[test]
    fn first_decodes_only_the_pair_it_reads() {
        let raw = Some("x=%zz&%FF=1&access+token=no&access_token=a%2Fb&access_token=c");
        assert_eq!(first(raw, "access_token"), Some(Ok("a/b".into())));
        assert_eq!(first(raw, "y"), None);
        assert_eq!(
            first(Some("access_token=%zz"), "access_token"),
            Some(Err(BadQuery::Escape))
        );
        assert_eq!(first(None, "access_token"), None);
    }
}
