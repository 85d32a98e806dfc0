//! Connect attempts in flight on the calling thread, several at once for fast fallback.
//!
//! The core decides when each attempt starts and which one wins (RFC 8305's
//! [`FastFallback`](wayfarer_core::FastFallback): a second route 250 ms after the first while the
//! first is still connecting, the first to connect wins, the others are closed). This module
//! only starts non-blocking connects and waits for all of them at once with `poll(2)`, so a
//! blocking call races its routes without a thread per attempt, and a first address that hangs
//! costs 250 ms instead of a whole connect timeout.
//!
//! A single attempt makes five system calls: `socket` (created non-blocking, which saves the
//! `ioctl` a blocking socket needs first), `connect` (in progress), `poll`, back to blocking,
//! `TCP_NODELAY`. `SO_ERROR` is read only when `poll` reports an error.
//!
//! Every socket is registered with the call's [`CancelState`] from the moment it exists: a
//! cancel from another thread shuts them down, which ends the `poll` at once.
//!
//! Without `poll(2)` (not unix) each attempt blocks until it connects or times out, so routes
//! are tried one at a time.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::task::Poll;

use smallvec::SmallVec;

use wayfarer_core::{ConnId, Instant};

use crate::call::CancelState;
use crate::socket::Socket;

/// One connect attempt in flight.
#[derive(Debug)]
struct Attempt {
    conn: ConnId,
    stream: Arc<TcpStream>,
    deadline: Option<Instant>,
    /// What the last `poll(2)` said of this socket: writable (connected or failed), or hung up.
    ready: Option<Readiness>,
}

/// Only `poll(2)` reports these: without it (not unix) no attempt is left in flight.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(unix), allow(dead_code))]
enum Readiness {
    /// Writable, with no error or hang-up.
    Connected,
    /// An error or a hang-up: the connect failed (`SO_ERROR` says why) or was shut down.
    Failed,
}

impl Attempt {
    /// Records what `poll(2)` said of the socket: connected, failed, or nothing yet.
    #[cfg(unix)]
    fn note(&mut self, revents: rustix::event::PollFlags) {
        use rustix::event::PollFlags;
        if revents.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL) {
            self.ready = Some(Readiness::Failed);
        } else if revents.contains(PollFlags::OUT) {
            self.ready = Some(Readiness::Connected);
        }
    }
}

/// The call's connect attempts in flight (none for a call served from the pool, and never
/// allocated then).
#[derive(Debug, Default)]
pub(crate) struct Connects {
    attempts: SmallVec<[Attempt; 1]>,
}

/// `Err(TimedOut)` once `deadline` has passed.
fn check_deadline(deadline: Option<Instant>, now: Instant) -> io::Result<()> {
    match deadline {
        Some(d) if d <= now => Err(io::ErrorKind::TimedOut.into()),
        _ => Ok(()),
    }
}

impl Connects {
    /// Polls attempt `conn` to `addr`, starting it on its first poll.
    pub(crate) fn poll(
        &mut self,
        conn: ConnId,
        addr: SocketAddr,
        deadline: Option<Instant>,
        now: Instant,
        cancel: &CancelState,
    ) -> Poll<io::Result<Socket>> {
        let Some(i) = self.attempts.iter().position(|a| a.conn == conn) else {
            if let Err(e) = check_deadline(deadline, now) {
                return Poll::Ready(Err(e));
            }
            return self.start(conn, addr, deadline, now, cancel);
        };
        let attempt = &mut self.attempts[i];
        attempt.deadline = deadline;
        let result = match attempt.ready {
            // Writable with no error or hang-up: connected (a failed connect reports
            // `POLLERR`), so no `SO_ERROR` read is needed.
            Some(Readiness::Connected) => Ok(()),
            Some(Readiness::Failed) => Err(match attempt.stream.take_error() {
                Ok(Some(e)) | Err(e) => e,
                Ok(None) => io::ErrorKind::NotConnected.into(),
            }),
            None => match check_deadline(deadline, now) {
                Ok(()) => return Poll::Pending,
                Err(e) => Err(e),
            },
        };
        let attempt = self.attempts.swap_remove(i);
        cancel.remove_connecting(&attempt.stream);
        Poll::Ready(result.and_then(|()| Socket::connected(attempt.stream)))
    }

