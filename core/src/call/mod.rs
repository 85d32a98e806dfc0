//! One call: the chain runner that takes a request through the interceptor chain, finds
//! connections, runs exchanges and delivers the response, with every piece of I/O expressed as
//! an [`Output`] for the driver to perform.
//!
//! ```text
//!  request ─▶ app interceptors ─▶ retry & follow-up ─▶ bridge ─▶ cache ─▶ connect ─▶ network interceptors ─▶ call server
//!                                                                          │ Finder                         │ Exchange
//!  response ◀── (each link again, on the way up: return it, or proceed with a new request) ◀────────────────┘
//! ```
//!
//! The call owns the layers below it and moves between them:
//! - [`Finder`](crate::connection::finder) gets a connection (pool, DNS, connect, TLS);
//! - [`Exchange`](crate::exchange) runs one request and response on it;
//! - the chain links (follow-ups, bridge) are small state machines the call consults;
//! - the response body pipeline ([`body`]) reads from the exchange (or an interceptor's body),
//!   through the gzip decoder when the bridge asked for gzip.
//!
//! How a driver runs a call is documented on [`Call`].

mod body;
mod cache;
mod chain;
mod connect;
mod io;
mod output;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;

use crate::client::Shared;
use crate::connection::finder::{Finder, PoolProbe};
use crate::connection::{ConnId, Connection};
use crate::events::{EventKind, EventSink};
use crate::exchange::Exchange;
use crate::follow_up::Attempt;
use crate::interceptor::InterceptorId;
use crate::time::earliest;
use crate::{Error, Headers, Instant, Now, Phase, Request, Response, TimeoutKind};

pub use crate::connection::HEALTH_CHECK_AFTER;
pub use output::{BodyRead, CacheOp, Output};

use body::ResponseBody;
use cache::CacheLink;
use chain::{Baton, Chain};

/// Identifies a call within one client; shown as `call#1`, `call#2`, ...
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub(crate) u64);

impl CallId {
    /// The number behind the id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where the call is.
#[derive(Debug)]
enum State {
    /// The chain is deciding (never seen between inputs).
    Running,
    /// The cache link waits for the stored entry of this request ([`CacheOp::Get`]).
    Caching(crate::exchange::Outgoing),
    /// The connect link waits for a connection for this request.
    Finding(crate::exchange::Outgoing),
    /// The exchange waits for the response head.
    Exchanging,
    /// A body no one will read is being discarded; then the chain goes on with the baton.
    Draining(Option<Baton>),
    /// A runtime interceptor is running; the call waits for its answer, and reads the body of
    /// the response the interceptor holds when it asks.
    Intercepting(InterceptorId),
    /// The response head waits to be handed out.
    Delivering(Response<()>),
    /// The caller reads the body.
    Body,
    /// The call ended well.
    Done,
    /// The call failed.
    Failed,
}

/// What a runtime interceptor is handed next ([`Output::Intercept`], [`Output::Proceeded`]).
#[derive(Debug)]
enum Handoff {
    Request(Box<Request>),
    Result(Box<Result<Response<()>, Error>>),
}

/// What an armed deadline is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Connect,
    Write,
    Read,
    Continue,
    Drain,
}

/// How long a body no one will read (a redirect's, say) may take to arrive before its
/// connection is closed instead of reused (OkHttp's `DISCARD_STREAM_TIMEOUT_MILLIS`).
const DRAIN_TIMEOUT: Duration = Duration::from_millis(100);
/// Most bytes discarded to save a connection.
const MAX_DRAIN: u64 = 64 * 1024;

