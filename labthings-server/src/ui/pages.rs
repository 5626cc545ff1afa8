//! The UI's routes: which paths they are, and what each answers.

use hyper::header::{ACCEPT, HeaderValue, LINK, LOCATION, SET_COOKIE};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use labthings_protocol::paths::{Origin, Scheme, seg};

use super::assets::{self, Asset};
use crate::http::auth::{COOKIE_NAME, QUERY_NAME};
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::response::{self, Body};
use crate::state::ServerState;

/// A path of the UI. `'s` borrows from the server state.
#[derive(Clone, Copy)]
pub enum UiRoute<'s> {
    /// `/`, `P` or `P/`: browsers are sent to the UI, other clients get the API's 404.
    Root,
    /// `P/ui`: 307 to `P/ui/`.
    AddSlash,
    /// `P/ui/`: the list of Things.
    Index,
    /// `P/ui/<thing>`: one Thing's page (the same file for every Thing: its script reads the
    /// name from the address), and the Thing's path.
    Thing(&'s str),
    /// `P/ui/assets/<file>`.
    Asset(&'static Asset),
}

impl<'s> UiRoute<'s> {
    /// The UI route `path` names, if any. Thing names can't be `ui` (`RESERVED_THING_NAMES`).
    pub fn parse(state: &'s ServerState, path: &str) -> Option<Self> {
        let prefix = state.paths.prefix();
        if path == "/" || path == prefix || path.strip_suffix('/') == Some(prefix) {
            return Some(UiRoute::Root);
        }
        let rest = path
            .strip_prefix(prefix)?
            .strip_prefix('/')?
            .strip_prefix(seg::UI)?;
        Some(match rest {
            "" => UiRoute::AddSlash,
            "/" => UiRoute::Index,
            _ => {
                let rest = rest.strip_prefix('/')?;
                match rest.strip_prefix("assets/") {
                    Some(name) => UiRoute::Asset(assets::file(name)?),
                    None if !rest.contains('/') => UiRoute::Thing(&state.thing(rest)?.path),
                    None => return None,
                }
            }
        })
    }
}

/// Answer a UI route.
pub fn answer(
    state: &ServerState,
    route: UiRoute<'_>,
    request: &Parts,
    origin: &Origin,
) -> Result<Response<Body>, ApiError> {
    let get = request.method == Method::GET || request.method == Method::HEAD;
    let page = |asset: &Asset| {
        let mut response = asset.respond(&request.headers, &content_security_policy(origin));
        remember_token(state, request, &mut response);
        response
    };
    match route {
        UiRoute::Root if get && wants_html(request) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(location) = HeaderValue::from_str(&state.paths.ui_index()) {
                response.headers_mut().insert(LOCATION, location);
            }
            remember_token(state, request, &mut response);
            Ok(response)
        }
        // JSON clients (and every other method) see the API's root as before: nothing there.
        UiRoute::Root => Err(ApiError::NotFound),
        UiRoute::AddSlash => Ok(response::redirect(&format!(
            "{origin}{}",
            state.paths.ui_index()
        ))),
        _ if !get => Err(ApiError::MethodNotAllowed(&["GET"])),
        UiRoute::Index => Ok(page(&assets::INDEX_PAGE)),
        UiRoute::Thing(thing_path) => {
            let mut response = page(&assets::THING_PAGE);
            // The TD is the first thing the page's script asks for: the browser fetches it
            // while it is still loading the script.
            if let Ok(link) = HeaderValue::from_str(&format!(
                "<{thing_path}>; rel=preload; as=fetch; crossorigin"
            )) {
                response.headers_mut().insert(LINK, link);
            }
            Ok(response)
        }
        UiRoute::Asset(asset) => {
            Ok(asset.respond(&request.headers, &content_security_policy(origin)))
        }
    }
}

/// Whether the client is a browser navigating: its `Accept` lists `text/html`.
fn wants_html(request: &Parts) -> bool {
    request
        .headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/html"))
}

/// Scripts, styles, images and connections from this server only, WebSockets to it included
/// (`'self'` covers `ws:` only in CSP Level 3 browsers); no inline code, plugins or framing.
fn content_security_policy(origin: &Origin) -> HeaderValue {
    let websocket = origin.websocket();
    let policy = format!(
        "default-src 'self'; connect-src 'self' {websocket}; img-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
    })
}

/// With tokens on, a page opened with a valid `?access_token=` keeps it in an `lt_token`
/// cookie (HttpOnly, SameSite=Strict), so the page's own files, fetches, streams and reloads
/// are let in without the token in every URL; the page's script then drops it from the
/// address bar.
fn remember_token(state: &ServerState, request: &Parts, response: &mut Response<Body>) {
    let Some(tokens) = &state.tokens else {
        return;
    };
    // One that doesn't decode was never accepted (the token check answered it 400 unless
    // another carrier let the request in): nothing to remember.
    let token = query::first(request.uri.query(), QUERY_NAME).and_then(Result::ok);
    // Only characters a cookie value may hold unquoted (RFC 6265 §4.1.1, minus `"`).
    let Some(token) = token.filter(|token| {
        !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b))
            && tokens.accepts(token)
    }) else {
        return;
    };
    // Over TLS the cookie must never go to a plain-HTTP port of the same host.
    let secure = if state.scheme == Scheme::Https {
        "; Secure"
    } else {
        ""
    };
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
    )) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
}
