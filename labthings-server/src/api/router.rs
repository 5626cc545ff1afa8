//! Routing: which handler answers a request, from its path and method.
//!
//! Paths are matched by segment against the Things and affordances known at start-up; the
//! Things themselves never see HTTP. Unknown paths are 404 and known paths with the wrong
//! method 405 with `Allow`, both with FastAPI's `{"detail": …}` bodies.

use hyper::body::Incoming;
use hyper::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use hyper::{Method, Request, Response};

use crate::api::state::{ServedThing, ServerState};
use crate::api::{actions, invocations, properties, things as descriptions};
use crate::http::origin::Origin;
use crate::http::response::{self, Body};

pub async fn handle(state: &ServerState, request: Request<Incoming>) -> Response<Body> {
    let headers = request.headers();
    if request.method() == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
        return state.cors.preflight(headers);
    }
    // Only the `Origin` header is needed once the request has been handed on.
    let cors_origin = headers.get(ORIGIN).cloned();
    let mut response = route(state, request).await;
    state.cors.decorate(cors_origin.as_ref(), &mut response);
    response
}

fn origin_of(state: &ServerState, request: &Request<Incoming>) -> Origin {
    Origin::of(request.uri(), request.headers(), &state.default_host)
}

async fn route(state: &ServerState, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path
        .strip_prefix(state.prefix.as_str())
        .and_then(|r| r.strip_prefix('/'))
    else {
        return response::not_found();
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let method = request.method().clone();
    let is_get = method == Method::GET || method == Method::HEAD;
    let prefix = &state.prefix;

    // Properties, the hot path, never need the client's origin: work it out only for the
    // routes that build absolute URLs.
    if let [name, affordance] = segments.as_slice()
        && !affordance.is_empty()
        && let Some(served) = state.thing(name)
    {
        return affordance_route(state, served, affordance, request).await;
    }
    let origin = origin_of(state, &request);
    match segments.as_slice() {
        ["things", ""] => only_get(is_get, || descriptions::things(state, &origin)),
        ["thing_descriptions", ""] => {
            only_get(is_get, || descriptions::all_descriptions(state, &origin))
        }
        ["things"] | ["thing_descriptions"] => response::redirect(&format!("{}{path}/", origin.0)),
        ["action_invocations"] => only_get(is_get, || invocations::list(state, &origin)),
        ["action_invocations", ""] => {
            response::redirect(&format!("{}{prefix}/action_invocations", origin.0))
        }
        ["action_invocations", id] => match invocations::find(state, id) {
            Err(response) => response,
            Ok(invocation) if is_get => invocations::get(state, &invocation, &origin),
            Ok(invocation) if method == Method::DELETE => invocations::cancel(&invocation),
            Ok(_) => response::method_not_allowed(&["GET", "DELETE"]),
        },
        ["action_invocations", id, "output"] => match invocations::find(state, id) {
            Err(response) => response,
            Ok(invocation) if is_get => invocations::output(&invocation),
            Ok(_) => response::method_not_allowed(&["GET"]),
        },
        [name] => match state.thing(name) {
            Some(served) => response::redirect(&format!("{}{}", origin.0, served.path)),
            None => response::not_found(),
        },
        [name, ""] => match state.thing(name) {
            Some(served) => only_get(is_get, || descriptions::thing_description(served, &origin)),
            None => response::not_found(),
        },
        [name, property, "reset"] => {
            let resettable = state
                .thing(name)
                .and_then(|served| Some((served, served.thing.metadata().property(property)?)))
                .filter(|(_, metadata)| metadata.resettable());
            match resettable {
                Some((served, metadata)) if method == Method::POST => {
                    properties::reset(state, served, metadata).await
                }
                Some(_) => response::method_not_allowed(&["POST"]),
                None => response::not_found(),
            }
        }
        _ => response::not_found(),
    }
}

async fn affordance_route(
    state: &ServerState,
    served: &ServedThing,
    name: &str,
    request: Request<Incoming>,
) -> Response<Body> {
    let metadata = served.thing.metadata();
    let method = request.method().clone();
    if let Some(property) = metadata.property(name) {
        return match method {
            Method::GET | Method::HEAD => properties::get(served, property).await,
            Method::PUT if !property.read_only => {
                properties::put(state, served, property, request).await
            }
            _ if property.read_only => response::method_not_allowed(&["GET"]),
            _ => response::method_not_allowed(&["GET", "PUT"]),
        };
    }
    if let Some(action) = metadata.action(name) {
        let origin = origin_of(state, &request);
        return match method {
            Method::POST => actions::invoke(state, served, action, request, &origin).await,
            Method::GET | Method::HEAD => actions::list(state, served, action, &origin),
            _ => response::method_not_allowed(&["GET", "POST"]),
        };
    }
    response::not_found()
}

fn only_get(is_get: bool, handler: impl FnOnce() -> Response<Body>) -> Response<Body> {
    if is_get {
        handler()
    } else {
        response::method_not_allowed(&["GET"])
    }
}
