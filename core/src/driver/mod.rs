//! The driver contract, written once: a [`Driver`] performs a [`Call`]'s outputs through a
//! runtime's [`Transport`] (sockets, name resolution, a timer and a clock) and reports back.
//!
//! Every runtime, blocking or async, and the test simulation drive calls through this one
//! helper, so a new output is one edit here. It is poll-based so that async runtimes can wait
//! inside the task that owns the call; a blocking transport simply never returns
//! `Poll::Pending` from its socket operations (it blocks, with the deadline as the socket
//! timeout). A driver that wants to own every detail (an embedder's event loop) can still drive
//! a [`Call`] through its raw contract instead.
//!
//! Sockets are kept by connection id, as the outputs name them: a call may hold a connection
//! being set up and another it is done with at the same time.
//!
//! The helper performs no I/O itself: every socket, resolver and clock operation goes through
//! the [`Transport`], which is the runtime's. Nothing here blocks or sleeps. The one thing it
//! calls directly is the client's cache store (for the call's [`CacheOp`]s,
//! `store.rs`): a store's small operations are done in place, and its body reads and writes,
//! which may block on a disk, go through [`Transport::run_store_job`].

mod boxed;
mod collect;
mod new;
mod sockets;
mod store;
mod transport;

pub use boxed::DriverBox;
pub use collect::Collector;
pub use store::{StoreFuture, StoreJob, StoreTask};
pub use transport::Transport;

use sockets::Sockets;
use store::{Answer, StoreIo};

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use core::net::SocketAddr;

use smallvec::SmallVec;

use crate::connection::ConnId;
use crate::interceptor::InterceptorId;
use crate::{
    BodyRead, CacheOp, Call, Error, EventListener, Instant, Now, Output, Request, Response,
};

/// What one step of the driver produced.
#[derive(Debug)]
pub enum Step {
    /// Something was done; step again.
    Progress,
    /// The response head is ready: take it with [`Driver::take_response`] and hand it to the
    /// caller, whose reads then go through [`Driver::poll_read`].
    Response,
    /// A runtime interceptor is to run with this request (see
    /// [`Output::Intercept`]).
    Intercept(InterceptorId, Box<Request>),
    /// The result of a runtime interceptor's `proceed` (see [`Output::Proceeded`]).
    Proceeded(InterceptorId, Box<Result<Response<()>, Error>>),
    /// Nothing to do until the caller acts.
    Idle,
    /// The call is over.
    Done,
}

/// Drives one call through a transport.
pub struct Driver<T: Transport> {
    call: Call,
    transport: T,
    sockets: Sockets<T::Socket>,
    /// Connect attempts handed to the transport and not yet answered (several during fast
    /// fallback): every one is polled, not only the one the call names last. Empty (and never
    /// allocated) for a call served from the pool.
    connecting: SmallVec<[(ConnId, SocketAddr, Option<Instant>); 1]>,
    listener: Option<Arc<dyn EventListener>>,
    /// The client's cache store, as this call uses it (`None` without a cache).
    store: Option<Box<StoreIo>>,
    /// The time read last, good until an operation that may take time returns (see
    /// [`Driver::now`]).
    clock: Option<Now>,
    /// No step has run yet: the time the call started at still stands for the first one.
    fresh: bool,
    /// How many response bodies were handed out: see [`Driver::hand_out_body`].
    bodies: u64,
    /// The driver is settling the call ([`Driver::settle`]): cancels are checked with
    /// [`Transport::canceled`], which registers no waker.
    settling: bool,
}

impl<T: Transport> std::fmt::Debug for Driver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("call", &self.call)
            .field("sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

fn socket<S>(sockets: &mut Sockets<S>, id: ConnId) -> Option<&mut S> {
    sockets.get_mut(id)
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "no socket for this connection")
}

impl<T: Transport> Driver<T> {
    /// The call.
    pub fn call(&self) -> &Call {
        &self.call
    }

    /// The call, for inputs the runtime gives it directly (cancel, interceptor answers).
    pub fn call_mut(&mut self) -> &mut Call {
        &mut self.call
    }

