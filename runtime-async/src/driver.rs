//! The poll loop that runs one call's state machine inside the task that awaits it.
//!
//! Every protocol decision is `wayfarer_core::Call`'s; this file performs the I/O each
//! [`Output`] names through the runtime's [`Net`], arms one timer for the deadline the output
//! carries, and reports back. No task is spawned per call or per connection: the future
//! returned by `execute()`, and the body afterwards, poll the socket directly.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use wayfarer_core::{BodyRead, Error, Instant, Output, Response};

use crate::call::CancelState;
use crate::client::Inner;
use crate::net::{BoxFuture, Net};

/// A resolve or connect in flight (the only I/O that is not a socket poll).
enum Pending<S> {
    Resolve(BoxFuture<io::Result<Vec<SocketAddr>>>),
    Connect(BoxFuture<io::Result<S>>),
}

/// One call in progress, with its socket and timer.
pub(crate) struct Driver<N: Net> {
    inner: Arc<Inner<N>>,
    call: wayfarer_core::Call,
    body: wayfarer_core::Body,
    socket: Option<N::Socket>,
    pending: Option<Pending<N::Socket>>,
    timer: Timer<N>,
    cancel: Arc<CancelState>,
}

enum Step {
    Continue,
    Head(Response<()>),
    Idle,
    Done,
}

/// One lazily created timer, re-armed only when the deadline changes.
struct Timer<N: Net> {
    timer: Option<N::Timer>,
    armed: Option<Instant>,
}

impl<N: Net> Timer<N> {
    /// Ready once `deadline` has passed; registers the waker otherwise. Without a deadline,
    /// never ready.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        epoch: std::time::Instant,
        deadline: Option<Instant>,
    ) -> Poll<()> {
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        let at = deadline.to_std(epoch);
        match &mut self.timer {
            Some(timer) if self.armed == Some(deadline) => N::poll_timer(timer, cx),
            Some(timer) => {
                N::reset_timer(timer, at);
                self.armed = Some(deadline);
                N::poll_timer(timer, cx)
            }
            None => {
                self.armed = Some(deadline);
                N::poll_timer(self.timer.insert(N::timer(at)), cx)
            }
        }
    }
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "no socket")
}

impl<N: Net> Driver<N> {
    pub(crate) fn new(
        inner: Arc<Inner<N>>,
        request: wayfarer_core::Request,
        cancel: Arc<CancelState>,
    ) -> Driver<N> {
        let (call, body) = inner.core.start_call(inner.now(), request);
        Driver {
            inner,
            call,
            body,
            socket: None,
            pending: None,
            timer: Timer {
                timer: None,
                armed: None,
            },
            cancel,
        }
    }

    /// Drives the call to its response head.
    pub(crate) fn poll_head(&mut self, cx: &mut Context<'_>) -> Poll<Result<Response<()>, Error>> {
        loop {
            match ready!(self.poll_step(cx))? {
                Step::Continue => {}
                Step::Head(head) => {
                    self.settle();
                    return Poll::Ready(Ok(head));
                }
                Step::Idle | Step::Done => {
                    return Poll::Ready(Err(Error::io("the call ended without a response", None)));
                }
            }
        }
    }

