//! `POST T<action>?sync=true`: the synchronous way to invoke an action, for WoT consumers
//! (node-wot) that take an `invokeaction` answer's body as the action's output.
//!
//! The reference answers every `POST T<action>` with `201` and the invocation (WoT's
//! asynchronous action), and its `ThingClient` relies on that, so the plain route keeps doing
//! so. With `?sync=true` the request waits for the invocation to end and answers as WoT's
//! synchronous action does: `200` with the output (blob outputs as their JSON link), or the
//! invocation's error as problem+json with its status (`500`, or the reference's
//! cancelled-error for a cancelled one). An invocation still running after the longest wait
//! gets the asynchronous answer after all, so no request is parked for ever. The invocation is
//! recorded as any other: `GET /action_invocations/{id}` shows it, before and after.

use hyper::{Response, StatusCode, Uri};

use labthings_protocol::InvocationStatus as Status;
use labthings_protocol::paths::SYNC_QUERY;
use labthings_protocol::problem::Problem;

use crate::api::invocation_view::{self, Links};
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::response::{self, Body};
use crate::runtime::invocation::Invocation;

/// Whether the request asks for the synchronous answer (`sync=true` in the query); a `sync`
/// that doesn't decode is a 400, and the rest of the query isn't read.
pub fn requested(uri: &Uri) -> Result<bool, ApiError> {
    // The protocol spells the pair whole, as the TD's form appends it.
    let Some((name, value)) = SYNC_QUERY.split_once('=') else {
        return Ok(false);
    };
    Ok(query::param(uri.query(), name)?.as_deref() == Some(value))
}

/// The synchronous answer for a finished `invocation`; `None` while it hasn't finished.
/// `links` make blob links absolute.
pub fn answer(invocation: &Invocation, links: Links<'_>) -> Option<Response<Body>> {
    let run = invocation.state();
    match run.status {
        Status::Pending | Status::Running | Status::Unknown => None,
        Status::Completed => Some(response::json(
            StatusCode::OK,
            &invocation_view::output(&run, links),
        )),
        Status::Cancelled => Some(response::problem(&Problem::cancelled())),
        Status::Error => Some(response::problem(&run.error.clone().unwrap_or_else(|| {
            Problem::internal("InvocationError", "The action failed.")
        }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sync_true_asks_for_it() {
        let asks = |uri: &'static str| requested(&Uri::from_static(uri)).expect(uri);
        assert!(asks("/counter/increment?sync=true"));
        assert!(asks("/counter/increment?sync=%74rue"));
        assert!(asks("/counter/increment?a=1&sync=true"));
        assert!(!asks("/counter/increment"));
        assert!(!asks("/counter/increment?sync=false"));
        assert!(!asks("/counter/increment?async=sync=true"));
        assert!(requested(&Uri::from_static("/counter/increment?sync=%")).is_err());
    }
}
