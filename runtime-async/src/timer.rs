//! The call's timer: created only when a wait needs one, re-armed lazily, and kept by the
//! client for the next call when the call ends.

use std::sync::Mutex;
use std::task::{Context, Poll};

use wayfarer_core::Instant;

use crate::net::Net;

/// How many idle timers a client keeps for later calls.
const KEPT: usize = 8;

/// A call's timer, re-armed lazily.
///
/// A bulk download moves the read deadline later on every read; re-arming the runtime's timer
/// each time costs a timer-wheel update (tokio) or a reactor insert and wake-up (smol, several
/// system calls). So a timer armed for an earlier instant than the deadline is kept: when it
/// fires, the deadline is compared and the timer re-armed to the real one then. Only a deadline
/// that moved earlier than the armed instant re-arms at once. The deadline thus never reports
/// early (only a fire at `armed == deadline` answers `Ready`), and late by at most the time a
/// re-arm takes.
pub(crate) struct Timer<N: Net> {
    timer: Option<N::Timer>,
    /// The instant the timer is armed for; `None` when it has fired for the deadline.
    armed: Option<Instant>,
    /// The runtime instance the timer belongs to; `None`: it is not kept after the call.
    home: Option<N::TimerHome>,
    /// How often the runtime's timer was armed or re-armed (for tests).
    #[cfg(test)]
    arms: usize,
}

impl<N: Net> Timer<N> {
    pub(crate) fn new() -> Timer<N> {
        Timer {
            timer: None,
            armed: None,
            home: None,
            #[cfg(test)]
            arms: 0,
        }
    }

    /// Ready once `deadline` has passed; registers the waker otherwise. The first wait takes a
    /// timer from `idle` (one a finished call left armed, often for an earlier instant, which
    /// then stays armed) or creates one.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        idle: &IdleTimers<N>,
        epoch: std::time::Instant,
        deadline: Instant,
    ) -> Poll<()> {
        if self.timer.is_none() {
            self.home = N::timer_home();
            match self.home.as_ref().and_then(|home| idle.take(home)) {
                Some((timer, armed)) => {
                    self.timer = Some(timer);
                    self.armed = armed;
                }
                None => {
                    self.armed = Some(deadline);
                    #[cfg(test)]
                    {
                        self.arms += 1;
                    }
                    let fired =
                        N::poll_timer(self.timer.insert(N::timer(deadline.to_std(epoch))), cx);
                    return self.spent_if(fired);
                }
            }
        }
        let Some(timer) = &mut self.timer else {
            return Poll::Pending;
        };
        if let Some(armed) = self.armed.filter(|armed| *armed <= deadline) {
            // Armed for the deadline or, lazily, for an earlier instant.
            if N::poll_timer(timer, cx).is_pending() {
                return Poll::Pending;
            }
            if armed == deadline {
                // Spent (a smol timer never fires twice): a later poll re-arms it.
                self.armed = None;
                return Poll::Ready(());
            }
            // It fired for an instant the deadline has since moved past: re-arm below.
        }
        // The deadline moved earlier than the armed instant, or the timer is spent or fired
        // early: re-arm to the real deadline.
        N::reset_timer(timer, deadline.to_std(epoch));
        self.armed = Some(deadline);
        #[cfg(test)]
        {
            self.arms += 1;
        }
        let fired = N::poll_timer(timer, cx);
        self.spent_if(fired)
    }

    /// A timer that fired as soon as it was armed (its deadline had already passed) is spent
    /// like one that fired later: a smol timer never fires twice, so one kept as still armed
    /// would leave a later call's deadline waiting forever.
    fn spent_if(&mut self, fired: Poll<()>) -> Poll<()> {
        if fired.is_ready() {
            self.armed = None;
        }
        fired
    }

    /// The call ended: its timer, still armed, goes to `idle` for a later call.
    pub(crate) fn give_back(&mut self, idle: &IdleTimers<N>) {
        if let (Some(timer), Some(home)) = (self.timer.take(), self.home.take()) {
            idle.put(home, timer, self.armed.take());
        }
    }
}

/// A client's idle timers, kept armed for later calls: reusing one costs no allocation (tokio
/// boxes its `Sleep`) and, while it stays armed for an instant before the next call's deadline,
/// no reactor or timer-wheel update at all (smol inserts a timer into its reactor and wakes
/// it on every arm). A timer belongs to the runtime instance that made it
/// ([`Net::timer_home`]); a call in another one gets none of them.
pub(crate) struct IdleTimers<N: Net> {
    timers: Mutex<Vec<IdleTimer<N>>>,
}

