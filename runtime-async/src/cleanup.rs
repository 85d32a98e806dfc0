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
//! only notes that the task has a socket to watch, and the task looks at the pool [`CADENCE`]
//! after a release (woken early only when its next look is further away than that). A call
//! taking a socket the task has not watched yet peeks at it if it was idle a millisecond or
//! more.
//!
//! [`SharedPool::cleanup`]: wayfarer_core::SharedPool::cleanup

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use wayfarer_core::{Instant, WeakPool};

use crate::net::Net;

/// How soon after a release the task looks at the idle sockets again, where watching them is
/// not free.
const CADENCE: Duration = wayfarer_core::IDLE_WATCH_CADENCE;

/// The cleanup task's waker, shared by the clients that share one pool: idle sockets are
/// watched under it (by a release, or by the task's own look).
#[derive(Debug, Default)]
pub(crate) struct Cleaner {
    waker: Mutex<Option<Waker>>,
    /// When the task looks at the pool next, in nanoseconds since the clients' epoch
    /// (`u64::MAX`: not before it is woken, or it has not run yet). Kept only where watching is
    /// not free.
    next_look: AtomicU64,
    /// A connection went back to the pool unwatched since the task last looked.
    released: AtomicBool,
}

impl Cleaner {
    /// The task's waker (a no-op one before the task first runs: it looks at every idle
    /// socket then).
    pub(crate) fn waker(&self) -> Waker {
        self.lock().clone().unwrap_or_else(|| Waker::noop().clone())
    }

    /// A connection went back to the pool unwatched at `now`: wake the task if its next look
    /// is further away than [`CADENCE`].
    pub(crate) fn on_release(&self, now: Instant) {
        // Each side stores one flag and then loads the other's (here `released`, then
        // `next_look`; the task the reverse): sequentially consistent, so that at least one
        // of them sees the other's store, and a release is never left unwatched until the
        // keep-alive's end.
        self.released.store(true, Ordering::SeqCst);
        let next = self.next_look.load(Ordering::SeqCst);
        if next != u64::MAX && next > nanos(now + CADENCE) {
            self.waker().wake();
        }
    }

    /// When the task looks next, having cleaned up at `now` with its next run due at
    /// `next_run`: sooner when a release left a socket unwatched.
    fn schedule(&self, now: Instant, next_run: Instant) -> Instant {
        let soon = next_run.min(now + CADENCE);
        let look = if self.released.swap(false, Ordering::AcqRel) {
            soon
        } else {
            next_run
        };
        self.next_look.store(nanos(look), Ordering::SeqCst);
        // A release between the swap and the store may not have woken the task: look again
        // soon rather than miss its socket.
        if self.released.load(Ordering::SeqCst) {
            soon
        } else {
            look
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
        self.next_look.store(u64::MAX, Ordering::Release);
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
            let next = cleaner.schedule(now, next_run);
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

fn nanos(at: Instant) -> u64 {
    u64::try_from(at.since_epoch().as_nanos()).unwrap_or(u64::MAX - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    #[test]
    fn a_release_brings_the_next_look_within_the_cadence() {
        let cleaner = Cleaner::default();
        assert_eq!(cleaner.schedule(at(0), at(300_000)), at(300_000), "quiet");
        // The task looks at the keep-alive's end: a release wakes it (with a no-op waker here)
        // and asks for a look within the cadence.
        cleaner.on_release(at(1_000));
        assert_eq!(cleaner.schedule(at(1_001), at(300_000)), at(1_101));
        assert_eq!(cleaner.schedule(at(1_101), at(300_000)), at(300_000));
        // A run due sooner than the cadence stays as it is.
        cleaner.on_release(at(2_000));
        assert_eq!(cleaner.schedule(at(2_000), at(2_050)), at(2_050));
        assert_eq!(cleaner.next_look.load(Ordering::Acquire), nanos(at(2_050)));
    }
}
