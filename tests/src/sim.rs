//! Replays a vector against `wayfarer_core` directly: no sockets, no threads, virtual time.
//!
//! The client side is the core's own driver (`wayfarer_core::driver`, as every runtime uses
//! it) over a virtual transport: virtual sockets, the core's connection pool, a virtual clock.
//! The origin side interprets the vector's script. The two take turns: the client runs until it waits for bytes (or a deadline), then
//! the origin runs until it waits for bytes, a connection, or time. When both wait, the clock
//! jumps to the earliest deadline. Fragmentation variants decide how the origin's bytes are cut
//! into reads and how many bytes a write accepts.
//!
//! A vector may have two origins: the first listens at [`AUTHORITY`], the second at
//! [`AUTHORITY2`], a name the transport resolves (to `127.0.0.1`, on the second origin's port), so
//! a redirect from one to the other changes both host and port, as over loopback.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::driver::{self, Driver, Transport};
use wayfarer_core::{Address, Client, Config, ConnId, Connection, Instant, Now};

use crate::run::{self, StreamKind};
use crate::vector::{
    Authorities, CallSpec, OriginRecord, Outcome, ReadBody, RecordedRequest, Step, Variant, Vector,
};
use crate::wire;

/// The first origin's address as the client sees it.
pub const AUTHORITY: &str = "127.0.0.1:8080";
/// The second origin's authority as the client sees it: a name, resolved by the simulation's
/// transport to `127.0.0.1`.
pub const AUTHORITY2: &str = "localhost:8081";
/// The ports the origins listen on, in order.
const PORTS: [u16; 2] = [8080, 8081];

/// What the placeholders of `vector` expand to in the simulation.
pub fn authorities(vector: &Vector) -> Authorities {
    Authorities {
        first: AUTHORITY.to_string(),
        second: vector.origin2.as_ref().map(|_| AUTHORITY2.to_string()),
    }
}
/// Livelock guard: more turns than this is a bug in the client or the simulation.
const MAX_TURNS: usize = 1_000_000;

/// One virtual TCP connection.
#[derive(Debug, Default)]
struct VConn {
    /// The origin (index) it was opened to.
    origin: usize,
    /// The number that origin gave it when it accepted it (1-based; 0 until accepted).
    number: usize,
    /// Client to origin bytes not yet read by the origin.
    to_origin: Vec<u8>,
    /// Origin to client segments not yet read by the client.
    to_client: VecDeque<Vec<u8>>,
    /// Set when the client's socket for this connection is dropped (closed).
    client_closed: Rc<std::cell::Cell<bool>>,
    origin_closed: bool,
    reset: bool,
}

impl VConn {
    fn client_closed(&self) -> bool {
        self.client_closed.get()
    }
}

/// The client's socket for a virtual connection: dropping it closes the client's side, as
/// dropping a real socket does (whether the call closes it or the pool evicts it).
#[derive(Debug)]
pub struct SimSocket {
    id: usize,
    closed: Rc<std::cell::Cell<bool>>,
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        self.closed.set(true);
    }
}

/// The virtual network both sides share: connections, the origins' listeners, the clock.
struct Net {
    now: Now,
    conns: Vec<VConn>,
    /// One per origin, in order.
    listeners: Vec<Listener>,
}

/// An origin's listening socket.
struct Listener {
    addr: SocketAddr,
    listening: bool,
    /// Connections opened and not yet accepted.
    backlog: VecDeque<usize>,
}

impl Default for Net {
    fn default() -> Net {
        Net {
            now: Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH),
            conns: Vec::new(),
            listeners: Vec::new(),
        }
    }
}

impl Net {
    /// The origin stops listening and closes its connections (its script ended, or was
    /// abandoned).
    fn shut(&mut self, origin: usize) {
        if let Some(listener) = self.listeners.get_mut(origin) {
            listener.listening = false;
        }
        for c in self.conns.iter_mut().filter(|c| c.origin == origin) {
            c.origin_closed = true;
        }
    }
}

