//! What a runtime provides: sockets, name resolution, connecting, a timer and a clock.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The I/O an async runtime performs for the driver. Implemented by a marker type in each
/// runtime crate; every method is a thin call into the runtime.
pub trait Net: Send + Sync + 'static {
    /// A connected TCP socket.
    type Socket: Send + Sync + Unpin + 'static;
    /// A timer that can be re-armed.
    type Timer: Send + Unpin + 'static;
    /// What ties a timer to the runtime instance that made it (tokio's runtime id; `()` for a
    /// process-wide reactor): a client keeps the timers of finished calls and hands them only
    /// to calls running in the same one.
    type TimerHome: Eq + Send + Sync + Unpin + 'static;

    /// Resolves `host` to socket addresses with `port`.
    fn resolve(host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>>;
    /// Opens a TCP connection (with `TCP_NODELAY` set).
    fn connect(addr: SocketAddr) -> BoxFuture<io::Result<Self::Socket>>;
    /// Reads into `buf`.
    fn poll_read(
        socket: &mut Self::Socket,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
    /// Writes (a prefix of) `buf`.
    fn poll_write(
        socket: &mut Self::Socket,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;
    /// Ready when the socket has bytes to read or has ended; `Pending` registers `cx`'s waker
    /// for that. Asked while a request's write waits for room, so an early answer (a 413 to
    /// an upload the server stops reading) is heard. A stale readiness is harmless: the read
    /// that follows finds nothing and sending resumes. The default never reports it.
    fn poll_readable(socket: &mut Self::Socket, cx: &mut Context<'_>) -> Poll<()> {
        let _ = (socket, cx);
        Poll::Pending
    }
    /// Shuts the write side of the socket, so the peer reads EOF (an upgraded stream's end).
    /// The default does nothing: the peer sees the end when the socket closes.
    fn shutdown_write(socket: &mut Self::Socket) -> io::Result<()> {
        let _ = socket;
        Ok(())
    }
    /// True if a pooled socket is still open with nothing unread; must not wait.
    fn is_healthy(socket: &Self::Socket) -> bool;
    /// Whether watching an idle socket costs nothing. tokio's readiness is registered once,
    /// edge-triggered, and stays armed: a release watches its socket at once. async-io's
    /// interest is one-shot: arming it is a system call, and the reactor then wakes when the
    /// socket's next bytes arrive, though a call has taken the socket back by then and reads
    /// them itself (a sequential keep-alive loop would pay both on every request). With
    /// `false`, a release leaves its socket unwatched; the pool's cleanup task watches it within
    /// [`IDLE_WATCH_CADENCE`](wayfarer_core::IDLE_WATCH_CADENCE), and a call that takes it
    /// before then peeks at it first if it was idle for
    /// [`QUIET_CHECK_AFTER`](wayfarer_core::QUIET_CHECK_AFTER) or longer, as the blocking
    /// runtime does.
    const IDLE_WATCH_IS_FREE: bool = true;
    /// Whether an idle socket's watch is armed ([`poll_idle`](Net::poll_idle) was asked since
    /// [`start_idle`](Net::start_idle)). Always true where the watch is free.
    fn is_idle_watched(socket: &Self::Socket) -> bool {
        let _ = socket;
        true
    }
    /// The socket goes idle in the pool: watching it for readability starts afresh (a runtime
    /// whose readiness is per-registration drops the last one here, and arms a new one at the
    /// next [`poll_idle`](Net::poll_idle)).
    fn start_idle(socket: &mut Self::Socket) {
        let _ = socket;
    }
    /// The socket leaves the pool for a call: the idle watch ends, so the pool's cleanup task
    /// is not woken by the call's own traffic (a runtime that keeps several wakers per socket
    /// drops the cleanup's here).
    fn end_idle(socket: &mut Self::Socket) {
        let _ = socket;
    }
    /// Ready once something happened on an idle socket since [`start_idle`](Net::start_idle):
    /// bytes arrived, the peer closed it, an error. `Pending` registers `cx`'s waker for that.
    /// Answered from the reactor's readiness, with no system call while nothing happened, once
    /// the watch is armed (arming it may cost one: see
    /// [`IDLE_WATCH_IS_FREE`](Net::IDLE_WATCH_IS_FREE)). A readiness the reactor may have
    /// recorded for bytes a read already took is confirmed with a peek before it answers
    /// `Ready`, so the pool never closes a healthy connection for it.
    fn poll_idle(socket: &mut Self::Socket, cx: &mut Context<'_>) -> Poll<()>;
    /// Runs `future` in the background on the runtime (the pool's cleanup task).
    fn spawn(future: BoxFuture<()>);
    /// The runtime's monotonic clock (a runtime may pause it in tests).
    fn now() -> std::time::Instant;
    /// The runtime instance a timer made now belongs to; `None` when there is none to tell, and
    /// the timer is not kept after its call.
    fn timer_home() -> Option<Self::TimerHome>;
    /// A timer firing at `at`.
    fn timer(at: std::time::Instant) -> Self::Timer;
    /// Re-arms a timer to fire at `at`.
    fn reset_timer(timer: &mut Self::Timer, at: std::time::Instant);
    /// Ready once the timer has fired.
    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()>;
    /// Runs `f` on the runtime's pool for blocking work (a disk cache's body reads and
    /// writes, a caller's resolver), so that it never blocks the executor. The future gives `f`'s result, or
    /// `None` if `f` panicked. Dropping the future must not stop `f` once it has started.
    fn unblock<T, F>(f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;
}
