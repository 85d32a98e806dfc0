//! The async transport: a runtime's sockets, resolver and timer (through [`Net`]) for the
//! core's [`Driver`], polled inside the task that awaits the call.
//!
//! Every protocol decision is `wayfarer_core`'s; this file starts resolves and connects as the
//! runtime's futures, polls sockets, and arms one timer for the deadline the driver waits for.
//! No task is spawned per call or per connection; a disk cache's body reads and writes run on
//! the runtime's blocking pool ([`Net::unblock`]), so the executor never waits for the disk.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use wayfarer_core::driver::{Driver, StoreJob, StoreTask, Transport};
use wayfarer_core::{Address, ConnId, Connection, Instant, Now};

use crate::call::CallShared;
use crate::client::Inner;
use crate::net::{BoxFuture, Net};
use crate::timer::Timer;

/// The async transport for one call.
pub(crate) struct AsyncTransport<N: Net> {
    /// The call, and through it the client: one count held, not two (each taken and dropped
    /// with an atomic operation, on every call).
    call: Arc<CallShared<N>>,
    /// Both clocks, read when the call started; later times read only the monotonic clock.
    start: Now,
    timer: Timer<N>,
    resolving: Option<BoxFuture<io::Result<Vec<SocketAddr>>>>,
    connecting: Vec<(ConnId, BoxFuture<io::Result<N::Socket>>)>,
    /// A body a closure interceptor returned instead of the call's, on its way up the chain.
    replacement: Option<wayfarer_core::Body>,
    /// The waker last registered for a cancel, as its data and vtable addresses (see
    /// `poll_canceled`).
    registered: Option<(usize, usize)>,
}

impl<N: Net> AsyncTransport<N> {
    pub(crate) fn new(call: Arc<CallShared<N>>) -> AsyncTransport<N> {
        AsyncTransport {
            start: call.inner.now(),
            call,
            timer: Timer::new(),
            resolving: None,
            connecting: Vec::new(),
            replacement: None,
            registered: None,
        }
    }

    /// The time the transport was made at: the call starts at it.
    pub(crate) fn started(&self) -> Now {
        self.start
    }

    pub(crate) fn inner(&self) -> &Arc<Inner<N>> {
        &self.call.inner
    }

    pub(crate) fn set_replacement(&mut self, body: wayfarer_core::Body) {
        self.replacement = Some(body);
    }

    pub(crate) fn take_replacement(&mut self) -> Option<wayfarer_core::Body> {
        self.replacement.take()
    }
}

impl<N: Net> Drop for AsyncTransport<N> {
    fn drop(&mut self) {
        self.timer.give_back(&self.call.inner.timers);
    }
}

impl<N: Net> Transport for AsyncTransport<N> {
    type Socket = N::Socket;
    /// Sockets, lookups and connects wait by returning `Pending`; the clock is read when the
    /// task polls the call again.
    const WAITS_BEFORE_READY: bool = false;

    fn now(&mut self) -> Now {
        self.start
            .later(Instant::from_std(self.call.inner.epoch, N::now()))
    }

    fn poll_resolve(
        &mut self,
        cx: &mut Context<'_>,
        host: &str,
        port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        let fut = self.resolving.get_or_insert_with(|| {
            match self.call.inner.core.config().dns().cloned() {
                // A caller's resolver may block: it runs off the runtime's threads.
                Some(dns) => {
                    let host = host.to_owned();
                    let lookup = N::unblock(move || {
                        dns.lookup(&host).map(|ips| {
                            ips.into_iter()
                                .map(|ip| SocketAddr::new(ip, port))
                                .collect::<Vec<_>>()
                        })
                    });
                    Box::pin(async move {
                        lookup
                            .await
                            .unwrap_or_else(|| Err(io::Error::other("the resolver panicked")))
                    })
                }
                None => N::resolve(host.to_owned(), port),
            }
        });
        let result = std::task::ready!(fut.as_mut().poll(cx));
        self.resolving = None;
        Poll::Ready(result)
    }

