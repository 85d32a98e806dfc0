//! Replays a vector against `wayfarer_core` directly: no sockets, no threads, virtual time.
//!
//! The client side is the core's own driver (`wayfarer_core::driver`, as every runtime uses
//! it) over a virtual transport: virtual sockets, the core's connection pool, a virtual clock.
//! The origin side interprets the vector's script. The two take turns: the client runs until it waits for bytes (or a deadline), then
//! the origin runs until it waits for bytes, a connection, or time. When both wait, the clock
//! jumps to the earliest deadline. Fragmentation variants decide how the origin's bytes are cut
//! into reads and how many bytes a write accepts.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::driver::{self, Driver, Transport};
use wayfarer_core::{Address, Client, Config, ConnId, Connection, Instant, Now};

use crate::run::{self, StreamKind};
use crate::vector::{
    CallSpec, OriginRecord, Outcome, ReadBody, RecordedRequest, Step, Variant, Vector,
};
use crate::wire;

/// The origin's address as the client sees it.
pub const AUTHORITY: &str = "127.0.0.1:8080";
/// Livelock guard: more turns than this is a bug in the client or the simulation.
const MAX_TURNS: usize = 1_000_000;

/// One virtual TCP connection.
#[derive(Debug, Default)]
struct VConn {
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

/// The virtual network both sides share: connections, the listener's backlog, the clock.
struct Net {
    now: Now,
    conns: Vec<VConn>,
    backlog: VecDeque<usize>,
    listening: bool,
}

impl Default for Net {
    fn default() -> Net {
        Net {
            now: Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH),
            conns: Vec::new(),
            backlog: VecDeque::new(),
            listening: false,
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
        _host: &str,
        _port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the simulation resolves nothing",
        )))
    }

    fn poll_connect(
        &mut self,
        _cx: &mut Context<'_>,
        _conn: ConnId,
        addr: SocketAddr,
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<SimSocket>> {
        let net = &mut self.net;
        if net.listening && addr == AUTHORITY.parse::<SocketAddr>().expect("authority") {
            net.conns.push(VConn::default());
            let id = net.conns.len() - 1;
            net.backlog.push_back(id);
            Poll::Ready(Ok(SimSocket {
                id,
                closed: net.conns[id].client_closed.clone(),
            }))
        } else {
            Poll::Ready(Err(io::Error::from(io::ErrorKind::ConnectionRefused)))
        }
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
        self.client.acquire(now, address)
    }

    fn release(&mut self, now: Instant, conn: Connection, socket: SimSocket) {
        self.client.release(now, conn, socket);
    }
}

/// Plays `vector` against the core and returns what each call produced and what the origin saw.
pub fn replay(vector: &Vector, variant: Variant) -> (Vec<Outcome>, OriginRecord) {
    let builder = run::configure(Config::builder(), &vector.config);
    let (builder, _cache) = crate::vector::cache::configure(builder, vector.config.cache);
    let config = builder.build().expect("config");
    let mut sim = Sim {
        variant,
        net: Net {
            now: Now::new(
                Instant::ZERO,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
            ),
            listening: true,
            ..Net::default()
        },
        client: Rc::new(Client::new(config)),
        origin: OriginState {
            steps: vector.origin.clone().into(),
            current: None,
            wake: None,
            half: None,
        },
        record: OriginRecord::default(),
        specs: vector.calls.clone().into(),
        active: None,
        outcomes: Vec::new(),
    };
    sim.run();
    (sim.outcomes, sim.record)
}

