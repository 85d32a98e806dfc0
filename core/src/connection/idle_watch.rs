//! When a runtime's idle watch looks at the pool again, where watching a socket is not free.
//!
//! Idle pooled sockets are watched for bytes nobody asked for and for the server closing them.
//! Where watching costs a system call (the blocking runtime's cleanup thread rebuilds a
//! `poll(2)` set; async-io arms a one-shot interest with `epoll_ctl`), a release does not watch
//! its socket itself: it records that the watcher has a socket to pick up, and wakes the
//! watcher only when its next look is further away than [`IDLE_WATCH_CADENCE`]. A busy pool's
//! releases are so picked up in batches, and a sequential keep-alive request pays nothing.
//! The watcher and the wake-up are the runtime's; when to look is decided here.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::Instant;

/// How soon after a release the watcher looks at the pool's idle sockets again.
pub const IDLE_WATCH_CADENCE: Duration = Duration::from_millis(100);

/// The watcher's schedule, shared by the releases (any thread) and the watcher.
#[derive(Debug)]
pub struct IdleWatchSchedule {
    /// When the watcher looks next, in nanoseconds since the clients' epoch (`u64::MAX`: not
    /// before it is woken, or it has not looked yet).
    next_look: AtomicU64,
    /// A connection went back to the pool unwatched since the watcher last looked.
    released: AtomicBool,
}

impl Default for IdleWatchSchedule {
    fn default() -> IdleWatchSchedule {
        IdleWatchSchedule {
            next_look: AtomicU64::new(u64::MAX),
            released: AtomicBool::new(false),
        }
    }
}

impl IdleWatchSchedule {
    /// A connection went back to the pool unwatched at `now`. True when the watcher must be
    /// woken: its next look is further away than [`IDLE_WATCH_CADENCE`]. (One that has not
    /// looked yet looks at every idle socket when it first does.)
    pub fn on_release(&self, now: Instant) -> bool {
        // Each side stores one flag and then loads the other's (here `released`, then
        // `next_look`; `look_after` the reverse): sequentially consistent, so that at least
        // one of them sees the other's store, and a release is never left unwatched until the
        // keep-alive's end.
        self.released.store(true, Ordering::SeqCst);
        let next = self.next_look.load(Ordering::SeqCst);
        next != u64::MAX && next > nanos(now + IDLE_WATCH_CADENCE)
    }

    /// When the watcher, having looked at the pool and cleaned it up at `now` with its next
    /// cleanup due at `next_run`, looks next: within [`IDLE_WATCH_CADENCE`] when a release
    /// left a socket unwatched since its last look (the look just made may have missed it),
    /// else at `next_run`.
    pub fn look_after(&self, now: Instant, next_run: Instant) -> Instant {
        let soon = next_run.min(now + IDLE_WATCH_CADENCE);
        let look = if self.released.swap(false, Ordering::AcqRel) {
            soon
        } else {
            next_run
        };
        self.next_look.store(nanos(look), Ordering::SeqCst);
        // A release between the swap and the store may not have woken the watcher: look again
        // soon rather than miss its socket.
        if self.released.load(Ordering::SeqCst) {
            soon
        } else {
            look
        }
    }

    /// The watcher is starting, or ending: no release wakes it until it has looked.
    pub fn reset(&self) {
        self.next_look.store(u64::MAX, Ordering::Release);
    }
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
        let schedule = IdleWatchSchedule::default();
        assert!(!schedule.on_release(at(0)), "a watcher that has not looked");
        assert_eq!(schedule.look_after(at(0), at(300_000)), at(100));
        assert_eq!(
            schedule.look_after(at(100), at(300_000)),
            at(300_000),
            "quiet"
        );
        // The watcher looks at the keep-alive's end: a release wakes it and asks for a look
        // within the cadence.
        assert!(schedule.on_release(at(1_000)));
        assert_eq!(schedule.look_after(at(1_001), at(300_000)), at(1_101));
        // Its next look is near: a release wakes nothing, and the look after it comes soon.
        assert!(!schedule.on_release(at(1_050)));
        assert_eq!(schedule.look_after(at(1_101), at(300_000)), at(1_201));
        assert_eq!(schedule.look_after(at(1_201), at(300_000)), at(300_000));
        // A run due sooner than the cadence stays as it is.
        assert!(schedule.on_release(at(2_000)));
        assert_eq!(schedule.look_after(at(2_000), at(2_050)), at(2_050));
        schedule.reset();
        assert!(
            !schedule.on_release(at(3_000)),
            "reset: not before it looks"
        );
    }
}
