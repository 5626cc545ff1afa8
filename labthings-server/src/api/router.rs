//! Routing: a request's path is parsed once into a [`Route`] against the Things and
//! affordances known at start-up, then dispatched on the method. Each route declares the
//! methods it answers ([`Route::allowed`]) right beside the dispatch table, so a 405's `Allow`
//! header and the handlers can't drift apart. Unknown paths are 404 and known paths with the
//! wrong method 405, both with FastAPI's `{"detail": …}` bodies. The Things never see HTTP.

use hyper::body::Incoming;
use hyper::header::{ACCESS_CONTROL_REQUEST_METHOD, HeaderValue, ORIGIN, REFERRER_POLICY, UPGRADE};
use hyper::http::request::Parts;
use hyper::upgrade::OnUpgrade;
use hyper::{Method, Request, Response};
use labthings_core::{ActionMetadata, EventMetadata, PropertyMetadata, StreamMetadata};
use labthings_protocol::paths::seg;

use crate::api::history::{self, HistoryRoute};
use crate::api::push::wants_event_stream;
use crate::api::{actions, blobs, endpoints, invocations, properties, push, streams, things};
use crate::discovery::directory;
use crate::docs;
use crate::http::auth::{self, Carrier};
use crate::http::cors::Cors;
use crate::http::error::ApiError;
use crate::http::grant::Grant;
use crate::http::host_check;
use crate::http::response::{self, Body};
use crate::push::sse::Stream;
use crate::state::{ServedThing, ServerState};
use crate::ui::{self, UiRoute};

/// Answer one request: host check, CORS preflight, the token and cross-site checks, else
/// route, dispatch and add the CORS headers.
pub async fn handle(state: &ServerState, mut request: Request<Incoming>) -> Response<Body> {
    let headers = request.headers();
    // First of all: a page rebound to this address learns nothing, not even CORS answers.
    if let Some(hosts) = &state.allowed_hosts
        && !hosts.allows(headers, request.uri())
    {
        return host_check::refusal();
    }
    if request.method() == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
        return state.cors.preflight(headers);
    }
    // Only then is the server's own origin worth spelling out (reads, clients that aren't
    // browsers and a page's same-origin requests pass without it).
    let own = if auth::compares_origin(request.method(), headers) {
        own_origin(state, &request)
    } else {
        String::new()
    };
    let trusted = auth::TrustedOrigins {
        own: &own,
        listed: match &state.cors {
            Cors::Origins(listed) => listed,
            Cors::AnyOrigin | Cors::Disabled => &[],
        },
    };
    // Before anything else, the WebSocket upgrade included: a refused request learns nothing.
    let admitted = state
        .tokens
        .as_ref()
        .map(|tokens| (tokens, tokens.admit(headers, request.uri())));
    let refused = match &admitted {
        Some((_, Err(refusal))) => Some(refusal.into_response()),
        Some((_, Ok((Carrier::Cookie, _))))
            if !auth::change_allowed(request.method(), headers, trusted) =>
        {
            Some(auth::cross_site_refusal(true))
        }
        Some(_) => None,
        // Without tokens any page can send requests: only trusted ones may change things.
        None => (!auth::change_allowed(request.method(), headers, trusted))
            .then(|| auth::cross_site_refusal(false)),
    };
    if let Some(mut response) = refused {
        state.cors.decorate(headers.get(ORIGIN), &mut response);
        return with_referrer_policy(state, response);
    }
    // Streams this request opens end when a reload revokes its token.
    if let Some((tokens, Ok((_, digest)))) = admitted {
        let grant = Grant::new(tokens.clone(), digest);
        request.extensions_mut().insert(grant);
    }
    // The body goes to the handler; the path, method and headers stay borrowed here.
    let (mut parts, body) = request.into_parts();
    // Only a WebSocket handshake needs the connection's upgrade.
    let on_upgrade = parts
        .headers
        .contains_key(UPGRADE)
        .then(|| parts.extensions.remove::<OnUpgrade>())
        .flatten();
    let answer = match Route::parse(state, parts.uri.path()) {
        // At the root whatever the API prefix (RFC 8615), so it can be found knowing only the
        // host.
        None if parts.uri.path() == WELL_KNOWN => well_known(state, &parts),
        Some(route) => dispatch(state, route, &parts, body, on_upgrade).await,
        None => Err(ApiError::NotFound),
    };
    let mut response = answer.unwrap_or_else(ApiError::into_response);
    state
        .cors
        .decorate(parts.headers.get(ORIGIN), &mut response);
    with_referrer_policy(state, response)
}

