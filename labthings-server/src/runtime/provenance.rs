//! Where a property write came from: set around the write by whoever makes it (the HTTP
//! handler, the WebSocket session, the action pool), read by the observers that record it.
//!
//! A thread-local rather than a parameter: writes reach observers through the Thing's own
//! `Property::set`, which knows nothing of who called it, and the observers are called on the
//! writing thread. An `async fn` action moves between threads at every `.await`, so its label
//! is a tokio task-local instead ([`scope`]), read when no thread label is set. A write nobody
//! labelled is the Thing's own Rust code.

use std::cell::Cell;

use labthings_core::InvocationId;

/// Who wrote a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteSource {
    Http,
    /// A `…/writeproperty` message from the MQTT broker.
    Mqtt,
    /// The Thing's own code (an action, a background thread, an on-start hook).
    Rust,
    /// `POST T<prop>/reset`.
    Reset,
    /// A saved setting applied at start-up.
    SettingsLoad,
}

impl WriteSource {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteSource::Http => "http",
            WriteSource::Mqtt => "mqtt",
            WriteSource::Rust => "rust",
            WriteSource::Reset => "reset",
            WriteSource::SettingsLoad => "settings load",
        }
    }
}

/// The source and the invocation (if any) of writes on this thread right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance {
    pub source: WriteSource,
    pub invocation: Option<InvocationId>,
}

impl Provenance {
    /// A write a client made directly (not inside an invocation).
    pub fn direct(source: WriteSource) -> Self {
        Self {
            source,
            invocation: None,
        }
    }

    /// A write an action's code made while running invocation `id`.
    pub fn in_invocation(id: InvocationId) -> Self {
        Self {
            source: WriteSource::Rust,
            invocation: Some(id),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Option<Provenance>> = const { Cell::new(None) };
}

tokio::task_local! {
    static TASK: Provenance;
}

/// `future` with its writes labelled `provenance`, on whichever thread polls it.
pub async fn scope<F: std::future::Future>(provenance: Provenance, future: F) -> F::Output {
    TASK.scope(provenance, future).await
}

/// Run `f` with writes on this thread labelled `provenance` (the previous label comes back
/// afterwards, also if `f` panics).
pub fn with<R>(provenance: Provenance, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Provenance>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|current| current.replace(Some(provenance))));
    f()
}

/// The label of a write happening on this thread now.
pub fn current() -> Provenance {
    CURRENT
        .with(Cell::get)
        .or_else(|| TASK.try_with(|provenance| *provenance).ok())
        .unwrap_or(Provenance::direct(WriteSource::Rust))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_holds_inside_and_is_restored_after() {
        assert_eq!(current().source, WriteSource::Rust);
        let id = InvocationId::new();
        let inner = with(
            Provenance {
                source: WriteSource::Http,
                invocation: Some(id),
            },
            current,
        );
        assert_eq!(inner.source, WriteSource::Http);
        assert_eq!(inner.invocation, Some(id));
        assert_eq!(current().source, WriteSource::Rust);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_label_holds_across_awaits() {
        let id = InvocationId::new();
        let label = Provenance::in_invocation(id);
        let seen = scope(label, async {
            tokio::task::yield_now().await;
            current()
        })
        .await;
        assert_eq!(seen.invocation, Some(id));
        assert_eq!(current().invocation, None);
    }
}
