//! A blocking wrapper for scripts: the same client, each call run to completion on a
//! current-thread tokio runtime the wrapper owns.
//!
//! Don't use it from inside an async runtime (tokio panics when a runtime blocks inside
//! another); use [`crate::ThingClient`] there.
//!
//! ```no_run
//! use labthings_client::blocking::ThingClient;
//!
//! let counter = ThingClient::from_url("http://127.0.0.1:5000/counter/")?;
//! counter.write("count", &3)?;
//! let count: i64 = counter.invoke("increment", &())?;
//! assert_eq!(count, 4);
//! # Ok::<(), labthings_client::Error>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use labthings_protocol::InvocationStatus;
use labthings_protocol::td::ThingDescription;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use crate::blob::Blob;
use crate::error::{Error, Result};
use crate::invocation::{InvocationRecord, LogRecord};
use crate::observe::Named;

fn runtime() -> Result<Arc<Runtime>> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| Error::Transport(Box::new(e)))
}

/// Browse `_wot._tcp` by mDNS for `timeout` and list the Things found (see
/// [`crate::discover`]); connect to one with [`ThingClient::connect`] and its `td_url`.
#[cfg(feature = "discovery")]
pub fn discover(timeout: Duration) -> Result<Vec<crate::DiscoveredThing>> {
    runtime()?.block_on(crate::discover(timeout))
}

/// The blocking counterpart of [`crate::ThingClient`].
#[derive(Debug, Clone)]
pub struct ThingClient {
    runtime: Arc<Runtime>,
    inner: crate::ThingClient,
}

impl ThingClient {
    /// Fetch the Thing Description at `url` and make a client for that Thing.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::connect(crate::ThingClient::builder(), url)
    }

    /// Connect with options (a token, a timeout) from the first request on.
    pub fn connect(builder: crate::ClientBuilder, url: &str) -> Result<Self> {
        let runtime = runtime()?;
        let inner = runtime.block_on(builder.connect(url))?;
        Ok(Self { runtime, inner })
    }

    /// The same client, sending `Authorization: Bearer <token>` from now on.
    pub fn with_token(self, token: impl Into<String>) -> Self {
        Self {
            inner: self.inner.with_token(token),
            runtime: self.runtime,
        }
    }

    /// The same client with another request timeout.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            inner: self.inner.with_timeout(timeout),
            runtime: self.runtime,
        }
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::ThingClient {
        &self.inner
    }

    /// The Thing Description.
    pub fn description(&self) -> &ThingDescription {
        self.inner.description()
    }

    /// The Thing's URL.
    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// The names of the Thing's properties.
    pub fn properties(&self) -> Vec<String> {
        self.inner.properties().map(str::to_owned).collect()
    }

    /// The names of the Thing's actions.
    pub fn actions(&self) -> Vec<String> {
        self.inner.actions().map(str::to_owned).collect()
    }

    /// The names of the Thing's events.
    pub fn events(&self) -> Vec<String> {
        self.inner.events().map(str::to_owned).collect()
    }

    /// See [`crate::ThingClient::read`].
    pub fn read<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        self.runtime.block_on(self.inner.read(name))
    }

    /// See [`crate::ThingClient::write`].
    pub fn write<V: Serialize + ?Sized>(&self, name: &str, value: &V) -> Result<()> {
        self.runtime.block_on(self.inner.write(name, value))
    }

    /// See [`crate::ThingClient::reset`].
    pub fn reset(&self, name: &str) -> Result<()> {
        self.runtime.block_on(self.inner.reset(name))
    }

    /// See [`crate::ThingClient::invoke`].
    pub fn invoke<O: DeserializeOwned, I: Serialize + ?Sized>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O> {
        self.runtime.block_on(self.inner.invoke(name, input))
    }

    /// See [`crate::ThingClient::start`].
    pub fn start<I: Serialize + ?Sized>(&self, name: &str, input: &I) -> Result<Invocation> {
        let inner = self.runtime.block_on(self.inner.start(name, input))?;
        Ok(Invocation {
            runtime: self.runtime.clone(),
            inner,
        })
    }

    /// See [`crate::ThingClient::download`].
    pub fn download(&self, href: &str) -> Result<Blob> {
        self.runtime.block_on(self.inner.download(href))
    }

    /// See [`crate::ThingClient::observe`]: the values as an iterator.
    pub fn observe<T: DeserializeOwned>(&self, name: &str) -> Result<Observation<T>> {
        let inner = self.runtime.block_on(self.inner.observe(name))?;
        Ok(Observation {
            runtime: self.runtime.clone(),
            inner,
        })
    }

    /// See [`crate::ThingClient::subscribe`]: the events as an iterator.
    pub fn subscribe<T: DeserializeOwned>(&self, name: &str) -> Result<Observation<T>> {
        let inner = self.runtime.block_on(self.inner.subscribe(name))?;
        Ok(Observation {
            runtime: self.runtime.clone(),
            inner,
        })
    }

    /// See [`crate::ThingClient::observe_all_properties`].
    pub fn observe_all_properties(&self) -> Result<Observation<Named>> {
        let inner = self.runtime.block_on(self.inner.observe_all_properties())?;
        Ok(Observation {
            runtime: self.runtime.clone(),
            inner,
        })
    }
}

/// The blocking counterpart of [`crate::Invocation`].
#[derive(Debug, Clone)]
pub struct Invocation {
    runtime: Arc<Runtime>,
    inner: crate::Invocation,
}

impl Invocation {
    /// Its id.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// Its URL.
    pub fn href(&self) -> String {
        self.inner.href()
    }

    /// Its status when last fetched.
    pub fn status(&self) -> InvocationStatus {
        self.inner.status()
    }

    /// The invocation JSON as last fetched.
    pub fn record(&self) -> &InvocationRecord {
        self.inner.record()
    }

    /// Fetch it again.
    pub fn refresh(&mut self) -> Result<&InvocationRecord> {
        self.runtime.block_on(self.inner.refresh())
    }

    /// Its log, fetched now.
    pub fn log(&mut self) -> Result<Vec<LogRecord>> {
        self.runtime.block_on(self.inner.log())
    }

    /// See [`crate::Invocation::cancel`].
    pub fn cancel(&self) -> Result<()> {
        self.runtime.block_on(self.inner.cancel())
    }

    /// See [`crate::Invocation::settle`].
    pub fn settle(&mut self) -> Result<&InvocationRecord> {
        self.runtime.block_on(self.inner.settle())
    }

    /// See [`crate::Invocation::wait`].
    pub fn wait<O: DeserializeOwned>(&mut self) -> Result<O> {
        self.runtime.block_on(self.inner.wait())
    }
}

/// The blocking counterpart of [`crate::Observation`]: an iterator that blocks for each
/// value.
#[derive(Debug)]
pub struct Observation<T> {
    runtime: Arc<Runtime>,
    inner: crate::Observation<T>,
}

impl<T> Observation<T> {
    /// The next value, waiting at most `timeout` (`None` when none came in time or the
    /// stream ended).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<T>> {
        let next = futures_util::StreamExt::next(&mut self.inner);
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, next).await.ok().flatten() })
    }
}

impl<T> Iterator for Observation<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        self.runtime
            .block_on(futures_util::StreamExt::next(&mut self.inner))
    }
}