struct IdleTimer<N: Net> {
    home: N::TimerHome,
    timer: N::Timer,
    armed: Option<Instant>,
}

impl<N: Net> Default for IdleTimers<N> {
    fn default() -> Self {
        IdleTimers {
            timers: Mutex::new(Vec::new()),
        }
    }
}

impl<N: Net> IdleTimers<N> {
    fn take(&self, home: &N::TimerHome) -> Option<(N::Timer, Option<Instant>)> {
        let mut timers = self.timers.lock().unwrap_or_else(|p| p.into_inner());
        let i = timers.iter().rposition(|t| t.home == *home)?;
        let idle = timers.swap_remove(i);
        Some((idle.timer, idle.armed))
    }

    fn put(&self, home: N::TimerHome, timer: N::Timer, armed: Option<Instant>) {
        let mut timers = self.timers.lock().unwrap_or_else(|p| p.into_inner());
        // The oldest one goes (its runtime may be gone), dropped outside the lock.
        let oldest = (timers.len() >= KEPT).then(|| timers.remove(0));
        timers.push(IdleTimer { home, timer, armed });
        drop(timers);
        drop(oldest);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io;
    use std::net::SocketAddr;
    use std::task::Waker;
    use std::time::Duration;

    use super::*;
    use crate::net::BoxFuture;

    thread_local! {
        /// The fake clock, as an offset from `EPOCH`.
        static NOW: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    }

    fn epoch() -> std::time::Instant {
        static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        *EPOCH.get_or_init(std::time::Instant::now)
    }

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn set_now(ms: u64) {
        NOW.with(|n| n.set(Duration::from_millis(ms)));
    }

    /// A runtime whose timers fire when the fake clock reaches them, once each as smol's do
    /// (a timer that fired stays silent until it is re-armed); nothing else works.
    struct Fake;

    struct FakeTimer {
        at: std::time::Instant,
        spent: bool,
    }

    impl Net for Fake {
        type Socket = ();
        type Timer = FakeTimer;
        type TimerHome = ();

        fn resolve(_: String, _: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
            Box::pin(std::future::ready(Err(io::Error::other("no network"))))
        }
        fn connect(_: SocketAddr) -> BoxFuture<io::Result<()>> {
            Box::pin(std::future::ready(Err(io::Error::other("no network"))))
        }
        fn poll_read(_: &mut (), _: &mut Context<'_>, _: &mut [u8]) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(0))
        }
        fn poll_write(_: &mut (), _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(0))
        }
        fn is_healthy(_: &()) -> bool {
            false
        }
        fn poll_idle(_: &mut (), _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
        fn spawn(future: BoxFuture<()>) {
            drop(future);
        }
        fn now() -> std::time::Instant {
            epoch() + NOW.with(Cell::get)
        }
        fn timer_home() -> Option<()> {
            Some(())
        }
        fn timer(at: std::time::Instant) -> FakeTimer {
            FakeTimer { at, spent: false }
        }
        fn reset_timer(timer: &mut FakeTimer, at: std::time::Instant) {
            *timer = FakeTimer { at, spent: false };
        }
        fn poll_timer(timer: &mut FakeTimer, _: &mut Context<'_>) -> Poll<()> {
            if !timer.spent && Fake::now() >= timer.at {
                timer.spent = true;
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
        fn unblock<T, F>(f: F) -> BoxFuture<Option<T>>
        where
            T: Send + 'static,
            F: FnOnce() -> T + Send + 'static,
        {
            let result = f();
            Box::pin(async move { Some(result) })
        }
    }

    fn poll(timer: &mut Timer<Fake>, idle: &IdleTimers<Fake>, deadline: Instant) -> Poll<()> {
        let mut cx = Context::from_waker(Waker::noop());
        timer.poll(&mut cx, idle, epoch(), deadline)
    }

    #[test]
    fn a_download_moving_its_deadline_on_every_read_arms_the_timer_once() {
        let idle = IdleTimers::default();
        let mut timer = Timer::<Fake>::new();
        // 10 000 reads 1 ms apart, each waiting with a 10 s read deadline from its start.
        for i in 0..10_000 {
            set_now(i);
            assert!(poll(&mut timer, &idle, at(i + 10_000)).is_pending());
        }
        assert_eq!(timer.arms, 1, "armed once, for the first read's deadline");
        // The first deadline passes while the last read waits: it fired for an instant the
        // deadline has moved past, so the call hears nothing and the timer is re-armed.
        set_now(10_000);
        assert!(poll(&mut timer, &idle, at(19_999)).is_pending());
        assert_eq!(timer.arms, 2);
        set_now(19_998);
        assert!(poll(&mut timer, &idle, at(19_999)).is_pending());
        set_now(19_999);
        assert!(poll(&mut timer, &idle, at(19_999)).is_ready());
        assert_eq!(timer.arms, 2);
    }

    #[test]
    fn a_deadline_moved_earlier_re_arms_at_once() {
        let idle = IdleTimers::default();
        let mut timer = Timer::<Fake>::new();
        set_now(0);
        assert!(poll(&mut timer, &idle, at(10_000)).is_pending());
        assert!(poll(&mut timer, &idle, at(2_000)).is_pending());
        assert_eq!(timer.arms, 2);
        set_now(2_000);
        assert!(poll(&mut timer, &idle, at(2_000)).is_ready());
    }

    #[test]
    fn a_timer_polled_again_after_it_fired_is_re_armed() {
        let idle = IdleTimers::default();
        let mut timer = Timer::<Fake>::new();
        set_now(0);
        assert!(poll(&mut timer, &idle, at(1_000)).is_pending());
        set_now(1_000);
        assert!(poll(&mut timer, &idle, at(1_000)).is_ready());
        // A new, later deadline is waited for in full.
        assert!(poll(&mut timer, &idle, at(3_000)).is_pending());
        set_now(3_000);
        assert!(poll(&mut timer, &idle, at(3_000)).is_ready());
        assert_eq!(timer.arms, 2);
    }

    #[test]
    fn a_later_call_reuses_a_finished_calls_timer_still_armed() {
        let idle = IdleTimers::default();
        let mut first = Timer::<Fake>::new();
        set_now(0);
        assert!(poll(&mut first, &idle, at(10_000)).is_pending());
        first.give_back(&idle);
        set_now(5);
        let mut second = Timer::<Fake>::new();
        assert!(poll(&mut second, &idle, at(10_005)).is_pending());
        assert_eq!(
            second.arms, 0,
            "the kept timer, armed for 10 000, serves as is"
        );
        assert!(
            idle.timers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
        );
        // It never answers before the second call's own deadline.
        set_now(10_000);
        assert!(poll(&mut second, &idle, at(10_005)).is_pending());
        set_now(10_005);
        assert!(poll(&mut second, &idle, at(10_005)).is_ready());
    }

    #[test]
    fn a_timer_that_fires_as_it_is_made_does_not_silence_the_next_calls_deadline() {
        let idle = IdleTimers::default();
        let mut first = Timer::<Fake>::new();
        set_now(1_000);
        // The deadline passed before the call first waited: the new timer fires at once.
        assert!(poll(&mut first, &idle, at(500)).is_ready());
        first.give_back(&idle);
        let mut second = Timer::<Fake>::new();
        assert!(poll(&mut second, &idle, at(2_000)).is_pending());
        set_now(2_000);
        assert!(
            poll(&mut second, &idle, at(2_000)).is_ready(),
            "the reused timer fires for the second call's deadline"
        );
    }

    #[test]
    fn a_timer_that_fires_as_it_is_re_armed_does_not_silence_the_next_calls_deadline() {
        let idle = IdleTimers::default();
        let mut first = Timer::<Fake>::new();
        set_now(0);
        assert!(poll(&mut first, &idle, at(10_000)).is_pending());
        // The deadline moved earlier, to an instant already past: re-armed, it fires at once.
        set_now(3_000);
        assert!(poll(&mut first, &idle, at(2_000)).is_ready());
        first.give_back(&idle);
        let mut second = Timer::<Fake>::new();
        assert!(poll(&mut second, &idle, at(4_000)).is_pending());
        set_now(4_000);
        assert!(poll(&mut second, &idle, at(4_000)).is_ready());
    }

    #[test]
    fn at_most_a_few_idle_timers_are_kept() {
        let idle = IdleTimers::<Fake>::default();
        set_now(0);
        // Calls at once each make their own timer.
        let mut timers: Vec<Timer<Fake>> = (0..KEPT + 3).map(|_| Timer::new()).collect();
        for timer in &mut timers {
            assert!(poll(timer, &idle, at(1_000)).is_pending());
            assert_eq!(timer.arms, 1);
        }
        for timer in &mut timers {
            timer.give_back(&idle);
        }
        let kept = idle.timers.lock().unwrap_or_else(|p| p.into_inner()).len();
        assert_eq!(kept, KEPT);
    }
}
