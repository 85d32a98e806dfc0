//! The blocking transport: `std::net` sockets, the system resolver and the thread's own clock,
//! for the core's [`Driver`].
//!
//! Everything protocol-shaped happens in `wayfarer_core`; this file only performs I/O on the
//! calling thread, with each operation's deadline as the socket timeout. There is no other
//! thread: `execute()` and every `read()` of the body run the driver right where they are
//! called. A call's state lives in an [`Exec`], which the response body (and the interceptor
//! chain, when closures are configured) reads through.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use wayfarer_core::driver::{Driver, Step, Transport};
use wayfarer_core::{Address, ConnId, Connection, Error, Instant, Now};

use crate::call::{CallShared, CancelState};
use crate::client::Inner;
use crate::connect::Connects;
use crate::socket::Socket;

/// The blocking runtime's transport for one call.
pub(crate) struct Blocking {
    /// The call, and through it the client: one count held, not two (each taken and dropped
    /// with an atomic operation, on every call).
    call: Arc<CallShared>,
    /// Both clocks, read when the call started; later times read only the monotonic clock.
    start: Now,
    /// The monotonic time the driver read last (at first `start`'s, which the driver's first
    /// step goes on with). A socket operation's timeout is computed from it: the driver reads
    /// the clock after every operation that may wait and before the next one, with only
    /// computation in between, so reading it again here would cost a clock read per operation
    /// for microseconds of accuracy on a timeout that may fire up to `SLACK` late anyway.
    last: Instant,
    /// The last write went out without waiting (see `Transport::wrote_without_waiting`).
    wrote_at_once: bool,
    /// A body a closure interceptor returned instead of the call's, on its way up the chain.
    replacement: Option<wayfarer_core::Body>,
    /// The name lookup in flight on a dispatcher thread.
    lookup: Option<Arc<Lookup>>,
    /// Connect attempts in flight (several during fast fallback).
    connects: Connects,
}

/// A name lookup's answer, filled in by the dispatcher thread that runs it.
#[derive(Default)]
struct Lookup {
    result: Mutex<Option<io::Result<Vec<SocketAddr>>>>,
    waker: Mutex<Option<Waker>>,
}

impl Blocking {
    pub(crate) fn new(call: Arc<CallShared>) -> Blocking {
        let start = call.inner.now();
        Blocking {
            start,
            last: start.mono,
            call,
            wrote_at_once: false,
            replacement: None,
            lookup: None,
            connects: Connects::default(),
        }
    }

    fn cancel(&self) -> &CancelState {
        &self.call.cancel
    }

    /// The time the transport was made at: the call starts at it.
    pub(crate) fn started(&self) -> Now {
        self.start
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.call.inner
    }

    pub(crate) fn set_replacement(&mut self, body: wayfarer_core::Body) {
        self.replacement = Some(body);
    }

    pub(crate) fn take_replacement(&mut self) -> Option<wayfarer_core::Body> {
        self.replacement.take()
    }
}

/// Time left until `deadline`: `Err` when it has passed, `Ok(None)` without a deadline.
fn remaining(deadline: Option<Instant>, now: Instant) -> io::Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) if d <= now => Err(io::ErrorKind::TimedOut.into()),
        Some(d) => Ok(Some(d - now)),
    }
}

/// A socket timeout surfaces as `WouldBlock` on some platforms: it is a timeout here.
fn timeout_kind(result: io::Result<usize>) -> io::Result<usize> {
    result.map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => io::Error::from(io::ErrorKind::TimedOut),
        _ => e,
    })
}

impl Transport for Blocking {
    type Socket = Socket;

    fn now(&mut self) -> Now {
        let mono = self.call.inner.mono_now();
        self.last = mono;
        self.start.later(mono)
    }

