//! Invocation records: the state of every action call, from `pending` to a final status.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};
use labthings_core::{
    CancelHook, InvocationId, InvocationLog, LogLevel, LogRecord, Outcome, rfc3339,
};
use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;
use tokio::sync::Notify;

use crate::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Running,
    Completed,
    Cancelled,
    Error,
}

impl Status {
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Completed | Status::Cancelled | Status::Error)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::Error => "error",
        }
    }
}

/// What changes as an invocation runs.
#[derive(Debug)]
pub struct Progress {
    pub status: Status,
    pub time_started: Option<DateTime<Utc>>,
    pub time_completed: Option<DateTime<Utc>>,
    /// When it finished, on the monotonic clock (retention is measured from here).
    pub finished_at: Option<Instant>,
    pub output: Option<Value>,
    pub error: Option<Problem>,
}

/// One invocation of one action.
#[derive(Debug)]
pub struct Invocation {
    pub id: InvocationId,
    /// Name of the Thing, as served.
    pub thing: Arc<str>,
    /// Name of the action.
    pub action: &'static str,
    /// The action's path, e.g. `/counter/slow`.
    pub action_path: Arc<str>,
    pub input: Value,
    pub time_requested: DateTime<Utc>,
    pub cancel: CancelHook,
    pub log: Arc<InvocationLog>,
    progress: Mutex<Progress>,
    finished: Notify,
}

impl Invocation {
    pub fn new(
        id: InvocationId,
        thing: Arc<str>,
        action: &'static str,
        action_path: Arc<str>,
        input: Value,
    ) -> Self {
        Self {
            id,
            thing,
            action,
            action_path,
            input,
            time_requested: Utc::now(),
            cancel: CancelHook::new(),
            log: Arc::new(InvocationLog::default()),
            progress: Mutex::new(Progress {
                status: Status::Pending,
                time_started: None,
                time_completed: None,
                finished_at: None,
                output: None,
                error: None,
            }),
            finished: Notify::new(),
        }
    }

    pub fn progress(&self) -> MutexGuard<'_, Progress> {
        // Progress fields are each written whole; a poisoned lock still holds a usable record.
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> Status {
        self.progress().status
    }

    /// `pending` → `running`. Returns false (and leaves it alone) if it already finished,
    /// e.g. cancelled while it waited for a worker.
    pub fn mark_running(&self) -> bool {
        let mut progress = self.progress();
        if progress.status != Status::Pending {
            return false;
        }
        progress.status = Status::Running;
        progress.time_started = Some(Utc::now());
        true
    }

    /// Record how the invocation ended and wake anyone waiting for it.
    pub fn finish(&self, outcome: Outcome) {
        let (status, output, problem) = match outcome {
            Outcome::Completed(value) => (Status::Completed, Some(value), None),
            Outcome::Cancelled => (Status::Cancelled, None, Some(Problem::cancelled())),
            Outcome::Failed(failure) => (
                Status::Error,
                None,
                Some(Problem::internal(failure.title, failure.detail)),
            ),
        };
        self.settle(status, output, problem);
    }

    /// End the invocation as an error described by `problem` (e.g. the global lock was busy).
    pub fn fail_with(&self, problem: Problem) {
        self.settle(Status::Error, None, Some(problem));
    }

    /// Ask the invocation to stop (a client's DELETE, or shutdown). Decided under the
    /// record's lock, so it can't race the action finishing: a finished invocation is left
    /// alone and its status returned. The request is logged, so the time from request to
    /// `cancelled` can be read off the invocation; a pending one is cancelled at once.
    pub fn request_cancel(&self) -> Result<(), Status> {
        let mut progress = self.progress();
        if progress.status.is_finished() {
            return Err(progress.status);
        }
        self.log_server_record(
            LogLevel::Info,
            format!("Cancellation of invocation {} requested.", self.id),
            None,
        );
        self.cancel.cancel();
        if progress.status == Status::Pending {
            self.settle_locked(
                &mut progress,
                Status::Cancelled,
                None,
                Some(Problem::cancelled()),
            );
            drop(progress);
            self.finished.notify_waiters();
        }
        Ok(())
    }

