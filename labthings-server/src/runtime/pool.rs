//! The action pool: the threads blocking actions run on.
//!
//! Threads are started on demand up to `max_threads` and stop after idling for a while, so an
//! idle server holds few threads while a burst of long actions gets a thread each at once.
//! Beyond `max_threads`, jobs wait in a queue (their invocations stay `pending`); beyond
//! `max_queue`, submission fails and the server answers 503. Jobs catch their own panics
//! (`PreparedAction::run_blocking`), and a worker survives one anyway.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

pub type Job = Box<dyn FnOnce() + Send>;

/// The pool and its queue are both full.
#[derive(Debug)]
pub struct PoolFull;

#[derive(Clone)]
pub struct ActionPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    work_available: Condvar,
    all_idle: Condvar,
    max_threads: usize,
    max_queue: usize,
    idle_timeout: Duration,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

impl ActionPool {
    pub fn new(max_threads: usize, max_queue: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                work_available: Condvar::new(),
                all_idle: Condvar::new(),
                max_threads: max_threads.max(1),
                max_queue,
                idle_timeout: Duration::from_secs(30),
            }),
        }
    }

    /// Run `job` on a pool thread: an idle one, a new one, or the first free one.
    pub fn submit(&self, job: Job) -> Result<(), PoolFull> {
        let shared = &self.shared;
        let mut state = shared.lock();
        if state.queue.len() < state.idle {
            state.queue.push_back(job);
            drop(state);
            shared.work_available.notify_one();
            return Ok(());
        }
        if state.threads < shared.max_threads {
            state.threads += 1;
            drop(state);
            let worker = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("labthings-action".into())
                .spawn(move || worker.run(Some(job)));
            if spawned.is_err() {
                // Out of threads: count it back and report the pool as full.
                let mut state = shared.lock();
                state.threads -= 1;
                return Err(PoolFull);
            }
            return Ok(());
        }
        if state.queue.len() < shared.max_queue {
            state.queue.push_back(job);
            return Ok(());
        }
        Err(PoolFull)
    }

    /// Threads currently alive.
    #[cfg(test)]
    pub fn threads(&self) -> usize {
        self.shared.lock().threads
    }

    /// Wait until no job is queued or running, or `timeout` passes; true if idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let shared = &self.shared;
        let state = shared.lock();
        let (state, _) = shared
            .all_idle
            .wait_timeout_while(state, timeout, |s| {
                !(s.queue.is_empty() && s.idle == s.threads)
            })
            .unwrap_or_else(|p| p.into_inner());
        state.queue.is_empty() && state.idle == state.threads
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // State is updated with plain counter arithmetic under the lock; poisoning can't tear it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(&self, mut next: Option<Job>) {
        loop {
            if let Some(job) = next.take() {
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            let mut state = self.lock();
            if let Some(job) = state.queue.pop_front() {
                next = Some(job);
                continue;
            }
            state.idle += 1;
            if state.idle == state.threads {
                self.all_idle.notify_all();
            }
            let (mut state, timeout) = self
                .work_available
                .wait_timeout_while(state, self.idle_timeout, |s| s.queue.is_empty())
                .unwrap_or_else(|p| p.into_inner());
            state.idle -= 1;
            match state.queue.pop_front() {
                Some(job) => next = Some(job),
                None if timeout.timed_out() => {
                    state.threads -= 1;
                    return;
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_jobs_queues_beyond_the_limit_and_refuses_beyond_the_queue() {
        let pool = ActionPool::new(2, 1);
        let gate = Arc::new(Barrier::new(3));
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let (gate, done) = (gate.clone(), done.clone());
            pool.submit(Box::new(move || {
                gate.wait();
                done.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        let queued = done.clone();
        pool.submit(Box::new(move || {
            queued.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap();
        assert!(
            pool.submit(Box::new(|| {})).is_err(),
            "queue of one is full"
        );
        gate.wait();
        assert!(pool.wait_idle(Duration::from_secs(5)));
        assert_eq!(done.load(Ordering::SeqCst), 3);
        assert_eq!(pool.threads(), 2);
    }

    #[test]
    fn a_panicking_job_does_not_kill_its_worker() {
        let pool = ActionPool::new(1, 10);
        pool.submit(Box::new(|| panic!("boom"))).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        pool.submit(Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap();
        assert!(pool.wait_idle(Duration::from_secs(5)));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(pool.threads(), 1);
    }
}