/// One call's state machine: a request taken through the interceptor chain, the connection
/// finder and the exchange, with every piece of I/O an [`Output`] for the driver to perform.
///
/// # Driving a call
///
/// The driver repeatedly calls [`Call::poll_output`] with the current time and does what it
/// says (`wayfarer_core::driver` does all of this once for every runtime):
///
/// | output | the driver MUST | then report with |
/// |---|---|---|
/// | [`Output::Event`] | pass it to the call's listener, if any | nothing |
/// | [`Output::Acquire`] | look in the pool for the address, and keep the socket of what it finds under the connection's id | [`Call::handle_acquired`] |
/// | [`Output::CheckHealth`] | check, without blocking, that the connection's socket is still open and has no unread bytes | [`Call::handle_health`] |
/// | [`Output::Resolve`] | resolve the host | [`Call::handle_resolved`] |
/// | [`Output::Connect`] | open a TCP connection and keep the socket under the given id | [`Call::handle_connected`] |
/// | [`Output::Transmit`] | write (some of) the bytes to that connection's socket | [`Call::handle_transmitted`] |
/// | [`Output::Receive`] | read from that connection's socket into the buffer | [`Call::handle_received`] |
/// | [`Output::Close`] | close that connection's socket | nothing |
/// | [`Output::Release`] | put the connection and its socket in the pool | nothing |
/// | [`Output::PullBody`] | read the request body into the buffer | [`Call::handle_body_pulled`] |
/// | [`Output::Intercept`] | run the runtime's interceptor | [`Call::proceed`] / [`Call::handle_intercepted`] |
/// | [`Output::Cache`] | perform the operation on the client's cache store ([`CacheOp`] says how) | [`Call::handle_cache_get`], [`Call::handle_cache_edit`], or nothing |
/// | [`Output::Proceeded`] | return the result from the interceptor's `proceed` | (the interceptor's next move) |
/// | [`Output::Response`] | take the head ([`Call::take_response`]) and hand it to the caller | nothing |
/// | [`Output::Idle`] | wait for the caller, or for [`Call::poll_timeout`] | [`Call::read_body`], [`Call::handle_timeout`] |
/// | [`Output::Done`] | nothing: the call is over | |
///
/// An `Err` from `poll_output` is final: the driver closes the call's sockets and reports the
/// error.
///
/// Rules a driver relies on:
/// - I/O outputs are repeated until answered, so a driver may poll again after a spurious
///   wake-up. Reporting an error of kind `WouldBlock` or `Interrupted` changes nothing.
/// - Every I/O output names its connection; reports for a connection the call is not waiting
///   on are ignored. A connect attempt that is abandoned (it timed out, or lost the race) is
///   followed by an [`Output::Close`] for its id.
/// - With fast fallback (RFC 8305, [`ClientBuilder::fast_fallback`](crate::ClientBuilder)),
///   several `Connect`s, each with its own id and deadline, may be outstanding at once: a new
///   attempt starts 250 ms after the latest one if no attempt has connected, or at once when the
///   latest failed. The driver keeps every attempt it was handed going (the call names the
///   newest one in later `Connect` outputs) and reports each with [`Call::handle_connected`];
///   [`Call::poll_timeout`] includes the next attempt's start. The first to connect wins and
///   the others get an `Output::Close`.
/// - Deadlines travel with the outputs that wait (`Connect`, `Transmit`, `Receive`) and are
///   also given by [`Call::poll_timeout`]; they are computed from the time passed to
///   `poll_output`. When one passes before the I/O completes, call [`Call::handle_timeout`];
///   reporting an error of kind `TimedOut` (a socket timeout) does the same.
/// - An output borrows the call (a `Transmit` lends the bytes, a `Receive` the buffer): finish
///   the I/O, then report with the matching `handle_*` method.
///
/// The body is read with [`Call::read_body`], which either copies bytes already received into
/// the caller's buffer, asks for more I/O ([`BodyRead::Pending`]), or, on a plain connection
/// with nothing buffered and no decoding to do, lets the driver read from the socket straight
/// into the caller's buffer ([`BodyRead::Direct`], reported with [`Call::handle_direct_read`]).
/// A response served from the cache is read by the driver from the store
/// ([`BodyRead::Cached`]), and while a response is being stored the driver writes the body to
/// the store after each read ([`Call::take_tee_bytes`]).
pub struct Call {
    id: CallId,
    shared: Arc<Shared>,
    /// The time of the latest input or poll.
    now: Now,
    events: EventSink,
    call_deadline: Option<Instant>,
    /// The armed I/O deadline: what it waits for, and when (None = no timeout configured).
    io: Option<(Wait, Option<Instant>)>,
    state: State,
    chain: Chain,
    /// The request as the caller gave it (for error messages and events).
    request: Arc<Request>,
    /// The connection the current exchange runs on, or kept for the next one.
    conn: Option<Connection>,
    /// `conn` came from the pool.
    conn_reused: bool,
    /// The pool is asked for a connection, before any finder is built (most calls need
    /// none: see [`PoolProbe`]).
    probe: Option<PoolProbe>,
    finder: Option<Finder>,
    exchange: Option<Exchange>,
    /// The body of the response on its way to the caller.
    body: ResponseBody,
    /// The cache link: the stored entry in use, store operations for the driver, the tee.
    cache: CacheLink,
    /// The caller wants body bytes that have not arrived.
    want_receive: bool,
    /// The socket turned readable while request bytes waited to go out: receive before
    /// transmitting more, to hear an early answer ([`Call::handle_readable`]).
    read_first: bool,
    /// What the last failed attempt got done, for the retry rules.
    attempt: Attempt,
    /// The next connection must be a fresh one (a retry after a pooled one failed).
    fresh_connection: bool,
    /// Sockets to close before anything else.
    closing: SmallVec<[ConnId; 1]>,
    /// A connection to put back in the pool (a call lets go of one at a time; more wait in
    /// `releasing_more`, which the common call never allocates).
    releasing: Option<Connection>,
    releasing_more: Vec<Connection>,
    /// What waits to be handed to the runtime interceptor the call is
    /// [`State::Intercepting`] (only calls with runtime interceptors have one).
    intercept: Option<Handoff>,
    failure: Option<Error>,
    /// Boxed: few responses have trailers, and the call moves whole several times per request.
    trailers: Option<Box<Headers>>,
    /// The delivered response's body has ended (the call ends once its head is handed out).
    body_ended: bool,
    /// The connection of a `101 Switching Protocols`, for [`Call::take_upgraded`].
    upgraded: Option<Connection>,
}

