//! Running a Thing's blocking method off the async runtime: on tokio's blocking pool, holding
//! the global lock when it must, with a panic answered as a problem rather than a lost task.

use std::fmt::Display;
use std::sync::Arc;

use labthings_protocol::problem::Problem;
use tokio::task::JoinError;

use crate::runtime::lock::GlobalLock;

/// Permits for blocking calls that must not each take one more of tokio's 512 blocking
/// threads (custom endpoints: see `api::endpoints`). A call holds its permit until its method
/// returns — even if the client has gone: the thread is busy until then.
pub struct BlockingPermits(Arc<tokio::sync::Semaphore>);

impl BlockingPermits {
    pub fn new(permits: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(permits)))
    }

    /// A permit, or `None` at once when all are taken (the caller answers 503).
    pub fn try_take(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// Run `call` on tokio's blocking pool, holding `lock` (if any) around it. `what` names the
/// method for the problem a panic becomes (`"{what} panicked"`); a busy lock is
/// `GlobalLockBusyError`.
pub async fn on_thread<T: Send + 'static>(
    lock: Option<Arc<GlobalLock>>,
    what: impl Display,
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Problem> {
    let run = move || {
        let _guard = GlobalLock::hold(lock.as_deref())?;
        Ok(call())
    };
    tokio::task::spawn_blocking(run)
        .await
        .map_err(|error| ended_early(what, &error))?
}

/// The problem a task that panicked (or was stopped) running `what` answers with; a panic is
/// also logged here, the one place a lost task becomes a problem.
pub fn ended_early(what: impl Display, error: &JoinError) -> Problem {
    let detail = if error.is_panic() {
        let detail = format!("{what} panicked");
        tracing::error!("{detail}");
        detail
    } else {
        format!("{what} was stopped")
    };
    Problem::internal("Panic", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_a_500_problem_and_a_busy_lock_a_409() {
        let panicked: Result<(), _> = on_thread(None, "the method", || panic!("boom")).await;
        let problem: Problem = panicked.unwrap_err();
        assert_eq!(
            (problem.status, problem.detail.as_str()),
            (500, "the method panicked")
        );

        let lock = Arc::new(GlobalLock::default());
        let held = lock.clone();
        let (taken, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let holder = std::thread::spawn(move || {
            let _guard = GlobalLock::hold(Some(&held)).unwrap();
            taken.0.send(()).unwrap();
            let _ = release.1.recv();
        });
        taken.1.recv().unwrap();
        let busy = on_thread(Some(lock.clone()), "the method", || ()).await;
        assert_eq!(busy.unwrap_err(), Problem::lock_busy());
        release.0.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(on_thread(Some(lock), "the method", || 7).await, Ok(7));
    }
}
