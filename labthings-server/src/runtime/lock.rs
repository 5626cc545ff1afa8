//! The global lock (`enable_global_lock`): while one action or property write holds it, others
//! wait up to 50 ms and then give up with `GlobalLockBusyError`. It is re-entrant, so code
//! that holds it may take it again on the same thread.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use labthings_protocol::problem::Problem;

/// How long a caller waits for a busy lock.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(50);

/// The lock stayed busy for [`ACQUIRE_TIMEOUT`]: the caller gives up with the reference's
/// `GlobalLockBusyError`.
#[derive(Debug)]
pub struct LockBusy;

impl From<LockBusy> for Problem {
    fn from(_: LockBusy) -> Self {
        Problem::lock_busy()
    }
}

#[derive(Default)]
pub struct GlobalLock {
    owner: Mutex<Owner>,
    released: Condvar,
}

#[derive(Default)]
struct Owner {
    thread: Option<ThreadId>,
    depth: usize,
}

/// Holds the lock until dropped.
pub struct GlobalLockGuard<'a> {
    lock: &'a GlobalLock,
}

impl GlobalLock {
    /// Take `lock` for this thread if the caller must hold one (`None`: nothing to hold),
    /// waiting at most [`ACQUIRE_TIMEOUT`]: what every action, property write and endpoint
    /// does before it touches the Thing.
    pub fn hold(lock: Option<&GlobalLock>) -> Result<Option<GlobalLockGuard<'_>>, LockBusy> {
        lock.map(|lock| lock.try_acquire(ACQUIRE_TIMEOUT).ok_or(LockBusy))
            .transpose()
    }

    fn owner(&self) -> MutexGuard<'_, Owner> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take the lock for this thread, waiting at most `timeout`.
    pub fn try_acquire(&self, timeout: Duration) -> Option<GlobalLockGuard<'_>> {
        let me = thread::current().id();
        let deadline = Instant::now() + timeout;
        let mut owner = self.owner();
        loop {
            match owner.thread {
                None => {
                    owner.thread = Some(me);
                    owner.depth = 1;
                    return Some(GlobalLockGuard { lock: self });
                }
                Some(thread) if thread == me => {
                    owner.depth += 1;
                    return Some(GlobalLockGuard { lock: self });
                }
                Some(_) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    owner = self
                        .released
                        .wait_timeout(owner, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
    }
}

impl Drop for GlobalLockGuard<'_> {
    fn drop(&mut self) {
        let mut owner = self.lock.owner();
        owner.depth -= 1;
        if owner.depth == 0 {
            owner.thread = None;
            drop(owner);
            self.lock.released.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn re_entrant_on_one_thread_exclusive_across_threads() {
        let lock = Arc::new(GlobalLock::default());
        let outer = lock.try_acquire(ACQUIRE_TIMEOUT).unwrap();
        let inner = lock.try_acquire(ACQUIRE_TIMEOUT).expect("re-entrant");
        let other = lock.clone();
        let started = Instant::now();
        let refused = thread::spawn(move || other.try_acquire(ACQUIRE_TIMEOUT).is_none())
            .join()
            .unwrap();
        assert!(refused && started.elapsed() >= ACQUIRE_TIMEOUT);
        drop(inner);
        drop(outer);
        let other = lock.clone();
        assert!(
            thread::spawn(move || other.try_acquire(ACQUIRE_TIMEOUT).is_some())
                .join()
                .unwrap()
        );
    }
}