/// A call that has not started ([`Client::prepare_call`](crate::Client::prepare_call)): it
/// starts in the driver that runs it, with [`Driver::start`](crate::driver::Driver::start) or
/// [`DriverBox::start`](crate::driver::DriverBox::start), once it is where it stays.
///
/// A call is about 1.5 KiB. [`Client::start_call`](crate::Client::start_call) runs the chain
/// as it builds the call, and each step from there to a runtime's boxed driver copied all of
/// it. A prepared call is only what the call is made of; the driver builds the call inside
/// itself and starts it there.
pub struct PreparedCall {
    pub(crate) id: CallId,
    pub(crate) shared: Arc<Shared>,
    pub(crate) now: Now,
    pub(crate) request: Arc<Request>,
}

impl PreparedCall {
    /// The call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The request as the caller gave it (with the client's default fields).
    pub fn request(&self) -> &Arc<Request> {
        &self.request
    }
}

impl fmt::Debug for PreparedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PreparedCall").field(&self.id).finish()
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("conn", &self.conn.as_ref().map(Connection::id))
            .finish_non_exhaustive()
    }
}

impl Call {
    /// The call `prepared` makes, not yet started: [`begin`](Self::begin) sends the request
    /// down the chain. Apart, so that a driver can build the call inside itself and start it
    /// there (see [`PreparedCall`]): a call is about 1.5 KiB, and running the chain inside the
    /// constructor pinned it to the constructor's frame, to be copied out on return.
    #[inline]
    pub(crate) fn prepared(prepared: PreparedCall) -> Call {
        let PreparedCall {
            id,
            shared,
            now,
            request,
        } = prepared;
        let events = EventSink::new(id, shared.config.listener.is_some());
        let call_deadline = request
            .call_timeout(shared.config.call_timeout)
            .map(|d| now.mono + d);
        let chain = Chain::new(&shared.config);
        Call {
            id,
            shared,
            now,
            events,
            call_deadline,
            io: None,
            state: State::Running,
            chain,
            request,
            conn: None,
            conn_reused: false,
            probe: None,
            finder: None,
            exchange: None,
            body: ResponseBody::none(),
            cache: CacheLink::default(),
            want_receive: false,
            read_first: false,
            attempt: Attempt::default(),
            fresh_connection: false,
            closing: SmallVec::new(),
            releasing: None,
            releasing_more: Vec::new(),
            intercept: None,
            failure: None,
            trailers: None,
            body_ended: false,
            upgraded: None,
        }
    }

    /// Starts a [`prepared`](Self::prepared) call: the request goes down the chain.
    pub(crate) fn begin(&mut self) {
        let first = &self.request;
        self.events.emit(self.now.mono, || EventKind::CallStart {
            request: format!("{} {}", first.method_ref(), first.redacted_url()),
        });
        let request = self.request.clone();
        self.run(Baton::Down(crate::exchange::Outgoing::Request(request)));
    }

    /// The connection of a response that switched protocols (`101 Switching Protocols`, to a
    /// request that asked to `Upgrade`), once that response was handed out: the connection no
    /// longer speaks HTTP/1.1 and is the caller's, with the bytes the server sent after the
    /// 101's head still buffered in it. `None` for any other response, and after the first
    /// take. The driver's socket for [`Upgraded::conn`](crate::Upgraded::conn) goes with it.
    pub fn take_upgraded(&mut self) -> Option<crate::Upgraded> {
        self.upgraded.take().map(crate::Upgraded::new)
    }