    /// The response head, after [`Step::Response`]: see [`Call::take_response`]. `None` at any
    /// other time.
    pub fn take_response(&mut self) -> Option<Response<()>> {
        self.call.take_response()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Cancels the call and closes its sockets.
    pub fn cancel(&mut self) {
        self.time_passed();
        let now = self.now();
        self.call.cancel(now);
        self.settle();
    }

    /// Performs one output of the call.
    pub fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        self.time_passed();
        self.step(cx)
    }

    /// The current time. Steps that do no I/O take next to no time, so the clock is read once
    /// after each operation that may wait (a socket operation, a timer, a lookup, a body or
    /// store read, the caller coming back), not at every step: a keep-alive request reads it
    /// about half as often, and each read costs tens of nanoseconds.
    fn now(&mut self) -> Now {
        match self.clock {
            Some(now) => now,
            None => {
                let now = self.transport.now();
                self.clock = Some(now);
                now
            }
        }
    }

    /// Time may have passed: the next [`Driver::now`] reads the clock.
    fn time_passed(&mut self) {
        self.clock = None;
    }

    /// A socket operation (or a name lookup) returned `Ready`: time passed if the transport
    /// may wait before it does ([`Transport::WAITS_BEFORE_READY`]).
    fn io_done(&mut self) {
        if T::WAITS_BEFORE_READY {
            self.time_passed();
        }
    }

