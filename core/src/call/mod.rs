//! One call's state machine: the exchange of a request and its response, with every piece of
//! I/O it needs expressed as an [`Output`] for the driver to perform.
//!
//! ```text
//!  Acquire ──pooled──▶ [CheckHealth] ──────────────────────────────┐
//!     │ none                                                       ▼
//!     ▼                                                         Send ──Expect: 100-continue──▶ AwaitContinue
//!  Resolve ──▶ Connect ──http──────────────────────────────────▶  │   ◀──── 100 / timeout ────────┘   │ final
//!     (next address on failure)  ──https──▶ Handshake ──────────▶ │                                    ▼
//!                                                                 └──────────────▶ ReadHead ──▶ Deliver ──▶ Body ──▶ Release ──▶ Done
//!  any state ──error──▶ Failed            a pooled connection found closed ──▶ Resolve (once, on a fresh connection)
//! ```
//!
//! How a driver runs a call is documented on [`Call`].

mod recv;
mod send;

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use core::net::SocketAddr;

use crate::body::{Body, BodyShape};
use crate::client::Shared;
use crate::connection::{Address, Connection};
use crate::events::{Event, EventKind};
use crate::http1::body::BodyDecoder;
use crate::http1::encode::{RequestFraming, framing_for};
use crate::http1::head::HeadReader;
use crate::time::earliest;
use crate::{Error, Headers, Instant, Now, Phase, Request, Response, TimeoutKind};

/// A pooled connection idle this long is checked before reuse (OkHttp's
/// `IDLE_CONNECTION_HEALTHY_NS`); fresher ones are trusted, and a request that meets a connection
/// the server closed is retried once on a new one.
pub const HEALTH_CHECK_AFTER: Duration = Duration::from_secs(10);

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

/// What the call needs the driver to do next. See [`Call`] for the contract.
#[derive(Debug)]
pub enum Output<'a> {
    /// Hand this event to the listener.
    Event(Event),
    /// Look for a pooled connection to [`Call::address`]; answer with [`Call::handle_acquired`].
    Acquire,
    /// Check the pooled socket; answer with [`Call::handle_health`].
    CheckHealth,
    /// Resolve `host`; answer with [`Call::handle_resolved`].
    Resolve {
        /// The host name.
        host: &'a str,
        /// The port to put in the resolved addresses.
        port: u16,
    },
    /// Connect to this address; answer with [`Call::handle_connected`].
    Connect {
        /// Where to connect.
        addr: SocketAddr,
        /// Call [`Call::handle_timeout`] if the connect has not finished by then.
        deadline: Option<Instant>,
    },
    /// Write these bytes; answer with [`Call::handle_transmitted`].
    Transmit {
        /// The bytes; writing a prefix of them is fine.
        bytes: &'a [u8],
        /// Call [`Call::handle_timeout`] if the socket accepts nothing by then.
        deadline: Option<Instant>,
    },
    /// Read into this buffer; answer with [`Call::handle_received`] (0 bytes = EOF).
    Receive {
        /// Where to read to.
        buf: &'a mut [u8],
        /// Call [`Call::handle_timeout`] if nothing arrives by then.
        deadline: Option<Instant>,
    },
    /// Read request body bytes into this buffer; answer with [`Call::handle_body_pulled`].
    PullBody(&'a mut [u8]),
    /// Start the request body over; answer with [`Call::handle_body_rewound`].
    RewindBody,
    /// The response head. Its body is read with [`Call::read_body`].
    Response(Response<()>),
    /// Put this connection and the socket in the pool.
    Release(Connection),
    /// Close the socket.
    Close,
    /// Nothing to do until the caller reads the body.
    Idle,
    /// The call is over.
    Done,
}

/// The result of [`Call::read_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    /// This many body bytes were copied into the buffer.
    Data(usize),
    /// Read at most this many bytes from the socket directly into the buffer, then report with
    /// [`Call::handle_direct_read`].
    Direct(usize),
    /// More bytes are needed: drive [`Call::poll_output`] (it asks for I/O), then call again.
    Pending,
    /// The body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Acquire,
    CheckHealth,
    Resolve,
    Connect,
    Handshake,
    Send,
    AwaitContinue,
    ReadHead,
    Deliver,
    Body,
    RewindBody,
    Release,
    Done,
    Failed,
}