/// W3C WoT Discovery's well-known TD URL.
const WELL_KNOWN: &str = "/.well-known/wot";

/// `GET /.well-known/wot`: the directory TD.
fn well_known(state: &ServerState, request: &Parts) -> Result<Response<Body>, ApiError> {
    if request.method != Method::GET && request.method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed(&["GET"]));
    }
    let origin = state.origin_of(&request.uri, &request.headers);
    Ok(directory::response(state, &origin))
}

/// The server's own origin, as the request reached it (its `Host`, checked above when there
/// are no tokens).
fn own_origin(state: &ServerState, request: &Request<Incoming>) -> String {
    state
        .origin_of(request.uri(), request.headers())
        .to_string()
}

/// With tokens on, pages must not leak a `?access_token=` URL through `Referer`.
fn with_referrer_policy(state: &ServerState, mut response: Response<Body>) -> Response<Body> {
    if state.tokens.is_some() {
        response
            .headers_mut()
            .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    response
}

/// What a path names. `'s` borrows from the server state, `'p` from the request's path.
#[derive(Clone, Copy)]
enum Route<'s, 'p> {
    /// `P/things/`: `{name: TD URL}`.
    Directory,
    /// `P/thing_descriptions/`: `{name: TD}`.
    Descriptions,
    /// `P/things`, `P/thing_descriptions` (the whole path): 307 to it with a slash.
    AddSlash(&'p str),
    /// `P/action_invocations`.
    Invocations,
    /// `P/action_invocations/`: 307 to it without the slash.
    DropSlash,
    /// `P/action_invocations/{id}` (`id` not yet parsed).
    Invocation(&'p str),
    /// `P/action_invocations/{id}/output`.
    InvocationOutput(&'p str),
    /// `P/blob/{id}`: a blob an invocation keeps.
    Blob(&'p str),
    /// `P/history/…`: the durable history.
    History(HistoryRoute<'p>),
    /// `P/openapi.json`: the OpenAPI document.
    OpenApi,
    /// `P/docs` (`""`) and `P/docs/<file>`: Swagger UI.
    Docs(&'p str),
    /// `P/<name>`: 307 to the Thing's path.
    ThingRedirect(&'s ServedThing),
    /// `T`: the Thing Description.
    Thing(&'s ServedThing),
    /// `T<prop>`.
    Property(&'s ServedThing, &'static PropertyMetadata),
    /// `T<action>`.
    Action(&'s ServedThing, &'static ActionMetadata),
    /// `T<prop>/reset`, for resettable properties only.
    Reset(&'s ServedThing, &'static PropertyMetadata),
    /// `T<event>`: its Server-Sent Events stream.
    Event(&'s ServedThing, &'static EventMetadata),
    /// `T<stream>`: an MJPEG stream.
    Stream(&'s ServedThing, &'static StreamMetadata),
    /// `T<stream>/viewer`: a page showing it.
    StreamViewer(&'s ServedThing, &'static StreamMetadata),
    /// `T` + `ws`: the WebSocket.
    WebSocket(&'s ServedThing),
    /// `T` + `properties`: every property write, as named Server-Sent Events.
    AllProperties(&'s ServedThing),
    /// `T` + `events`: every event, as named Server-Sent Events.
    AllEvents(&'s ServedThing),
    /// `T<path>`: the Thing's `#[endpoint]` methods at `path` (one or more segments).
    Endpoint(&'s ServedThing, &'static str),
    /// The web UI (`P/ui/…`) and the root a browser is redirected from.
    Ui(UiRoute<'s>),
}

impl<'s, 'p> Route<'s, 'p> {
    /// The route `path` names, or `None` (404). Allocates nothing. Endpoints are looked for
    /// only where no affordance is (their paths never start with one's name), so the
    /// affordances' routes cost no more for them.
    fn parse(state: &'s ServerState, path: &'p str) -> Option<Self> {
        if let Some(ui) = UiRoute::parse(state, path) {
            return Some(Route::Ui(ui));
        }
        Self::parse_history(state, path)
            .or_else(|| Self::parse_fixed(state, path))
            .or_else(|| Self::parse_endpoint(state, path))
    }

    /// `P/history/<rest>`: its own table (its paths have up to four segments).
    fn parse_history(state: &'s ServerState, path: &'p str) -> Option<Self> {
        let rest = path.strip_prefix(state.paths.prefix())?.strip_prefix('/')?;
        let rest = rest.strip_prefix(seg::HISTORY)?.strip_prefix('/')?;
        HistoryRoute::parse(rest).map(Route::History)
    }

    /// `T<path>` for an endpoint path of Thing `T`.
    fn parse_endpoint(state: &'s ServerState, path: &'p str) -> Option<Self> {
        let rest = path.strip_prefix(state.paths.prefix())?.strip_prefix('/')?;
        let (name, under) = rest.split_once('/')?;
        let served = state.thing(name)?;
        Some(Route::Endpoint(served, endpoints::at(served, under)?))
    }

    fn parse_fixed(state: &'s ServerState, path: &'p str) -> Option<Self> {
        let rest = path.strip_prefix(state.paths.prefix())?.strip_prefix('/')?;
        let mut segments = rest.split('/');
        let first = segments.next()?;
        let second = segments.next();
        let third = segments.next();
        if segments.next().is_some() {
            return None;
        }
        // Thing names never collide with the fixed names (`RESERVED_THING_NAMES`), so the order of
        // these arms does not matter.
        Some(match (first, second, third) {
            (seg::THINGS, Some(""), None) => Route::Directory,
            (seg::THING_DESCRIPTIONS, Some(""), None) => Route::Descriptions,
            (seg::THINGS | seg::THING_DESCRIPTIONS, None, None) => Route::AddSlash(path),
            (seg::ACTION_INVOCATIONS, None, None) => Route::Invocations,
            (seg::ACTION_INVOCATIONS, Some(""), None) => Route::DropSlash,
            (seg::ACTION_INVOCATIONS, Some(id), None) => Route::Invocation(id),
            (seg::ACTION_INVOCATIONS, Some(id), Some(seg::OUTPUT)) => Route::InvocationOutput(id),
            (seg::BLOB, Some(id), None) if !id.is_empty() => Route::Blob(id),
            (seg::OPENAPI_JSON, None, None) => Route::OpenApi,
            (seg::DOCS, None, None) => Route::Docs(""),
            (seg::DOCS, Some(file), None) => Route::Docs(file),
            (name, None, None) => Route::ThingRedirect(state.thing(name)?),
            (name, Some(""), None) => Route::Thing(state.thing(name)?),
            (name, Some(affordance), None) => {
                let served = state.thing(name)?;
                let metadata = served.thing.metadata();
                // The macros refuse affordances named `ws`, `properties` or `events`.
                match affordance {
                    seg::WS => Route::WebSocket(served),
                    seg::PROPERTIES => Route::AllProperties(served),
                    seg::EVENTS => Route::AllEvents(served),
                    _ => match metadata.property(affordance) {
                        Some(property) => Route::Property(served, property),
                        None => match metadata.event(affordance) {
                            Some(event) => Route::Event(served, event),
                            None => match metadata.stream(affordance) {
                                Some(stream) => Route::Stream(served, stream),
                                None => Route::Action(served, metadata.action(affordance)?),
                            },
                        },
                    },
                }
            }
            (name, Some(stream), Some(seg::VIEWER)) => {
                let served = state.thing(name)?;
                Route::StreamViewer(served, served.thing.metadata().stream(stream)?)
            }
            (name, Some(property), Some(seg::RESET)) => {
                let served = state.thing(name)?;
                let property = served.thing.metadata().property(property)?;
                if !property.resettable() {
                    return None;
                }
                Route::Reset(served, property)
            }
            _ => return None,
        })
    }

    /// The methods the route answers (`HEAD` goes with `GET`), for a 405's `Allow` header;
    /// `None` for the redirects, which answer every method.
    fn allowed(self) -> Option<&'static [&'static str]> {
        Some(match self {
            // Endpoints answer 405 themselves: their methods vary by path.
            Route::AddSlash(_)
            | Route::DropSlash
            | Route::ThingRedirect(_)
            | Route::Endpoint(..) => {
                return None;
            }
            Route::Directory
            | Route::Descriptions
            | Route::Invocations
            | Route::InvocationOutput(_)
            | Route::Blob(_)
            | Route::History(_)
            | Route::OpenApi
            | Route::Docs(_)
            | Route::Thing(_)
            | Route::Event(..)
            | Route::Stream(..)
            | Route::StreamViewer(..)
            | Route::WebSocket(_)
            | Route::AllProperties(_)
            | Route::AllEvents(_)
            | Route::Ui(_) => &["GET"],
            Route::Invocation(_) => &["GET", "DELETE"],
            Route::Property(_, property) if property.read_only => &["GET"],
            Route::Property(..) => &["GET", "PUT"],
            Route::Action(..) => &["GET", "POST"],
            Route::Reset(..) => &["POST"],
        })
    }
}

/// Call the handler for `route` and the request's method.
async fn dispatch(
    state: &ServerState,
    route: Route<'_, '_>,
    request: &Parts,
    body: Incoming,
    on_upgrade: Option<OnUpgrade>,
) -> Result<Response<Body>, ApiError> {
    let method = &request.method;
    let get = method == Method::GET || method == Method::HEAD;
    // Properties, the hot path, never need the client's origin: it is worked out only for the
    // routes that build absolute URLs.
    let origin = || state.origin_of(&request.uri, &request.headers);
    let not_allowed = || ApiError::MethodNotAllowed(route.allowed().unwrap_or_default());
    let stream = |served, stream| push::event_stream(state, served, stream, request, &origin());
    match route {
        Route::Property(served, property) if get && wants_event_stream(&request.headers) => {
            if !property.observable() {
                return Err(ApiError::Problem(properties::not_observable(property.name)));
            }
            stream(served, Stream::Property(property.name.into()))
        }
        Route::Property(served, property) if get => properties::get(served, property).await,
        Route::Property(served, property) if method == Method::PUT && !property.read_only => {
            properties::put(state, served, property, request, body).await
        }
        Route::Reset(served, property) if method == Method::POST => {
            properties::reset(state, served, property).await
        }
        Route::Action(served, action) if method == Method::POST => {
            actions::invoke(state, served, action, request, body, &origin()).await
        }
        Route::Action(served, action) if get && wants_event_stream(&request.headers) => {
            stream(served, Stream::Action(action.name.into()))
        }
        Route::Action(served, action) if get => Ok(actions::list(state, served, action, &origin())),
        Route::Event(served, event) if get => stream(served, Stream::Event(event.name.into())),
        Route::Stream(served, metadata) if get => streams::mjpeg(state, served, metadata, request),
        Route::StreamViewer(served, metadata) if get => Ok(streams::viewer(served, metadata)),
        Route::AllProperties(served) if get => stream(served, Stream::AllProperties),
        Route::AllEvents(served) if get => stream(served, Stream::AllEvents),
        Route::WebSocket(served) if get => {
            push::websocket(state, served, request, on_upgrade, &origin())
        }
        Route::Thing(served) if get => Ok(things::thing_description(served, &origin())),
        Route::Directory if get => Ok(things::things(state, &origin())),
        Route::Descriptions if get => Ok(things::all_descriptions(state, &origin())),
        Route::Invocations if get => invocations::list(state, &origin(), request.uri.query()),
        Route::History(route) if get => history::answer(state, route, request, &origin()).await,
        // An invocation memory no longer holds may be in the history (reads only).
        Route::Invocation(id)
            if get
                && invocations::find(state, id).is_err()
                && let Some(answer) = history::expired_invocation(state, id, &origin()).await? =>
        {
            Ok(answer)
        }
        // The id is looked up before the method is checked: a bad id is 422 or 404 whatever
        // the method.
        Route::Invocation(id) => {
            let invocation = invocations::find(state, id)?;
            match *method {
                _ if get => Ok(invocations::get(state, &invocation, &origin())),
                Method::DELETE => invocations::cancel(&invocation),
                _ => Err(not_allowed()),
            }
        }
        Route::InvocationOutput(id) => {
            let invocation = invocations::find(state, id)?;
            if get {
                invocations::output(state, &invocation, request, &origin()).await
            } else {
                Err(not_allowed())
            }
        }
        Route::Blob(id) if get => blobs::download(state, id, request).await,
        Route::OpenApi if get => Ok(docs::openapi_json(state, &origin())),
        Route::Docs(file) if get => docs::page(state, file, &request.headers),
        Route::Endpoint(served, path) => {
            endpoints::handle(state, served, path, request, body).await
        }
        Route::Ui(route) => ui::answer(state, route, request, &origin()),
        Route::AddSlash(path) => Ok(response::redirect(&format!("{}{path}/", origin()))),
        Route::DropSlash => Ok(response::redirect(&format!(
            "{}{}",
            origin(),
            state.paths.invocations()
        ))),
        Route::ThingRedirect(served) => {
            Ok(response::redirect(&format!("{}{}", origin(), served.path)))
        }
        _ => Err(not_allowed()),
    }
}
