//! Where everything is: the route words, the URL of every resource under an API prefix, the
//! names a Thing or an affordance can't have because a route uses them, and the rule for an
//! `#[endpoint]` path.
//!
//! The server parses URLs with the words in [`seg`] and builds them with [`ApiPaths`]; the
//! core builds a TD's hrefs with [`ApiPaths`]; the macros and the server's start-up check
//! refuse names with [`RESERVED_AFFORDANCE_NAMES`] and [`endpoint_path_problem`]. A new route
//! is added here once.

use std::fmt;

/// The fixed words of the URL scheme.
pub mod seg {
    /// `P/things/`: the directory of Things.
    pub const THINGS: &str = "things";
    /// `P/thing_descriptions/`: every Thing's TD by name.
    pub const THING_DESCRIPTIONS: &str = "thing_descriptions";
    /// `P/action_invocations[/<id>[/output]]`.
    pub const ACTION_INVOCATIONS: &str = "action_invocations";
    /// `P/action_invocations/<id>/output`.
    pub const OUTPUT: &str = "output";
    /// `P/blob/<id>`: a blob an invocation's output links to.
    pub const BLOB: &str = "blob";
    /// `P/history/…`: the durable history (invocations, property values, events).
    pub const HISTORY: &str = "history";
    /// `P/history/invocations[/<id>]`.
    pub const INVOCATIONS: &str = "invocations";
    /// `P/history/status`: the writer's counters.
    pub const STATUS: &str = "status";
    /// `P/docs`: Swagger UI.
    pub const DOCS: &str = "docs";
    /// `P/redoc`: the reference's ReDoc page (reserved, not served).
    pub const REDOC: &str = "redoc";
    /// `P/openapi.json`.
    pub const OPENAPI_JSON: &str = "openapi.json";
    /// The reference's fallback server's page (reserved, not served).
    pub const FALLBACK: &str = "labthings_fallback";
    /// `T ws`: a Thing's WebSocket.
    pub const WS: &str = "ws";
    /// `P/ui/[<name>]`: the web UI.
    pub const UI: &str = "ui";
    /// `T properties`: every property's writes, as SSE.
    pub const PROPERTIES: &str = "properties";
    /// `T events`: every event, as SSE.
    pub const EVENTS: &str = "events";
    /// `T<prop>/reset`: reset a setting to its default.
    pub const RESET: &str = "reset";
    /// `T<stream>/viewer`: a page showing an MJPEG stream.
    pub const VIEWER: &str = "viewer";
}

/// The most summaries one page of `P/action_invocations?limit=&after=` holds: `limit`'s
/// maximum (a larger one is a 422), and its default when only `after` is given.
pub const INVOCATIONS_PAGE_MAX: usize = 1000;

/// Names a Thing can't be served under: the server's own routes under the prefix use them.
pub const RESERVED_THING_NAMES: [&str; 11] = [
    seg::HISTORY,
    seg::ACTION_INVOCATIONS,
    seg::THINGS,
    seg::THING_DESCRIPTIONS,
    seg::BLOB,
    seg::DOCS,
    seg::REDOC,
    seg::OPENAPI_JSON,
    seg::FALLBACK,
    seg::WS,
    seg::UI,
];

/// Names an affordance can't have, nor an endpoint's path start with: the server's own routes
/// under each Thing (`T properties`, `T events`, `T ws`) and the web UI's.
pub const RESERVED_AFFORDANCE_NAMES: [&str; 4] = [seg::PROPERTIES, seg::EVENTS, seg::WS, seg::UI];

/// The query that makes `POST T<action>` answer synchronously, with the output (the TD's first
/// `invokeaction` form, for WoT consumers such as node-wot).
pub const SYNC_QUERY: &str = "sync=true";

/// Whether a URL's `query` (what follows `?`) asks for the synchronous answer, spelled as the
/// TD's forms spell it: the client's form filter. (The server's route decodes the query first,
/// so it also takes an escaped spelling.)
pub fn asks_sync(query: &str) -> bool {
    query.split('&').any(|pair| pair == SYNC_QUERY)
}