/// What an armed deadline is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Connect,
    Write,
    Read,
    Continue,
}

/// Progress of sending the request body.
#[derive(Debug, Default)]
struct SendProgress {
    /// Body bytes handed to the connection.
    sent: u64,
    /// Offset into a bytes body.
    bytes_pos: usize,
    done: bool,
    /// Waiting for `100 Continue` before sending the body.
    held_for_continue: bool,
    /// A `PullBody` is wanted.
    need_pull: bool,
    /// Bytes have been pulled from a streamed body (so a retry must rewind it).
    pulled_any: bool,
    /// Staging buffer for pulled pieces, with room for chunk framing around them.
    pull: Vec<u8>,
}

/// One call's state machine: the exchange of a request and its response, with every piece of
/// I/O it needs expressed as an [`Output`] for the driver to perform.
///
/// # Driving a call
///
/// The driver repeatedly calls [`Call::poll_output`] and does what it says:
///
/// | output | the driver MUST | then report with |
/// |---|---|---|
/// | [`Output::Event`] | pass it to the event listener, if any | nothing |
/// | [`Output::Acquire`] | look in the pool for [`Call::address`] | [`Call::handle_acquired`] |
/// | [`Output::CheckHealth`] | check, without blocking, that the pooled socket is still open and has no unread bytes | [`Call::handle_health`] |
/// | [`Output::Resolve`] | resolve the host | [`Call::handle_resolved`] |
/// | [`Output::Connect`] | open a TCP connection to the address | [`Call::handle_connected`] |
/// | [`Output::Transmit`] | write (some of) the bytes to the socket | [`Call::handle_transmitted`] |
/// | [`Output::Receive`] | read from the socket into the buffer | [`Call::handle_received`] |
/// | [`Output::PullBody`] | read the request body ([`Body::poll_read`]) into the buffer | [`Call::handle_body_pulled`] |
/// | [`Output::RewindBody`] | [`Body::rewind`] the request body | [`Call::handle_body_rewound`] |
/// | [`Output::Response`] | hand the response head to the caller | nothing |
/// | [`Output::Release`] | put the connection and its socket in the pool | nothing |
/// | [`Output::Close`] | close the current socket | nothing |
/// | [`Output::Idle`] | wait for the caller to read the body (or for [`Call::poll_timeout`]) | [`Call::read_body`] |
/// | [`Output::Done`] | nothing: the call is over | |
///
/// An `Err` from `poll_output` is final: the driver closes the socket and reports the error.
///
/// Rules a driver relies on:
/// - I/O outputs are repeated until answered, so a driver may poll again after a spurious
///   wake-up, and a non-blocking driver may simply poll again once its socket is ready.
///   Reporting an error of kind `WouldBlock` or `Interrupted` changes nothing either.
/// - Deadlines travel with the outputs that wait (`Connect`, `Transmit`, `Receive`) and are
///   also given by [`Call::poll_timeout`]. When one passes before the I/O completes, call
///   [`Call::handle_timeout`]; reporting an error of kind `TimedOut` (a socket timeout) does
///   the same.
/// - A `Connect` for a different address than the one being connected means the previous
///   attempt is abandoned (it timed out): drop it. The resolved addresses are deduplicated, so
///   consecutive attempts always differ.
/// - An output borrows the call (a `Transmit` lends the bytes, a `Receive` the buffer): finish
///   the I/O, then report with the matching `handle_*` method.
/// - After [`Output::Response`], `Idle` means the call waits for [`Call::read_body`]; a driver
///   that reads the body as soon as the head arrives never sees it.
/// - Reports that do not match what the call is waiting for are ignored.
///
/// The body is read with [`Call::read_body`], which either copies bytes already received into
/// the caller's buffer, asks for more I/O ([`BodyRead::Pending`]), or, on a plain connection
/// with nothing buffered, lets the driver read from the socket straight into the caller's buffer
/// ([`BodyRead::Direct`], reported with [`Call::handle_direct_read`]).
///
/// [`Body::poll_read`]: crate::Body::poll_read
/// [`Body::rewind`]: crate::Body::rewind
pub struct Call {
    id: CallId,
    shared: Arc<Shared>,
    request: Arc<Request>,
    body: BodyShape,
    framing: RequestFraming,
    expect_continue: bool,
    address: Address,
    state: State,
    conn: Option<Connection>,
    /// The current connection came from the pool.
    reused: bool,
    /// The next output must be `Close`.
    close_pending: bool,
    retried: bool,
    events_on: bool,
    events: VecDeque<Event>,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    now: Now,
    call_deadline: Option<Instant>,
    /// The armed I/O deadline: what it waits for, and when (None = no timeout configured).
    io: Option<(Wait, Option<Instant>)>,
    send: SendProgress,
    sent_at: SystemTime,
    /// A write failed mid-body: the server may have answered early; report this if it did not.
    write_error: Option<Error>,
    head: HeadReader,
    interim: usize,
    /// Some byte of a response arrived on the current connection.
    response_started: bool,
    decoder: BodyDecoder,
    reusable: bool,
    body_read: u64,
    trailers: Option<Headers>,
    want_receive: bool,
    failure: Option<Error>,
    delivery: Option<Response<()>>,
    releasing: Option<Connection>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("address", &self.address)
            .field("conn", &self.conn.as_ref().map(Connection::id))
            .finish_non_exhaustive()
    }
}