    /// The response head, once [`Output::Response`] said it is ready: the caller's from now
    /// on, and the call goes on to its body. `None` at any other time (and after the first
    /// take).
    pub fn take_response(&mut self) -> Option<Response<()>> {
        if !matches!(self.state, State::Delivering(_)) {
            return None;
        }
        let next = if self.body_ended {
            State::Done
        } else {
            State::Body
        };
        match std::mem::replace(&mut self.state, next) {
            State::Delivering(head) => Some(head),
            _ => None,
        }
    }

    /// The time of the latest input or poll (at first, the time the call started at).
    pub(crate) fn latest_time(&self) -> Now {
        self.now
    }

    /// This call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The request, as the caller gave it (without its body).
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The trailer fields of a chunked response, once its body has been read to the end.
    pub fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_deref()
    }

    /// The connection `id`, if the call holds it: one being set up (a TLS handshake) or the
    /// one its exchange runs on. A driver reads it after [`Call::handle_connected`] to tell the
    /// pool about the new connection ([`SharedPool::register`](crate::SharedPool::register)).
    pub fn connection(&self, id: ConnId) -> Option<&Connection> {
        self.finder
            .as_ref()
            .and_then(|f| f.conn())
            .filter(|c| c.id() == id)
            .or_else(|| self.conn.as_ref().filter(|c| c.id() == id))
    }

    /// True once the call has failed, or finished and given back its connections.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
            && self.closing.is_empty()
            && self.releasing.is_none()
    }

    /// The earliest moment [`Call::handle_timeout`] must be called if nothing else happens
    /// first.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Done | State::Failed) {
            return None;
        }
        earliest(self.io.and_then(|(_, at)| at), self.call_deadline)
    }

    /// Records the time of an input.
    fn tick(&mut self, now: Now) {
        // Inputs drive time forward; a driver's clock stepping back is ignored.
        if now.mono >= self.now.mono {
            self.now = now;
        }
    }

    /// Arms the deadline for `wait`, unless it is already armed for it.
    fn arm(&mut self, wait: Wait) {
        if self.io.is_some_and(|(w, _)| w == wait) {
            return;
        }
        let config = &self.shared.config;
        let timeout = match wait {
            Wait::Connect => config.connect_timeout,
            Wait::Write => config.write_timeout,
            Wait::Read => config.read_timeout,
            Wait::Continue => Some(config.expect_continue_timeout),
            Wait::Drain => Some(
                config
                    .read_timeout
                    .map_or(DRAIN_TIMEOUT, |t| t.min(DRAIN_TIMEOUT)),
            ),
        };
        self.io = Some((wait, timeout.map(|d| self.now.mono + d)));
    }

    /// The phase an error in the current state belongs to.
    fn phase(&self) -> Phase {
        match &self.state {
            State::Exchanging => match self.exchange.as_ref().map(Exchange::state) {
                Some(crate::exchange::State::Send) => Phase::Send,
                _ => Phase::ReceiveHead,
            },
            State::Body | State::Done | State::Draining(_) => Phase::ReceiveBody,
            State::Delivering(_) => Phase::ReceiveHead,
            _ => Phase::Connect,
        }
    }

    /// Fails the call; the error names the caller's request.
    fn fail(&mut self, error: Error) {
        if matches!(self.state, State::Failed | State::Done) {
            return;
        }
        let error = error
            .with_phase(self.phase())
            .with_request(self.request.method_ref(), self.request.url());
        if matches!(self.state, State::Body) && self.exchange.is_some() {
            // The response body from the network failed (a read error, a timeout, a cancel).
            let reported = error.clone();
            self.events
                .emit(self.now.mono, || EventKind::ResponseFailed {
                    error: reported,
                });
        }
        // The connection goes first, then the call: OkHttp's order, so every
        // `ConnectionAcquired` a listener saw is matched before `CallFailed`.
        self.drop_connections();
        let reported = error.clone();
        self.events
            .emit(self.now.mono, || EventKind::CallFailed { error: reported });
        self.body = ResponseBody::none();
        self.cache.on_fail();
        self.io = None;
        self.failure = Some(error);
        self.state = State::Failed;
    }

    /// Closes every connection the call holds.
    fn drop_connections(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.closed_acquired(conn.id());
        }
        self.probe = None;
        if let Some(mut finder) = self.finder.take() {
            let acquired = finder.is_ready();
            if let Some(conn) = finder.abandon() {
                if acquired {
                    self.closed_acquired(conn.id());
                } else {
                    self.closing.push(conn.id());
                }
            }
            while let Some(id) = finder.take_closing() {
                self.closing.push(id);
            }
        }
        self.exchange = None;
    }

    /// Closes connection `id`, which the call had acquired (events said so): it is released,
    /// not pooled.
    fn closed_acquired(&mut self, id: crate::ConnId) {
        self.events
            .emit(self.now.mono, || EventKind::ConnectionReleased {
                conn: id,
                pooled: false,
            });
        self.closing.push(id);
    }

    /// Cancels the call: it fails with [`ErrorKind::Canceled`](crate::ErrorKind::Canceled).
    pub fn cancel(&mut self, now: Now) {
        self.tick(now);
        if matches!(self.state, State::Failed | State::Done) {
            return;
        }
        self.events.emit(self.now.mono, || EventKind::Canceled);
        self.fail(Error::canceled());
    }

    /// A deadline may have passed.
    pub fn handle_timeout(&mut self, now: Now) {
        self.tick(now);
        self.check_deadlines();
    }

    /// Expires whatever deadline has passed by the current time.
    fn check_deadlines(&mut self) {
        if matches!(self.state, State::Done | State::Failed) {
            return;
        }
        if self.call_deadline.is_some_and(|d| self.now.mono >= d) {
            let timeout = self.shared.config.call_timeout;
            return self.fail(Error::timeout(TimeoutKind::Call, timeout));
        }
        if let Some((wait, Some(at))) = self.io {
            if self.now.mono >= at {
                self.io = None;
                self.expire(wait);
            }
        }
    }

    /// The deadline for `wait` passed.
    fn expire(&mut self, wait: Wait) {
        let config = &self.shared.config;
        match wait {
            Wait::Connect => self.connect_timer(),
            Wait::Continue => self.continue_timed_out(),
            Wait::Write => {
                let e = Error::timeout(TimeoutKind::Write, config.write_timeout);
                self.io_failed(e);
            }
            Wait::Read => {
                let e = Error::timeout(TimeoutKind::Read, config.read_timeout);
                self.io_failed(e);
            }
            Wait::Drain => self.drain_given_up(),
        }
    }

    /// The next thing to do: see [`Output`] for what each output asks of the driver.
    pub fn poll_output(&mut self, now: Now) -> Result<Output<'_>, Error> {
        self.tick(now);
        if let Some(conn) = self.closing.pop() {
            return Ok(Output::Close { conn });
        }
        if let Some(finder) = self.finder.as_mut() {
            if let Some(conn) = finder.take_closing() {
                return Ok(Output::Close { conn });
            }
        }
        if self.events.advance() {
            return Ok(Output::Event(self.events.next()));
        }
        // Store operations come before the response head, and before a runtime interceptor
        // gets the response it proceeded to: the store has the entry (or has opened it for the
        // body) by the time anyone reads the body, so every byte read reaches the entry.
        if self.next_cache_op() {
            return Ok(self.cache_op().map_or(Output::Idle, Output::Cache));
        }
        if let Some(handoff) = self.intercept.take() {
            if let State::Intercepting(id) = self.state {
                return Ok(match handoff {
                    Handoff::Request(request) => Output::Intercept { id, request },
                    Handoff::Result(result) => Output::Proceeded { id, result },
                });
            }
        }
        // The head goes to the caller before its connection goes back to the pool.
        if !matches!(self.state, State::Delivering(_)) {
            if let Some(conn) = self.releasing.take() {
                self.releasing = self.releasing_more.pop();
                return Ok(Output::Release(conn));
            }
        }
        match &self.state {
            State::Failed => Err(self.failure.clone().unwrap_or_else(Error::canceled)),
            State::Done => Ok(Output::Done),
            State::Running | State::Caching(_) => Ok(Output::Idle),
            State::Intercepting(_) => self.poll_conn_io(self.want_receive, Wait::Read),
            State::Finding(_) => self.poll_finder(),
            State::Exchanging => self.poll_exchange(),
            State::Draining(_) => self.poll_conn_io(true, Wait::Drain),
            State::Delivering(_) => Ok(Output::Response),
            State::Body => self.poll_conn_io(self.want_receive, Wait::Read),
        }
    }

    /// The finder's next need as an output.
    fn poll_finder(&mut self) -> Result<Output<'_>, Error> {
        use crate::connection::finder::Need;
        let Some(finder) = self.finder.as_mut() else {
            return Ok(match &self.probe {
                Some(probe) => Output::Acquire {
                    address: probe.address(),
                },
                None => Output::Idle,
            });
        };
        if let Some(Need::Connect { conn, addr }) = finder.need() {
            // The attempt's own connect timeout (within the call's): the next attempt's start
            // is the call's `poll_timeout` (re-armed on every poll while the race runs), not a
            // reason to give up on this attempt.
            let deadline = finder.asked_to_connect(self.now, conn, &self.shared);
            self.io = Some((Wait::Connect, finder.connect_wake()));
            return Ok(Output::Connect {
                conn,
                addr,
                deadline: earliest(deadline, self.call_deadline),
            });
        }
        let wait = match finder.need() {
            Some(Need::Handshake) => {
                let writing = finder.conn_mut().is_some_and(|c| c.has_output());
                Some(if writing { Wait::Write } else { Wait::Read })
            }
            _ => None,
        };
        if let Some(wait) = wait {
            self.arm(wait);
        }
        let deadline = self.poll_timeout();
        let Some(finder) = self.finder.as_mut() else {
            return Ok(Output::Idle);
        };
        if matches!(finder.need(), Some(Need::Handshake)) {
            return Ok(match finder.conn_mut() {
                Some(conn) => {
                    let writing = conn.has_output();
                    io_output(conn, writing, true, deadline)
                }
                None => Output::Idle,
            });
        }
        Ok(match finder.need() {
            Some(Need::Acquire(address)) => Output::Acquire { address },
            Some(Need::CheckHealth(conn)) => Output::CheckHealth { conn },
            Some(Need::Resolve { host, port }) => Output::Resolve { host, port },
            Some(Need::Handshake | Need::Connect { .. }) | None => Output::Idle,
        })
    }

    /// The exchange's next need as an output.
    fn poll_exchange(&mut self) -> Result<Output<'_>, Error> {
        use crate::exchange::Want;
        let (Some(exchange), Some(conn)) = (self.exchange.as_ref(), self.conn.as_ref()) else {
            return Ok(Output::Idle);
        };
        let want = exchange.want(conn);
        let sending = exchange.state() == crate::exchange::State::Send;
        let waiting_continue = exchange.state() == crate::exchange::State::AwaitContinue;
        match want {
            Want::Write => self.arm(Wait::Write),
            Want::Read if waiting_continue => self.arm(Wait::Continue),
            Want::Read => self.arm(Wait::Read),
            Want::Pull | Want::Nothing => {}
        }
        let deadline = self.poll_timeout();
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return Ok(Output::Idle);
        };
        Ok(match want {
            Want::Pull => {
                let (body, buf) = exchange.pull_target();
                Output::PullBody { body, buf }
            }
            Want::Write | Want::Read => {
                // After the driver saw the socket readable mid-send, receive first.
                let write = want == Want::Write && !(self.read_first && sending);
                let mut output = io_output(conn, write, true, deadline);
                if let Output::Transmit { listen, .. } = &mut output {
                    // While the request goes out, the server may answer already (a 413
                    // before the whole upload): the driver says if the socket turns readable.
                    *listen = sending;
                }
                output
            }
            Want::Nothing => Output::Idle,
        })
    }

    /// Transmits what the call's connection has queued (TLS records), else receives if
    /// `receive`, waiting for `wait`.
    fn poll_conn_io(&mut self, receive: bool, wait: Wait) -> Result<Output<'_>, Error> {
        let has_output = self.conn.as_ref().is_some_and(Connection::has_output);
        if has_output {
            self.arm(Wait::Write);
        } else if receive {
            self.arm(wait);
        }
        let deadline = self.poll_timeout();
        match self.conn.as_mut() {
            Some(conn) if has_output || receive => {
                Ok(io_output(conn, has_output, receive, deadline))
            }
            _ => Ok(Output::Idle),
        }
    }
}

/// A `Transmit` of what `conn` has queued when `write`, else a `Receive` into its buffer.
fn io_output(
    conn: &mut Connection,
    write: bool,
    receive: bool,
    deadline: Option<Instant>,
) -> Output<'_> {
    let id = conn.id();
    if write && conn.has_output() {
        return match conn.transmit_buf() {
            Some(bytes) => Output::Transmit {
                conn: id,
                bytes,
                deadline,
                listen: false,
            },
            None => Output::Idle,
        };
    }
    if receive {
        return Output::Receive {
            conn: id,
            buf: conn.recv_buf(),
            deadline,
        };
    }
    Output::Idle
}
