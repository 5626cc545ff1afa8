//! Invocation records: the state of every action call, from `pending` to a final status.
//!
//! A record also tells its observer (the Thing's hub, and so the action's listeners) each
//! status change as it happens, and the action's progress at most every [`PROGRESS_INTERVAL`] — the newest
//! value always gets out, by a trailing push if it came too soon after the last.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use labthings_core::{
    Blob, CancelHook, InvocationId, InvocationLog, LogLevel, LogRecord, Outcome, Progress,
};
use labthings_protocol::InvocationStatus;
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::Notify;

use labthings_protocol::problem::Problem;

/// The size of `value` as compact JSON: a measure of what it holds in memory.
fn json_bytes<T: Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Bytes a blob holds in memory (a file blob's bytes are on disk).
fn memory_bytes(blob: &Blob) -> usize {
    match blob.data() {
        labthings_core::blob::Data::Bytes(bytes) => bytes.len(),
        _ => 0,
    }
}

/// The shortest time between two progress pushes of one invocation.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Who hears each status change of an invocation (the Thing's push hub): the runtime tells,
/// and knows nothing of who listens or how it is sent.
pub trait InvocationObserver: Send + Sync + std::fmt::Debug {
    /// `id`, an invocation of `action`, is now `status`, with this `progress` (if the action
    /// reports any). Called under the record's lock: one invocation's changes arrive in order.
    fn status_changed(
        &self,
        action: &'static str,
        id: InvocationId,
        status: InvocationStatus,
        progress: Option<f64>,
    );

    /// `invocation` was recorded (`pending`), started or finished: the whole record, for
    /// observers that keep it (the history). Called under the record's lock, after
    /// [`status_changed`](Self::status_changed); not for progress alone.
    fn transitioned(&self, _invocation: &Invocation, _state: &RunState) {}
}

/// Who asked for an invocation: the label of the token the request carried ("token" for an
/// unlabelled one, "anonymous" without tokens) and the client's address.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub label: Option<Arc<str>>,
    pub peer: Option<std::net::SocketAddr>,
}

impl Requester {
    /// An invocation a message from the MQTT broker started: the broker's clients are
    /// invisible to us, so it is labelled by the way it came.
    pub fn mqtt() -> Self {
        Self {
            label: Some(Arc::from("mqtt")),
            peer: None,
        }
    }
}

/// What changes as an invocation runs.
#[derive(Debug)]
pub struct RunState {
    pub status: InvocationStatus,
    pub time_started: Option<DateTime<Utc>>,
    pub time_completed: Option<DateTime<Utc>>,
    /// When it finished, on the monotonic clock (retention is measured from here).
    pub finished_at: Option<Instant>,
    /// The output; blob links in it have the relative `href` `blob/<id>`.
    pub output: Option<Value>,
    /// The blobs the output links to: kept (and served) exactly as long as this record.
    pub blobs: Vec<Blob>,
    pub error: Option<Problem>,
    /// Bytes the output, error and blobs held in memory hold, counted once when it finished.
    pub result_bytes: usize,
}

impl RunState {
    /// The blob the output *is* (not merely contains), whose bytes `…/output` answers with.
    pub fn output_blob(&self) -> Option<&Blob> {
        let [blob] = self.blobs.as_slice() else {
            return None;
        };
        let href = self.output.as_ref()?.get("href")?.as_str()?;
        (href == blob.relative_href()).then_some(blob)
    }

    /// The blob with this id, if the output links to it.
    pub fn blob(&self, id: &uuid::Uuid) -> Option<&Blob> {
        self.blobs.iter().find(|blob| blob.id() == *id)
    }
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
    /// The size of `input` as JSON, counted once.
    input_bytes: usize,
    pub time_requested: DateTime<Utc>,
    pub cancel: CancelHook,
    pub log: Arc<InvocationLog>,
    /// The fraction done, as the action reports it through its `Progress` parameter.
    pub progress: Progress,
    state: Mutex<RunState>,
    finished: Notify,
    /// Who asked for it.
    pub requester: Requester,
    /// Who hears of status changes (the Thing's hub; the history), when the record belongs
    /// to a served Thing.
    observers: Vec<Arc<dyn InvocationObserver>>,
    pushes: Mutex<ProgressPushes>,
}

