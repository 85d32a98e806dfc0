//! The pool's cleanup thread: runs OkHttp's cleanup when it is due, and closes idle connections
//! the moment something arrives on them.
//!
//! The cleanup itself is the core's pure function of `now` ([`SharedPool::cleanup`]); this
//! thread only sleeps until the time it returns. It starts when the pool gets its first
//! connection and ends when the pool is empty (or every client that shared it is gone), so an
//! application with no connections has no thread.
//!
//! While it sleeps it also watches the idle sockets with `poll(2)`: bytes arriving on an idle
//! connection (an unsolicited response) or the server closing it make it readable, and the
//! thread closes it at once, so those bytes are never read as the next call's response and no
//! socket waits in `CLOSE_WAIT` for its keep-alive to end. Calls never pay for this: a
//! keep-alive request is still one `write` and one `read`, and releasing a connection costs no
//! system call while the thread is already looking at the pool often. The thread re-reads the
//! set of idle sockets within 100 ms of a release; only a release after a quiet period (its
//! next look is further away than that) wakes it, with one byte on a socket pair (the core's
//! `IdleWatchSchedule` decides).
//!
//! Bytes that arrive between a release and the thread's next look (at most 100 ms later, and
//! only while the pool is busy) are caught when a call takes the connection: one idle a
//! millisecond or more is peeked at first (`driver.rs`). The window left open is the one no
//! client can close, bytes arriving while a call is picking the connection up, and the first
//! millisecond after a release, which a sequential keep-alive request does not pay a system
//! call to look at.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wayfarer_core::{IdleWatchSchedule, Instant, WeakPool};

use crate::socket::Socket;

/// The cleanup thread's schedule, shared by the clients that share one pool.
#[derive(Debug, Default)]
pub(crate) struct Cleaner {
    /// When the thread looks at the pool next.
    schedule: IdleWatchSchedule,
    /// Counts the threads started, so one that is ending never undoes its successor's setup.
    generation: AtomicU64,
    /// Writing a byte here wakes the thread.
    #[cfg(unix)]
    wake: Mutex<Option<std::os::unix::net::UnixStream>>,
    #[cfg(not(unix))]
    wake: Mutex<Option<std::thread::Thread>>,
}

impl Cleaner {
    /// Starts the thread for `pool` (the pool said none runs).
    pub(crate) fn start(self: &Arc<Self>, pool: WeakPool<Socket>, epoch: std::time::Instant) {
        self.schedule.reset();
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let cleaner = self.clone();
        let for_thread = pool.clone();
        let spawned = std::thread::Builder::new()
            .name("wayfarer-pool".into())
            .spawn(move || cleaner.run(&for_thread, epoch, generation));
        // Without a thread, idle connections are still evicted when the next call looks in the
        // pool (acquire runs the cleanup first), and the next release tries to start one again.
        if spawned.is_err() {
            stopped(&pool);
        }
    }

    /// A connection went back to the pool at `now`: wake the thread if its next look is far.
    pub(crate) fn on_release(&self, now: Instant) {
        if self.schedule.on_release(now) {
            self.wake();
        }
    }

    /// Wakes the thread to look at the pool now (it ends if the pool is empty).
    pub(crate) fn wake(&self) {
        let wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
        #[cfg(unix)]
        if let Some(mut writer) = wake.as_ref() {
            // A full socket pair already holds a wake-up: nothing is lost.
            let _ = std::io::Write::write(&mut writer, &[1]);
        }
        #[cfg(not(unix))]
        if let Some(thread) = wake.as_ref() {
            thread.unpark();
        }
    }

    fn run(&self, pool: &WeakPool<Socket>, epoch: std::time::Instant, generation: u64) {
        let Some(waiter) = Waiter::new(self) else {
            stopped(pool);
            return;
        };
        loop {
            let Some(shared) = pool.upgrade() else { break };
            let now = Instant::from_std(epoch, std::time::Instant::now());
            let Some(next_run) = shared.cleanup(now) else {
                break;
            };
            let mut watched = Vec::new();
            shared.for_each_idle(|conn, socket| watched.push((conn.id(), socket.handle())));
            drop(shared);
            let look = self.schedule.look_after(now, next_run);
            waiter.wait(pool, &mut watched, epoch, look);
        }
        let mut wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            self.schedule.reset();
            *wake = None;
        }
    }
}

