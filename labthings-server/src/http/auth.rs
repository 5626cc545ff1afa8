//! Bearer tokens: which tokens open the API, where a request may carry one, and the 401 that
//! refuses it.
//!
//! Tokens are kept only as SHA-256 digests and a presented token is hashed and compared with
//! every digest in constant time (no early exit), so neither the comparison's time nor a
//! memory dump gives a token away. A token is carried, in the order looked at, by
//! `Authorization: Bearer <token>`, an `lt_token` cookie, or `?access_token=<token>` (for the
//! browser APIs that can't set headers: `EventSource`, `WebSocket`, `<img>`). A token or a
//! digest never appears in a log line, an error message or a response.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use hyper::header::{AUTHORIZATION, COOKIE, HeaderValue, ORIGIN, UPGRADE, WWW_AUTHENTICATE};
use hyper::{HeaderMap, Method, Response, Uri};
use labthings_protocol::problem::Problem;
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::http::query::{self, BadQuery};
use crate::http::response::{self, Body};

/// The SHA-256 digest of a token.
pub(crate) type Digest = [u8; 32];

/// The name of the cookie that may carry a token.
pub const COOKIE_NAME: &str = "lt_token";
/// The query parameter that may carry a token (RFC 6750 §2.3).
pub const QUERY_NAME: &str = "access_token";

/// The tokens a server accepts: those of a tokens file (reloadable) plus any given directly.
///
/// The file holds one token, or `sha256:<64 hex digits>` (the digest of one), per line; text
/// after the first whitespace is a label (the history records it as who started an
/// invocation); blank lines and lines starting with `#` are skipped.
pub struct Tokens {
    file: Option<PathBuf>,
    /// Given directly (e.g. `LABTHINGS_TOKEN`): kept across reloads.
    fixed: Vec<Digest>,
    /// Read from `file`, replaced whole by a successful reload: digests and labels in one
    /// swap, so no reader sees one file's digests with another's labels.
    loaded: RwLock<Arc<Loaded>>,
    /// Bumped by every successful reload, so that long-lived streams re-check their token
    /// (see [`Grant`](super::grant::Grant)).
    generation: watch::Sender<u64>,
}

/// A tokens file that could not be used. Its messages name the file and the line, never a
/// line's content.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The tokens file can't be read.
    #[error("could not read the tokens file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    #[error(
        "tokens file {}, line {line}: `sha256:` must be followed by 64 hexadecimal digits",
        path.display()
    )]
    /// A `sha256:` line without 64 hexadecimal digits.
    BadDigest {
        /// The file.
        path: PathBuf,
        /// The line (from 1).
        line: usize,
    },
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: digests are secrets too (a weak token could be brute-forced from one).
        f.debug_struct("Tokens")
            .field("file", &self.file)
            .field("fixed", &self.fixed.len())
            .field("loaded", &self.loaded().digests.len())
            .finish()
    }
}

impl Default for Tokens {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokens {
    /// No tokens yet: a server given this refuses every request until some are added.
    pub fn new() -> Self {
        Self {
            file: None,
            fixed: Vec::new(),
            loaded: RwLock::default(),
            generation: watch::channel(0).0,
        }
    }

    /// The tokens of `path`, read now; [`reload`](Self::reload) (SIGHUP) reads it again.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Self, TokenError> {
        let path = path.into();
        let loaded = Loaded::new(read_file(&path)?);
        Ok(Self {
            file: Some(path),
            fixed: Vec::new(),
            loaded: RwLock::new(Arc::new(loaded)),
            generation: watch::channel(0).0,
        })
    }

