//! Resolving the Thing Description's hrefs against its `base`, as RFC 3986 does for the shapes
//! TDs use: absolute URLs, network-path (`//host/…`), absolute-path (`/counter/count`) and
//! relative-path (`count`) references. Query strings are kept; fragments are dropped.

use hyper::Uri;

use crate::error::{Error, Result};

/// Parse an absolute `http://` URL.
pub(crate) fn parse_absolute(url: &str) -> Result<Uri> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::InvalidRequest(format!("'{url}' is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") if uri.authority().is_some() => Ok(uri),
        Some("https") => Err(Error::InvalidRequest(format!(
            "'{url}': https is not supported by this client (plain HTTP only)"
        ))),
        _ => Err(Error::InvalidRequest(format!(
            "'{url}' is not an absolute http:// URL"
        ))),
    }
}

/// `href` resolved against `base` (an absolute URL).
pub(crate) fn resolve(base: &Uri, href: &str) -> Result<Uri> {
    let href = href.split('#').next().unwrap_or_default();
    if href.contains("://") {
        return parse_absolute(href);
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let joined = if let Some(rest) = href.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if href.starts_with('/') {
        format!("{scheme}://{authority}{href}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        if href.is_empty() {
            return Ok(base.clone());
        }
        format!("{scheme}://{authority}{dir}{href}")
    };
    parse_absolute(&normalise(&joined))
}

/// Remove `.` and `..` segments from the path of an absolute URL.
fn normalise(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let after = &url[scheme_end + 3..];
    let Some(path_start) = after.find('/') else {
        return url.to_owned();
    };
    let (path, query) = match after[path_start..].split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&after[path_start..], None),
    };
    if !path.split('/').any(|s| s == "." || s == "..") {
        return url.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut result = format!(
        "{}{}/{}",
        &url[..scheme_end + 3],
        &after[..path_start],
        out.join("/")
    );
    if trailing_slash && !result.ends_with('/') {
        result.push('/');
    }
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// `url` with a trailing slash on its path (a Thing's URL is `T`, always slashed).
pub(crate) fn with_trailing_slash(url: &Uri) -> Result<Uri> {
    if url.path().ends_with('/') {
        return Ok(url.clone());
    }
    let scheme = url.scheme_str().unwrap_or("http");
    let authority = url.authority().map(|a| a.as_str()).unwrap_or_default();
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    parse_absolute(&format!("{scheme}://{authority}{}/{query}", url.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Uri {
        parse_absolute("http://127.0.0.1:5000/counter/").expect("base")
    }

    #[test]
    fn hrefs_of_every_shape_resolve() {
        let cases = [
            ("/counter/count", "http://127.0.0.1:5000/counter/count"),
            ("count", "http://127.0.0.1:5000/counter/count"),
            ("../stage/", "http://127.0.0.1:5000/stage/"),
            ("//other:1/x", "http://other:1/x"),
            ("http://h:9/blob/1", "http://h:9/blob/1"),
            (
                "count?fps=2#frag",
                "http://127.0.0.1:5000/counter/count?fps=2",
            ),
            ("", "http://127.0.0.1:5000/counter/"),
        ];
        for (href, want) in cases {
            let got = resolve(&base(), href).expect(href);
            assert_eq!(got.to_string(), want, "{href}");
        }
    }

    #[test]
    fn only_plain_http_urls_are_accepted() {
        assert!(parse_absolute("https://h/").is_err());
        assert!(parse_absolute("/relative").is_err());
        assert!(resolve(&base(), "ws://127.0.0.1:5000/counter/ws").is_err());
    }

    #[test]
    fn thing_urls_get_their_slash() {
        let url = parse_absolute("http://h:1/counter").expect("url");
        assert_eq!(
            with_trailing_slash(&url).expect("slashed").to_string(),
            "http://h:1/counter/"
        );
    }
}