/// `http` or `https`: how a client reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The WebSocket scheme over the same transport: `ws` or `wss`.
    pub fn websocket(self) -> &'static str {
        match self {
            Scheme::Http => "ws",
            Scheme::Https => "wss",
        }
    }
}

/// The scheme and authority a client used, e.g. `http://127.0.0.1:5000` (its `Display`):
/// absolute URLs in answers (a TD's `base`, invocation `href`s, redirects) are built on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The scheme.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
}

impl Origin {
    /// The origin `scheme://authority`.
    pub fn new(scheme: Scheme, authority: impl Into<String>) -> Self {
        Self {
            scheme,
            authority: authority.into(),
        }
    }

    /// The same server over WebSocket: `ws://host:port` or `wss://host:port`.
    pub fn websocket(&self) -> String {
        format!("{}://{}", self.scheme.websocket(), self.authority)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority)
    }
}

/// The paths of a server's resources under its API prefix: `P` in `P/things/`, `T` =
/// `P/<thing>/` in `T<affordance>`. Paths, not URLs: put an [`Origin`] in front for a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiPaths {
    prefix: String,
}

impl ApiPaths {
    /// Under `prefix`: empty, or `/`-led without a trailing `/` (e.g. `/api/v1`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// Why `prefix` can't be an API prefix, if it can't.
    pub fn prefix_problem(prefix: &str) -> Option<&'static str> {
        let bad = !prefix.is_empty()
            && (!prefix.starts_with('/') || prefix.ends_with('/') || prefix.contains("//"));
        bad.then_some("a prefix starts with `/` and has no trailing or doubled `/`")
    }

    /// `P`, e.g. `/api/v1` (empty without a prefix).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `P/things/`: the directory of Things.
    pub fn things(&self) -> String {
        format!("{}/{}/", self.prefix, seg::THINGS)
    }

    /// `P/thing_descriptions/`: every Thing's TD, by name.
    pub fn thing_descriptions(&self) -> String {
        format!("{}/{}/", self.prefix, seg::THING_DESCRIPTIONS)
    }

    /// `P/ui/`: the web UI's index page.
    pub fn ui_index(&self) -> String {
        format!("{}/{}/", self.prefix, seg::UI)
    }

    /// `T` = `P/<thing>/`.
    pub fn thing(&self, thing: &str) -> String {
        format!("{}/{thing}/", self.prefix)
    }

    /// `T<affordance>`: a property, action, event, stream or endpoint path of a Thing.
    pub fn affordance(&self, thing: &str, affordance: &str) -> String {
        format!("{}/{thing}/{affordance}", self.prefix)
    }

    /// `T ws`: the Thing's WebSocket.
    pub fn ws(&self, thing: &str) -> String {
        self.affordance(thing, seg::WS)
    }

    /// `T properties`: every property write of the Thing, as SSE.
    pub fn all_properties(&self, thing: &str) -> String {
        self.affordance(thing, seg::PROPERTIES)
    }

    /// `T events`: every event of the Thing, as SSE.
    pub fn all_events(&self, thing: &str) -> String {
        self.affordance(thing, seg::EVENTS)
    }

    /// `P/ui/<thing>`: the Thing's web page, beside the API under the same prefix, so a proxy
    /// forwarding the prefix forwards it too.
    pub fn ui_page(&self, thing: &str) -> String {
        format!("{}/{}/{thing}", self.prefix, seg::UI)
    }

    /// `P/action_invocations`: every invocation.
    pub fn invocations(&self) -> String {
        format!("{}/{}", self.prefix, seg::ACTION_INVOCATIONS)
    }

    /// `P/action_invocations/<id>`.
    pub fn invocation(&self, id: impl fmt::Display) -> String {
        format!("{}/{id}", self.invocations())
    }

    /// `P/action_invocations/<id>/output`.
    pub fn invocation_output(&self, id: impl fmt::Display) -> String {
        format!("{}/{}", self.invocation(id), seg::OUTPUT)
    }

    /// `P/blob/<id>`.
    pub fn blob(&self, id: impl fmt::Display) -> String {
        format!("{}/{}/{id}", self.prefix, seg::BLOB)
    }

    /// `P/history/`: the durable history's routes start here.
    pub fn history(&self) -> String {
        format!("{}/{}/", self.prefix, seg::HISTORY)
    }

    /// `P/history/invocations`: recorded invocations, newest first.
    pub fn history_invocations(&self) -> String {
        format!("{}{}", self.history(), seg::INVOCATIONS)
    }
}

