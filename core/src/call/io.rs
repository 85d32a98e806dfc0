//! The call's inputs: the driver's answers to its outputs, routed to the layer that asked.

use std::io;

use core::net::SocketAddr;

use super::{Call, State};
use crate::connection::{ConnId, Connection};
use crate::events::EventKind;
use crate::exchange::{Cx, Exchange, Head};
use crate::follow_up::Attempt;
use crate::interceptor::InterceptorId;
use crate::{Error, Now, Request, Response};

/// `WouldBlock` and `Interrupted` mean "not now", never a failure: the call waits on.
fn is_not_ready(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

impl Call {
    /// Answers [`Output::Acquire`](crate::Output::Acquire): an idle connection to the address
    /// from the pool, or none.
    pub fn handle_acquired(&mut self, now: Now, pooled: Option<Connection>) {
        self.tick(now);
        if let Some(probe) = self
            .probe
            .take()
            .filter(|_| matches!(self.state, State::Finding(_)))
        {
            return self.probe_answered(probe, pooled);
        }
        let Some(finder) = self
            .finder
            .as_mut()
            .filter(|_| matches!(self.state, State::Finding(_)))
        else {
            // Not asked for: give the socket the driver holds for it back by closing it.
            if let Some(conn) = pooled {
                self.closing.push(conn.id());
            }
            return;
        };
        let found = finder.on_acquired(self.now, pooled, &self.shared, &mut self.events);
        self.resume_found(found);
    }

    /// Answers [`Output::CheckHealth`](crate::Output::CheckHealth).
    pub fn handle_health(&mut self, now: Now, conn: ConnId, healthy: bool) {
        self.tick(now);
        let Some(finder) = self.finder.as_mut() else {
            return;
        };
        let found = finder.on_health(self.now, conn, healthy, &mut self.events);
        self.resume_found(found);
    }

    /// Answers [`Output::Resolve`](crate::Output::Resolve).
    pub fn handle_resolved(&mut self, now: Now, result: io::Result<Vec<SocketAddr>>) {
        self.tick(now);
        let Some(finder) = self.finder.as_mut() else {
            return;
        };
        let found = finder.on_resolved(self.now, result, &self.shared, &mut self.events);
        self.resume_found(found);
    }

    /// Answers [`Output::Connect`](crate::Output::Connect) for attempt `conn`.
    pub fn handle_connected(&mut self, now: Now, conn: ConnId, result: io::Result<()>) {
        self.tick(now);
        match &result {
            Err(e) if is_not_ready(e) => return,
            // A socket timeout: the connect deadline may have passed. The armed deadline stays
            // as it is, so it expires now or on the next report, never re-arms. Without a
            // deadline of ours, the OS gave up: that attempt failed.
            Err(e) if e.kind() == io::ErrorKind::TimedOut && self.attempt_has_deadline(conn) => {
                return self.check_deadlines();
            }
            _ => {}
        }
        let Some(finder) = self.finder.as_mut().filter(|f| f.is_connecting()) else {
            if result.is_ok() {
                self.closing.push(conn);
            }
            return;
        };
        self.io = None;
        let found = finder.on_connected(self.now, conn, result, &self.shared, &mut self.events);
        self.resume_found(found);
    }

    fn attempt_has_deadline(&self, conn: ConnId) -> bool {
        self.finder
            .as_ref()
            .is_some_and(|f| f.attempt_has_deadline(conn))
    }

    /// The race's wake-up passed: attempts past their connect timeout fail, and the next
    /// attempt starts when its time has come.
    pub(super) fn connect_timer(&mut self) {
        let Some(finder) = self.finder.as_mut() else {
            return;
        };
        let found = finder.on_connect_timer(self.now, &self.shared, &mut self.events);
        self.resume_found(found);
    }

    /// The connection `id` the call does I/O on: the one being handshaken, or the bound one.
    fn conn_for(&mut self, id: ConnId) -> Option<&mut Connection> {
        if let Some(conn) = self.finder.as_mut().and_then(|f| f.conn_mut()) {
            if conn.id() == id {
                return Some(conn);
            }
        }
        self.conn.as_mut().filter(|c| c.id() == id)
    }

    /// Answers [`Output::Transmit`](crate::Output::Transmit) with the number of bytes written,
    /// or the write's error.
    pub fn handle_transmitted(&mut self, now: Now, conn: ConnId, result: io::Result<usize>) {
        self.tick(now);
        if matches!(self.state, State::Failed | State::Done) {
            return;
        }
        let Some(connection) = self.conn_for(conn) else {
            return;
        };
        if !connection.has_output() {
            return;
        }
        match result {
            Ok(0) => self.io_failed(Error::io("the connection accepted no bytes", None)),
            Ok(n) => {
                self.io = None;
                match self.state {
                    State::Exchanging => {
                        self.with_exchange(|exchange, conn, cx| {
                            exchange.on_transmitted(conn, n, cx)
                        });
                    }
                    _ => connection_transmitted(self.conn_for(conn), n),
                }
            }
            Err(e) if is_not_ready(&e) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => self.check_deadlines(),
            Err(e) => match self.state {
                State::Exchanging => {
                    self.with_exchange(|exchange, conn, cx| exchange.on_write_error(conn, e, cx));
                }
                _ => self.io_failed(Error::io(format!("writing failed: {e}"), Some(e))),
            },
        }
    }

    /// Answers an [`Output::Transmit`](crate::Output::Transmit) marked `listen` whose socket
    /// turned readable before it had room: the next output receives what arrived (perhaps the
    /// server's answer to a request it will not read to the end), and transmitting resumes
    /// after it.
    pub fn handle_readable(&mut self, now: Now, conn: ConnId) {
        self.tick(now);
        if matches!(self.state, State::Exchanging) && self.conn_for(conn).is_some() {
            self.read_first = true;
        }
    }

    /// Whether the next [`Output::Receive`](crate::Output::Receive) is the one
    /// [`handle_readable`](Self::handle_readable) asked for: a driver whose read of it finds
    /// nothing after all (a readiness that was stale) answers `WouldBlock` rather than wait,
    /// since the request still has bytes to send.
    pub fn is_reading_first(&self) -> bool {
        self.read_first
    }

    /// Answers [`Output::Receive`](crate::Output::Receive) with the number of bytes read
    /// (0 = EOF), or the read's error.
    pub fn handle_received(&mut self, now: Now, conn: ConnId, result: io::Result<usize>) {
        self.tick(now);
        self.read_first = false;
        if matches!(self.state, State::Failed | State::Done) {
            return;
        }
        let n = match result {
            Ok(n) => n,
            Err(e) if is_not_ready(&e) => return,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return self.check_deadlines(),
            Err(e) => {
                if self.conn_for(conn).is_none() {
                    return;
                }
                let error = match (&self.state, self.exchange.as_mut()) {
                    (State::Exchanging | State::Body, Some(exchange)) => exchange.on_read_error(e),
                    _ => Error::io(format!("reading failed: {e}"), Some(e)),
                };
                return self.io_failed(error);
            }
        };
        if self.conn_for(conn).is_none() {
            return;
        }
        self.io = None;
        let Some(connection) = self.conn_for(conn) else {
            return;
        };
        if let Err(e) = connection.on_received(n) {
            return self.io_failed(e);
        }
        match self.state {
            State::Finding(_) => {
                let Some(finder) = self.finder.as_mut() else {
                    return;
                };
                let found = finder.on_handshake_progress(self.now, &self.shared, &mut self.events);
                self.resume_found(found);
            }
            State::Exchanging => {
                let received =
                    self.with_exchange(|exchange, conn, cx| exchange.on_received(conn, cx));
                if let Some(Some(head)) = received {
                    self.head_arrived(head);
                }
            }
            State::Draining(_) => self.drain_progress(),
            State::Body | State::Intercepting(_) => self.want_receive = false,
            _ => {}
        }
    }

    /// Answers [`Output::PullBody`](crate::Output::PullBody) with the number of bytes read
    /// (0 = end of body), or the body source's error.
    pub fn handle_body_pulled(&mut self, now: Now, result: io::Result<usize>) {
        self.tick(now);
        if !matches!(self.state, State::Exchanging) {
            return;
        }
        self.with_exchange(|exchange, conn, cx| exchange.on_pulled(conn, result, cx));
    }

    /// Answers [`Output::Intercept`](crate::Output::Intercept) (or a later
    /// [`Output::Proceeded`](crate::Output::Proceeded)): the runtime interceptor `id` proceeds
    /// with `request`, down the rest of the chain.
    pub fn proceed(&mut self, now: Now, id: InterceptorId, request: Request) {
        self.tick(now);
        self.external_proceed(id, request);
    }

    /// Answers [`Output::Intercept`](crate::Output::Intercept) (or a later
    /// [`Output::Proceeded`](crate::Output::Proceeded)): the runtime interceptor `id` is done,
    /// with this response head (or failure) for the links above it. With `replaced_body`, the
    /// runtime serves a body of its own for this response (the one from below is discarded).
    pub fn handle_intercepted(
        &mut self,
        now: Now,
        id: InterceptorId,
        result: Result<Response<()>, Error>,
        replaced_body: bool,
    ) {
        self.tick(now);
        self.external_done(id, result, replaced_body);
    }

    /// The final response head of the exchange arrived: it goes up the chain.
    fn head_arrived(&mut self, head: Head) {
        let Some(exchange) = self.exchange.as_ref() else {
            return;
        };
        let request = exchange.response_request();
        let mut response =
            Response::from_parts(head.parts, request, exchange.sent_at(), self.now.wall);
        response.set_handshake(self.conn.as_ref().and_then(|c| c.shared_handshake()));
        self.body = super::body::ResponseBody::exchange(head.bodiless);
        self.io = None;
        self.chain_resume_up(Ok(response));
    }

    /// Continues the chain upwards from the call-server link.
    fn chain_resume_up(&mut self, result: Result<Response<()>, Error>) {
        self.chain.pos = self.chain.server_pos();
        self.run_up(result);
    }

    /// The exchange failed: its connection is closed, and the failure goes up the chain (where
    /// the retry rules may send the request again). Cold and out of line: every exchange step
    /// may fail, and the code of this inlined into each would lie on every request's path.
    #[cold]
    #[inline(never)]
    pub(super) fn exchange_failed(&mut self, error: Error) {
        let error = error.with_phase(self.phase());
        let Some(exchange) = self.exchange.take() else {
            return self.fail(error);
        };
        if matches!(self.state, State::Body) {
            // The response was delivered: its body failed, the call with it.
            self.exchange = Some(exchange);
            return self.fail(error);
        }
        self.attempt = Attempt {
            reused: self.conn_reused,
            transmitted: exchange.transmitted_any(),
            body_pulled: exchange.body_pulled(),
            response_started: exchange.response_started(),
        };
        let reported = error.clone();
        if exchange.state() == crate::exchange::State::Send {
            self.events
                .emit(self.now.mono, || EventKind::RequestFailed {
                    error: reported,
                });
        } else {
            self.events
                .emit(self.now.mono, || EventKind::ResponseFailed {
                    error: reported,
                });
        }
        if let Some(conn) = self.conn.take() {
            self.let_go(conn, false);
        }
        self.io = None;
        self.body = super::body::ResponseBody::none();
        self.chain_resume_up(Err(error));
    }

    /// An I/O failure (an error or a passed deadline), routed by what the call was doing.
    pub(super) fn io_failed(&mut self, error: Error) {
        match self.state {
            State::Finding(_) => {
                // A handshake that failed may leave other routes to try.
                self.io = None;
                let found = match self.finder.as_mut() {
                    Some(finder) => {
                        finder.on_io_failed(error, self.now, &self.shared, &mut self.events)
                    }
                    None => crate::connection::finder::Found::Failed(error),
                };
                self.resume_found(found);
            }
            State::Exchanging => self.exchange_failed(error),
            State::Draining(_) => self.drain_given_up(),
            _ => self.fail(error),
        }
    }

    /// Waiting for `100 Continue` timed out: send the body anyway.
    pub(super) fn continue_timed_out(&mut self) {
        self.with_exchange(|exchange, conn, cx| exchange.release_held_body(conn, cx));
    }

    /// Runs `step` on the exchange in progress and its connection; a failure fails the
    /// exchange. `None` when there is no exchange or the step failed.
    fn with_exchange<T>(
        &mut self,
        step: impl FnOnce(&mut Exchange, &mut Connection, &mut Cx<'_>) -> Result<T, Error>,
    ) -> Option<T> {
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return None;
        };
        let mut cx = Cx {
            now: self.now,
            events: &mut self.events,
            config: &self.shared.config,
        };
        match step(exchange, conn, &mut cx) {
            Ok(value) => Some(value),
            Err(e) => {
                self.exchange_failed(e);
                None
            }
        }
    }
}

/// Records a write of TLS records outside an exchange (a key update, an alert).
fn connection_transmitted(conn: Option<&mut Connection>, n: usize) {
    if let Some(conn) = conn {
        conn.on_transmitted(n);
    }
}