    fn settle(&self, status: Status, output: Option<Value>, error: Option<Problem>) {
        let mut progress = self.progress();
        self.settle_locked(&mut progress, status, output, error);
        drop(progress);
        self.finished.notify_waiters();
    }

    /// Record the final state (the caller then wakes the waiters, once the lock is released).
    fn settle_locked(
        &self,
        progress: &mut Progress,
        status: Status,
        output: Option<Value>,
        error: Option<Problem>,
    ) {
        match (status, &error) {
            (Status::Cancelled, _) => self.log_server_record(
                LogLevel::Info,
                format!("Invocation {} was cancelled.", self.id),
                None,
            ),
            (Status::Error, Some(problem)) => self.log_server_record(
                LogLevel::Error,
                problem.detail.clone(),
                Some(problem.title.clone()),
            ),
            _ => {}
        }
        progress.status = status;
        progress.time_completed = Some(Utc::now());
        progress.finished_at = Some(Instant::now());
        progress.output = output;
        progress.error = error;
    }

    fn log_server_record(&self, level: LogLevel, message: String, exception_type: Option<String>) {
        self.log.push(LogRecord {
            message,
            level,
            filename: file!().to_owned(),
            lineno: line!(),
            created: Utc::now(),
            exception_type,
        });
    }

    /// Resolve once the invocation has finished (at once if it has).
    pub async fn wait_finished(&self) {
        let notified = self.finished.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.status().is_finished() {
            return;
        }
        notified.await;
    }

    /// The invocation's absolute URL under `base` (origin + API prefix).
    pub fn href(&self, base: &str) -> String {
        format!("{base}/action_invocations/{}", self.id)
    }

    /// The full JSON view, with links under `base` (e.g. `http://host:5000` + prefix).
    pub fn view<'a>(&'a self, base: &'a str) -> InvocationView<'a> {
        InvocationView {
            invocation: self,
            base,
            summary: false,
        }
    }

    /// The summary JSON view used by the list routes.
    pub fn summary<'a>(&'a self, base: &'a str) -> InvocationView<'a> {
        InvocationView {
            invocation: self,
            base,
            summary: true,
        }
    }
}

/// Serialises an invocation in the reference's field order, with absolute links.
pub struct InvocationView<'a> {
    invocation: &'a Invocation,
    base: &'a str,
    summary: bool,
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    rel: &'a str,
    anchor: Option<&'a str>,
}

struct LogView<'a>(&'a InvocationLog);

impl Serialize for LogView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_into(serializer)
    }
}

impl Serialize for InvocationView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let invocation = self.invocation;
        let href = invocation.href(self.base);
        let output_href = format!("{href}/output");
        let progress = invocation.progress();
        let mut s = serializer.serialize_struct("Invocation", if self.summary { 8 } else { 12 })?;
        s.serialize_field("status", progress.status.as_str())?;
        s.serialize_field("id", &invocation.id)?;
        s.serialize_field("action", &*invocation.action_path)?;
        s.serialize_field("href", &href)?;
        s.serialize_field("timeStarted", &progress.time_started.map(rfc3339))?;
        s.serialize_field("timeRequested", &rfc3339(invocation.time_requested))?;
        s.serialize_field("timeCompleted", &progress.time_completed.map(rfc3339))?;
        s.serialize_field(
            "links",
            &[
                Link {
                    href: &href,
                    kind: None,
                    rel: "self",
                    anchor: None,
                },
                Link {
                    href: &output_href,
                    kind: None,
                    rel: "output",
                    anchor: None,
                },
            ],
        )?;
        if !self.summary {
            s.serialize_field("input", &invocation.input)?;
            s.serialize_field("output", &progress.output)?;
            s.serialize_field("log", &LogView(&invocation.log))?;
            s.serialize_field("error", &progress.error)?;
        }
        s.end()
    }
}