    fn poll_resolve(
        &mut self,
        cx: &mut Context<'_>,
        host: &str,
        port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        // The lookup runs on a dispatcher thread while this one waits, so that a cancel can
        // end the wait: a thread blocked in the resolver could not be interrupted.
        let lookup = self.lookup.get_or_insert_with(|| {
            let lookup = Arc::new(Lookup::default());
            let answer = lookup.clone();
            let dns = self.call.inner.core.config().dns().cloned();
            let host = host.to_owned();
            self.call.inner.dispatcher.workers().execute(move || {
                let result = match dns {
                    Some(dns) => dns.lookup(&host).map(|ips| {
                        ips.into_iter()
                            .map(|ip| SocketAddr::new(ip, port))
                            .collect()
                    }),
                    None => (host.as_str(), port)
                        .to_socket_addrs()
                        .map(Iterator::collect),
                };
                *lock_mutex(&answer.result) = Some(result);
                if let Some(waker) = lock_mutex(&answer.waker).take() {
                    waker.wake();
                }
            });
            lookup
        });
        *lock_mutex(&lookup.waker) = Some(cx.waker().clone());
        let result = lock_mutex(&lookup.result).take();
        match result {
            Some(result) => {
                self.lookup = None;
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }

    fn poll_connect(
        &mut self,
        _cx: &mut Context<'_>,
        conn: ConnId,
        addr: SocketAddr,
        deadline: Option<Instant>,
    ) -> Poll<io::Result<Socket>> {
        let now = self.call.inner.mono_now();
        self.connects
            .poll(conn, addr, deadline, now, &self.call.cancel)
    }

    fn cancel_connect(&mut self, conn: ConnId) {
        self.connects.cancel(conn, &self.call.cancel);
    }

    fn poll_write(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut Socket,
        buf: &[u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        let now = self.last;
        let written = remaining(deadline, now).and_then(|t| timeout_kind(socket.write(buf, t)));
        self.wrote_at_once = written.is_ok() && socket.wrote_at_once();
        Poll::Ready(written)
    }

    fn poll_write_listening(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut Socket,
        buf: &[u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        let now = self.last;
        self.wrote_at_once = false;
        match remaining(deadline, now).and_then(|t| socket.write_listening(buf, t)) {
            Ok(Some(n)) => {
                self.wrote_at_once = socket.wrote_at_once();
                Poll::Ready(Ok(n))
            }
            // `poll(2)` just saw bytes to read: `poll_readable` says so next.
            Ok(None) => Poll::Pending,
            Err(e) => Poll::Ready(timeout_kind(Err(e))),
        }
    }

    fn wrote_without_waiting(&mut self) -> bool {
        self.wrote_at_once
    }

    fn shutdown_write(&mut self, socket: &mut Socket) -> io::Result<()> {
        socket.shutdown_write()
    }

    fn poll_readable(&mut self, _cx: &mut Context<'_>, _socket: &mut Socket) -> Poll<()> {
        // Asked only right after `poll_write_listening` found the socket readable; what is
        // there to read stays until it is read.
        Poll::Ready(())
    }

    fn poll_read(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut Socket,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        let now = self.last;
        Poll::Ready(remaining(deadline, now).and_then(|t| timeout_kind(socket.read(buf, t))))
    }

    fn poll_deadline(&mut self, _cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        if self.call.inner.mono_now() >= deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn is_healthy(&mut self, socket: &mut Socket) -> bool {
        socket.is_healthy()
    }

    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, Socket)> {
        let pool = self.call.inner.core.pool();
        loop {
            let (conn, socket) = self.call.inner.core.acquire(now, address)?;
            if !wayfarer_core::needs_quiet_check(now, &conn) || socket.is_healthy() {
                return Some((conn, socket));
            }
            // Bytes arrived (or the server closed it) while it was idle, and the cleanup
            // thread has not closed it yet: nothing it holds may reach a call.
            pool.forget(conn.id());
        }
    }

    fn release(&mut self, now: Instant, conn: Connection, socket: Socket) {
        let start = self.call.inner.core.pool().release(now, conn, socket);
        self.call.inner.start_cleanup(start);
        self.call.inner.cleaner.on_release(now);
    }

    fn register(&mut self, conn: &Connection) {
        let start = self.call.inner.core.pool().register(conn);
        self.call.inner.start_cleanup(start);
    }

    fn forget(&mut self, conn: ConnId) {
        self.call.inner.core.pool().forget(conn);
    }

    fn poll_canceled(&mut self, _cx: &mut Context<'_>) -> bool {
        self.cancel().is_canceled()
    }

    fn on_socket(&mut self, socket: &Socket, in_use: bool) {
        self.cancel().set_socket(in_use.then(|| socket.handle()));
    }
}

fn lock_mutex<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A call in progress: the core's driver over the blocking transport, shared between the
/// response body and (with closure interceptors) the chain.
pub(crate) type Exec = Arc<Mutex<Driver<Blocking>>>;

pub(crate) fn lock(exec: &Exec) -> MutexGuard<'_, Driver<Blocking>> {
    // A panic in user code never happens under this lock (interceptors run outside it), and a
    // panic inside the driver leaves a call that fails on its next use: still usable.
    exec.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wakes the thread that parked waiting for an async request body stream.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// One waker per thread: blocking calls never need another.
    static WAKER: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// Runs `poll` on this thread until it is ready. Reads and writes never return `Pending` here;
/// a name lookup and an async request body stream do, and their wakers unpark this thread;
/// connect attempts do, and the thread waits on their sockets. A cancel from another thread
/// unparks it (or shuts the connecting sockets down), and is noticed before every attempt.
pub(crate) fn block_on<T>(
    driver: &mut Driver<Blocking>,
    mut poll: impl FnMut(&mut Driver<Blocking>, &mut Context<'_>) -> Poll<T>,
) -> T {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(r) = poll(driver, &mut cx) {
                return r;
            }
            let call = driver.transport().call.clone();
            call.cancel.set_parked(Some(thread::current()));
            // A cancel that came before the line above did not see this thread: look again.
            if !call.cancel.is_canceled() {
                let deadline = driver.call().poll_timeout();
                let transport = driver.transport_mut();
                if !transport.connects.is_empty() {
                    // Connect attempts in flight: wait on their sockets (a cancel shuts them
                    // down, which ends the wait), never longer than the call's next deadline.
                    let now = transport.call.inner.mono_now();
                    transport.connects.wait(deadline, now);
                } else {
                    match deadline {
                        Some(deadline) => {
                            let now = transport.now();
                            thread::park_timeout(deadline - now.mono);
                        }
                        None => thread::park(),
                    }
                }
            }
            call.cancel.set_parked(None);
        }
    })
}

/// Drives the call to its next step that needs the runtime.
pub(crate) fn next_step(driver: &mut Driver<Blocking>) -> Result<Step, Error> {
    block_on(driver, |d, cx| d.poll_until_step(cx))
}

/// Reads body bytes into `buf`; 0 at the end.
pub(crate) fn read(driver: &mut Driver<Blocking>, buf: &mut [u8]) -> Result<usize, Error> {
    block_on(driver, |d, cx| d.poll_read(cx, buf))
}

/// Reads a made-up body (a reader, or an async stream polled with this thread's waker).
pub(crate) fn read_body(body: &mut wayfarer_core::Body, buf: &mut [u8]) -> io::Result<usize> {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            match body.poll_read(&mut cx, buf) {
                Poll::Ready(result) => return result,
                Poll::Pending => thread::park(),
            }
        }
    })
}