struct OriginState {
    steps: VecDeque<Step>,
    current: Option<usize>,
    /// A `pause` in progress ends at this time.
    wake: Option<Instant>,
    /// A request whose head `read-head` took, waiting for `read-body`.
    half: Option<usize>,
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
    net: Net,
    client: Rc<Client<SimSocket>>,
    origin: OriginState,
    record: OriginRecord,
    specs: VecDeque<CallSpec>,
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
                            self.record.errors.push(format!(
                                "simulation stuck: client {} and origin at step {:?} both wait with no deadline",
                                if client_done { "finished" } else { "waiting" },
                                self.origin.steps.front()
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
        self.origin.steps.clear();
        self.net.listening = false;
        for c in &mut self.net.conns {
            c.origin_closed = true;
        }
    }

    // ---------------------------------------------------------------- client side

    fn client_turn(&mut self) -> Turn {
        if self.active.is_none() {
            let Some(spec) = self.specs.pop_front() else {
                return Turn::Finished;
            };
            if let Some(after) = spec.after {
                self.net.now = self.net.now.advanced(after);
            }
            match run::request(&spec, AUTHORITY, StreamKind::Reader) {
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

    fn origin_turn(&mut self) -> Turn {
        let Some(step) = self.origin.steps.front().cloned() else {
            self.net.listening = false;
            for c in &mut self.net.conns {
                c.origin_closed = true;
            }
            return Turn::Finished;
        };
        let current = self.origin.current;
        let done = match step {
            Step::Accept => match self.net.backlog.pop_front() {
                Some(id) => {
                    self.origin.current = Some(id);
                    self.record.connections += 1;
                    true
                }
                None => false,
            },
            Step::ReadRequest | Step::ReadHead => {
                let Some(id) = current else {
                    return self.script_error("no connection to read from");
                };
                // Parse a copy: bytes are consumed only once the whole step can complete.
                let mut buf = self.net.conns[id].to_origin.clone();
                let mut req = match wire::take_head(&mut buf, self.conn_number(id)) {
                    Ok(Some(req)) => req,
                    Ok(None) => return self.origin_waits(id),
                    Err(e) => return self.script_error(&format!("unparseable request: {e}")),
                };
                if step == Step::ReadRequest {
                    match wire::take_body(&mut buf, &mut req) {
                        Ok(true) => {}
                        Ok(false) => return self.origin_waits(id),
                        Err(e) => {
                            return self.script_error(&format!("unparseable request body: {e}"));
                        }
                    }
                } else {
                    self.origin.half = Some(self.record.requests.len());
                }
                self.net.conns[id].to_origin = buf;
                self.record.requests.push(req);
                true
            }
            Step::ReadBody => {
                let (Some(id), Some(index)) = (current, self.origin.half) else {
                    return self.script_error("read-body without read-head");
                };
                let mut req = std::mem::take(&mut self.record.requests[index]);
                let complete = self.take_body(id, &mut req);
                self.record.requests[index] = req;
                if !complete {
                    return self.origin_waits(id);
                }
                self.origin.half = None;
                true
            }
            Step::Send(bytes) => {
                let Some(id) = current else {
                    return self.script_error("send without a connection");
                };
                let bytes = crate::vector::cache::expand_dates(&bytes, self.net.now.wall);
                let conn = &mut self.net.conns[id];
                if !conn.client_closed() {
                    match self.variant {
                        Variant::Bytewise => conn.to_client.extend(bytes.iter().map(|&b| vec![b])),
                        _ => conn.to_client.push_back(bytes.into_owned()),
                    }
                }
                true
            }
            Step::Pause(d) => match self.origin.wake {
                Some(at) if self.net.now.mono >= at => {
                    self.origin.wake = None;
                    true
                }
                Some(at) => return Turn::Wait(Some(at)),
                None => {
                    self.origin.wake = Some(self.net.now.mono + d);
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
                    return self.script_error("no connection to wait on");
                };
                if step == Step::AwaitClose && !self.net.conns[id].to_origin.is_empty() {
                    let n = self.net.conns[id].to_origin.len();
                    self.net.conns[id].to_origin.clear();
                    self.record
                        .errors
                        .push(format!("await-close: {n} unexpected bytes from the client"));
                }
                if step == Step::Stall {
                    self.net.conns[id].to_origin.clear();
                }
                if self.net.conns[id].client_closed() {
                    let no = self.conn_number(id);
                    self.record.closed_by_client.push(no);
                    true
                } else {
                    return Turn::Wait(None);
                }
            }
        };
        if done {
            self.origin.steps.pop_front();
            Turn::Progress
        } else {
            Turn::Wait(None)
        }
    }

    /// Completes `req`'s body from the connection's bytes; false if they are not all there.
    fn take_body(&mut self, id: usize, req: &mut RecordedRequest) -> bool {
        match wire::take_body(&mut self.net.conns[id].to_origin, req) {
            Ok(done) => done,
            Err(e) => {
                self.record
                    .errors
                    .push(format!("unparseable request body: {e}"));
                true
            }
        }
    }

    /// The origin waits for bytes on `id`; if the client closed it, no bytes will come.
    fn origin_waits(&mut self, id: usize) -> Turn {
        if self.net.conns[id].client_closed() {
            let step = self.origin.steps.pop_front();
            self.record
                .errors
                .push(format!("{step:?}: the client closed the connection"));
            return Turn::Progress;
        }
        Turn::Wait(None)
    }

    fn script_error(&mut self, message: &str) -> Turn {
        let step = self.origin.steps.pop_front();
        self.record.errors.push(format!("{step:?}: {message}"));
        Turn::Progress
    }

    /// The 1-based number the origin gave this connection when it accepted it.
    fn conn_number(&self, id: usize) -> usize {
        // Connections are accepted in the order they were opened, so the accept count at the
        // time of acceptance is the index among accepted ones; opened-but-never-accepted ones
        // come last.
        id + 1
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
        Poll::Ready(Ok(driver::Step::Response(head))) => {
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