/// `WouldBlock` and `Interrupted` mean "not now", never a failure: the call waits on.
fn is_not_ready(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

impl Call {
    pub(crate) fn new(id: CallId, shared: Arc<Shared>, now: Now, request: Request) -> (Call, Body) {
        let (request, body) = request.into_parts();
        let shape = body.shape();
        let has_body = !matches!(shape, BodyShape::None);
        let body_len = body.len();
        let framing = framing_for(request.method_ref(), request.headers(), body_len, has_body);
        let expect_continue = has_body
            && body_len != Some(0)
            && request
                .headers()
                .get_all("expect")
                .any(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let events_on = shared.config.listener.is_some();
        let call_deadline = shared.config.call_timeout.map(|d| now.mono + d);
        let address = Address::from_url(request.url());
        let mut call = Call {
            id,
            shared,
            request: Arc::new(request),
            body: shape,
            framing,
            expect_continue,
            address,
            state: State::Acquire,
            conn: None,
            reused: false,
            close_pending: false,
            retried: false,
            events_on,
            events: VecDeque::new(),
            addrs: Vec::new(),
            next_addr: 0,
            now,
            call_deadline,
            io: None,
            send: SendProgress::default(),
            sent_at: now.wall,
            write_error: None,
            head: HeadReader::default(),
            interim: 0,
            response_started: false,
            decoder: BodyDecoder::Done,
            reusable: false,
            body_read: 0,
            trailers: None,
            want_receive: false,
            failure: None,
            delivery: None,
            releasing: None,
        };
        if call.events_on {
            let request = format!(
                "{} {}",
                call.request.method_ref(),
                crate::error::redact(call.request.url())
            );
            call.event(EventKind::CallStart { request });
        }
        (call, body)
    }

    /// This call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The origin this call connects to (the pool key).
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The request, without its body.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The trailer fields of a chunked response, once its body has been read to the end.
    pub fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    /// True once the call has failed, or finished and given back its connection.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    /// The earliest moment [`Call::handle_timeout`] must be called if nothing else happens first.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Done | State::Failed | State::Release) {
            return None;
        }
        earliest(self.io.and_then(|(_, at)| at), self.call_deadline)
    }

    /// The next thing to do: see [`Output`] for what each output asks of the driver.
    pub fn poll_output(&mut self) -> Result<Output<'_>, Error> {
        if self.close_pending {
            self.close_pending = false;
            return Ok(Output::Close);
        }
        if let Some(event) = self.events.pop_front() {
            return Ok(Output::Event(event));
        }
        match self.state {
            State::Failed => Err(self.failure.clone().unwrap_or_else(Error::canceled)),
            State::Acquire => Ok(Output::Acquire),
            State::CheckHealth => Ok(Output::CheckHealth),
            State::Resolve => Ok(Output::Resolve {
                host: self.address.host(),
                port: self.address.port(),
            }),
            State::Connect => {
                self.arm(Wait::Connect);
                Ok(Output::Connect {
                    addr: self.addrs[self.next_addr],
                    deadline: self.poll_timeout(),
                })
            }
            State::RewindBody => Ok(Output::RewindBody),
            State::Handshake | State::AwaitContinue | State::ReadHead => self.poll_io(true),
            State::Send => self.poll_send(),
            State::Deliver => match self.delivery.take() {
                Some(response) => {
                    self.state = State::Body;
                    if self.decoder.is_done() {
                        self.finish_body();
                    }
                    Ok(Output::Response(response))
                }
                None => Ok(Output::Idle),
            },
            State::Body => self.poll_io(self.want_receive),
            State::Release => {
                self.state = State::Done;
                Ok(match self.releasing.take() {
                    Some(conn) => Output::Release(conn),
                    None => Output::Close,
                })
            }
            State::Done => Ok(Output::Done),
        }
    }

    /// Transmit pending bytes first (TLS records), then receive if `receive`.
    fn poll_io(&mut self, receive: bool) -> Result<Output<'_>, Error> {
        let has_output = self.conn.as_ref().is_some_and(Connection::has_output);
        if has_output {
            self.arm(Wait::Write);
        } else if receive {
            self.arm(if self.state == State::AwaitContinue {
                Wait::Continue
            } else {
                Wait::Read
            });
        }
        let deadline = self.poll_timeout();
        match self.conn.as_mut() {
            Some(conn) if has_output => Ok(conn
                .transmit_buf()
                .map_or(Output::Idle, |bytes| Output::Transmit { bytes, deadline })),
            Some(conn) if receive => Ok(Output::Receive {
                buf: conn.recv_buf(),
                deadline,
            }),
            _ => Ok(Output::Idle),
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
        };
        self.io = Some((wait, timeout.map(|d| self.now.mono + d)));
    }

    /// Records the time of an input.
    fn tick(&mut self, now: Now) {
        // Inputs drive time forward; a driver's clock stepping back is ignored.
        if now.mono >= self.now.mono {
            self.now = now;
        }
        // Only certificate checks read wall time, so plain-HTTP calls skip the shared store.
        if self.address.is_tls() {
            self.shared.config.clock.set(self.now.wall);
        }
    }

    fn event(&mut self, kind: EventKind) {
        if self.events_on {
            self.events.push_back(Event {
                call: self.id,
                at: self.now.mono,
                kind,
            });
        }
    }

    /// Fails the call; the error names the request.
    fn fail(&mut self, error: Error) {
        if matches!(self.state, State::Failed | State::Done) {
            return;
        }
        let phase = match self.state {
            State::Send => Phase::Send,
            State::AwaitContinue | State::ReadHead | State::Deliver => Phase::ReceiveHead,
            State::Body | State::Release | State::Done => Phase::ReceiveBody,
            _ => Phase::Connect,
        };
        let error = error
            .with_phase(phase)
            .with_request(self.request.method_ref(), self.request.url());
        self.event(EventKind::CallFailed {
            error: error.clone(),
        });
        self.conn = None;
        self.releasing = None;
        self.delivery = None;
        self.io = None;
        self.failure = Some(error);
        self.state = State::Failed;
    }

    /// Cancels the call: it fails with [`ErrorKind::Canceled`](crate::ErrorKind::Canceled).
    pub fn cancel(&mut self, now: Now) {
        self.tick(now);
        self.fail(Error::canceled());
    }

    /// A deadline may have passed.
    pub fn handle_timeout(&mut self, now: Now) {
        self.tick(now);
        self.check_deadlines();
    }

    /// Expires whatever deadline has passed by the current time.
    fn check_deadlines(&mut self) {
        if matches!(self.state, State::Done | State::Failed | State::Release) {
            return;
        }
        if self.call_deadline.is_some_and(|d| self.now.mono >= d) {
            let timeout = self.shared.config.call_timeout;
            return self.fail(Error::timeout(TimeoutKind::Call, timeout));
        }
        if let Some((wait, Some(at))) = self.io {
            if self.now.mono >= at {
                self.expire(wait);
            }
        }
    }

    /// The deadline for `wait` passed.
    fn expire(&mut self, wait: Wait) {
        self.io = None;
        let config = &self.shared.config;
        match wait {
            Wait::Connect => {
                let e = Error::timeout(TimeoutKind::Connect, config.connect_timeout);
                self.connect_failed(e);
            }
            Wait::Continue => self.release_held_body(),
            Wait::Write => {
                let e = Error::timeout(TimeoutKind::Write, config.write_timeout);
                self.fail(e);
            }
            Wait::Read => {
                let e = Error::timeout(TimeoutKind::Read, config.read_timeout);
                self.fail(e);
            }
        }
    }

    /// Answers [`Output::Acquire`]: a pooled connection to [`Call::address`], or none.
    pub fn handle_acquired(&mut self, now: Now, pooled: Option<Connection>) {
        self.tick(now);
        if self.state != State::Acquire {
            return;
        }
        match pooled.filter(|c| *c.address() == self.address) {
            Some(conn) => {
                self.event(EventKind::ConnectionAcquired {
                    conn: conn.id(),
                    reused: true,
                });
                let stale = conn
                    .idle_since()
                    .is_some_and(|since| self.now.mono - since >= HEALTH_CHECK_AFTER);
                self.conn = Some(conn);
                self.reused = true;
                if stale {
                    self.state = State::CheckHealth;
                } else {
                    self.begin_exchange();
                }
            }
            None => self.start_route(),
        }
    }

    /// Answers [`Output::CheckHealth`].
    pub fn handle_health(&mut self, now: Now, healthy: bool) {
        self.tick(now);
        if self.state != State::CheckHealth {
            return;
        }
        if healthy {
            self.begin_exchange();
        } else {
            self.conn = None;
            self.reused = false;
            self.close_pending = true;
            self.state = State::Acquire;
        }
    }

    fn start_route(&mut self) {
        self.next_addr = 0;
        match self.address.ip() {
            Some(ip) => {
                self.addrs = vec![SocketAddr::new(ip, self.address.port())];
                self.enter_connect();
            }
            None => {
                let host = self.address.host().to_owned();
                self.event(EventKind::DnsStart { host });
                self.state = State::Resolve;
            }
        }
    }

    fn enter_connect(&mut self) {
        self.state = State::Connect;
        self.io = None;
        let addr = self.addrs[self.next_addr];
        self.event(EventKind::ConnectStart { addr });
    }

    /// Answers [`Output::Resolve`].
    pub fn handle_resolved(&mut self, now: Now, result: io::Result<Vec<SocketAddr>>) {
        self.tick(now);
        if self.state != State::Resolve {
            return;
        }
        match result {
            Ok(mut addrs) if !addrs.is_empty() => {
                let mut seen = std::collections::HashSet::new();
                addrs.retain(|a| seen.insert(*a));
                let host = self.address.host().to_owned();
                self.event(EventKind::DnsEnd {
                    host,
                    addrs: addrs.clone(),
                });
                self.addrs = addrs;
                self.next_addr = 0;
                self.enter_connect();
            }
            Ok(_) => self.fail(Error::dns(self.address.host(), None)),
            Err(e) => {
                let e = Error::dns(self.address.host(), Some(e));
                self.fail(e);
            }
        }
    }

    /// Answers [`Output::Connect`].
    pub fn handle_connected(&mut self, now: Now, result: io::Result<()>) {
        self.tick(now);
        if self.state != State::Connect {
            return;
        }
        let addr = self.addrs[self.next_addr];
        match result {
            Ok(()) => {
                self.io = None;
                self.event(EventKind::ConnectEnd { addr });
                let id = self.shared.next_conn_id();
                let mut conn = Connection::new(id, self.address.clone(), addr);
                self.event(EventKind::ConnectionAcquired {
                    conn: id,
                    reused: false,
                });
                self.reused = false;
                if self.address.is_tls() {
                    self.event(EventKind::SecureConnectStart);
                    if let Err(e) = conn.start_tls(&self.shared.config.tls) {
                        return self.fail(e);
                    }
                    self.conn = Some(conn);
                    self.state = State::Handshake;
                } else {
                    self.conn = Some(conn);
                    self.begin_exchange();
                }
            }
            Err(e) if is_not_ready(&e) => {}
            // A socket timeout is our deadline passing; with none armed, it is the OS giving up.
            Err(e)
                if e.kind() == io::ErrorKind::TimedOut
                    && self.io.is_some_and(|(_, at)| at.is_some()) =>
            {
                self.check_deadlines()
            }
            Err(e) => {
                let error = Error::connect(format!("failed to connect to {addr}: {e}"), Some(e));
                self.connect_failed(error);
            }
        }
    }

    /// A connect attempt failed: try the next address, or fail with this error.
    fn connect_failed(&mut self, error: Error) {
        let addr = self.addrs[self.next_addr];
        self.event(EventKind::ConnectFailed {
            addr,
            error: error.clone(),
        });
        if self.next_addr + 1 < self.addrs.len() {
            self.next_addr += 1;
            self.enter_connect();
        } else {
            self.fail(error);
        }
    }

    /// Answers [`Output::Transmit`] with the number of bytes written, or the write's error.
    pub fn handle_transmitted(&mut self, now: Now, result: io::Result<usize>) {
        self.tick(now);
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if !conn.has_output() || matches!(self.state, State::Failed | State::Done) {
            return;
        }
        match result {
            Ok(0) => self.fail(Error::io("the connection accepted no bytes", None)),
            Ok(n) => {
                conn.on_transmitted(n);
                self.io = None;
                if self.state == State::Send {
                    self.advance_send();
                }
            }
            Err(e) if is_not_ready(&e) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => self.check_deadlines(),
            Err(e) => self.write_failed(e),
        }
    }

    /// Answers [`Output::Receive`] with the number of bytes read (0 = EOF), or the read's error.
    pub fn handle_received(&mut self, now: Now, result: io::Result<usize>) {
        self.tick(now);
        if !matches!(
            self.state,
            State::Handshake | State::AwaitContinue | State::ReadHead | State::Body
        ) {
            return;
        }
        match result {
            Ok(n) => self.received(n),
            Err(e) if is_not_ready(&e) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => self.check_deadlines(),
            Err(e) => self.read_failed(e),
        }
    }

    /// Answers [`Output::RewindBody`]: whether the body could be started over.
    pub fn handle_body_rewound(&mut self, now: Now, rewound: bool) {
        self.tick(now);
        if self.state != State::RewindBody {
            return;
        }
        if rewound {
            self.send = SendProgress::default();
            self.start_route();
        } else {
            self.fail(Error::invalid_input(
                "the request body cannot be sent again",
            ));
        }
    }

    /// Whether the request can be sent again on a fresh connection after the pooled one failed:
    /// OkHttp's rule for a stale pooled connection (nothing of the response arrived, the body can
    /// be sent again), at most once per call.
    fn can_retry(&self) -> bool {
        let replayable = match self.body {
            BodyShape::None | BodyShape::Bytes(_) => true,
            BodyShape::Stream { repeatable, .. } => repeatable || !self.send.pulled_any,
        };
        self.reused && !self.retried && !self.response_started && replayable
    }

    /// Drops the failed pooled connection and starts over on a fresh one.
    fn retry(&mut self, reason: Error) {
        self.retried = true;
        self.event(EventKind::RetryOnFreshConnection { reason });
        self.conn = None;
        self.reused = false;
        self.close_pending = true;
        self.io = None;
        self.head = HeadReader::default();
        self.interim = 0;
        self.response_started = false;
        self.write_error = None;
        if self.send.pulled_any {
            self.state = State::RewindBody;
        } else {
            self.send = SendProgress::default();
            self.start_route();
        }
    }
}
