//! Replays a vector against `wayfarer_core` directly: no sockets, no threads, virtual time.
//!
//! The client side is a driver like the runtimes' (it answers the call's outputs, with the
//! core's own connection pool over virtual sockets); the origin side interprets the vector's
//! script. The two take turns: the client runs until it waits for bytes (or a deadline), then
//! the origin runs until it waits for bytes, a connection, or time. When both wait, the clock
//! jumps to the earliest deadline. Fragmentation variants decide how the origin's bytes are cut
//! into reads and how many bytes a write accepts.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::{BodyRead, Call, Client, Config, Instant, Now, Output};

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
    client_closed: bool,
    origin_closed: bool,
    reset: bool,
}

/// Plays `vector` against the core and returns what each call produced and what the origin saw.
pub fn replay(vector: &Vector, variant: Variant) -> (Vec<Outcome>, OriginRecord) {
    let builder = run::configure(Config::builder(), &vector.config);
    let config = builder.build().expect("config");
    let mut sim = Sim {
        variant,
        now: Now::new(
            Instant::ZERO,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
        ),
        conns: Vec::new(),
        backlog: VecDeque::new(),
        listening: true,
        client: Client::new(config),
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
    call: Call,
    body: wayfarer_core::Body,
    socket: Option<usize>,
    spec: CallSpec,
    outcome: Outcome,
    /// The response head arrived; the body is being read.
    reading: bool,
}

struct Sim {
    variant: Variant,
    now: Now,
    conns: Vec<VConn>,
    backlog: VecDeque<usize>,
    listening: bool,
    client: Client<usize>,
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
                    for c in &mut self.conns {
                        c.client_closed = true;
                    }
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
                    let by = next - self.now.mono;
                    self.now = self.now.advanced(by);
                    if let Some(active) = self.active.as_mut() {
                        if active
                            .call
                            .poll_timeout()
                            .is_some_and(|d| d <= self.now.mono)
                        {
                            active.call.handle_timeout(self.now);
                        }
                    }
                }
            }
        }
        panic!("simulation did not finish within {MAX_TURNS} turns (livelock)");
    }

    fn abandon_origin(&mut self) {
        self.origin.steps.clear();
        self.listening = false;
        for c in &mut self.conns {
            c.origin_closed = true;
        }
    }

    // ---------------------------------------------------------------- client side

    fn client_turn(&mut self) -> Turn {
        if self.active.is_none() {
            let Some(spec) = self.specs.pop_front() else {
                return Turn::Finished;
            };
            match run::request(&spec, AUTHORITY, StreamKind::Reader) {
                Ok(request) => {
                    let (call, body) = self.client.start_call(self.now, request);
                    let outcome = Outcome::default();
                    self.active = Some(Active {
                        call,
                        body,
                        socket: None,
                        spec,
                        outcome,
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
        let reading = self.active.as_ref().is_some_and(|a| a.reading);
        if reading {
            self.body_turn()
        } else {
            self.output_turn()
        }
    }

    /// Answers one output of the active call.
    fn output_turn(&mut self) -> Turn {
        let now = self.now;
        let variant = self.variant;
        let Some(active) = self.active.as_mut() else {
            return Turn::Finished;
        };
        let output = match active.call.poll_output() {
            Ok(o) => o,
            Err(e) => {
                active.outcome.error = Some(run::error(&e));
                return self.finish_call();
            }
        };
        match output {
            Output::Event(_) => {}
            Output::Acquire => {
                let found = self.client.acquire(now.mono, active.call.address());
                let conn = found.map(|(conn, socket)| {
                    active.socket = Some(socket);
                    conn
                });
                active.call.handle_acquired(now, conn);
            }
            Output::CheckHealth => {
                let healthy = active.socket.is_some_and(|s| {
                    let c = &self.conns[s];
                    !c.origin_closed && !c.reset && c.to_client.is_empty()
                });
                active.call.handle_health(now, healthy);
            }
            Output::Resolve { .. } => {
                let e = io::Error::new(io::ErrorKind::NotFound, "the simulation resolves nothing");
                active.call.handle_resolved(now, Err(e));
            }
            Output::Connect { addr, .. } => {
                let result = if self.listening && addr == AUTHORITY.parse::<SocketAddr>().unwrap() {
                    self.conns.push(VConn::default());
                    let id = self.conns.len() - 1;
                    self.backlog.push_back(id);
                    active.socket = Some(id);
                    Ok(())
                } else {
                    Err(io::Error::from(io::ErrorKind::ConnectionRefused))
                };
                active.call.handle_connected(now, result);
            }
            Output::Transmit { bytes, .. } => {
                let Some(conn) = active.socket.map(|s| &mut self.conns[s]) else {
                    active
                        .call
                        .handle_transmitted(now, Err(io::ErrorKind::NotConnected.into()));
                    return Turn::Progress;
                };
                let result = if conn.reset {
                    Err(io::Error::from(io::ErrorKind::ConnectionReset))
                } else {
                    let n = if variant == Variant::Split3 {
                        bytes.len().min(5)
                    } else {
                        bytes.len()
                    };
                    // Bytes to an origin that closed are accepted and lost, as TCP does for
                    // the first write after the peer's FIN.
                    if !conn.origin_closed {
                        conn.to_origin.extend_from_slice(&bytes[..n]);
                    }
                    Ok(n)
                };
                active.call.handle_transmitted(now, result);
            }
            Output::Receive { buf, deadline } => {
                match read(&mut self.conns, active.socket, variant, buf) {
                    Some(result) => active.call.handle_received(now, result),
                    None => return Turn::Wait(deadline),
                }
            }
            Output::PullBody(buf) => {
                let mut cx = Context::from_waker(Waker::noop());
                let result = match active.body.poll_read(&mut cx, buf) {
                    Poll::Ready(r) => r,
                    Poll::Pending => Err(io::Error::other("a vector body never blocks")),
                };
                active.call.handle_body_pulled(now, result);
            }
            Output::RewindBody => {
                let rewound = active.body.rewind();
                active.call.handle_body_rewound(now, rewound);
            }
            Output::Response(head) => {
                active.outcome.head = Some(run::head(&head));
                active.reading = true;
            }
            Output::Release(conn) => match active.socket.take() {
                Some(socket) => self.client.release(now.mono, conn, socket),
                None => panic!("released a connection without a socket"),
            },
            Output::Close => {
                if let Some(s) = active.socket.take() {
                    self.conns[s].client_closed = true;
                }
            }
            Output::Idle => return Turn::Wait(active.call.poll_timeout()),
            Output::Done => return self.finish_call(),
        }
        Turn::Progress
    }

    /// Reads the body as the spec says.
    fn body_turn(&mut self) -> Turn {
        let now = self.now;
        let variant = self.variant;
        let Some(active) = self.active.as_mut() else {
            return Turn::Finished;
        };
        let limit = match active.spec.read_body {
            ReadBody::All => usize::MAX,
            ReadBody::None => 0,
            ReadBody::Bytes(n) => n,
        };
        if active.outcome.body.len() >= limit {
            // The caller drops the response before its end.
            if !active.call.discard_buffered_body(now) {
                if let Some(s) = active.socket.take() {
                    self.conns[s].client_closed = true;
                }
                return self.finish_call();
            }
            active.reading = false;
            return Turn::Progress;
        }
        let mut buf = vec![0u8; (limit - active.outcome.body.len()).min(4096)];
        match active.call.read_body(now, &mut buf) {
            Ok(BodyRead::Data(n)) => active.outcome.body.extend_from_slice(&buf[..n]),
            Ok(BodyRead::End) => active.reading = false,
            Ok(BodyRead::Direct(max)) => {
                match read(&mut self.conns, active.socket, variant, &mut buf[..max]) {
                    Some(result) => match active.call.handle_direct_read(now, result) {
                        Ok(n) => active.outcome.body.extend_from_slice(&buf[..n]),
                        Err(e) => {
                            active.outcome.error = Some(run::error(&e));
                            return self.finish_call();
                        }
                    },
                    None => return Turn::Wait(active.call.poll_timeout()),
                }
            }
            // The call now asks for I/O through its outputs.
            Ok(BodyRead::Pending) => return self.output_turn(),
            Err(e) => {
                active.outcome.error = Some(run::error(&e));
                return self.finish_call();
            }
        }
        Turn::Progress
    }

    /// Records the active call's outcome and drops what it holds (a socket still held closes).
    fn finish_call(&mut self) -> Turn {
        if let Some(active) = self.active.take() {
            if let Some(s) = active.socket {
                self.conns[s].client_closed = true;
            }
            self.outcomes.push(active.outcome);
        }
        Turn::Progress
    }

    // ---------------------------------------------------------------- origin side

    fn origin_turn(&mut self) -> Turn {
        let Some(step) = self.origin.steps.front().cloned() else {
            self.listening = false;
            for c in &mut self.conns {
                c.origin_closed = true;
            }
            return Turn::Finished;
        };
        let current = self.origin.current;
        let done = match step {
            Step::Accept => match self.backlog.pop_front() {
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
                let mut buf = self.conns[id].to_origin.clone();
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
                self.conns[id].to_origin = buf;
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
                let conn = &mut self.conns[id];
                if !conn.client_closed {
                    match self.variant {
                        Variant::Bytewise => conn.to_client.extend(bytes.iter().map(|&b| vec![b])),
                        _ => conn.to_client.push_back(bytes.clone()),
                    }
                }
                true
            }
            Step::Pause(d) => match self.origin.wake {
                Some(at) if self.now.mono >= at => {
                    self.origin.wake = None;
                    true
                }
                Some(at) => return Turn::Wait(Some(at)),
                None => {
                    self.origin.wake = Some(self.now.mono + d);
                    return Turn::Progress;
                }
            },
            Step::Close => {
                if let Some(id) = current {
                    self.conns[id].origin_closed = true;
                }
                true
            }
            Step::Reset => {
                if let Some(id) = current {
                    let conn = &mut self.conns[id];
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
                if step == Step::AwaitClose && !self.conns[id].to_origin.is_empty() {
                    let n = self.conns[id].to_origin.len();
                    self.conns[id].to_origin.clear();
                    self.record
                        .errors
                        .push(format!("await-close: {n} unexpected bytes from the client"));
                }
                if step == Step::Stall {
                    self.conns[id].to_origin.clear();
                }
                if self.conns[id].client_closed {
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
        match wire::take_body(&mut self.conns[id].to_origin, req) {
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
        if self.conns[id].client_closed {
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
