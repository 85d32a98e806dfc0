//! The loop that runs one call's state machine on the caller's thread.
//!
//! Everything protocol-shaped happens in `wayfarer_core::Call`; this file only performs the I/O
//! each [`Output`] names, with the deadline it carries, and reports back. There is no other
//! thread: `execute()` and every `read()` of the body run the loop right where they are called.

use std::io;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use wayfarer_core::{BodyRead, Error, Instant, Now, Output, Response};

use crate::call::CancelState;
use crate::client::Inner;
use crate::socket::Socket;

/// One call in progress, with the socket it is using.
pub(crate) struct Driver {
    inner: Arc<Inner>,
    call: wayfarer_core::Call,
    /// The request body, pulled when the call asks.
    body: wayfarer_core::Body,
    socket: Option<Socket>,
    cancel: Arc<CancelState>,
}

/// What one step of the loop produced.
enum Step {
    Continue,
    Head(Response<()>),
    /// Nothing to do until the caller reads.
    Idle,
    Done,
}

/// Time left until `deadline`: `Err` when it has passed, `Ok(None)` without a deadline.
fn remaining(deadline: Option<Instant>, now: Now) -> Result<Option<Duration>, ()> {
    match deadline {
        None => Ok(None),
        Some(d) if d <= now.mono => Err(()),
        Some(d) => Ok(Some(d - now.mono)),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "no socket")
}

impl Driver {
    /// Runs `request` up to its response head.
    pub(crate) fn execute(
        inner: Arc<Inner>,
        request: wayfarer_core::Request,
        cancel: Arc<CancelState>,
    ) -> Result<(Response<()>, Driver), Error> {
        let (call, body) = inner.core.start_call(inner.now(), request);
        let mut driver = Driver {
            inner,
            call,
            body,
            socket: None,
            cancel,
        };
        loop {
            match driver.step()? {
                Step::Head(head) => {
                    // Deliver pending events and, for a bodiless response, the release.
                    driver.settle()?;
                    return Ok((head, driver));
                }
                Step::Continue => {}
                Step::Idle | Step::Done => {
                    return Err(Error::io("the call ended without a response", None));
                }
            }
        }
    }