    /// Also accept `token`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.fixed.push(digest(token.as_bytes()));
        self
    }

    /// The tokens file, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// How many tokens (or digests) are accepted.
    pub fn len(&self) -> usize {
        self.fixed.len() + self.loaded().digests.len()
    }

    /// True when no token is accepted (every request is refused).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read the tokens file again; if it can't be read or parsed the old tokens stay. The
    /// number of tokens the file now holds.
    pub fn reload(&self) -> Result<usize, TokenError> {
        let Some(path) = &self.file else {
            return Ok(0);
        };
        let loaded = Loaded::new(read_file(path)?);
        let count = loaded.digests.len();
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
        self.generation.send_modify(|generation| *generation += 1);
        Ok(count)
    }

    /// Changes after each reload.
    pub(crate) fn reloads(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Whether the token with this digest is (still) accepted.
    pub(crate) fn accepts_digest(&self, presented: &Digest) -> bool {
        let loaded = self.loaded();
        matches_any(presented, self.fixed.iter().chain(loaded.digests.iter()))
    }

    /// Whether `token` is one of the accepted tokens.
    pub fn accepts(&self, token: &str) -> bool {
        self.accepts_digest(&digest(token.as_bytes()))
    }

    /// Let the request through, saying how its token came, or say why not. `headers` and
    /// `uri` are the request's.
    pub fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<Carrier, Refusal> {
        self.admit(headers, uri).map(|(carrier, _)| carrier)
    }

    /// As [`check`](Self::check), also giving the accepted token's digest (a stream the
    /// request opens ends when a reload drops it).
    pub(crate) fn admit(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<(Carrier, Digest), Refusal> {
        let mut presented = false;
        for (carrier, token) in carried(headers, uri) {
            presented = true;
            let token = digest(token.map_err(Refusal::Malformed)?.as_bytes());
            if self.accepts_digest(&token) {
                return Ok((carrier, token));
            }
        }
        Err(if presented {
            Refusal::Invalid
        } else {
            Refusal::Missing
        })
    }

    /// The label the tokens file gives the token with this digest, if any.
    pub(crate) fn label(&self, digest: &Digest) -> Option<Arc<str>> {
        self.loaded().labels.get(digest).cloned()
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How an accepted token came with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Authorization: Bearer` or `?access_token=`: the client put it there itself.
    Explicit,
    /// The `lt_token` cookie, which a browser attaches by itself, also to requests another
    /// page makes (see [`change_allowed`]).
    Cookie,
}

/// The origins whose pages may change things: the server's own (as the request reached it)
/// and those listed with `--cors-origin`.
#[derive(Debug, Clone, Copy)]
pub struct TrustedOrigins<'a> {
    /// E.g. `http://127.0.0.1:5000`.
    pub own: &'a str,
    pub listed: &'a [String],
}

impl TrustedOrigins<'_> {
    fn contains(&self, origin: &str) -> bool {
        origin == self.own || self.listed.iter().any(|listed| listed == origin)
    }
}

/// Whether a request another site's page may have made, unseen by its user, may go on: the
/// rule for a request whose token came only in the cookie, and for every request of a server
/// without tokens. A browser attaches the cookie to requests that pages of any port of the
/// same host make (`SameSite` doesn't separate ports), and without tokens any page can send
/// requests, so a request that changes something (any method but GET/HEAD/OPTIONS) or opens a
/// WebSocket must come from a page the server trusts: `Sec-Fetch-Site: same-origin`, or an
/// `Origin` in `trusted`. Reads stay open (the reference allows any origin). Clients that
/// aren't browsers send neither header and can't be driven by another page, so they pass.
pub fn change_allowed(method: &Method, headers: &HeaderMap, trusted: TrustedOrigins<'_>) -> bool {
    if !changes_something(method, headers) {
        return true;
    }
    let fetch_site = headers.get("sec-fetch-site");
    if fetch_site.is_some_and(|site| site.as_bytes() == b"same-origin") {
        return true;
    }
    match headers.get(ORIGIN) {
        Some(origin) => origin.to_str().is_ok_and(|origin| trusted.contains(origin)),
        None => fetch_site.is_none(),
    }
}

/// Whether [`change_allowed`] will compare the request's `Origin` with the trusted ones (so
/// the server's own origin is worth spelling out): a changing request that names its page's
/// origin and isn't marked `Sec-Fetch-Site: same-origin`.
pub fn compares_origin(method: &Method, headers: &HeaderMap) -> bool {
    changes_something(method, headers)
        && headers.contains_key(ORIGIN)
        && headers
            .get("sec-fetch-site")
            .is_none_or(|site| site.as_bytes() != b"same-origin")
}

/// Whether a request may change something: any method but GET/HEAD/OPTIONS, or a WebSocket
/// upgrade (its messages write properties and start actions).
pub fn changes_something(method: &Method, headers: &HeaderMap) -> bool {
    let reads = method == Method::GET || method == Method::HEAD || method == Method::OPTIONS;
    !reads || headers.contains_key(UPGRADE)
}

/// 403 for a request from another site's page (see [`change_allowed`]); `tokens_on` picks
/// the advice.
pub fn cross_site_refusal(tokens_on: bool) -> Response<Body> {
    let detail = if tokens_on {
        "A request that changes something must come from this server's own pages, or carry its \
         token in the Authorization header."
    } else {
        "A request that changes something must come from this server's own pages, or from an \
         origin the server was started with --cors-origin <origin> for (config `cors_origins`)."
    };
    response::problem(&Problem::about_blank(403, "CrossSiteRequest", detail))
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It carried no token.
    Missing,
    /// It carried a token that is not accepted.
    Invalid,
    /// Its `?access_token=` doesn't decode (a bad `%` escape, or bytes that aren't UTF-8).
    Malformed(BadQuery),
}

impl Refusal {
    /// 401 (400 for a malformed request: RFC 6750 §3.1's `invalid_request`) with
    /// `WWW-Authenticate` (RFC 6750 §3) and a problem+json body.
    pub fn into_response(self) -> Response<Body> {
        let problem = match self {
            Refusal::Missing | Refusal::Invalid => {
                Problem::about_blank(401, "Unauthorized", "A valid bearer token is required.")
            }
            Refusal::Malformed(bad) => bad.problem(),
        };
        let mut response = response::problem(&problem);
        let challenge = match self {
            Refusal::Missing => r#"Bearer realm="labthings""#,
            Refusal::Invalid => r#"Bearer realm="labthings", error="invalid_token""#,
            Refusal::Malformed(_) => r#"Bearer realm="labthings", error="invalid_request""#,
        };
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        response
    }
}

/// SHA-256 of `token`.
pub fn digest(token: &[u8]) -> Digest {
    Sha256::digest(token).into()
}

/// Whether `presented` equals one of `stored`: every digest is compared, in constant time, and
/// the results OR-ed, so the time taken says nothing about which (or whether one) matched.
fn matches_any<'a>(presented: &Digest, stored: impl Iterator<Item = &'a Digest>) -> bool {
    stored.fold(false, |found, digest| {
        found | constant_time_eq::constant_time_eq_32(presented, digest)
    })
}

