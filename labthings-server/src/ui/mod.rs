//! The web UI: `P/ui/` lists the Things, `P/ui/<thing>` is a live page for one Thing, and a
//! browser asking for the server's root is sent there.
//!
//! The pages are static HTML, CSS and JavaScript embedded in the binary (`assets/ui/`): the
//! script builds everything from the Thing Description and the push streams the protocol
//! defines (the SSE `T` + `properties` and `T` + `events`, invocation JSON), so the server
//! renders nothing per Thing and the page works against any server speaking the protocol.
//! The page sits beside the API under the same prefix, so it finds the API from its own URL.

mod assets;
mod pages;

pub use pages::UiRoute;
pub use pages::answer;