    /// Reads body bytes into `buf`; 0 at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        loop {
            if self.cancel.is_canceled() {
                self.call.cancel(self.inner.now());
            }
            let now = self.inner.now();
            match self.call.read_body(now, buf) {
                Err(e) => {
                    self.settle_after_error();
                    return Err(e);
                }
                Ok(BodyRead::Data(n)) => return Ok(n),
                Ok(BodyRead::End) => {
                    self.settle()?;
                    return Ok(0);
                }
                Ok(BodyRead::Direct(max)) => {
                    let deadline = self.call.poll_timeout();
                    let result = socket_op(self.socket.as_mut(), deadline, now, |s, t| {
                        s.read(&mut buf[..max], t)
                    });
                    let mut delivered = Ok(0);
                    self.report(result, |call, now, r| {
                        delivered = call.handle_direct_read(now, r)
                    });
                    match delivered {
                        Ok(0) => continue,
                        Ok(n) => return Ok(n),
                        Err(e) => {
                            self.settle_after_error();
                            return Err(e);
                        }
                    }
                }
                // One step of I/O (or an event), then try the body again.
                Ok(BodyRead::Pending) => {
                    self.step()?;
                }
            }
        }
    }

    /// Drops what is left of the body: if it already arrived in full, the connection still
    /// goes back to the pool.
    pub(crate) fn discard(&mut self) {
        if self.call.discard_buffered_body(self.inner.now()) {
            let _ = self.settle();
        }
    }

    /// The trailers of a chunked response, after its end.
    pub(crate) fn trailers(&self) -> Option<&wayfarer_core::Headers> {
        self.call.trailers()
    }

    /// Runs the outputs that need no I/O (events, release, close) until the call idles.
    fn settle(&mut self) -> Result<(), Error> {
        loop {
            match self.step()? {
                Step::Continue => {}
                Step::Head(_) => return Err(Error::io("unexpected second response head", None)),
                Step::Idle | Step::Done => return Ok(()),
            }
        }
    }

    /// After a body error: deliver the remaining events (the failure) and drop the socket.
    fn settle_after_error(&mut self) {
        let _ = self.settle();
        self.drop_socket();
    }

    fn drop_socket(&mut self) {
        self.cancel.set_socket(None);
        self.socket = None;
    }

    /// Reports a socket operation's outcome: a cancel that interrupted it wins, a socket timeout
    /// (or a deadline already past) lets the call check its deadlines, and anything else goes to
    /// `handle`.
    fn report(
        &mut self,
        result: Option<io::Result<usize>>,
        handle: impl FnOnce(&mut wayfarer_core::Call, Now, io::Result<usize>),
    ) {
        let now = self.inner.now();
        match result {
            _ if self.cancel.is_canceled() => self.call.cancel(now),
            None => self.call.handle_timeout(now),
            Some(Err(e)) if is_timeout(&e) => self.call.handle_timeout(now),
            Some(r) => handle(&mut self.call, now, r),
        }
    }

    /// Performs one output of the call.
    fn step(&mut self) -> Result<Step, Error> {
        if self.cancel.is_canceled() {
            self.call.cancel(self.inner.now());
        }
        let now = self.inner.now();
        let output = match self.call.poll_output() {
            Ok(output) => output,
            Err(e) => {
                self.cancel.set_socket(None);
                self.socket = None;
                return Err(e);
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
                    self.cancel.set_socket(Some(socket.handle()));
                    self.socket = Some(socket);
                    conn
                });
                self.call.handle_acquired(now, conn);
            }
            Output::CheckHealth => {
                let healthy = self.socket.as_ref().is_some_and(Socket::is_healthy);
                self.call.handle_health(now, healthy);
            }
            Output::Resolve { host, port } => {
                let result = (host, port).to_socket_addrs().map(Iterator::collect);
                self.call.handle_resolved(self.inner.now(), result);
            }
            Output::Connect { addr, deadline } => {
                let result = match remaining(deadline, now) {
                    Err(()) => Err(io::Error::from(io::ErrorKind::TimedOut)),
                    Ok(timeout) => Socket::connect(addr, timeout),
                };
                let result = result.map(|socket| {
                    self.cancel.set_socket(Some(socket.handle()));
                    self.socket = Some(socket);
                });
                self.call.handle_connected(self.inner.now(), result);
            }
            Output::Transmit { bytes, deadline } => {
                let result = socket_op(self.socket.as_mut(), deadline, now, |s, t| {
                    s.write(bytes, t)
                });
                self.report(result, |call, now, r| call.handle_transmitted(now, r));
            }
            Output::Receive { buf, deadline } => {
                let result = socket_op(self.socket.as_mut(), deadline, now, |s, t| s.read(buf, t));
                self.report(result, |call, now, r| call.handle_received(now, r));
            }
            Output::PullBody(buf) => {
                let result = block_on_read(&mut self.body, buf);
                self.call.handle_body_pulled(self.inner.now(), result);
            }
            Output::RewindBody => {
                let rewound = self.body.rewind();
                self.call.handle_body_rewound(now, rewound);
            }
            Output::Response(head) => return Ok(Step::Head(head)),
            Output::Release(conn) => {
                self.cancel.set_socket(None);
                match self.socket.take() {
                    Some(socket) => self.inner.core.release(now.mono, conn, socket),
                    None => drop(conn),
                }
            }
            Output::Close => self.drop_socket(),
            Output::Idle => return Ok(Step::Idle),
            Output::Done => return Ok(Step::Done),
        }
        Ok(Step::Continue)
    }
}

/// Runs one socket operation with the time left until `deadline` as its socket timeout.
/// `None` means the deadline had already passed, so nothing was attempted.
fn socket_op(
    socket: Option<&mut Socket>,
    deadline: Option<Instant>,
    now: Now,
    op: impl FnOnce(&mut Socket, Option<Duration>) -> io::Result<usize>,
) -> Option<io::Result<usize>> {
    let timeout = remaining(deadline, now).ok()?;
    Some(match socket {
        Some(socket) => op(socket, timeout),
        None => Err(not_connected()),
    })
}

/// Pulls request body bytes on this thread. Readers never return `Pending`; an async stream
/// given to the blocking client is polled with a waker that parks and unparks this thread.
fn block_on_read(body: &mut wayfarer_core::Body, buf: &mut [u8]) -> io::Result<usize> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match body.poll_read(&mut cx, buf) {
            Poll::Ready(result) => return result,
            Poll::Pending => thread::park(),
        }
    }
}
