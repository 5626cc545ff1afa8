//! Cross-origin requests: browsers' web UIs on other origins may use the API. By default any
//! origin is allowed, as in the reference (Starlette's CORSMiddleware with `allow_origins=*`
//! and credentials).

use hyper::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, CONTENT_TYPE, HeaderMap, HeaderValue, ORIGIN, VARY,
};
use hyper::{Response, StatusCode};

use crate::http::response::{self, Body};

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (the default, as the reference).
    #[default]
    AnyOrigin,
    /// Only these origins, e.g. `http://localhost:3000`.
    Origins(Vec<String>),
    /// No CORS headers at all: browsers allow same-origin requests only.
    Disabled,
}

impl Cors {
    fn allows(&self, origin: &str) -> bool {
        match self {
            Cors::AnyOrigin => true,
            Cors::Origins(list) => list.iter().any(|allowed| allowed == origin),
            Cors::Disabled => false,
        }
    }

    /// Answer a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    pub fn preflight(&self, request: &HeaderMap) -> Response<Body> {
        let origin = request
            .get(ORIGIN)
            .and_then(|o| o.to_str().ok())
            .unwrap_or("");
        if !self.allows(origin) {
            let mut response = response::detail(StatusCode::BAD_REQUEST, "Disallowed CORS origin");
            response
                .headers_mut()
                .insert(VARY, HeaderValue::from_static("Origin"));
            return response;
        }
        let mut response = Response::new(Body::full("OK"));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if let Ok(origin) = HeaderValue::from_str(origin) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        if let Some(requested) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        response
    }

    /// Add the headers of an allowed cross-origin response; `origin` is the request's
    /// `Origin` header.
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut Response<Body>) {
        if *self == Cors::Disabled {
            return;
        }
        let headers = response.headers_mut();
        // Added to, not replaced: a handler's own `Vary` (`Accept-Encoding`, say) still holds.
        let varies_by_origin = headers.get_all(VARY).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .any(|name| name == "*" || name.eq_ignore_ascii_case("origin"))
            })
        });
        if !varies_by_origin {
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
        let Some(origin) = origin else { return };
        if origin.to_str().is_ok_and(|o| self.allows(o)) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Location"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varies(existing: &[&'static str]) -> Vec<String> {
        let mut response = Response::new(Body::full(""));
        for value in existing {
            response
                .headers_mut()
                .append(VARY, HeaderValue::from_static(value));
        }
        Cors::default().decorate(None, &mut response);
        let values = response.headers().get_all(VARY).iter();
        values
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn origin_is_added_to_a_handlers_vary_not_instead_of_it() {
        assert_eq!(varies(&[]), ["Origin"]);
        assert_eq!(varies(&["Accept-Encoding"]), ["Accept-Encoding", "Origin"]);
        assert_eq!(
            varies(&["Accept-Encoding, origin"]),
            ["Accept-Encoding, origin"]
        );
        assert_eq!(varies(&["*"]), ["*"]);
    }
}