    fn poll_connect(
        &mut self,
        cx: &mut Context<'_>,
        conn: ConnId,
        addr: SocketAddr,
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<N::Socket>> {
        let i = match self.connecting.iter().position(|(c, _)| *c == conn) {
            Some(i) => i,
            None => {
                self.connecting.push((conn, N::connect(addr)));
                self.connecting.len() - 1
            }
        };
        let result = std::task::ready!(self.connecting[i].1.as_mut().poll(cx));
        drop(self.connecting.swap_remove(i));
        Poll::Ready(result)
    }

    fn cancel_connect(&mut self, conn: ConnId) {
        self.connecting.retain(|(c, _)| *c != conn);
    }

    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut N::Socket,
        buf: &[u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        N::poll_write(socket, cx, buf)
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut N::Socket,
        buf: &mut [u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        N::poll_read(socket, cx, buf)
    }

    fn shutdown_write(&mut self, socket: &mut N::Socket) -> io::Result<()> {
        N::shutdown_write(socket)
    }

    fn poll_readable(&mut self, cx: &mut Context<'_>, socket: &mut N::Socket) -> Poll<()> {
        N::poll_readable(socket, cx)
    }

    fn poll_deadline(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        self.timer
            .poll(cx, &self.call.inner.timers, self.call.inner.epoch, deadline)
    }

    fn is_healthy(&mut self, socket: &mut N::Socket) -> bool {
        N::is_healthy(socket)
    }

    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, N::Socket)> {
        let pool = self.call.inner.core.pool();
        loop {
            let (conn, mut socket) = pool.acquire(now, address)?;
            let quiet = if N::is_idle_watched(&socket) {
                let mut cx = Context::from_waker(Waker::noop());
                N::poll_idle(&mut socket, &mut cx).is_pending()
            } else {
                // Released since the cleanup task last looked (see `Net::IDLE_WATCH_IS_FREE`).
                !wayfarer_core::needs_quiet_check(now, &conn) || N::is_healthy(&socket)
            };
            if quiet {
                N::end_idle(&mut socket);
                return Some((conn, socket));
            }
            // Bytes arrived (or the server closed it) while it was idle, and the cleanup task
            // has not closed it yet: nothing it holds may reach a call.
            pool.forget(conn.id());
        }
    }

    fn release(&mut self, now: Instant, conn: Connection, mut socket: N::Socket) {
        N::start_idle(&mut socket);
        if !N::IDLE_WATCH_IS_FREE {
            // The cleanup task watches it soon (see `Net::IDLE_WATCH_IS_FREE`).
            let start = self.call.inner.core.pool().release(now, conn, socket);
            self.call.inner.start_cleanup(start);
            self.call.inner.cleaner.on_release(now);
            return;
        }
        // Watch it while idle, waking the cleanup task when anything arrives.
        let idle = self
            .call
            .inner
            .cleaner
            .with_waker(|waker| N::poll_idle(&mut socket, &mut Context::from_waker(waker)));
        if idle.is_ready() {
            // Bytes no one asked for, or the peer closed it (`poll_idle` has told those from a
            // readiness the last read left over).
            self.call.inner.core.pool().forget(conn.id());
            return;
        }
        let start = self.call.inner.core.pool().release(now, conn, socket);
        self.call.inner.start_cleanup(start);
    }

    fn register(&mut self, conn: &Connection) {
        let start = self.call.inner.core.pool().register(conn);
        self.call.inner.start_cleanup(start);
    }

    fn forget(&mut self, conn: ConnId) {
        self.call.inner.core.pool().forget(conn);
    }

    fn poll_canceled(&mut self, cx: &mut Context<'_>) -> bool {
        // The driver asks before every step; the waker is registered only when it changes, as
        // nothing takes it from the cancel state but a cancel, which sets the flag first (see
        // `CancelState`). It is recognized by its data and vtable: `will_wake` against a clone
        // says no on tokio, whose clones have another vtable than the waker they came from.
        let waker = cx.waker();
        let identity = (
            waker.data() as usize,
            std::ptr::from_ref(waker.vtable()) as usize,
        );
        if self.registered != Some(identity) {
            self.call.cancel.register(waker);
            self.registered = Some(identity);
        }
        self.call.cancel.is_canceled()
    }

    fn canceled(&mut self) -> bool {
        self.call.cancel.is_canceled()
    }

    fn run_store_job(&mut self, mut job: StoreJob) -> StoreTask {
        StoreTask::Running(N::unblock(move || {
            job.run();
            job
        }))
    }
}

/// A call in progress, shared between the response body and (with closure interceptors) the
/// chain. The lock is held only while polling, never across an await.
pub(crate) type Exec<N> = Arc<Mutex<Driver<AsyncTransport<N>>>>;

pub(crate) fn lock<N: Net>(exec: &Exec<N>) -> MutexGuard<'_, Driver<AsyncTransport<N>>> {
    exec.lock().unwrap_or_else(|p| p.into_inner())
}