    /// Starts attempt `conn` (its deadline has not passed).
    #[cfg(unix)]
    fn start(
        &mut self,
        conn: ConnId,
        addr: SocketAddr,
        deadline: Option<Instant>,
        _now: Instant,
        cancel: &CancelState,
    ) -> Poll<io::Result<Socket>> {
        let stream = match nonblocking_socket(addr) {
            Ok(s) => Arc::new(s),
            Err(e) => return Poll::Ready(Err(e)),
        };
        cancel.add_connecting(&stream);
        match socket2::SockRef::from(&*stream).connect(&addr.into()) {
            Ok(()) => {
                cancel.remove_connecting(&stream);
                Poll::Ready(Socket::connected(stream))
            }
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {
                self.attempts.push(Attempt {
                    conn,
                    stream,
                    deadline,
                    ready: None,
                });
                Poll::Pending
            }
            Err(e) => {
                cancel.remove_connecting(&stream);
                Poll::Ready(Err(e))
            }
        }
    }

    /// Without `poll(2)`: connects right here, blocking until done or `deadline`.
    #[cfg(not(unix))]
    fn start(
        &mut self,
        _conn: ConnId,
        addr: SocketAddr,
        deadline: Option<Instant>,
        now: Instant,
        cancel: &CancelState,
    ) -> Poll<io::Result<Socket>> {
        let domain = socket2::Domain::for_address(addr);
        let result =
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
                .and_then(|raw| {
                    let stream = Arc::new(TcpStream::from(raw));
                    cancel.add_connecting(&stream);
                    let socket = socket2::SockRef::from(&*stream);
                    let connected = match deadline {
                        Some(d) => socket.connect_timeout(&addr.into(), d - now),
                        None => socket.connect(&addr.into()),
                    };
                    cancel.remove_connecting(&stream);
                    connected.and_then(|()| Socket::connected(stream))
                });
        Poll::Ready(result)
    }

    /// Gives up attempt `conn`: its socket is closed.
    pub(crate) fn cancel(&mut self, conn: ConnId, cancel: &CancelState) {
        if let Some(i) = self.attempts.iter().position(|a| a.conn == conn) {
            let attempt = self.attempts.swap_remove(i);
            cancel.remove_connecting(&attempt.stream);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.attempts.is_empty()
    }

    /// Waits until an attempt connects or fails, or until the earliest of `until` and the
    /// attempts' deadlines (`None`: no limit but theirs). Returns at once when some attempt's
    /// outcome is already known and not yet polled.
    #[cfg(unix)]
    pub(crate) fn wait(&mut self, until: Option<Instant>, now: Instant) {
        use rustix::event::{PollFd, PollFlags, Timespec};

        if self.attempts.iter().any(|a| a.ready.is_some()) {
            return;
        }
        let until = self
            .attempts
            .iter()
            .filter_map(|a| a.deadline)
            .fold(until, |acc, d| Some(acc.map_or(d, |a: Instant| a.min(d))));
        let timeout = match until {
            // Round up: waking a little early would only mean waiting again.
            Some(at) if at > now => {
                Timespec::try_from((at - now) + std::time::Duration::from_micros(999)).ok()
            }
            Some(_) => return,
            None => None,
        };
        // EINTR (an error here) leaves every attempt as it was: the caller polls them again and
        // comes back here.
        if let [attempt] = self.attempts.as_mut_slice() {
            // The common case, one attempt: no vectors to allocate for `poll(2)`.
            let mut fds = [PollFd::new(&*attempt.stream, PollFlags::OUT)];
            if rustix::event::poll(&mut fds, timeout.as_ref()).is_ok() {
                let revents = fds[0].revents();
                attempt.note(revents);
            }
            return;
        }
        let mut fds: Vec<PollFd<'_>> = self
            .attempts
            .iter()
            .map(|a| PollFd::new(&*a.stream, PollFlags::OUT))
            .collect();
        if rustix::event::poll(&mut fds, timeout.as_ref()).is_err() {
            return;
        }
        let states: Vec<PollFlags> = fds.iter().map(PollFd::revents).collect();
        drop(fds);
        for (attempt, revents) in self.attempts.iter_mut().zip(states) {
            attempt.note(revents);
        }
    }

    /// Without `poll(2)` no attempt is ever left in flight: nothing to wait for.
    #[cfg(not(unix))]
    pub(crate) fn wait(&mut self, _until: Option<Instant>, _now: Instant) {}
}

/// A TCP socket for `addr`, created non-blocking in one system call where the platform can.
#[cfg(unix)]
fn nonblocking_socket(addr: SocketAddr) -> io::Result<TcpStream> {
    let domain = socket2::Domain::for_address(addr);
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "illumos",
        target_os = "linux",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    let raw = socket2::Socket::new(
        domain,
        socket2::Type::STREAM.nonblocking(),
        Some(socket2::Protocol::TCP),
    )?;
    #[cfg(not(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "illumos",
        target_os = "linux",
        target_os = "netbsd",
        target_os = "openbsd"
    )))]
    let raw = {
        let raw =
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
        raw.set_nonblocking(true)?;
        raw
    };
    Ok(TcpStream::from(raw))
}
