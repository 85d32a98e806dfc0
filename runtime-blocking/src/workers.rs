//! The threads that run enqueued calls and name lookups: OkHttp's dispatcher executor, a cached
//! thread pool.
//!
//! Hand-rolled rather than a crate's fixed-size pool because the shape is OkHttp's: a thread is
//! made whenever every existing one is busy, and ends after a minute with nothing to do. The
//! dispatcher bounds how many calls run at once, so the pool needs no bound of its own.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long an idle worker waits for a job before it ends (OkHttp's 60 s).
const KEEP_ALIVE: Duration = Duration::from_secs(60);

type Job = Box<dyn FnOnce() + Send>;

/// A cached thread pool; cloning shares it.
#[derive(Clone, Default)]
pub(crate) struct Workers {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    available: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Workers waiting for a job.
    idle: usize,
}

impl fmt::Debug for Workers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Workers")
            .field("queued", &state.jobs.len())
            .field("idle", &state.idle)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a panic never poisons it mid-update.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Workers {
    /// Runs `job` on a worker: an idle one, or a new one when every worker is busy. If no
    /// thread can be made, the job runs on the calling thread rather than being lost.
    pub(crate) fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let mut state = self.shared.lock();
        state.jobs.push_back(Box::new(job));
        // Each queued job needs a worker of its own, or it would wait behind a long call.
        if state.jobs.len() <= state.idle {
            drop(state);
            self.shared.available.notify_one();
            return;
        }
        drop(state);
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("wayfarer-dispatcher".into())
            .spawn(move || work(&shared));
        if spawned.is_err() {
            let job = self.shared.lock().jobs.pop_back();
            if let Some(job) = job {
                job();
            }
        }
    }
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            job();
            state = shared.lock();
            continue;
        }
        state.idle += 1;
        let (next, timeout) = shared
            .available
            .wait_timeout(state, KEEP_ALIVE)
            .unwrap_or_else(|p| p.into_inner());
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.jobs.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_job_never_waits_behind_a_busy_worker() {
        let workers = Workers::default();
        let (release, blocked) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel();
        // The first job holds its worker until released.
        let tx = done.clone();
        workers.execute(move || {
            let _ = blocked.recv();
            let _ = tx.send(1);
        });
        // The second runs anyway, on another worker.
        workers.execute(move || {
            let _ = done.send(2);
        });
        assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(2));
        release.send(()).unwrap();
        assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(1));
    }
}