/// A blob's href relative to the API prefix, `blob/<id>`: how an output links to a blob
/// before the server makes the link absolute.
pub fn relative_blob_href(id: impl fmt::Display) -> String {
    format!("{}/{id}", seg::BLOB)
}

/// Why `path` can't be an endpoint's path under its Thing, if it can't: the rule `#[thing]`
/// applies at compile time and the server at start-up (for hand-written Things).
pub fn endpoint_path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some(
            "an endpoint's path can't be empty; leave `path` out to use the method's name".into(),
        );
    }
    if path.starts_with('/') {
        return Some(format!(
            "an endpoint's path is relative to its Thing's: write `path = \"{}\"`",
            path.trim_start_matches('/')
        ));
    }
    if path.ends_with('/') || path.contains("//") {
        return Some(
            "an endpoint's path can't have an empty segment (a trailing or doubled `/`)".into(),
        );
    }
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c)))
    {
        return Some(format!(
            "`{}` can't be in an endpoint's path: use letters, digits, `-`, `.`, `_`, `~` and \
             `/` between segments (so the path is the same in every URL, never percent-encoded)",
            bad.escape_default()
        ));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Some("an endpoint's path can't have `.` or `..` segments".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_a_prefix_and_without() {
        for (prefix, paths) in [("", ApiPaths::default()), ("/api", ApiPaths::new("/api"))] {
            assert_eq!(paths.things(), format!("{prefix}/things/"));
            assert_eq!(
                paths.thing_descriptions(),
                format!("{prefix}/thing_descriptions/")
            );
            assert_eq!(paths.ui_index(), format!("{prefix}/ui/"));
            assert_eq!(paths.thing("cam"), format!("{prefix}/cam/"));
            assert_eq!(
                paths.affordance("cam", "gain"),
                format!("{prefix}/cam/gain")
            );
            assert_eq!(paths.ws("cam"), format!("{prefix}/cam/ws"));
            assert_eq!(
                paths.all_properties("cam"),
                format!("{prefix}/cam/properties")
            );
            assert_eq!(paths.all_events("cam"), format!("{prefix}/cam/events"));
            assert_eq!(paths.ui_page("cam"), format!("{prefix}/ui/cam"));
            assert_eq!(paths.invocations(), format!("{prefix}/action_invocations"));
            assert_eq!(
                paths.invocation(7),
                format!("{prefix}/action_invocations/7")
            );
            assert_eq!(
                paths.invocation_output(7),
                format!("{prefix}/action_invocations/7/output")
            );
            assert_eq!(paths.blob(7), format!("{prefix}/blob/7"));
        }
        assert_eq!(relative_blob_href(7), "blob/7");
    }

    #[test]
    fn origins_and_their_websocket() {
        let origin = Origin::new(Scheme::Https, "lab:5000");
        assert_eq!(origin.to_string(), "https://lab:5000");
        assert_eq!(origin.websocket(), "wss://lab:5000");
        assert_eq!(Origin::new(Scheme::Http, "h").websocket(), "ws://h");
    }

    #[test]
    fn prefixes_and_endpoint_paths() {
        for fine in ["", "/api", "/api/v1"] {
            assert_eq!(ApiPaths::prefix_problem(fine), None, "{fine}");
        }
        for bad in ["api", "/api/", "/a//b"] {
            assert!(ApiPaths::prefix_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(endpoint_path_problem("a/b.csv"), None);
        for bad in ["", "/x", "a/", "a//b", "a b", "../x", "a/./b"] {
            assert!(endpoint_path_problem(bad).is_some(), "{bad}");
        }
    }
}