    /// Reads body bytes into `buf`; `Ok(0)` at the end.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Error>> {
        loop {
            self.check_cancel(cx);
            let now = self.inner.now();
            match self.call.read_body(now, buf) {
                Err(e) => return Poll::Ready(Err(self.body_failed(e))),
                Ok(BodyRead::Data(n)) => return Poll::Ready(Ok(n)),
                Ok(BodyRead::End) => {
                    self.settle();
                    return Poll::Ready(Ok(0));
                }
                Ok(BodyRead::Direct(max)) => {
                    let deadline = self.call.poll_timeout();
                    let result = match self.socket.as_mut() {
                        Some(socket) => N::poll_read(socket, cx, &mut buf[..max]),
                        None => Poll::Ready(Err(not_connected())),
                    };
                    match result {
                        Poll::Ready(r) => match self.call.handle_direct_read(self.inner.now(), r) {
                            Ok(0) => continue,
                            Ok(n) => return Poll::Ready(Ok(n)),
                            Err(e) => return Poll::Ready(Err(self.body_failed(e))),
                        },
                        Poll::Pending => {
                            ready!(self.timer.poll(cx, self.inner.epoch, deadline));
                            self.call.handle_timeout(self.inner.now());
                        }
                    }
                }
                Ok(BodyRead::Pending) => {
                    ready!(self.poll_step(cx))?;
                }
            }
        }
    }

    /// After a body error: deliver the remaining events and drop the socket.
    fn body_failed(&mut self, error: Error) -> Error {
        self.settle();
        self.socket = None;
        error
    }

    /// Drops what is left of the body; the connection is pooled if the body had fully arrived.
    pub(crate) fn discard(&mut self) {
        if self.call.discard_buffered_body(self.inner.now()) {
            self.settle();
        }
    }

    pub(crate) fn trailers(&self) -> Option<&wayfarer_core::Headers> {
        self.call.trailers()
    }

    /// Runs the outputs that need no waiting (events, release, close).
    fn settle(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Ok(Step::Continue)) = self.poll_step(&mut cx) {}
    }

    fn check_cancel(&mut self, cx: &mut Context<'_>) {
        self.cancel.register(cx.waker());
        if self.cancel.is_canceled() {
            self.call.cancel(self.inner.now());
        }
    }

    /// Performs (or makes progress on) one output of the call.
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        self.check_cancel(cx);
        if self.pending.is_some() {
            return self.poll_pending(cx);
        }
        let now = self.inner.now();
        let output = match self.call.poll_output() {
            Ok(output) => output,
            Err(e) => {
                self.socket = None;
                return Poll::Ready(Err(e));
            }
        };
        match output {
            Output::Event(event) => {
                if let Some(listener) = self.inner.core.config().event_listener() {
                    listener.on_event(&event);
                }
            }
            Output::Acquire => {
                let pooled = self.inner.core.acquire(now.mono, self.call.address());
                let conn = pooled.map(|(conn, socket)| {
                    self.socket = Some(socket);
                    conn
                });
                self.call.handle_acquired(now, conn);
            }
            Output::CheckHealth => {
                let healthy = self.socket.as_ref().is_some_and(N::is_healthy);
                self.call.handle_health(now, healthy);
            }
            Output::Resolve { host, port } => {
                self.pending = Some(Pending::Resolve(N::resolve(host.to_owned(), port)));
            }
            Output::Connect { addr, .. } => self.pending = Some(Pending::Connect(N::connect(addr))),
            Output::Transmit { bytes, deadline } => {
                let result = match self.socket.as_mut() {
                    Some(socket) => N::poll_write(socket, cx, bytes),
                    None => Poll::Ready(Err(not_connected())),
                };
                match result {
                    Poll::Ready(r) => self.call.handle_transmitted(self.inner.now(), r),
                    Poll::Pending => {
                        ready!(self.timer.poll(cx, self.inner.epoch, deadline));
                        self.call.handle_timeout(self.inner.now());
                    }
                }
            }
            Output::Receive { buf, deadline } => {
                let result = match self.socket.as_mut() {
                    Some(socket) => N::poll_read(socket, cx, buf),
                    None => Poll::Ready(Err(not_connected())),
                };
                match result {
                    Poll::Ready(r) => self.call.handle_received(self.inner.now(), r),
                    Poll::Pending => {
                        ready!(self.timer.poll(cx, self.inner.epoch, deadline));
                        self.call.handle_timeout(self.inner.now());
                    }
                }
            }
            Output::PullBody(buf) => {
                let result = ready!(self.body.poll_read(cx, buf));
                self.call.handle_body_pulled(self.inner.now(), result);
            }
            Output::RewindBody => {
                let rewound = self.body.rewind();
                self.call.handle_body_rewound(now, rewound);
            }
            Output::Response(head) => return Poll::Ready(Ok(Step::Head(head))),
            Output::Release(conn) => {
                if let Some(socket) = self.socket.take() {
                    self.inner.core.release(now.mono, conn, socket);
                }
            }
            Output::Close => self.socket = None,
            Output::Idle => return Poll::Ready(Ok(Step::Idle)),
            Output::Done => return Poll::Ready(Ok(Step::Done)),
        }
        Poll::Ready(Ok(Step::Continue))
    }

    /// Polls the resolve or connect in flight, against the call's deadline.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, Error>> {
        let progress = match self.pending.as_mut() {
            Some(Pending::Resolve(fut)) => fut.as_mut().poll(cx).map(|r| {
                self.pending = None;
                self.call.handle_resolved(self.inner.now(), r);
            }),
            Some(Pending::Connect(fut)) => fut.as_mut().poll(cx).map(|r| {
                self.pending = None;
                let r = r.map(|socket| self.socket = Some(socket));
                self.call.handle_connected(self.inner.now(), r);
            }),
            None => Poll::Ready(()),
        };
        if progress.is_pending() {
            ready!(
                self.timer
                    .poll(cx, self.inner.epoch, self.call.poll_timeout())
            );
            // The deadline passed: the call moves on (the next address, or failure) and the
            // operation in flight is abandoned.
            self.pending = None;
            self.call.handle_timeout(self.inner.now());
        }
        Poll::Ready(Ok(Step::Continue))
    }
}
