//! Capture of `tracing` events emitted while an action runs.
//!
//! A driver library called from an action logs with `tracing::info!` and knows nothing of
//! invocations. While an action runs, its thread's default `tracing` dispatcher is a
//! [`CaptureSubscriber`]: it copies each event into the current invocation's log and passes
//! everything on to the dispatcher that was the default before (the server's subscriber), so
//! nothing disappears from the server log.
//!
//! One capture dispatcher exists per process: creating a `Dispatch` makes `tracing` rebuild its
//! interest cache over every callsite, which would be far too costly per invocation. Which log
//! receives events is a thread-local, set around the action call (or around each poll of an
//! `async` action).

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

use crate::logger::{InvocationLog, LOGGER_TARGET, LogLevel, LogRecord, capture_level};

thread_local! {
    static CURRENT_LOG: RefCell<Option<Arc<InvocationLog>>> = const { RefCell::new(None) };
}

fn capture_dispatch() -> &'static Dispatch {
    static DISPATCH: OnceLock<Dispatch> = OnceLock::new();
    DISPATCH.get_or_init(|| {
        let inner = tracing::dispatcher::get_default(Dispatch::clone);
        // `Dispatch` doesn't expose its subscriber's level hint; before we register, the
        // global maximum is exactly the existing dispatchers' hint.
        let inner_max_level = LevelFilter::current();
        Dispatch::new(CaptureSubscriber {
            inner,
            inner_max_level,
        })
    })
}

/// Restores the thread's previous capture target when dropped.
struct CurrentLogGuard(Option<Arc<InvocationLog>>);

impl CurrentLogGuard {
    fn set(log: &Arc<InvocationLog>) -> Self {
        Self(CURRENT_LOG.with(|current| current.replace(Some(log.clone()))))
    }
}

impl Drop for CurrentLogGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT_LOG.with(|current| *current.borrow_mut() = previous);
    }
}

/// Run `f` on this thread with `tracing` events captured into `log`.
pub fn run_captured<R>(log: &Arc<InvocationLog>, f: impl FnOnce() -> R) -> R {
    let _log = CurrentLogGuard::set(log);
    tracing::dispatcher::with_default(capture_dispatch(), f)
}

/// A future whose `tracing` events, on whatever thread polls it, are captured into a log.
pub struct Captured<F> {
    log: Arc<InvocationLog>,
    future: Pin<Box<F>>,
}

impl<F: Future> Captured<F> {
    /// Wrap `future` so that its `tracing` events go to `log`.
    pub fn new(log: Arc<InvocationLog>, future: F) -> Self {
        Self {
            log,
            future: Box::pin(future),
        }
    }
}

impl<F: Future> Future for Captured<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = this.future.as_mut();
        run_captured(&this.log, || future.poll(cx))
    }
}

/// Copies events into the thread's current invocation log, forwards everything to `inner`.
struct CaptureSubscriber {
    inner: Dispatch,
    inner_max_level: LevelFilter,
}

fn capturing() -> bool {
    CURRENT_LOG.with(|current| current.borrow().is_some())
}

fn wants_capture(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && metadata.target() != LOGGER_TARGET
        && *metadata.level() <= capture_level().to_level_filter()
        && capturing()
}

impl Subscriber for CaptureSubscriber {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        let inner = self.inner.register_callsite(metadata);
        if metadata.is_event() && !inner.is_always() {
            // Whether we capture depends on the thread's current log: ask every time.
            Interest::sometimes()
        } else {
            inner
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        wants_capture(metadata) || self.inner.enabled(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.inner_max_level.max(capture_level().to_level_filter()))
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values)
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows)
    }

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        if wants_capture(metadata) {
            let record = record_from_event(event);
            CURRENT_LOG.with(|current| {
                if let Some(log) = current.borrow().as_ref() {
                    log.push(record);
                }
            });
        }
        if self.inner.enabled(metadata) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span)
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span)
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner.current_span()
    }
}

fn record_from_event(event: &Event<'_>) -> LogRecord {
    let metadata = event.metadata();
    let mut visitor = MessageVisitor::default();
    event.record(&mut visitor);
    let mut message = visitor.message;
    message.push_str(&visitor.fields);
    LogRecord::new(
        LogLevel::from_tracing(metadata.level()),
        message,
        metadata.file().unwrap_or_else(|| metadata.target()),
        metadata.line().unwrap_or(0),
    )
}

/// Renders an event as its message followed by its other fields, `key=value`.
#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}
