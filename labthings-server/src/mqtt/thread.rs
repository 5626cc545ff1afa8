//! The binding's own thread: the links' event loops (rumqttc's reads and writes) and the sweep
//! run on a single-threaded tokio runtime of their own, at a lower scheduling priority than
//! the server's runtime, so that talking to the broker never competes on equal terms with the
//! lab's HTTP requests.
//!
//! Why: rumqttc writes (and reads the acknowledgement of) every message with its own system
//! calls, so with MQTT on each property write costs the server about twice its CPU time
//! (`bench/results.md`, the MQTT section). On the server's runtime that work ran between the
//! requests of a burst, and every request of the burst waited for it. Here the kernel gives
//! the requests' threads the CPU first and the event loops the time they leave.
//!
//! The pumps stay on the server's runtime: a pump takes each value from the hub as it is
//! written and hands it to rumqttc's queue (64 messages per Thing), so every value still goes
//! out when the server is not saturated; only when that queue is full do a retained topic's
//! values merge in the outbox into its newest (see `outbox`). The commands task (writes and
//! invocations from the broker) stays there too: what it starts — an `async fn` action, say —
//! must run where the HTTP requests' work runs.

use std::future::Future;
use std::sync::mpsc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How much lower than the server's the binding thread's priority is (a `nice` increment:
/// Linux's scheduler then gives it about a tenth of a busy core, all of an idle one).
const NICENESS: i32 = 10;

/// Where the binding's tasks run; its thread ends (dropping the tasks left) when this is
/// dropped.
pub struct BindingThread {
    handle: Handle,
    /// Dropped to end the thread; `None` when the tasks run on the server's runtime because
    /// the thread could not be made.
    _finish: Option<oneshot::Sender<()>>,
}

impl BindingThread {
    /// Start the thread and its runtime. If either can't be made (no thread left, say), the
    /// binding runs on the calling runtime, as it would without this thread, with a warning.
    pub fn start() -> Self {
        match Self::spawn_thread() {
            Ok(thread) => thread,
            Err(error) => {
                tracing::warn!(%error, "MQTT: no thread of its own; the binding shares the server's runtime");
                Self {
                    handle: Handle::current(),
                    _finish: None,
                }
            }
        }
    }

    /// The runtime is built on the new thread and only its handle comes back: a runtime must
    /// not be dropped inside another's async context, which is where a failure would drop it.
    fn spawn_thread() -> std::io::Result<Self> {
        let (finish, finished) = oneshot::channel::<()>();
        let (handed, handle) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("mqtt-binding".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = handed.send(Err(error));
                        return;
                    }
                };
                let _ = handed.send(Ok(runtime.handle().clone()));
                lower_priority();
                // Until the binding is dropped; its tasks are dropped with the runtime.
                runtime.block_on(async {
                    let _ = finished.await;
                });
            })?;
        let handle = handle
            .recv()
            .map_err(|_| std::io::Error::other("the binding's thread ended at start"))??;
        Ok(Self {
            handle,
            _finish: Some(finish),
        })
    }

    /// Run `task` on the binding's thread.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(task)
    }
}

/// Lower the calling thread's scheduling priority by [`NICENESS`] (on Linux `nice` is per
/// thread). Lowering one's own priority needs no privilege; should it fail all the same, the
/// binding only keeps the server's priority, so the result is not checked.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `nice` takes a plain integer and changes only the calling thread.
    unsafe {
        libc::nice(NICENESS);
    }
}
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The calling thread's `nice` value.
    fn niceness() -> i32 {
        // SAFETY: reads the calling thread's priority.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[tokio::test]
    async fn the_binding_runs_on_its_own_thread_below_the_servers_priority_and_ends_when_dropped() {
        let ours = niceness();
        let binding = BindingThread::start();
        let (name, theirs) = binding
            .spawn(async { (std::thread::current().name().map(str::to_owned), niceness()) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("mqtt-binding"));
        assert_eq!(theirs, (ours + NICENESS).min(19));
        assert_eq!(niceness(), ours, "only the binding's thread is lowered");

        // A task still running when the binding goes is dropped with its runtime (polled or
        // not yet): the sender it holds goes with it, which `told` hears as an error.
        let (tell, told) = oneshot::channel::<()>();
        let _running = binding.spawn(async move {
            let _tell = tell;
            std::future::pending::<()>().await;
        });
        drop(binding);
        let heard = tokio::time::timeout(Duration::from_secs(5), told)
            .await
            .expect("the binding's thread ended, dropping its tasks");
        assert!(heard.is_err(), "the task was dropped, never finished");
    }
}