/// Cookie pairs looked at for `lt_token` (a browser's Cookie header for one host holds a few).
const COOKIE_PAIRS_READ: usize = 64;
/// `lt_token` cookies tried: a browser may send two (set for different paths).
const COOKIES_TRIED: usize = 2;

/// The tokens a request carries, in the order they are tried, each with how it came. Bounded:
/// the first `Authorization` header, the first [`COOKIES_TRIED`] `lt_token` cookies among the
/// first [`COOKIE_PAIRS_READ`] pairs, and the first `access_token` parameter — at most four
/// digests per request, however many carriers a client stuffs in (each one costs a SHA-256).
fn carried<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
) -> impl Iterator<Item = (Carrier, Result<String, BadQuery>)> + 'a {
    let bearer = headers.get_all(AUTHORIZATION).iter().take(1).map(|value| {
        // Any other scheme (`Basic …`) still counts as a credential presented, and fails.
        let value = value.to_str().unwrap_or_default().trim();
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                token.trim().to_owned()
            }
            _ => String::new(),
        }
    });
    let cookies = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .take(COOKIE_PAIRS_READ)
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .take(COOKIES_TRIED)
        .map(|(_, token)| token.trim_matches('"').to_owned());
    // Looked for only when no carrier before it let the request in.
    let query = std::iter::once_with(|| query::first(uri.query(), QUERY_NAME)).flatten();
    let explicit = |token| (Carrier::Explicit, token);
    let cookie = |token| (Carrier::Cookie, Ok(token));
    bearer
        .map(Ok)
        .map(explicit)
        .chain(cookies.map(cookie))
        .chain(query.map(explicit))
}

