//! The pool's cleanup task: runs OkHttp's cleanup when it is due, and closes idle connections
//! the moment something arrives on them.
//!
//! The cleanup itself is the core's pure function of `now` ([`SharedPool::cleanup`]); this task
//! only sleeps on the runtime's timer until the time it returns. It is spawned when the pool
//! gets its first connection and ends when the pool is empty (or every client sharing it is
//! gone).
//!
//! Idle connections are watched with the reactor under this task's waker ([`Net::poll_idle`]),
//! so bytes arriving on one (an unsolicited response) or the server closing it wake the task,
//! which closes it: those bytes are never read as the next call's response, and no socket
//! waits in `CLOSE_WAIT` for its keep-alive to end. Taking a connection from the pool checks
//! the same readiness, for bytes that arrived before the task ran.
//!
//! Where watching is free (tokio, [`Net::IDLE_WATCH_IS_FREE`]), a release watches its socket
//! at once, and neither the watch nor the check costs a system call while nothing arrives.
//! Where it is not (async-io, whose one-shot interest is armed with a system call), a release
//! only notes that the task has a socket to watch, and the task looks at the pool
//! [`IDLE_WATCH_CADENCE`](wayfarer_core::IDLE_WATCH_CADENCE)
//! after a release (woken early only when its next look is further away than that). A call
//! taking a socket the task has not watched yet peeks at it if it was idle a millisecond or
//! more.
//!
//! [`SharedPool::cleanup`]: wayfarer_core::SharedPool::cleanup

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use wayfarer_core::{IdleWatchSchedule, Instant, WeakPool};

use crate::net::Net;

/// The cleanup task's waker, shared by the clients that share one pool: idle sockets are
/// watched under it (by a release, or by the task's own look).
#[derive(Debug, Default)]
pub(crate) struct Cleaner {
    waker: Mutex<Option<Waker>>,
    /// When the task looks at the pool next (used only where watching is not free).
    schedule: IdleWatchSchedule,
}

impl Cleaner {
    /// The task's waker (a no-op one before the task first runs: it looks at every idle
    /// socket then).
    pub(crate) fn waker(&self) -> Waker {
        self.lock().clone().unwrap_or_else(|| Waker::noop().clone())
    }

    /// Runs `f` with the task's waker (a no-op one before the task first runs), borrowed
    /// under the lock rather than cloned: a clone and its drop are two atomic operations, on
    /// every release of a watched connection.
    pub(crate) fn with_waker<R>(&self, f: impl FnOnce(&Waker) -> R) -> R {
        let guard = self.lock();
        f(guard.as_ref().unwrap_or(Waker::noop()))
    }

    /// A connection went back to the pool unwatched at `now`: wake the task if its next look
    /// is far.
    pub(crate) fn on_release(&self, now: Instant) {
        if self.schedule.on_release(now) {
            self.waker().wake();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.waker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spawns the task for `pool` (the pool said none runs).
    pub(crate) fn start<N: Net>(
        self: &Arc<Self>,
        pool: WeakPool<N::Socket>,
        epoch: std::time::Instant,
    ) {
        self.schedule.reset();
        let cleaner = self.clone();
        let pool = Stopped { pool, ended: false };
        N::spawn(Box::pin(run::<N>(cleaner, pool, epoch)));
    }
}

/// A client's handle on its pool's cleanup task. It drops after the client's handle on the pool
/// (it is declared after it) and wakes the task then: if that client held the pool's last
/// handle, the task sees the pool gone and ends at once, rather than at its next scheduled run,
/// minutes away (closing the pool's sockets wakes nothing).
#[derive(Debug, Default)]
pub(crate) struct CleanerHandle(Arc<Cleaner>);

impl Clone for CleanerHandle {
    fn clone(&self) -> CleanerHandle {
        CleanerHandle(self.0.clone())
    }
}

impl std::ops::Deref for CleanerHandle {
    type Target = Arc<Cleaner>;

    fn deref(&self) -> &Arc<Cleaner> {
        &self.0
    }
}

impl Drop for CleanerHandle {
    fn drop(&mut self) {
        self.0.waker().wake();
    }
}

/// The task's pool, which it tells when the task is dropped before its end (its runtime shut
/// down, maybe before the task ever ran): the next release starts another, where the pool
/// would otherwise wait for this one for ever.
struct Stopped<S> {
    pool: WeakPool<S>,
    ended: bool,
}

impl<S> Drop for Stopped<S> {
    fn drop(&mut self) {
        if !self.ended {
            if let Some(pool) = self.pool.upgrade() {
                pool.cleanup_stopped();
            }
        }
    }
}

async fn run<N: Net>(
    cleaner: Arc<Cleaner>,
    mut stopped: Stopped<N::Socket>,
    epoch: std::time::Instant,
) {
    let pool = &stopped.pool;
    let mut timer: Option<(N::Timer, Instant)> = None;
    poll_fn(|cx| {
        {
            let mut waker = cleaner.lock();
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
        }
        loop {
            let Some(shared) = pool.upgrade() else {
                return Poll::Ready(());
            };
            // Anything on an idle socket makes it unusable (this watches the ones released
            // unwatched, too).
            shared.close_idle_where(|_, socket| N::poll_idle(socket, cx).is_ready());
            let now = Instant::from_std(epoch, N::now());
            let Some(next_run) = shared.cleanup(now) else {
                return Poll::Ready(());
            };
            drop(shared);
            let next = cleaner.schedule.look_after(now, next_run);
            let at = next.to_std(epoch);
            let timer = match &mut timer {
                Some((timer, armed)) if *armed == next => timer,
                Some((timer, armed)) => {
                    N::reset_timer(timer, at);
                    *armed = next;
                    timer
                }
                None => &mut timer.insert((N::timer(at), next)).0,
            };
            if N::poll_timer(timer, cx).is_pending() {
                return Poll::Pending;
            }
        }
    })
    .await;
    stopped.ended = true;
}