/// The client side's transport: the virtual network (lent to it for each client step) and
/// the core's pool.
struct SimTransport {
    net: Net,
    client: Rc<Client<SimSocket>>,
    variant: Variant,
}

impl Transport for SimTransport {
    type Socket = SimSocket;

    fn now(&mut self) -> Now {
        self.net.now
    }

    fn poll_resolve(
        &mut self,
        _cx: &mut Context<'_>,
        host: &str,
        port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        // The one name the simulation knows, as a hosts file would have it.
        Poll::Ready(if host.eq_ignore_ascii_case(Authorities::SECOND_HOST) {
            Ok(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)])
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the simulation resolves only {}", Authorities::SECOND_HOST),
            ))
        })
    }

    fn poll_connect(
        &mut self,
        _cx: &mut Context<'_>,
        _conn: ConnId,
        addr: SocketAddr,
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<SimSocket>> {
        let net = &mut self.net;
        let Some(origin) = net
            .listeners
            .iter()
            .position(|l| l.listening && l.addr == addr)
        else {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::ConnectionRefused)));
        };
        net.conns.push(VConn {
            origin,
            ..VConn::default()
        });
        let id = net.conns.len() - 1;
        net.listeners[origin].backlog.push_back(id);
        Poll::Ready(Ok(SimSocket {
            id,
            closed: net.conns[id].client_closed.clone(),
        }))
    }

    fn poll_write(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut SimSocket,
        bytes: &[u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        let conn = &mut self.net.conns[socket.id];
        if conn.reset {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::ConnectionReset)));
        }
        let n = if self.variant == Variant::Split3 {
            bytes.len().min(5)
        } else {
            bytes.len()
        };
        // Bytes to an origin that closed are accepted and lost, as TCP does for the first
        // write after the peer's FIN.
        if !conn.origin_closed {
            conn.to_origin.extend_from_slice(&bytes[..n]);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_read(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut SimSocket,
        buf: &mut [u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        match read(&mut self.net.conns, Some(socket.id), self.variant, buf) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    fn poll_deadline(&mut self, _cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        if self.net.now.mono >= deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn is_healthy(&mut self, socket: &mut SimSocket) -> bool {
        let c = &self.net.conns[socket.id];
        !c.origin_closed && !c.reset && c.to_client.is_empty()
    }

    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, SimSocket)> {
        // As every runtime does: a pooled connection on which bytes arrived while it was idle
        // (an unsolicited response) or that the origin closed is closed, never reused.
        loop {
            let (conn, socket) = self.client.acquire(now, address)?;
            let c = &self.net.conns[socket.id];
            if c.to_client.is_empty() && !c.origin_closed && !c.reset {
                return Some((conn, socket));
            }
            self.client.pool().forget(conn.id());
        }
    }

    fn release(&mut self, now: Instant, conn: Connection, socket: SimSocket) {
        self.client.release(now, conn, socket);
    }
}

/// Plays `vector` against the core and returns what each call produced and what each origin
/// saw (the first origin's record, then the second's if the vector has one).
pub fn replay(vector: &Vector, variant: Variant) -> (Vec<Outcome>, Vec<OriginRecord>) {
    let builder = run::configure_for(Config::builder(), &vector.config, &authorities(vector));
    let (builder, _cache) = crate::vector::cache::configure(builder, vector.config.cache);
    let config = builder.build().expect("config");
    let scripts = vector.scripts();
    let mut sim = Sim {
        variant,
        authorities: authorities(vector),
        net: Net {
            now: Now::new(
                Instant::ZERO,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
            ),
            conns: Vec::new(),
            // An origin with an empty script has ended before the first call starts.
            listeners: PORTS
                .iter()
                .zip(&scripts)
                .map(|(&port, script)| Listener {
                    addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                    listening: !script.is_empty(),
                    backlog: VecDeque::new(),
                })
                .collect(),
        },
        client: Rc::new(Client::new(config)),
        origins: scripts
            .into_iter()
            .map(|steps| OriginState {
                steps: steps.into(),
                current: None,
                wake: None,
                half: None,
                accepted: 0,
                record: OriginRecord::default(),
            })
            .collect(),
        specs: vector.calls.clone().into(),
        starts_at: None,
        active: None,
        outcomes: Vec::new(),
    };
    sim.run();
    let records = sim.origins.into_iter().map(|o| o.record).collect();
    (sim.outcomes, records)
}

/// One origin's place in its script.
struct OriginState {
    steps: VecDeque<Step>,
    /// The connection (index into `Net::conns`) steps act on.
    current: Option<usize>,
    /// A `pause` in progress ends at this time.
    wake: Option<Instant>,
    /// A request whose head `read-head` took, waiting for `read-body`.
    half: Option<usize>,
    /// Connections accepted so far.
    accepted: usize,
    record: OriginRecord,
}

/// A call in progress on the client side.
struct Active {
    driver: Driver<SimTransport>,
    spec: CallSpec,
    outcome: Outcome,
    /// The response head arrived; the body is being read.
    reading: bool,
}

struct Sim {
    variant: Variant,
    /// Expands the placeholders in the calls and in `send`.
    authorities: Authorities,
    net: Net,
    client: Rc<Client<SimSocket>>,
    /// One per origin, in order.
    origins: Vec<OriginState>,
    specs: VecDeque<CallSpec>,
    /// When the next call starts, once its `after` is counting.
    starts_at: Option<Instant>,
    active: Option<Active>,
    outcomes: Vec<Outcome>,
}

/// What a side can do next.
enum Turn {
    /// It made progress; run it again.
    Progress,
    /// It waits for the other side, or until this time.
    Wait(Option<Instant>),
    /// It has nothing more to do.
    Finished,
}

impl Sim {
    fn run(&mut self) {
        let mut client_done = false;
        for _ in 0..MAX_TURNS {
            let client = if client_done {
                Turn::Finished
            } else {
                self.client_turn()
            };
            if let Turn::Progress = client {
                continue;
            }
            if let Turn::Finished = client {
                if !client_done {
                    client_done = true;
                    // The application drops the client: pooled connections close.
                    self.client.evict_all();
                }
            }
            let origin = self.origin_turn();
            match (&client, origin) {
                (_, Turn::Progress) => continue,
                (Turn::Finished, Turn::Finished) => return,
                (client, origin) => {
                    let client_at = if let Turn::Wait(at) = client {
                        *at
                    } else {
                        None
                    };
                    let origin_at = if let Turn::Wait(at) = origin {
                        at
                    } else {
                        None
                    };
                    let next = match (client_at, origin_at) {
                        (Some(a), Some(b)) => a.min(b),
                        (Some(a), None) | (None, Some(a)) => a,
                        (None, None) => {
                            let at: Vec<Option<Step>> = self
                                .origins
                                .iter()
                                .map(|o| o.steps.front().cloned())
                                .collect();
                            self.origins[0].record.errors.push(format!(
                                "simulation stuck: client {} and origins at steps {at:?} all wait with no deadline",
                                if client_done { "finished" } else { "waiting" },
                            ));
                            if client_done {
                                return;
                            }
                            // Unblock the client the way a real origin's step timeout would:
                            // give up on the script and close everything.
                            self.abandon_origin();
                            continue;
                        }
                    };
                    let by = next - self.net.now.mono;
                    self.net.now = self.net.now.advanced(by);
                }
            }
        }
        panic!("simulation did not finish within {MAX_TURNS} turns (livelock)");
    }

    fn abandon_origin(&mut self) {
        for (i, origin) in self.origins.iter_mut().enumerate() {
            origin.steps.clear();
            self.net.shut(i);
        }
    }

    // ---------------------------------------------------------------- client side

    fn client_turn(&mut self) -> Turn {
        if self.active.is_none() {
            let Some(after) = self.specs.front().map(|spec| spec.after) else {
                return Turn::Finished;
            };
            // `after`: the origins play on (sending on idle connections, say) until it is time.
            if let Some(after) = after {
                let at = *self.starts_at.get_or_insert(self.net.now.mono + after);
                if self.net.now.mono < at {
                    return Turn::Wait(Some(at));
                }
                self.starts_at = None;
            }
            let Some(spec) = self.specs.pop_front() else {
                return Turn::Finished;
            };
            match run::request(&spec, &self.authorities, StreamKind::Reader) {
                Ok(request) => {
                    let call = self.client.start_call(self.net.now, request);
                    let transport = SimTransport {
                        net: Net::default(),
                        client: self.client.clone(),
                        variant: self.variant,
                    };
                    let driver = Driver::new(call, transport, self.client.config());
                    self.active = Some(Active {
                        driver,
                        spec,
                        outcome: Outcome::default(),
                        reading: false,
                    });
                }
                Err(e) => {
                    self.outcomes.push(Outcome {
                        error: Some(run::error(&e)),
                        ..Outcome::default()
                    });
                }
            }
            return Turn::Progress;
        }
        // Lend the network to the transport for this step.
        let Some(active) = self.active.as_mut() else {
            return Turn::Finished;
        };
        active.driver.transport_mut().net = std::mem::take(&mut self.net);
        let turn = if active.reading {
            body_turn(active)
        } else {
            output_turn(active)
        };
        if let Some(active) = self.active.as_mut() {
            self.net = std::mem::take(&mut active.driver.transport_mut().net);
        }
        match turn {
            ClientTurn::Turn(turn) => turn,
            ClientTurn::Finished => self.finish_call(),
        }
    }

    /// Records the active call's outcome and drops it (a socket it still holds closes).
    fn finish_call(&mut self) -> Turn {
        if let Some(active) = self.active.take() {
            self.outcomes.push(active.outcome);
        }
        Turn::Progress
    }

    // ---------------------------------------------------------------- origin side

    /// Runs the origins in order until one progresses; they wait (until the earliest time any
    /// of them named) when none can.
    fn origin_turn(&mut self) -> Turn {
        let mut waiting = false;
        let mut until: Option<Instant> = None;
        for i in 0..self.origins.len() {
            match self.one_origin_turn(i) {
                Turn::Progress => return Turn::Progress,
                Turn::Wait(at) => {
                    waiting = true;
                    until = match (until, at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Turn::Finished => {}
            }
        }
        if waiting {
            Turn::Wait(until)
        } else {
            Turn::Finished
        }
    }

    fn one_origin_turn(&mut self, o: usize) -> Turn {
        let Some(step) = self.origins[o].steps.front().cloned() else {
            self.net.shut(o);
            return Turn::Finished;
        };
        let current = self.origins[o].current;
        let done = match step {
            Step::Accept => match self.net.listeners[o].backlog.pop_front() {
                Some(id) => {
                    let origin = &mut self.origins[o];
                    origin.current = Some(id);
                    origin.accepted += 1;
                    origin.record.connections += 1;
                    self.net.conns[id].number = origin.accepted;
                    true
                }
                None => false,
            },
            Step::ReadRequest | Step::ReadHead => {
                let Some(id) = current else {
                    return self.script_error(o, "no connection to read from");
                };
                // Parse a copy: bytes are consumed only once the whole step can complete.
                let mut buf = self.net.conns[id].to_origin.clone();
                let mut req = match wire::take_head(&mut buf, self.conn_number(id)) {
                    Ok(Some(req)) => req,
                    Ok(None) => return self.origin_waits(o, id),
                    Err(e) => return self.script_error(o, &format!("unparseable request: {e}")),
                };
                if step == Step::ReadRequest {
                    match wire::take_body(&mut buf, &mut req) {
                        Ok(true) => {}
                        Ok(false) => return self.origin_waits(o, id),
                        Err(e) => {
                            return self.script_error(o, &format!("unparseable request body: {e}"));
                        }
                    }
                } else {
                    self.origins[o].half = Some(self.origins[o].record.requests.len());
                }
                self.net.conns[id].to_origin = buf;
                self.origins[o].record.requests.push(req);
                true
            }
            Step::ReadBody => {
                let (Some(id), Some(index)) = (current, self.origins[o].half) else {
                    return self.script_error(o, "read-body without read-head");
                };
                let mut req = std::mem::take(&mut self.origins[o].record.requests[index]);
                let complete = self.take_body(o, id, &mut req);
                self.origins[o].record.requests[index] = req;
                if !complete {
                    return self.origin_waits(o, id);
                }
                self.origins[o].half = None;
                true
            }
            Step::Send(bytes) => {
                let Some(id) = current else {
                    return self.script_error(o, "send without a connection");
                };
                let bytes = crate::vector::cache::expand_dates(&bytes, self.net.now.wall);
                let bytes = self.authorities.expand(&bytes);
                let conn = &mut self.net.conns[id];
                if !conn.client_closed() {
                    match self.variant {
                        Variant::Bytewise => conn.to_client.extend(bytes.iter().map(|&b| vec![b])),
                        _ => conn.to_client.push_back(bytes),
                    }
                }
                true
            }
            Step::Pause(d) => match self.origins[o].wake {
                Some(at) if self.net.now.mono >= at => {
                    self.origins[o].wake = None;
                    true
                }
                Some(at) => return Turn::Wait(Some(at)),
                None => {
                    self.origins[o].wake = Some(self.net.now.mono + d);
                    return Turn::Progress;
                }
            },
            Step::Close => {
                if let Some(id) = current {
                    self.net.conns[id].origin_closed = true;
                }
                true
            }
            Step::Reset => {
                if let Some(id) = current {
                    let conn = &mut self.net.conns[id];
                    conn.reset = true;
                    conn.origin_closed = true;
                    conn.to_client.clear();
                }
                true
            }
            Step::Stall | Step::AwaitClose => {
                let Some(id) = current else {
                    return self.script_error(o, "no connection to wait on");
                };
                if step == Step::AwaitClose && !self.net.conns[id].to_origin.is_empty() {
                    let n = self.net.conns[id].to_origin.len();
                    self.net.conns[id].to_origin.clear();
                    self.origins[o]
                        .record
                        .errors
                        .push(format!("await-close: {n} unexpected bytes from the client"));
                }
                if step == Step::Stall {
                    self.net.conns[id].to_origin.clear();
                }
                if self.net.conns[id].client_closed() {
                    let no = self.conn_number(id);
                    self.origins[o].record.closed_by_client.push(no);
                    true
                } else {
                    return Turn::Wait(None);
                }
            }
        };
        if done {
            self.origins[o].steps.pop_front();
            Turn::Progress
        } else {
            Turn::Wait(None)
        }
    }

    /// Completes `req`'s body from the connection's bytes; false if they are not all there.
    fn take_body(&mut self, o: usize, id: usize, req: &mut RecordedRequest) -> bool {
        match wire::take_body(&mut self.net.conns[id].to_origin, req) {
            Ok(done) => done,
            Err(e) => {
                self.origins[o]
                    .record
                    .errors
                    .push(format!("unparseable request body: {e}"));
                true
            }
        }
    }

    /// The origin waits for bytes on `id`; if the client closed it, no bytes will come.
    fn origin_waits(&mut self, o: usize, id: usize) -> Turn {
        if self.net.conns[id].client_closed() {
            let step = self.origins[o].steps.pop_front();
            self.origins[o]
                .record
                .errors
                .push(format!("{step:?}: the client closed the connection"));
            return Turn::Progress;
        }
        Turn::Wait(None)
    }

    fn script_error(&mut self, o: usize, message: &str) -> Turn {
        let step = self.origins[o].steps.pop_front();
        self.origins[o]
            .record
            .errors
            .push(format!("{step:?}: {message}"));
        Turn::Progress
    }

    /// The 1-based number the origin gave this connection when it accepted it.
    fn conn_number(&self, id: usize) -> usize {
        self.net.conns[id].number
    }
}

/// A client read from connection `socket`: `None` when it would block.
fn read(
    conns: &mut [VConn],
    socket: Option<usize>,
    variant: Variant,
    buf: &mut [u8],
) -> Option<io::Result<usize>> {
    let Some(conn) = socket.map(|s| &mut conns[s]) else {
        return Some(Err(io::ErrorKind::NotConnected.into()));
    };
    if conn.reset {
        return Some(Err(io::ErrorKind::ConnectionReset.into()));
    }
    if conn.to_client.is_empty() {
        return if conn.origin_closed {
            Some(Ok(0))
        } else {
            None
        };
    }
    let limit = match variant {
        Variant::Split3 => buf.len().min(3),
        _ => buf.len(),
    };
    let mut n = 0;
    while n < limit {
        let Some(segment) = conn.to_client.front_mut() else {
            break;
        };
        let take = segment.len().min(limit - n);
        buf[n..n + take].copy_from_slice(&segment[..take]);
        segment.drain(..take);
        n += take;
        if segment.is_empty() {
            conn.to_client.pop_front();
        }
        // Whole and bytewise deliver one segment per read; coalesced and split3 run on.
        if matches!(variant, Variant::Whole | Variant::Bytewise) {
            break;
        }
    }
    Some(Ok(n))
}

/// What a client step came to.
enum ClientTurn {
    Turn(Turn),
    /// The call is over: record it.
    Finished,
}

/// Drives the active call one step toward its response head.
fn output_turn(active: &mut Active) -> ClientTurn {
    let mut cx = Context::from_waker(Waker::noop());
    match active.driver.poll_step(&mut cx) {
        Poll::Ready(Ok(driver::Step::Progress)) => ClientTurn::Turn(Turn::Progress),
        Poll::Ready(Ok(driver::Step::Response)) => {
            let head = active
                .driver
                .take_response()
                .expect("a head after Step::Response");
            active.outcome.head = Some(run::head(&head));
            active.reading = true;
            ClientTurn::Turn(Turn::Progress)
        }
        Poll::Ready(Ok(driver::Step::Done)) => ClientTurn::Finished,
        Poll::Ready(Ok(driver::Step::Idle)) => {
            ClientTurn::Turn(Turn::Wait(active.driver.call().poll_timeout()))
        }
        Poll::Ready(Ok(step @ (driver::Step::Intercept(..) | driver::Step::Proceeded(..)))) => {
            panic!("vectors configure no runtime interceptors: {step:?}")
        }
        Poll::Ready(Err(e)) => {
            active.outcome.error = Some(run::error(&e));
            ClientTurn::Finished
        }
        Poll::Pending => ClientTurn::Turn(Turn::Wait(active.driver.call().poll_timeout())),
    }
}

/// Reads the body as the spec says.
fn body_turn(active: &mut Active) -> ClientTurn {
    let limit = match active.spec.read_body {
        ReadBody::All => usize::MAX,
        ReadBody::None => 0,
        ReadBody::Bytes(n) => n,
    };
    if active.outcome.body.len() >= limit {
        // The caller drops the response before its end: what already arrived still lets the
        // connection be reused; otherwise dropping the call closes it.
        active.driver.discard();
        active.reading = false;
        return ClientTurn::Finished;
    }
    let mut buf = vec![0u8; (limit - active.outcome.body.len()).min(4096)];
    let mut cx = Context::from_waker(Waker::noop());
    match active.driver.poll_read(&mut cx, &mut buf) {
        Poll::Ready(Ok(0)) => {
            active.reading = false;
            ClientTurn::Turn(Turn::Progress)
        }
        Poll::Ready(Ok(n)) => {
            active.outcome.body.extend_from_slice(&buf[..n]);
            ClientTurn::Turn(Turn::Progress)
        }
        Poll::Ready(Err(e)) => {
            active.outcome.error = Some(run::error(&e));
            ClientTurn::Finished
        }
        Poll::Pending => ClientTurn::Turn(Turn::Wait(active.driver.call().poll_timeout())),
    }
}