/// Parse a tokens file's text into digests; `path` only names the file in errors.
/// A token's digest and its label.
type Labelled = (Digest, Option<Arc<str>>);

fn parse(text: &str, path: &Path) -> Result<Vec<Labelled>, TokenError> {
    let mut digests = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut words = line.trim().splitn(2, char::is_whitespace);
        let Some(entry) = words.next().filter(|entry| !entry.is_empty()) else {
            continue;
        };
        if entry.starts_with('#') {
            continue;
        }
        let label = words
            .next()
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .map(Arc::from);
        let digest = match entry.strip_prefix("sha256:") {
            Some(hex) => parse_hex(hex).ok_or_else(|| TokenError::BadDigest {
                path: path.to_owned(),
                line: index + 1,
            })?,
            None => digest(entry.as_bytes()),
        };
        digests.push((digest, label));
    }
    Ok(digests)
}

/// What one read of the tokens file gave.
#[derive(Default)]
struct Loaded {
    digests: Vec<Digest>,
    /// The labels of the digests that have one.
    labels: HashMap<Digest, Arc<str>>,
}

impl Loaded {
    fn new(labelled: Vec<Labelled>) -> Self {
        let labels = labelled
            .iter()
            .filter_map(|(digest, label)| Some((*digest, label.clone()?)))
            .collect();
        Self {
            digests: labelled.into_iter().map(|(digest, _)| digest).collect(),
            labels,
        }
    }
}

fn parse_hex(hex: &str) -> Option<Digest> {
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(digest)
}

