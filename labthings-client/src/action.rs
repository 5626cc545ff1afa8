//! Invoking actions: start one and get an [`Invocation`] handle, or invoke and await the
//! output.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use hyper::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::ThingClient;
use crate::error::{Error, Result};
use crate::invocation::{Invocation, InvocationRecord};

impl ThingClient {
    /// Invoke the action `name` with `input` and wait for its output, as an `O`.
    ///
    /// `input` is the JSON object of the action's parameters (a `serde_json::json!` object or
    /// any `Serialize` struct); `()` (JSON `null`) sends `{}`, which every server takes for
    /// "no input" and "all defaults". The request asks the server to hold its answer until
    /// the invocation finishes (`Prefer: wait=N`, see
    /// [`ClientBuilder::prefer_wait`](crate::ClientBuilder::prefer_wait)) and polls the
    /// invocation's `href` after that, or at once on servers that ignore the header.
    ///
    /// A refused input is an [`Error::Validation`]; an action that fails, an
    /// [`Error::Problem`]; one cancelled meanwhile, [`Error::Cancelled`].
    pub async fn invoke<O: DeserializeOwned, I: Serialize + ?Sized>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O> {
        let mut invocation = self.post_action(name, input, self.prefer_wait).await?;
        invocation.wait().await
    }

    /// Start the action `name` with `input` and return at once with a handle on the
    /// invocation (to poll, cancel, read the log of, or wait for).
    pub async fn start<I: Serialize + ?Sized>(&self, name: &str, input: &I) -> Result<Invocation> {
        self.post_action(name, input, Duration::ZERO).await
    }

    /// A handle on an existing invocation, by its `href` (absolute, or relative to the TD's
    /// base, such as `/action_invocations/<id>`).
    pub async fn invocation(&self, href: &str) -> Result<Invocation> {
        let url = self.resolve(href)?;
        Invocation::fetch(self.transport.clone(), &url).await
    }

    async fn post_action<I: Serialize + ?Sized>(
        &self,
        name: &str,
        input: &I,
        wait: Duration,
    ) -> Result<Invocation> {
        let url = self.affordance_url(name, self.action_forms(name), &["invokeaction"], false)?;
        let mut input = serde_json::to_value(input).map_err(Error::Encode)?;
        if input.is_null() {
            input = Value::Object(Default::default());
        }
        let body = serde_json::to_vec(&input).map_err(Error::Encode)?;
        let mut headers = Vec::new();
        let seconds = wait.as_secs();
        if seconds > 0 {
            let value = HeaderValue::try_from(format!("wait={seconds}"))
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            headers.push((HeaderName::from_static("prefer"), value));
        }
        let reply = self
            .transport
            .fetch(Method::POST, &url, &headers, Some(Bytes::from(body)), wait)
            .await?
            .success()?;
        let record: InvocationRecord = reply.json(&format!("the invocation of '{name}'"))?;
        Invocation::new(self.transport.clone(), record, &url)
    }
}
