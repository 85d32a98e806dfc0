//! The runtime's side of driving a call: [`Transport`], what a runtime provides.

use std::io;
use std::task::{Context, Poll};

use core::net::SocketAddr;

use super::{StoreJob, StoreTask};
use crate::connection::{Address, ConnId, Connection};
use crate::{Instant, Now};

/// What a runtime provides to drive calls.
///
/// Each `poll_*` operation follows `Future::poll`'s contract: `Poll::Pending` means the waker
/// in `cx` will be woken when it may progress. A blocking transport never returns `Pending`
/// from socket operations: it blocks until done or until `deadline` (returning an error of kind
/// `TimedOut`).
pub trait Transport {
    /// The runtime's socket.
    type Socket;

    /// Whether an operation may wait for the network before it returns `Ready`, as a blocking
    /// transport's socket operations do: the driver then reads the clock again after each one.
    /// A transport that waits only by returning `Pending` sets this to false, and the clock is
    /// read once each time the driver is polled anew (within one poll no time passes that a
    /// deadline would notice), which saves a few clock reads per request.
    const WAITS_BEFORE_READY: bool = true;

    /// The current time.
    fn now(&mut self) -> Now;

    /// Resolves `host` (polled until ready; a new lookup starts when none is in flight).
    fn poll_resolve(
        &mut self,
        cx: &mut Context<'_>,
        host: &str,
        port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>>;

    /// Connects attempt `conn` to `addr` (polled until ready; the attempt starts at the first
    /// poll for `conn`). With fast fallback several attempts are pending at once: each is polled
    /// under its own id, and one that is given up is ended with [`Transport::cancel_connect`].
    fn poll_connect(
        &mut self,
        cx: &mut Context<'_>,
        conn: ConnId,
        addr: SocketAddr,
        deadline: Option<Instant>,
    ) -> Poll<io::Result<Self::Socket>>;

    /// Gives up on connect attempt `conn` (it timed out, or the call ended).
    fn cancel_connect(&mut self, conn: ConnId) {
        let _ = conn;
    }

    /// Writes (a prefix of) `buf`.
    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut Self::Socket,
        buf: &[u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>>;

    /// Writes (a prefix of) `buf`, bytes of a request the server may answer before reading
    /// it all ([`Output::Transmit`](crate::Output::Transmit)'s `listen`). `Pending` may also mean the socket turned
    /// readable while it had no room, which [`poll_readable`](Self::poll_readable) then
    /// reports. The default is [`poll_write`](Self::poll_write).
    fn poll_write_listening(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut Self::Socket,
        buf: &[u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        self.poll_write(cx, socket, buf, deadline)
    }

    /// Ready when `socket` has bytes to read (or has ended); otherwise arranges a wake-up for
    /// that. Asked while a listening write waits for room. The default never reports it, and
    /// the call then hears an early answer only after its write fails or completes.
    fn poll_readable(&mut self, cx: &mut Context<'_>, socket: &mut Self::Socket) -> Poll<()> {
        let _ = (cx, socket);
        Poll::Pending
    }

    /// Shuts the write side of `socket` (an upgraded stream's end, after which the peer reads
    /// EOF). The default does nothing, and the peer sees the end only when the socket closes.
    fn shutdown_write(&mut self, socket: &mut Self::Socket) -> io::Result<()> {
        let _ = socket;
        Ok(())
    }

    /// Reads into `buf` (0 = EOF).
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut Self::Socket,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>>;

    /// Ready once `deadline` has passed; otherwise arranges a wake-up for it.
    fn poll_deadline(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()>;

    /// Whether a pooled socket is still open with nothing unread, checked without blocking.
    fn is_healthy(&mut self, socket: &mut Self::Socket) -> bool;

    /// An idle pooled connection to `address`, with its socket.
    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, Self::Socket)>;

    /// Puts a connection and its socket in the pool.
    fn release(&mut self, now: Instant, conn: Connection, socket: Self::Socket);

    /// A call made this connection: the pool tracks it as in use
    /// ([`SharedPool::register`](crate::SharedPool::register)).
    fn register(&mut self, conn: &Connection) {
        let _ = conn;
    }

    /// The call closed this connection's socket (or dropped it) instead of releasing it: the
    /// pool stops tracking it ([`SharedPool::forget`](crate::SharedPool::forget)).
    fn forget(&mut self, conn: ConnId) {
        let _ = conn;
    }

    /// Whether the call was canceled from outside (registering `cx`'s waker for a later
    /// cancel). The driver checks before every step and after every I/O operation, so a cancel
    /// that interrupted an operation wins over the operation's outcome.
    fn poll_canceled(&mut self, cx: &mut Context<'_>) -> bool {
        let _ = cx;
        false
    }

    /// Whether the write that just returned `Ready` with `Ok` went out without waiting (a
    /// blocking transport that tries a write without blocking first knows). The driver then
    /// goes on with the time it read before the write instead of reading the clock again: no
    /// time a deadline would notice has passed. Asked right after each
    /// [`poll_write`](Self::poll_write) and [`poll_write_listening`](Self::poll_write_listening)
    /// only. The default says no, which costs a clock read per write on a transport whose
    /// operations may wait ([`WAITS_BEFORE_READY`](Self::WAITS_BEFORE_READY)).
    fn wrote_without_waiting(&mut self) -> bool {
        false
    }

    /// Whether the call was canceled from outside, registering no waker: asked instead of
    /// [`poll_canceled`](Self::poll_canceled) while the driver settles a call (after its
    /// head, at its body's end), which it does with a waker that wakes nothing, inside an
    /// operation whose own poll registered the task's. A transport that keeps one waker need
    /// not swap it out and back (each swap costs it atomic operations) for that.
    fn canceled(&mut self) -> bool {
        self.poll_canceled(&mut Context::from_waker(std::task::Waker::noop()))
    }

    /// The call starts (`true`) or stops (`false`) using `socket` (a blocking runtime keeps a
    /// handle to interrupt a blocked operation on cancel).
    fn on_socket(&mut self, socket: &Self::Socket, in_use: bool) {
        let _ = (socket, in_use);
    }

    /// Runs `job`, a read or write of a cached response's body that may block on the cache's
    /// disk (only stores whose `may_block` is true get here).
    ///
    /// The default runs it here and now, as a blocking runtime should. An async runtime
    /// returns [`StoreTask::Running`] with a future of the job running on its blocking pool
    /// (tokio's `spawn_blocking`, the `blocking` crate's `unblock`), so that its executor never
    /// waits for a disk; the future gives the finished job back (`None` if it was lost).
    fn run_store_job(&mut self, job: StoreJob) -> StoreTask {
        let mut job = job;
        job.run();
        StoreTask::Done(job)
    }
}