fn read_file(path: &Path) -> Result<Vec<Labelled>, TokenError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// A new random token: 32 bytes from the operating system's RNG, URL-safe base64 without
/// padding (43 characters).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(digest: &Digest) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let a = digest(b"alpha");
        let b = digest(b"bravo");
        assert!(matches_any(&a, [b, a].iter()));
        assert!(matches_any(&a, [a, b].iter()), "position does not matter");
        assert!(!matches_any(&a, [b].iter()));
        assert!(!matches_any(&a, [].iter()), "no tokens: nothing matches");
        let mut near = a;
        near[31] ^= 1;
        assert!(!matches_any(&a, [near].iter()), "one bit differs");
        near = a;
        near[0] ^= 0x80;
        assert!(!matches_any(&a, [near].iter()), "the first byte differs");
    }

    #[test]
    fn the_sha256_digest_is_the_standard_one() {
        assert_eq!(
            hex(&digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn files_hold_tokens_digests_comments_and_labels() {
        let path = Path::new("tokens");
        let text = format!(
            "# lab tokens\n\nplain-token alice's laptop\n  sha256:{}  \n#sha256:zz\n",
            hex(&digest(b"hashed")).to_uppercase()
        );
        let Loaded { digests, labels } = Loaded::new(parse(&text, path).unwrap());
        assert_eq!(digests, vec![digest(b"plain-token"), digest(b"hashed")]);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[&digest(b"plain-token")].as_ref(), "alice's laptop");
        let error = parse("ok\nsha256:abc secret\n", path).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tokens file tokens, line 2: `sha256:` must be followed by 64 hexadecimal digits"
        );
        assert!(!error.to_string().contains("secret"));
        assert!(parse(&format!("sha256:{}", "g".repeat(64)), path).is_err());
    }

    #[test]
    fn a_reload_replaces_digests_and_labels_together() {
        let folder = std::env::temp_dir().join(format!("lt-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("tokens");
        std::fs::write(&file, "first alice\n").unwrap();
        let tokens = Tokens::from_file(&file).unwrap();
        assert_eq!(tokens.label(&digest(b"first")).as_deref(), Some("alice"));
        std::fs::write(&file, "first bob\nsecond\n").unwrap();
        assert_eq!(tokens.reload().unwrap(), 2);
        assert_eq!(tokens.label(&digest(b"first")).as_deref(), Some("bob"));
        assert!(tokens.accepts("second") && tokens.label(&digest(b"second")).is_none());
        std::fs::write(&file, "sha256:zz\n").unwrap();
        assert!(tokens.reload().is_err(), "a bad file keeps the old tokens");
        assert!(tokens.accepts("second"));
        assert_eq!(tokens.label(&digest(b"first")).as_deref(), Some("bob"));
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn tokens_are_found_in_every_carrier() {
        let tokens = Tokens::new().with_token("s3cret/+=");
        let check = |headers: &[(&str, &str)], uri: &str| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.append(
                    hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            tokens.check(&map, &uri.parse().unwrap())
        };
        assert_eq!(check(&[], "/"), Err(Refusal::Missing));
        assert_eq!(
            check(&[("authorization", "Bearer s3cret/+=")], "/"),
            Ok(Carrier::Explicit)
        );
        assert_eq!(
            check(&[("authorization", "bearer  s3cret/+= ")], "/"),
            Ok(Carrier::Explicit)
        );
        assert_eq!(
            check(&[("authorization", "Basic s3cret/+=")], "/"),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            check(&[("cookie", "a=b; lt_token=s3cret/+=; c=d")], "/"),
            Ok(Carrier::Cookie)
        );
        assert_eq!(
            check(&[], "/x?a=1&access_token=s3cret%2F%2B%3D"),
            Ok(Carrier::Explicit)
        );
        assert_eq!(check(&[], "/x?access_token=wrong"), Err(Refusal::Invalid));
        assert_eq!(
            check(&[], "/x?access_token=s3cret%zz"),
            Err(Refusal::Malformed(BadQuery::Escape))
        );
        assert_eq!(
            check(&[("cookie", "lt_token=s3cret/+=")], "/x?access_token=%zz"),
            Ok(Carrier::Cookie),
            "a query token is decoded only when no carrier before it is accepted"
        );
        assert_eq!(
            check(
                &[("authorization", "Bearer wrong")],
                "/?access_token=s3cret%2F%2B%3D"
            ),
            Ok(Carrier::Explicit),
            "any carrier with a good token will do"
        );
    }

    #[test]
    fn generated_tokens_are_url_safe_and_distinct() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn debug_output_shows_no_digest() {
        let tokens = Tokens::new().with_token("abc");
        let text = format!("{tokens:?}");
        assert!(!text.contains("ba7816"), "{text}");
    }

    #[test]
    fn cookie_carried_changes_must_come_from_this_servers_pages() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.append(
                    hyper::header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            map
        };
        let listed = ["http://lab-ui.example".to_owned()];
        let trusted = TrustedOrigins {
            own: "http://127.0.0.1:5000",
            listed: &listed,
        };
        let allowed = |method: Method, pairs| change_allowed(&method, &headers(pairs), trusted);
        // Reads pass; so do clients that are no browser (no Origin, no Sec-Fetch-Site).
        assert!(allowed(Method::GET, &[("origin", "http://127.0.0.1:8888")]));
        assert!(allowed(Method::POST, &[]));
        // Changes from this server's own pages pass; from another port of the host, not.
        assert!(allowed(
            Method::POST,
            &[("origin", "http://127.0.0.1:5000")]
        ));
        assert!(allowed(Method::PUT, &[("sec-fetch-site", "same-origin")]));
        assert!(!allowed(
            Method::POST,
            &[("origin", "http://127.0.0.1:8888")]
        ));
        assert!(!allowed(Method::DELETE, &[("sec-fetch-site", "same-site")]));
        assert!(!allowed(
            Method::GET,
            &[
                ("upgrade", "websocket"),
                ("origin", "http://127.0.0.1:8888")
            ]
        ));
        assert!(allowed(
            Method::GET,
            &[
                ("upgrade", "websocket"),
                ("origin", "http://127.0.0.1:5000")
            ]
        ));
        // A listed origin may; OPTIONS reads; a cross-site page without Origin may not.
        assert!(allowed(
            Method::POST,
            &[
                ("origin", "http://lab-ui.example"),
                ("sec-fetch-site", "cross-site")
            ]
        ));
        assert!(allowed(
            Method::OPTIONS,
            &[("origin", "http://127.0.0.1:8888")]
        ));
        assert!(!allowed(Method::POST, &[("sec-fetch-site", "cross-site")]));
    }
}