/// When progress was last pushed, and whether a trailing push is on its way.
#[derive(Debug, Default)]
struct ProgressPushes {
    last: Option<Instant>,
    trailing: bool,
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
            input_bytes: json_bytes(&input),
            input,
            time_requested: Utc::now(),
            cancel: CancelHook::new(),
            log: Arc::new(InvocationLog::default()),
            progress: Progress::new(),
            requester: Requester::default(),
            observers: Vec::new(),
            pushes: Mutex::new(ProgressPushes::default()),
            state: Mutex::new(RunState {
                status: InvocationStatus::Pending,
                time_started: None,
                time_completed: None,
                finished_at: None,
                output: None,
                blobs: Vec::new(),
                error: None,
                result_bytes: 0,
            }),
            finished: Notify::new(),
        }
    }

    /// Tell `observer` every status change (and the progress).
    pub fn with_observer(mut self, observer: Arc<dyn InvocationObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Say who asked for it.
    pub fn with_requester(mut self, requester: Requester) -> Self {
        self.requester = requester;
        self
    }

    /// Announce the record (`pending`) and start pushing the action's progress. Call once,
    /// when the record has been stored.
    pub fn announce(self: &Arc<Self>) {
        let record = Arc::downgrade(self);
        let runtime = Handle::try_current().ok();
        self.progress.on_change(move |_| {
            if let Some(record) = record.upgrade() {
                record.progress_changed(runtime.as_ref());
            }
        });
        self.transitioned(&self.state());
    }

    pub fn state(&self) -> MutexGuard<'_, RunState> {
        // State fields are each written whole; a poisoned lock still holds a usable record.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> InvocationStatus {
        self.state().status
    }

    /// Tell the observer the invocation's current status (called with the state locked, so
    /// the statuses of one invocation go out in the order they happened).
    fn publish(&self, state: &RunState) {
        for observer in &self.observers {
            observer.status_changed(self.action, self.id, state.status, self.progress.get());
        }
    }

    /// Publish a change of status, and hand the whole record to the observers that keep it.
    fn transitioned(&self, state: &RunState) {
        self.publish(state);
        for observer in &self.observers {
            observer.transitioned(self, state);
        }
    }

    /// The action reported progress: push it now, or once [`PROGRESS_INTERVAL`] has passed
    /// since the last push.
    fn progress_changed(self: Arc<Self>, runtime: Option<&Handle>) {
        let mut pushes = self.pushes.lock().unwrap_or_else(|p| p.into_inner());
        if pushes.trailing {
            return; // the scheduled push will carry the newest value
        }
        let since_last = pushes.last.map(|last| last.elapsed());
        match (since_last, runtime) {
            (Some(since), Some(runtime)) if since < PROGRESS_INTERVAL => {
                pushes.trailing = true;
                let record: Weak<Self> = Arc::downgrade(&self);
                runtime.spawn(async move {
                    tokio::time::sleep(PROGRESS_INTERVAL - since).await;
                    if let Some(record) = record.upgrade() {
                        record.push_progress();
                    }
                });
            }
            // Without a runtime to wait on, a too-early value waits for the next report.
            (Some(since), None) if since < PROGRESS_INTERVAL => {}
            _ => {
                drop(pushes);
                self.push_progress();
            }
        }
    }

    fn push_progress(&self) {
        {
            let mut pushes = self.pushes.lock().unwrap_or_else(|p| p.into_inner());
            pushes.trailing = false;
            pushes.last = Some(Instant::now());
        }
        let state = self.state();
        // A finished invocation's final status already carried its last progress.
        if !state.status.is_finished() {
            self.publish(&state);
        }
    }

    /// `pending` → `running`. Returns false (and leaves it alone) if it already finished,
    /// e.g. cancelled while it waited for a worker.
    pub fn mark_running(&self) -> bool {
        let mut state = self.state();
        if state.status != InvocationStatus::Pending {
            return false;
        }
        state.status = InvocationStatus::Running;
        state.time_started = Some(Utc::now());
        self.transitioned(&state);
        true
    }

    /// Record how the invocation ended and wake anyone waiting for it.
    pub fn finish(&self, outcome: Outcome) {
        let (status, output, problem) = match outcome {
            Outcome::Completed(value) => {
                (InvocationStatus::Completed, Some((value, Vec::new())), None)
            }
            Outcome::CompletedWithBlobs(value, blobs) => {
                (InvocationStatus::Completed, Some((value, blobs)), None)
            }
            Outcome::Cancelled => (
                InvocationStatus::Cancelled,
                None,
                Some(Problem::cancelled()),
            ),
            Outcome::Failed(failure) => (
                InvocationStatus::Error,
                None,
                Some(Problem::internal(failure.title, failure.detail)),
            ),
        };
        self.settle(status, output, problem);
    }

    /// End the invocation as an error described by `problem` (e.g. the global lock was busy).
    pub fn fail_with(&self, problem: Problem) {
        self.settle(InvocationStatus::Error, None, Some(problem));
    }

    /// Ask the invocation to stop (a client's DELETE, or shutdown). Decided under the
    /// record's lock, so it can't race the action finishing: a finished invocation is left
    /// alone and its status returned. The request is logged, so the time from request to
    /// `cancelled` can be read off the invocation; a pending one is cancelled at once.
    pub fn request_cancel(&self) -> Result<(), InvocationStatus> {
        let mut state = self.state();
        if state.status.is_finished() {
            return Err(state.status);
        }
        self.log_server_record(
            LogLevel::Info,
            format!("Cancellation of invocation {} requested.", self.id),
            None,
        );
        self.cancel.cancel();
        if state.status == InvocationStatus::Pending {
            self.settle_locked(
                &mut state,
                InvocationStatus::Cancelled,
                None,
                Some(Problem::cancelled()),
            );
            drop(state);
            self.finished.notify_waiters();
        }
        Ok(())
    }

    fn settle(
        &self,
        status: InvocationStatus,
        output: Option<(Value, Vec<Blob>)>,
        error: Option<Problem>,
    ) {
        let mut state = self.state();
        self.settle_locked(&mut state, status, output, error);
        drop(state);
        self.finished.notify_waiters();
    }

    /// Record the final state (the caller then wakes the waiters, once the lock is released).
    fn settle_locked(
        &self,
        state: &mut RunState,
        status: InvocationStatus,
        output: Option<(Value, Vec<Blob>)>,
        error: Option<Problem>,
    ) {
        match (status, &error) {
            (InvocationStatus::Cancelled, _) => self.log_server_record(
                LogLevel::Info,
                format!("Invocation {} was cancelled.", self.id),
                None,
            ),
            (InvocationStatus::Error, Some(problem)) => self.log_server_record(
                LogLevel::Error,
                problem.detail.clone(),
                Some(problem.title.clone()),
            ),
            _ => {}
        }
        // Finished: the store now counts this log with the records it may evict.
        self.log.release_budget();
        state.status = status;
        state.time_completed = Some(Utc::now());
        state.finished_at = Some(Instant::now());
        (state.output, state.blobs) = match output {
            Some((value, blobs)) => (Some(value), blobs),
            None => (None, Vec::new()),
        };
        state.error = error;
        state.result_bytes = json_bytes(&state.output)
            + json_bytes(&state.error)
            + state.blobs.iter().map(memory_bytes).sum::<usize>();
        self.transitioned(state);
    }

    /// The memory this record holds, as the store's budget counts it: its input, its log
    /// and, once finished, its output, error and in-memory blobs.
    pub fn retained_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.input_bytes
            + self.log.bytes()
            + self.state().result_bytes
    }

    fn log_server_record(&self, level: LogLevel, message: String, exception_type: Option<String>) {
        self.log.push(LogRecord {
            exception_type,
            ..LogRecord::new(level, message, file!(), line!())
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
}