/// The cleanup thread did not start, or gave up before the pool was empty: the pool's next
/// release asks for another, where it would otherwise wait for this one for ever.
fn stopped(pool: &WeakPool<Socket>) {
    if let Some(pool) = pool.upgrade() {
        pool.cleanup_stopped();
    }
}

#[cfg(unix)]
use unix::Waiter;

#[cfg(unix)]
mod unix {
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    use rustix::event::{PollFd, PollFlags, Timespec};
    use wayfarer_core::{ConnId, Instant, WeakPool};

    use super::Cleaner;
    use crate::socket::Socket;

    /// The thread's side of the wake-up socket pair.
    pub(super) struct Waiter {
        reader: UnixStream,
    }

    impl Waiter {
        pub(super) fn new(cleaner: &Cleaner) -> Option<Waiter> {
            let (reader, writer) = UnixStream::pair().ok()?;
            reader.set_nonblocking(true).ok()?;
            writer.set_nonblocking(true).ok()?;
            *cleaner.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(writer);
            Some(Waiter { reader })
        }

        /// Sleeps until `until`, a wake-up, or a watched socket becoming readable; closes the
        /// idle connections whose sockets did (ones in use again are only dropped from the
        /// watch, so a busy connection wakes the thread at most once per look).
        pub(super) fn wait(
            &self,
            pool: &WeakPool<Socket>,
            watched: &mut Vec<(ConnId, std::sync::Arc<std::net::TcpStream>)>,
            epoch: std::time::Instant,
            until: Instant,
        ) {
            loop {
                let now = Instant::from_std(epoch, std::time::Instant::now());
                if now >= until {
                    return;
                }
                // Round up: waking early only means looking twice.
                let left = (until - now) + std::time::Duration::from_micros(999);
                let timeout = Timespec::try_from(left).ok();
                let mut fds: Vec<PollFd<'_>> = watched
                    .iter()
                    .map(|(_, s)| PollFd::new(&**s, PollFlags::IN))
                    .collect();
                fds.push(PollFd::new(&self.reader, PollFlags::IN));
                match rustix::event::poll(&mut fds, timeout.as_ref()) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => return,
                }
                let woken = fds.last().is_some_and(|f| !f.revents().is_empty());
                let ready: Vec<usize> = fds[..watched.len()]
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| !f.revents().is_empty())
                    .map(|(i, _)| i)
                    .collect();
                drop(fds);
                if woken {
                    let mut sink = [0u8; 64];
                    while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
                    return;
                }
                let ids: Vec<ConnId> = ready.iter().map(|&i| watched[i].0).collect();
                for &i in ready.iter().rev() {
                    watched.swap_remove(i);
                }
                match pool.upgrade() {
                    Some(pool) => {
                        // A socket readable when `poll` returned may have been taken by a call
                        // since, its response read and the connection released again: a peek
                        // tells bytes still waiting from bytes a call has read.
                        pool.close_idle_where(|conn, socket| {
                            ids.contains(&conn.id()) && !socket.is_healthy()
                        });
                    }
                    None => return,
                }
            }
        }
    }
}

#[cfg(not(unix))]
use other::Waiter;

#[cfg(not(unix))]
mod other {
    use wayfarer_core::{ConnId, Instant, WeakPool};

    use super::Cleaner;
    use crate::socket::Socket;

    /// Without `poll(2)`, the thread only keeps the cleanup schedule.
    pub(super) struct Waiter;

    impl Waiter {
        pub(super) fn new(cleaner: &Cleaner) -> Option<Waiter> {
            *cleaner.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current());
            Some(Waiter)
        }

        pub(super) fn wait(
            &self,
            _pool: &WeakPool<Socket>,
            _watched: &mut Vec<(ConnId, std::sync::Arc<std::net::TcpStream>)>,
            epoch: std::time::Instant,
            until: Instant,
        ) {
            let now = Instant::from_std(epoch, std::time::Instant::now());
            if now < until {
                std::thread::park_timeout(until - now);
            }
        }
    }
}