    /// One step (see [`Driver::poll_step`]), with the time read last.
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        std::task::ready!(self.poll_store_job(cx));
        self.check_canceled(cx);
        let now = self.now();
        let output = match self.call.poll_output(now) {
            Ok(output) => output,
            Err(e) => {
                self.drop_sockets();
                return Poll::Ready(Err(e));
            }
        };
        match output {
            Output::Event(event) => {
                if let Some(listener) = &self.listener {
                    listener.on_event(event);
                }
            }
            Output::Acquire { address } => {
                let pooled = self.transport.acquire(now.mono, address);
                let conn = pooled.map(|(conn, socket)| {
                    self.transport.on_socket(&socket, true);
                    self.sockets.insert(conn.id(), socket);
                    conn
                });
                self.call.handle_acquired(now, conn);
            }
            Output::CheckHealth { conn } => {
                let healthy = match socket(&mut self.sockets, conn) {
                    Some(s) => self.transport.is_healthy(s),
                    None => false,
                };
                self.call.handle_health(now, conn, healthy);
            }
            Output::Resolve { host, port } => match self.transport.poll_resolve(cx, host, port) {
                Poll::Ready(result) => {
                    if !self.check_canceled(cx) {
                        self.io_done();
                        let now = self.now();
                        self.call.handle_resolved(now, result);
                    }
                }
                Poll::Pending => return self.wait_for(cx, self.call.poll_timeout()),
            },
            Output::Connect {
                conn,
                addr,
                deadline,
            } => {
                match self.connecting.iter_mut().find(|(c, ..)| *c == conn) {
                    Some(pending) => *pending = (conn, addr, deadline),
                    None => self.connecting.push((conn, addr, deadline)),
                }
                return self.poll_connects(cx);
            }
            Output::Transmit {
                conn,
                bytes,
                deadline,
                listen,
            } => {
                let result = match socket(&mut self.sockets, conn) {
                    Some(s) if listen => {
                        self.transport.poll_write_listening(cx, s, bytes, deadline)
                    }
                    Some(s) => self.transport.poll_write(cx, s, bytes, deadline),
                    None => Poll::Ready(Err(not_connected())),
                };
                match result {
                    Poll::Ready(r) => {
                        let waited = !(r.is_ok() && self.transport.wrote_without_waiting());
                        if !self.check_canceled(cx) {
                            if waited {
                                self.io_done();
                            }
                            let now = self.now();
                            self.call.handle_transmitted(now, conn, r);
                        }
                    }
                    Poll::Pending => {
                        let readable = listen
                            && socket(&mut self.sockets, conn)
                                .is_some_and(|s| self.transport.poll_readable(cx, s).is_ready());
                        if !readable {
                            return self.wait_for(cx, deadline);
                        }
                        self.io_done();
                        let now = self.now();
                        self.call.handle_readable(now, conn);
                    }
                }
            }
            Output::Receive {
                conn,
                buf,
                deadline,
            } => {
                let result = match socket(&mut self.sockets, conn) {
                    Some(s) => self.transport.poll_read(cx, s, buf, deadline),
                    None => Poll::Ready(Err(not_connected())),
                };
                match result {
                    Poll::Ready(r) => {
                        if !self.check_canceled(cx) {
                            self.io_done();
                            let now = self.now();
                            self.call.handle_received(now, conn, r);
                        }
                    }
                    // A readiness that was stale: the request still has bytes to send.
                    Poll::Pending if self.call.is_reading_first() => {
                        let now = self.now();
                        let not_ready = io::ErrorKind::WouldBlock.into();
                        self.call.handle_received(now, conn, Err(not_ready));
                    }
                    Poll::Pending => return self.wait_for(cx, deadline),
                }
            }
            Output::Close { conn } => self.close(conn),
            Output::Release(conn) => match self.sockets.remove(conn.id()) {
                Some(socket) => {
                    self.transport.on_socket(&socket, false);
                    self.transport.release(now.mono, conn, socket);
                }
                None => self.transport.forget(conn.id()),
            },
            Output::PullBody { body, buf } => match body.poll_read(cx, buf) {
                Poll::Ready(result) => {
                    self.time_passed();
                    let now = self.now();
                    self.call.handle_body_pulled(now, result);
                }
                Poll::Pending => return Poll::Pending,
            },
            Output::Cache(op) => {
                let answer =
                    Self::cache_op(&mut self.store, &mut self.transport, &mut self.clock, op);
                self.cache_answered(answer, now);
            }
            Output::Intercept { id, request } => {
                return Poll::Ready(Ok(Step::Intercept(id, request)));
            }
            Output::Proceeded { id, result } => {
                return Poll::Ready(Ok(Step::Proceeded(id, result)));
            }
            Output::Response => return Poll::Ready(Ok(Step::Response)),
            Output::Idle => return Poll::Ready(Ok(Step::Idle)),
            Output::Done => return Poll::Ready(Ok(Step::Done)),
        }
        Poll::Ready(Ok(Step::Progress))
    }

    /// Performs a cache operation for the call with the client's store (or, for a client
    /// without one, answers as an empty store would). Out of line, with
    /// [`cache_answered`](Self::cache_answered): only a client with a cache asks, and their
    /// code would otherwise lie among the lines every step runs through.
    #[inline(never)]
    fn cache_op(
        store: &mut Option<Box<StoreIo>>,
        transport: &mut T,
        clock: &mut Option<Now>,
        op: CacheOp<'_>,
    ) -> Answer {
        match store.as_mut() {
            Some(store) => {
                // A store's operation may wait for a disk.
                let answer = store.perform(transport, op);
                *clock = None;
                answer
            }
            // Only a client with a cache asks; answer as a store with nothing would.
            None => match op {
                CacheOp::Get { .. } => Answer::Get(Ok(None)),
                CacheOp::Edit { .. } => Answer::Edit(Ok(false)),
                _ => Answer::None,
            },
        }
    }

    /// Hands the call the answer to its cache operation.
    #[inline(never)]
    fn cache_answered(&mut self, answer: Answer, now: Now) {
        match answer {
            Answer::Get(got) => match self.store.as_mut() {
                Some(store) => store.answer_get(&mut self.call, now, got),
                None => self.call.handle_cache_get(now, Ok(None)),
            },
            Answer::Edit(opened) => self.call.handle_cache_edit(now, opened),
            Answer::None => {}
        }
    }

    /// Polls every connect attempt in flight; the first to finish is reported to the call.
    /// When none has, waits for the earliest of their deadlines and the call's own wake-up
    /// (the next attempt's start).
    fn poll_connects(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        let mut i = 0;
        while let Some(&(conn, addr, deadline)) = self.connecting.get(i) {
            let Poll::Ready(result) = self.transport.poll_connect(cx, conn, addr, deadline) else {
                i += 1;
                continue;
            };
            self.connecting.swap_remove(i);
            let result = result.map(|socket| {
                self.transport.on_socket(&socket, true);
                self.sockets.insert(conn, socket);
            });
            if !self.check_canceled(cx) {
                self.io_done();
                let now = self.now();
                self.call.handle_connected(now, conn, result);
                if let Some(connection) = self.call.connection(conn) {
                    self.transport.register(connection);
                }
            }
            return Poll::Ready(Ok(Step::Progress));
        }
        let deadline = self
            .connecting
            .iter()
            .fold(None, |a, (_, _, d)| earliest(a, *d));
        self.wait_for(cx, deadline)
    }

    /// An operation is pending: wait for it, or for `deadline`, whichever comes first. When
    /// the deadline has passed, the call hears of it and the step counts as progress.
    fn wait_for(
        &mut self,
        cx: &mut Context<'_>,
        deadline: Option<Instant>,
    ) -> Poll<Result<Step, Error>> {
        let Some(deadline) = earliest(deadline, self.call.poll_timeout()) else {
            return Poll::Pending;
        };
        match self.transport.poll_deadline(cx, deadline) {
            Poll::Ready(()) => {
                self.time_passed();
                let now = self.now();
                self.call.handle_timeout(now);
                Poll::Ready(Ok(Step::Progress))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits for the store job running for the call, if any, while the call's deadline holds:
    /// when it passes first, the call hears of it and the job is given up.
    ///
    /// Every step asks, and a client without a cache has no store: that check is inlined, the
    /// rest is not.
    #[inline(always)]
    fn poll_store_job(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.store.is_none() {
            return Poll::Ready(());
        }
        self.poll_running_store_job(cx)
    }

    fn poll_running_store_job(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(store) = self.store.as_mut() else {
            return Poll::Ready(());
        };
        if store.poll_running(cx).is_ready() {
            return Poll::Ready(());
        }
        let Some(deadline) = self.call.poll_timeout() else {
            return Poll::Pending;
        };
        match self.transport.poll_deadline(cx, deadline) {
            Poll::Ready(()) => {
                let now = self.transport.now();
                self.clock = Some(now);
                self.call.handle_timeout(now);
                store.abandon();
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// The tee: after a read that handed `delivered` to the caller, writes the bytes that
    /// belong to the cache entry being written, if any.
    fn tee(&mut self, delivered: &[u8]) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if !store.is_writing() {
            return;
        }
        let bytes = self.call.take_tee_bytes(delivered);
        store.write_body(&mut self.transport, bytes);
        self.time_passed();
    }

    /// Cancels the call if the transport says it was canceled; true if so.
    ///
    /// Asked before every step: the check is kept inline and the cancel out of line, so the
    /// common path is the transport's check alone rather than a call that saves and restores
    /// what the cancel needs.
    #[inline]
    fn check_canceled(&mut self, cx: &mut Context<'_>) -> bool {
        let canceled = if self.settling {
            self.transport.canceled()
        } else {
            self.transport.poll_canceled(cx)
        };
        if canceled {
            self.cancel_now();
            return true;
        }
        false
    }

    #[cold]
    #[inline(never)]
    fn cancel_now(&mut self) {
        self.time_passed();
        let now = self.now();
        self.call.cancel(now);
    }

    fn close(&mut self, conn: ConnId) {
        self.connecting.retain(|(c, ..)| *c != conn);
        self.transport.cancel_connect(conn);
        if let Some(socket) = self.sockets.remove(conn) {
            self.transport.on_socket(&socket, false);
            self.transport.forget(conn);
        }
    }

    fn drop_sockets(&mut self) {
        for (conn, ..) in std::mem::take(&mut self.connecting) {
            self.transport.cancel_connect(conn);
        }
        while let Some((conn, socket)) = self.sockets.pop() {
            self.transport.cancel_connect(conn);
            self.transport.on_socket(&socket, false);
            self.transport.forget(conn);
        }
    }

    /// Drives the call to its next step that needs the runtime: the response head, a runtime
    /// interceptor, or the end.
    pub fn poll_until_step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        // The first step comes right after the call was started, with the time it started at.
        if !std::mem::take(&mut self.fresh) {
            self.time_passed();
        }
        loop {
            match self.step(cx) {
                Poll::Ready(Ok(Step::Progress)) => {}
                other => return other,
            }
        }
    }

    /// Reads response body bytes into `buf`; `Ok(0)` at the end.
    pub fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Error>> {
        // Each turn either returns or performs one output; a call that asks for nothing while
        // its body is pending is a bug, caught here rather than spinning. The clock is read
        // afresh on entry, and after each operation of a turn that may have taken time.
        self.time_passed();
        for _ in 0..1_000_000 {
            std::task::ready!(self.poll_store_job(cx));
            self.check_canceled(cx);
            let now = self.now();
            match self.call.read_body(now, buf) {
                Err(e) => {
                    self.settle_now();
                    return Poll::Ready(Err(e));
                }
                Ok(BodyRead::Data(n)) => {
                    self.tee(&buf[..n]);
                    return Poll::Ready(Ok(n));
                }
                Ok(BodyRead::End) => {
                    // The last bytes for the cache entry, and its commit, come before the end.
                    self.tee(&[]);
                    std::task::ready!(self.poll_store_job(cx));
                    self.settle_now();
                    return Poll::Ready(Ok(0));
                }
                Ok(BodyRead::Cached { max }) => {
                    let Some(store) = self.store.as_mut() else {
                        let now = self.now();
                        let gone = io::Error::new(io::ErrorKind::NotFound, "no cache store");
                        match self.call.handle_direct_read(now, Err(gone)) {
                            Ok(_) => continue,
                            Err(e) => return Poll::Ready(Err(e)),
                        }
                    };
                    let result = match store.read_body(&mut self.transport, &mut buf[..max]) {
                        Poll::Ready(result) => result,
                        // A job reads it: the top of the loop waits for it.
                        Poll::Pending => continue,
                    };
                    self.time_passed();
                    let now = self.now();
                    match self.call.handle_direct_read(now, result) {
                        Ok(0) => continue,
                        Ok(n) => return Poll::Ready(Ok(n)),
                        Err(e) => {
                            self.settle_now();
                            return Poll::Ready(Err(e));
                        }
                    }
                }
                Ok(BodyRead::CachedInto(staging)) => {
                    let result = match self.store.as_mut() {
                        Some(store) => match store.read_body(&mut self.transport, staging) {
                            Poll::Ready(result) => result,
                            Poll::Pending => continue,
                        },
                        None => Err(io::Error::new(io::ErrorKind::NotFound, "no cache store")),
                    };
                    self.time_passed();
                    let now = self.now();
                    if let Err(e) = self.call.handle_direct_read(now, result) {
                        self.settle_now();
                        return Poll::Ready(Err(e));
                    }
                }
                Ok(BodyRead::Direct { conn, max }) => {
                    let deadline = self.call.poll_timeout();
                    let result = match socket(&mut self.sockets, conn) {
                        Some(s) => self.transport.poll_read(cx, s, &mut buf[..max], deadline),
                        None => Poll::Ready(Err(not_connected())),
                    };
                    match result {
                        Poll::Ready(_) if self.check_canceled(cx) => continue,
                        Poll::Ready(r) => {
                            self.io_done();
                            let now = self.now();
                            match self.call.handle_direct_read(now, r) {
                                Ok(0) => continue,
                                Ok(n) => {
                                    self.tee(&buf[..n]);
                                    return Poll::Ready(Ok(n));
                                }
                                Err(e) => {
                                    self.settle_now();
                                    return Poll::Ready(Err(e));
                                }
                            }
                        }
                        Poll::Pending => match self.wait_for(cx, deadline) {
                            Poll::Ready(_) => continue,
                            Poll::Pending => return Poll::Pending,
                        },
                    }
                }
                Ok(BodyRead::Pull(body)) => match body.poll_read(cx, buf) {
                    Poll::Ready(r) => {
                        self.time_passed();
                        let now = self.now();
                        match self.call.handle_direct_read(now, r) {
                            Ok(0) => continue,
                            Ok(n) => return Poll::Ready(Ok(n)),
                            Err(e) => {
                                self.settle_now();
                                return Poll::Ready(Err(e));
                            }
                        }
                    }
                    Poll::Pending => return Poll::Pending,
                },
                Ok(BodyRead::Pending) => match self.step(cx) {
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
        Poll::Ready(Err(Error::io(
            "the call made no progress reading its body",
            None,
        )))
    }

    /// Performs the outputs that need no waiting (events, releases, closes), as after the body
    /// ended or the call failed.
    pub fn settle(&mut self) {
        self.time_passed();
        self.settle_now();
    }

    /// [`settle`](Self::settle) right after [`poll_until_step`](Self::poll_until_step)
    /// returned: the time read during that step still stands, so this reads no clock. The
    /// runtimes settle here once per response head.
    pub fn settle_after_step(&mut self) {
        self.settle_now();
    }

    /// [`Driver::settle`] with the time read last: right after an operation that read it.
    fn settle_now(&mut self) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.settling = true;
        for _ in 0..10_000 {
            match self.step(&mut cx) {
                Poll::Ready(Ok(Step::Progress)) => {}
                _ => break,
            }
        }
        self.settling = false;
    }

    /// A response body is handed out for the call's current response, replacing any handed
    /// out before (an interceptor that proceeds again discards the previous response's
    /// body): its number, for [`is_current_body`](Self::is_current_body).
    pub fn hand_out_body(&mut self) -> u64 {
        self.bodies += 1;
        self.bodies
    }

    /// Whether body `number` is still the call's current one: an earlier body must neither
    /// read the later response's bytes nor discard them.
    pub fn is_current_body(&self, number: u64) -> bool {
        self.bodies == number
    }

    /// The trailers of body `number` (see [`hand_out_body`](Self::hand_out_body)): none for
    /// a body the chain proceeded past.
    pub fn trailers_of(&self, number: u64) -> Option<&crate::Headers> {
        self.is_current_body(number)
            .then(|| self.trailers())
            .flatten()
    }

    /// [`discard`](Self::discard) for body `number`: a body the chain proceeded past leaves
    /// the later response alone.
    pub fn discard_body(&mut self, number: u64) {
        if self.is_current_body(number) {
            self.discard();
        }
    }

    /// Drops what is left of the body: if it already arrived in full, the connection still
    /// goes back to the pool.
    pub fn discard(&mut self) {
        self.time_passed();
        let now = self.now();
        if self.call.discard_buffered_body(now) {
            self.settle_now();
        }
    }

    /// The trailers of a chunked response, after its end.
    pub fn trailers(&self) -> Option<&crate::Headers> {
        self.call.trailers()
    }

    /// After a `101 Switching Protocols` was handed out: the connection, with its socket, as a
    /// byte stream for the new protocol (see [`Upgraded`](crate::Upgraded)). `None` (and the
    /// call's sockets closed) when the call's response did not switch protocols.
    pub fn into_upgraded(mut self) -> Option<crate::upgrade::UpgradedIo<T>> {
        self.settle();
        let upgraded = self.call.take_upgraded()?;
        Some(crate::upgrade::UpgradedIo::new(self, upgraded))
    }

    /// The transport and the socket kept for `conn`.
    pub(crate) fn transport_and_socket(
        &mut self,
        conn: ConnId,
    ) -> (&mut T, Option<&mut T::Socket>) {
        (&mut self.transport, self.sockets.get_mut(conn))
    }
}

impl<T: Transport> Drop for Driver<T> {
    fn drop(&mut self) {
        // A call dropped before its end (an async caller gave up on its future) is canceled,
        // so its events end it (`Canceled`, `CallFailed`, the connection released) as a
        // cancel from elsewhere would.
        if !self.call.is_finished() {
            let now = self.now();
            self.call.cancel(now);
            self.settle_now();
        }
        self.drop_sockets();
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    crate::time::earliest(a, b)
}

/// The error for reading a response body an interceptor proceeded past: the chain discarded
/// it when it made the next request (see [`Driver::is_current_body`]).
pub fn proceeded_past() -> Error {
    Error::invalid_input("this response's body was discarded when the interceptor proceeded again")
}

/// A body to serve in place of one the chain proceeded past: reading it gives
/// [`proceeded_past`]'s error.
pub fn discarded_body() -> crate::Body {
    struct Discarded;
    impl io::Read for Discarded {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other(proceeded_past()))
        }
    }
    crate::Body::from_reader(Discarded, None)
}
