//! A client for LabThings Things: anything that serves a W3C Thing Description the way the
//! Python `labthings-fastapi` 0.3.0 does, our Rust server included.
//!
//! [`ThingClient::from_url`] fetches a Thing Description (following the 307 from `/counter`
//! to `/counter/`) and builds every affordance's URL from the TD's forms, resolved against
//! its `base` (falling back to `T<name>`, as the reference's Python client does). Then:
//!
//! * properties: [`read`](ThingClient::read) and [`write`](ThingClient::write), serde-typed;
//! * actions: [`invoke`](ThingClient::invoke) awaits the output, [`start`](ThingClient::start)
//!   returns an [`Invocation`] to poll, [`cancel`](Invocation::cancel), read the
//!   [`log`](Invocation::log) of, or [`wait`](Invocation::wait) for;
//! * push: [`observe`](ThingClient::observe) a property or [`subscribe`](ThingClient::subscribe)
//!   to an event, as a `futures` [`Stream`](futures_core::Stream) of typed values over
//!   server-sent events (reconnecting with `Last-Event-ID`);
//! * blobs: [`download`](ThingClient::download) any href as bytes and a media type, or decode
//!   an action's output as a [`RemoteBlob`] that downloads itself;
//! * errors are typed after the wire protocol: [`Error::Validation`] for 422 bodies,
//!   [`Error::Problem`] for failed invocations and problem+json answers,
//!   [`Error::Cancelled`], [`Error::Http`] for the rest;
//! * a bearer token ([`ThingClient::with_token`], or [`ClientBuilder::token`] to send it with
//!   the TD request too);
//! * [`blocking::ThingClient`] for scripts.
//!
//! Plain HTTP/1.1 on hyper; no TLS. [`ThingClient::list_things`] lists what a server serves
//! (`GET /things/`). With the cargo feature `discovery`, `discover` browses the local network
//! by mDNS (`_wot._tcp`) and lists the Things found, each with its TD's URL; with `mqtt`,
//! `announced` lists the Things whose TDs a broker holds (servers run with `--mqtt`), across
//! subnets mDNS does not reach; otherwise give
//! whatever found a Thing its URL to [`ThingClient::from_url`], or its TD to
//! [`ThingClient::from_td`].
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use labthings_client::{Error, ThingClient};
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), Error> {
//! let counter = ThingClient::from_url("http://127.0.0.1:5000/counter/").await?;
//! println!("properties: {:?}", counter.properties().collect::<Vec<_>>());
//!
//! counter.write("count", &41).await?;
//! let count: i64 = counter.invoke("increment", &()).await?;
//! assert_eq!(count, 42);
//!
//! match counter.write("count", &"abc").await {
//!     Err(Error::Validation(issues)) => println!("refused: {}", issues[0].msg),
//!     other => println!("{other:?}"),
//! }
//!
//! let mut slow = counter.start("slow", &json!({"duration": 10.0})).await?;
//! slow.cancel().await?;
//! assert!(matches!(slow.wait::<u64>().await, Err(Error::Cancelled)));
//!
//! let mut counts = counter.observe::<i64>("count").await?;
//! while let Some(count) = counts.next().await {
//!     println!("count is now {}", count?);
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod action;
#[cfg(feature = "mqtt")]
mod announced;
mod blob;
pub mod blocking;
mod client;
mod directory;
#[cfg(feature = "discovery")]
mod discovery;
mod error;
mod invocation;
mod observe;
mod property;
pub mod sse;
mod transport;
mod url;

#[cfg(feature = "mqtt")]
pub use announced::{AnnouncedThing, DEFAULT_FILTER, announced};
pub use blob::{Blob, BlobLink, RemoteBlob};
pub use client::{ClientBuilder, DEFAULT_PREFER_WAIT, ThingClient};
#[cfg(feature = "discovery")]
pub use discovery::{Discovered, DiscoveredThing, Discovery, SERVICE_TYPE, discover};
pub use error::{BoxError, Error, Result};
pub use invocation::{Invocation, InvocationRecord, LogRecord};
pub use labthings_protocol::td::{
    ActionAffordance, EventAffordance, Form, PropertyAffordance, ThingDescription,
};
pub use labthings_protocol::{InvocationStatus, Problem, ValidationIssue};
pub use observe::{MAX_RECONNECTS, Named, Observation, STREAM_IDLE};
pub use transport::DEFAULT_TIMEOUT;
