//! [`Invocation`]: a handle on one run of an action, by its `href`: refresh it, read its log,
//! cancel it, wait for its outcome.

use std::time::Duration;

use hyper::{Method, Uri};
use labthings_protocol::{InvocationStatus, Problem};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::blob::decoding_blobs_from;
use crate::error::{Error, Result};
use crate::transport::Transport;
use crate::url::resolve;

/// Polling starts this fast, for actions that finish at once …
const FIRST_POLL: Duration = Duration::from_millis(5);
/// … and slows down to this.
const SLOWEST_POLL: Duration = Duration::from_millis(250);

/// One record of an invocation's log, with Python's level names and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// The message.
    pub message: String,
    /// `DEBUG`, `INFO`, `WARNING`, `ERROR`.
    #[serde(default)]
    pub levelname: String,
    /// 10, 20, 30, 40.
    #[serde(default)]
    pub levelno: u32,
    /// When, as the server wrote it.
    #[serde(default)]
    pub created: Option<String>,
    /// Where it was logged from.
    #[serde(default)]
    pub filename: Option<String>,
    /// The line it was logged from.
    #[serde(default)]
    pub lineno: Option<u64>,
    /// The exception's type, for an error record.
    #[serde(default)]
    pub exception_type: Option<String>,
    /// The traceback, for an error record.
    #[serde(default)]
    pub traceback: Option<String>,
}

/// The invocation JSON, as the server last sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationRecord {
    /// Where it is in its life.
    pub status: InvocationStatus,
    /// Its id (a UUID).
    pub id: String,
    /// The action's path (`/counter/slow`).
    #[serde(default)]
    pub action: String,
    /// Where to poll it (absolute).
    pub href: String,
    /// When it started running.
    #[serde(default)]
    pub time_started: Option<String>,
    /// When it was requested.
    #[serde(default)]
    pub time_requested: Option<String>,
    /// When it finished.
    #[serde(default)]
    pub time_completed: Option<String>,
    /// The validated input.
    #[serde(default)]
    pub input: Value,
    /// The output, once completed (a blob link for a file).
    #[serde(default)]
    pub output: Value,
    /// Its log (the summaries of list routes have none).
    #[serde(default)]
    pub log: Vec<LogRecord>,
    /// Why it failed or was cancelled.
    #[serde(default)]
    pub error: Option<Problem>,
    /// Progress from 0 to 1, from servers that report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// Everything else (`links`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl InvocationRecord {
    /// The outcome of a finished invocation: its output as an `O`, or why there is none.
    /// An invocation still pending or running is [`Error::InvalidRequest`].
    pub fn outcome<O: DeserializeOwned>(&self) -> Result<O> {
        match self.status {
            InvocationStatus::Completed => O::deserialize(&self.output)
                .map_err(|e| Error::decode(format!("the output of {}", self.action), e)),
            InvocationStatus::Cancelled => Err(Error::Cancelled),
            InvocationStatus::Error => {
                Err(Error::Problem(self.error.clone().unwrap_or_else(|| {
                    Problem::internal(
                        "Error",
                        "the invocation failed and the server gave no reason",
                    )
                })))
            }
            status => Err(Error::InvalidRequest(format!(
                "invocation {} has not finished (status {status:?})",
                self.id
            ))),
        }
    }
}

/// A handle on one invocation of an action.
#[derive(Debug, Clone)]
pub struct Invocation {
    transport: Transport,
    href: Uri,
    record: InvocationRecord,
}

impl Invocation {
    /// A handle on `record`, whose `href` is resolved against `base` (the URL it came from).
    pub(crate) fn new(transport: Transport, record: InvocationRecord, base: &Uri) -> Result<Self> {
        let href = resolve(base, &record.href)?;
        Ok(Self {
            transport,
            href,
            record,
        })
    }

    /// Fetch the invocation at `href` (absolute).
    pub(crate) async fn fetch(transport: Transport, href: &Uri) -> Result<Self> {
        let record: InvocationRecord = transport.get_json(href, "an invocation").await?;
        Self::new(transport, record, href)
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Its URL (the record's `href`, resolved).
    pub fn href(&self) -> String {
        self.href.to_string()
    }

    /// Its status when last fetched.
    pub fn status(&self) -> InvocationStatus {
        self.record.status
    }

    /// The invocation JSON as last fetched.
    pub fn record(&self) -> &InvocationRecord {
        &self.record
    }

    /// Fetch it again.
    pub async fn refresh(&mut self) -> Result<&InvocationRecord> {
        self.record = self.transport.get_json(&self.href, "an invocation").await?;
        Ok(&self.record)
    }

    /// Its log, fetched now.
    pub async fn log(&mut self) -> Result<Vec<LogRecord>> {
        Ok(self.refresh().await?.log.clone())
    }

    /// Ask the server to cancel it (`DELETE` on its href). The invocation then ends
    /// `cancelled`, and [`Invocation::wait`] returns [`Error::Cancelled`]. One that has
    /// already finished can't be cancelled: the server answers 503 ([`Error::Http`]).
    pub async fn cancel(&self) -> Result<()> {
        self.transport
            .fetch(Method::DELETE, &self.href, &[], None, Duration::ZERO)
            .await?
            .success()
            .map(drop)
    }

    /// Poll until it has finished, whatever the outcome, and return the final record.
    pub async fn settle(&mut self) -> Result<&InvocationRecord> {
        let mut pause = FIRST_POLL;
        while !self.record.status.is_finished() {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(SLOWEST_POLL);
            self.refresh().await?;
        }
        Ok(&self.record)
    }

    /// Wait until it has finished and return its output as an `O`:
    /// [`Error::Problem`] if it failed, [`Error::Cancelled`] if it was cancelled.
    ///
    /// A [`RemoteBlob`](crate::RemoteBlob) in the output downloads with this client.
    pub async fn wait<O: DeserializeOwned>(&mut self) -> Result<O> {
        self.settle().await?;
        decoding_blobs_from(&self.transport, &self.href, || self.record.outcome())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_failed_invocation_is_a_problem() {
        // Capture 62, abridged.
        let record: InvocationRecord = serde_json::from_str(
            r#"{"status":"error","id":"9eea1381-9f8d-4e8f-bc70-69e3e15a6b62","action":"/counter/fail","href":"http://127.0.0.1:5000/action_invocations/9eea1381-9f8d-4e8f-bc70-69e3e15a6b62","timeStarted":"2026-11-29T15:05:52.876667","timeRequested":"2026-11-29T15:05:52.875137","timeCompleted":"2026-11-29T15:05:52.877939","links":[],"input":null,"output":null,"log":[{"message":"deliberate failure from fail()","levelname":"ERROR","levelno":40,"lineno":404,"filename":"actions.py","created":"2026-11-29T15:05:52.876956Z","exception_type":"RuntimeError","traceback":"Traceback"}],"error":{"detail":"deliberate failure from fail()","type":"https://docs.python.org/3/library/exceptions.html#RuntimeError","status":500,"title":"RuntimeError","instance":null}}"#,
        )
        .expect("record");
        assert!(record.status.is_finished());
        assert_eq!(record.log[0].levelno, 40);
        match record.outcome::<()>() {
            Err(Error::Problem(problem)) => {
                assert_eq!(problem.title, "RuntimeError");
                assert_eq!(problem.detail, "deliberate failure from fail()");
            }
            other => panic!("not a problem: {other:?}"),
        }
    }
}
