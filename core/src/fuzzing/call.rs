//! The whole call machine under a fuzzed driver: a [`Call`] (follow-ups, bridge, gzip,
//! connection finding, exchange) is driven through its raw contract by a driver whose every
//! answer comes from the input: the server's bytes on each connection, how they are cut into
//! reads, how much of each write is taken, when time passes, which operations fail (resets,
//! refusals, timeouts, end of stream) and when the caller cancels or stops reading.
//!
//! The driver checks the contract as it goes and panics when the call breaks it:
//! - every I/O output names a connection the driver holds; `Close` and `Release` name a
//!   connection it knows (a connect attempt, or a socket it holds), and only once;
//! - a connection never has two reads in flight (a socket read left pending and a direct body
//!   read into the caller's buffer, say);
//! - the call always ends: it never waits on nothing (an `Idle` with no deadline while the
//!   caller waits for it), and every step makes progress within a bound;
//! - once the call ended (its body reached the end, or it failed), it asks for no more I/O, holds
//!   no socket, and says the same thing however often it is asked;
//! - the same input gives the same outputs (the scenario runs twice and the transcripts match).
//!
//! # The input
//!
//! `script` [`CONN_SEPARATOR`] `conn 1` [`CONN_SEPARATOR`] `conn 2` ...: the script's first
//! [`SETUP_BYTES`] bytes choose the configuration and the request (see [`Setup`]); each later
//! byte answers one output, in order (see [`Sim::decision`]). Past its end every answer is the
//! plain one (the operation succeeds at once, a read takes all there is), so every input ends.
//! The n-th connection the call opens serves the n-th part's bytes, then end of stream. A
//! vector's transcript turns into an input as: [`SETUP_BYTES`] zero bytes, then each connection's
//! bytes after a separator.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{BodyRead, Call, Client, ConnId, Error, Instant, Now, Output, Response};

/// Separates the script from the first connection's bytes, and each connection's bytes from the
/// next one's.
pub const CONN_SEPARATOR: &[u8] = b"\n\0conn\0\n";

/// Separates the responses on one connection: the server sends the first at once, and each
/// next one when the client has written another request line.
pub const RESPONSE_SEPARATOR: &[u8] = b"\n\0resp\0\n";

/// Bytes at the start of the script that choose the configuration and the request.
pub const SETUP_BYTES: usize = 20;

/// Steps in a row without progress (no input consumed, no body byte delivered, no time passed)
/// after which the call is taken to hang.
const STALL_LIMIT: usize = 10_000;

/// Body bytes one scenario reads at most (a caller that has read this much stops).
const MAX_BODY: usize = 16 << 20;

/// Runs the input's scenario twice and checks that both runs produced the same transcript.
pub fn run(input: &[u8]) {
    let first = transcript(input);
    let second = transcript(input);
    if first != second {
        let at = first
            .iter()
            .zip(&second)
            .position(|(a, b)| a != b)
            .unwrap_or(first.len().min(second.len()));
        panic!(
            "the same input gave different outputs from line {at}: {:?} vs {:?}",
            first.get(at),
            second.get(at)
        );
    }
}

/// Runs the input's scenario once and returns its transcript: one line per output, answer and
/// result.
pub fn transcript(input: &[u8]) -> Vec<String> {
    let mut parts = split(input, CONN_SEPARATOR);
    let script = parts.remove(0);
    let mut script = Script(script);
    let setup = Setup::read(&mut script);
    let mut sim = Sim {
        now: Now::new(
            Instant::ZERO,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
        ),
        client: Client::new(setup.config.clone()),
        script,
        streams: parts,
        next_stream: 0,
        sockets: Vec::new(),
        conns: BTreeMap::new(),
        in_flight: BTreeMap::new(),
        log: Vec::new(),
        stalled: 0,
        body_total: 0,
    };
    // A broken rule panics; the panic then says what led to it (under libFuzzer, whose hook
    // aborts at once, the input replayed by the corpus test shows it).
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for n in 0..setup.calls {
            if n > 0 {
                let d = sim.script.next();
                sim.advance(step_duration(d >> 3));
            }
            let request = match setup.request() {
                Ok(request) => request,
                Err(e) => {
                    sim.log(format!("request: {}", describe_error(&e)));
                    break;
                }
            };
            let call = sim.client.start_call(sim.now, request);
            sim.run_call(call, &setup);
        }
        sim.client.evict_all();
    }));
    if let Err(payload) = run {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(a panic)");
        let tail = &sim.log[sim.log.len().saturating_sub(40)..];
        std::panic::resume_unwind(Box::new(format!("{message}\nafter:\n{}", render(tail))));
    }
    sim.log
}

mod setup;

use setup::{Script, Setup, split, step_duration};

mod server;

use server::{Server, Socket};

/// What the driver knows of a connection id.
#[derive(Debug)]
enum Conn {
    /// A connect attempt, answered or not.
    Attempt { answered: bool },
    /// The driver holds its socket for the call.
    Open(Socket),
    /// Given to the pool.
    Released,
    /// Closed (by the call, or by the driver when the caller dropped the call).
    Closed,
}

/// Which read a connection has in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// An `Output::Receive` into the connection's buffer.
    Receive,
    /// A `BodyRead::Direct` into the caller's buffer.
    Direct,
}

/// How an operation was answered.
enum Answer<T> {
    Ready(io::Result<T>),
    /// Not yet: the clock moved on instead.
    Pending,
    /// The caller canceled the call.
    Cancel,
}

/// How a step of the call ended.
enum Stepped {
    Progress,
    Response(Box<Response<()>>),
    Done,
    Failed(Error),
}

struct Sim<'a> {
    now: Now,
    client: Client<Socket>,
    script: Script<'a>,
    streams: Vec<&'a [u8]>,
    next_stream: usize,
    sockets: Vec<Server<'a>>,
    conns: BTreeMap<ConnId, Conn>,
    in_flight: BTreeMap<ConnId, Read>,
    log: Vec<String>,
    /// Steps since the last progress.
    stalled: usize,
    body_total: usize,
}

fn describe_error(e: &Error) -> String {
    format!("error {}: {e}", e.kind())
}

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

impl<'a> Sim<'a> {
    fn log(&mut self, line: String) {
        self.log.push(line);
    }

    /// Counts a step; panics once too many pass without progress.
    fn step_taken(&mut self) {
        self.stalled += 1;
        assert!(
            self.stalled <= STALL_LIMIT,
            "the call made no progress in {STALL_LIMIT} steps (a livelock); last lines: {:?}",
            &self.log[self.log.len().saturating_sub(8)..]
        );
    }

    fn progressed(&mut self) {
        self.stalled = 0;
    }

    /// One decision byte. Reading one is progress: the script is finite.
    fn decision(&mut self) -> u8 {
        if !self.script.is_empty() {
            self.progressed();
        }
        self.script.next()
    }

    /// Moves the clock on. Not progress in itself: a call that only ever waits is stuck.
    fn advance(&mut self, by: Duration) {
        self.now = self.now.advanced(by);
    }

    /// An operation is pending: the clock moves on (by `step`, or else to the next deadline),
    /// and the call hears of a deadline that passed.
    fn wait(&mut self, call: &mut Call, step: u8, deadline: Option<Instant>) {
        let by = match step {
            0 => crate::time::earliest(deadline, call.poll_timeout())
                .map_or(Duration::from_millis(1), |at| {
                    at.saturating_duration_since(self.now.mono)
                }),
            1 => Duration::from_millis(1),
            n => step_duration(n),
        };
        self.advance(by.max(Duration::from_millis(1)));
        self.log(format!("wait until {:?}", self.now.mono));
        self.check_timeout(call);
    }

    fn check_timeout(&mut self, call: &mut Call) {
        if call.poll_timeout().is_some_and(|at| self.now.mono >= at) {
            self.log(format!("timeout at {:?}", self.now.mono));
            call.handle_timeout(self.now);
        }
    }

    /// The socket the driver holds for `conn`; panics if it holds none.
    fn open(&mut self, conn: ConnId, what: &str) -> usize {
        match self.conns.get(&conn) {
            Some(Conn::Open(socket)) => socket.0,
            other => panic!("{what} on {conn}, which the driver does not hold ({other:?})"),
        }
    }

    /// A read of up to `buf.len()` bytes from `conn`'s server, as the script says.
    fn read(
        &mut self,
        conn: ConnId,
        kind: Read,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> (Answer<usize>, u8) {
        let socket = self.open(conn, "a read");
        assert!(!buf.is_empty(), "a read of 0 bytes on {conn}");
        if let Some(other) = self.in_flight.get(&conn) {
            assert_eq!(
                *other, kind,
                "{conn} already has a {other:?} read in flight, and the call asks for a {kind:?} read"
            );
        }
        let d = self.decision();
        let step = d >> 3;
        if d == 0xff {
            return (Answer::Cancel, 0);
        }
        let server = &mut self.sockets[socket];
        let take = |server: &mut Server<'_>, buf: &mut [u8], most: usize| {
            let unread = server.unread();
            let n = unread.len().min(buf.len()).min(most);
            buf[..n].copy_from_slice(&unread[..n]);
            server.read += n;
            n
        };
        let answer = match d & 7 {
            // The server waits for a request the client has not written: the read waits for
            // its deadline, or, with none, the server gives up and closes.
            0 | 1 if server.waits_for_request() => {
                if deadline.is_some() {
                    Answer::Pending
                } else {
                    server.closed = true;
                    Answer::Ready(Ok(0))
                }
            }
            0 => Answer::Ready(Ok(take(server, buf, usize::MAX))),
            1 => {
                let most = 1 + usize::from(self.script.next());
                let server = &mut self.sockets[socket];
                Answer::Ready(Ok(take(server, buf, most)))
            }
            2 => Answer::Pending,
            3 => {
                server.closed = true;
                Answer::Ready(Err(io::ErrorKind::ConnectionReset.into()))
            }
            4 => Answer::Ready(Err(io::ErrorKind::WouldBlock.into())),
            5 => Answer::Ready(Err(io::ErrorKind::TimedOut.into())),
            6 => {
                server.closed = true;
                Answer::Ready(Ok(0))
            }
            _ => Answer::Ready(Err(io::ErrorKind::Interrupted.into())),
        };
        match &answer {
            Answer::Pending => {
                self.in_flight.insert(conn, kind);
            }
            Answer::Ready(Ok(n)) => {
                self.in_flight.remove(&conn);
                if *n > 0 {
                    self.progressed();
                }
            }
            _ => {
                self.in_flight.remove(&conn);
            }
        }
        (answer, step)
    }

    fn forget(&mut self, conn: ConnId) {
        self.in_flight.remove(&conn);
    }

    /// Performs one output of the call.
    fn step(&mut self, call: &mut Call, waiting: bool) -> Stepped {
        self.step_taken();
        let now = self.now;
        let reading_first = call.is_reading_first();
        let output = match call.poll_output(now) {
            Ok(output) => output,
            Err(e) => return Stepped::Failed(e),
        };
        match output {
            Output::Event(event) => {
                self.log(format!("event {}", event.kind));
            }
            Output::Cache(_) => panic!("a cache operation from a client without a cache"),
            Output::Acquire { address } => {
                let pooled = self
                    .client
                    .acquire(now.mono, address)
                    .map(|(conn, socket)| {
                        let id = conn.id();
                        match self.conns.insert(id, Conn::Open(socket)) {
                            Some(Conn::Released) => {}
                            other => {
                                panic!("the pool gave out {id}, which was not released ({other:?})")
                            }
                        }
                        conn
                    });
                self.log(format!(
                    "acquire: {:?}",
                    pooled.as_ref().map(crate::Connection::id)
                ));
                call.handle_acquired(now, pooled);
            }
            Output::CheckHealth { conn } => {
                let socket = self.open(conn, "a health check");
                let d = self.decision();
                let healthy = d & 1 == 0 && self.sockets[socket].unread().is_empty();
                self.log(format!("health {conn}: {healthy}"));
                call.handle_health(now, conn, healthy);
            }
            Output::Resolve { host, port } => {
                let d = self.decision();
                let v4 = |n: u8| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), port);
                let answer = match d & 7 {
                    0 => Answer::Ready(Ok(vec![v4(1)])),
                    1 => Answer::Ready(Ok(vec![
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
                        v4(1),
                    ])),
                    2 => Answer::Pending,
                    3 => Answer::Ready(Err(io::ErrorKind::NotFound.into())),
                    4 => Answer::Ready(Ok(Vec::new())),
                    5 => Answer::Ready(Ok(vec![v4(1), v4(2), v4(3)])),
                    6 => Answer::Ready(Err(io::ErrorKind::WouldBlock.into())),
                    _ if d == 0xff => Answer::Cancel,
                    _ => Answer::Ready(Err(io::ErrorKind::TimedOut.into())),
                };
                self.log(format!("resolve {host}:{port}"));
                self.answer(call, answer, d >> 3, None, |call, now, r| {
                    call.handle_resolved(now, r);
                });
            }
            Output::Connect {
                conn,
                addr,
                deadline,
            } => {
                match self.conns.get(&conn) {
                    None => {
                        self.conns.insert(conn, Conn::Attempt { answered: false });
                    }
                    Some(Conn::Attempt { answered: false }) => {}
                    Some(other) => {
                        panic!("connect {conn} to {addr}, an id already used ({other:?})")
                    }
                }
                let d = self.decision();
                let answer = match d & 7 {
                    0 | 6 => Answer::Ready(Ok(())),
                    1 => Answer::Ready(Err(io::ErrorKind::ConnectionRefused.into())),
                    2 => Answer::Pending,
                    3 => Answer::Ready(Err(io::ErrorKind::TimedOut.into())),
                    4 => Answer::Ready(Err(io::ErrorKind::WouldBlock.into())),
                    5 => Answer::Ready(Err(io::ErrorKind::HostUnreachable.into())),
                    _ if d == 0xff => Answer::Cancel,
                    _ => Answer::Ready(Err(io::ErrorKind::ConnectionReset.into())),
                };
                self.log(format!("connect {conn} {addr} until {deadline:?}"));
                if let Answer::Ready(result) = &answer {
                    if result.as_ref().is_err_and(|e| {
                        matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        )
                    }) {
                        // Not a final answer: the attempt goes on (or, for a socket timeout,
                        // the call decides at its deadline).
                    } else if result.is_ok() {
                        let bytes = self.streams.get(self.next_stream).copied().unwrap_or(&[]);
                        self.next_stream += 1;
                        self.sockets.push(Server::new(bytes));
                        let socket = Socket(self.sockets.len() - 1);
                        self.conns.insert(conn, Conn::Open(socket));
                    } else {
                        self.conns.insert(conn, Conn::Attempt { answered: true });
                    }
                }
                self.answer(call, answer, d >> 3, deadline, |call, now, r| {
                    call.handle_connected(now, conn, r);
                });
            }
            Output::Transmit {
                conn,
                bytes,
                deadline,
                listen,
            } => {
                self.open(conn, "a write");
                assert!(!bytes.is_empty(), "a write of 0 bytes on {conn}");
                let len = bytes.len();
                let d = self.decision();
                if listen && d & 7 == 2 && d & 0x40 != 0 {
                    // No room to write, but the socket turned readable.
                    self.log(format!("transmit {conn} {len}: readable first"));
                    call.handle_readable(self.now, conn);
                    return Stepped::Progress;
                }
                let answer = match d & 7 {
                    0 => Answer::Ready(Ok(len)),
                    1 => Answer::Ready(Ok(1 + usize::from(self.script.next()) % len)),
                    2 => Answer::Pending,
                    3 => Answer::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                    4 => Answer::Ready(Err(io::ErrorKind::WouldBlock.into())),
                    5 => Answer::Ready(Err(io::ErrorKind::TimedOut.into())),
                    6 => Answer::Ready(Ok(0)),
                    _ if d == 0xff => Answer::Cancel,
                    _ => Answer::Ready(Err(io::ErrorKind::ConnectionReset.into())),
                };
                if let Answer::Ready(Ok(n)) = &answer {
                    let socket = self.open(conn, "a write");
                    self.sockets[socket].received(&bytes[..(*n).min(len)]);
                    if *n > 0 {
                        self.progressed();
                    }
                }
                self.log(format!("transmit {conn} {len} until {deadline:?}"));
                self.answer(call, answer, d >> 3, deadline, |call, now, r| {
                    call.handle_transmitted(now, conn, r);
                });
            }
            Output::Receive {
                conn,
                buf,
                deadline,
            } => {
                let (mut answer, step) = self.read(conn, Read::Receive, buf, deadline);
                if reading_first && matches!(answer, Answer::Pending) {
                    // The readiness that asked for this read was stale: back to sending.
                    answer = Answer::Ready(Err(io::ErrorKind::WouldBlock.into()));
                }
                self.log(format!("receive {conn} until {deadline:?}"));
                self.answer(call, answer, step, deadline, |call, now, r| {
                    call.handle_received(now, conn, r);
                });
            }
            Output::Close { conn } => {
                self.log(format!("close {conn}"));
                match self.conns.insert(conn, Conn::Closed) {
                    Some(Conn::Attempt { .. } | Conn::Open(_)) => self.forget(conn),
                    other => panic!("close {conn}, which the driver does not hold ({other:?})"),
                }
            }
            Output::Release(connection) => {
                let conn = connection.id();
                self.log(format!("release {conn}"));
                match self.conns.insert(conn, Conn::Released) {
                    Some(Conn::Open(socket)) => {
                        assert!(
                            !self.in_flight.contains_key(&conn),
                            "{conn} goes back to the pool with a read in flight"
                        );
                        self.client.release(now.mono, connection, socket);
                    }
                    other => panic!("release {conn}, which the driver does not hold ({other:?})"),
                }
            }
            Output::PullBody { body, buf } => {
                let result = match body.poll_read(&mut noop_cx(), buf) {
                    Poll::Ready(result) => result,
                    Poll::Pending => panic!("an in-memory request body is never pending"),
                };
                self.log(format!("pull-body {:?}", result.as_ref().ok()));
                self.progressed();
                call.handle_body_pulled(now, result);
            }
            Output::Intercept { id, .. } | Output::Proceeded { id, .. } => {
                panic!("the call reached interceptor {id:?}, and there are none");
            }
            Output::Response => {
                let head = call.take_response().expect("a head after Output::Response");
                return Stepped::Response(Box::new(head));
            }
            Output::Idle => {
                let deadline = call.poll_timeout();
                self.log(format!("idle until {deadline:?}"));
                match deadline {
                    Some(at) if waiting => {
                        self.advance(at.saturating_duration_since(self.now.mono));
                        self.check_timeout(call);
                    }
                    _ if waiting => {
                        panic!("the call is idle with no deadline while waiting for I/O (a hang)")
                    }
                    _ => panic!("the call is idle after it ended"),
                }
            }
            Output::Done => return Stepped::Done,
        }
        Stepped::Progress
    }

    /// Reports an answer to the call (time first moves on by `step`), or waits for a pending
    /// one, or cancels.
    fn answer<T>(
        &mut self,
        call: &mut Call,
        answer: Answer<T>,
        step: u8,
        deadline: Option<Instant>,
        report: impl FnOnce(&mut Call, Now, io::Result<T>),
    ) {
        match answer {
            Answer::Ready(result) => {
                self.advance(step_duration(step));
                self.log(match &result {
                    Ok(_) => "ok".to_string(),
                    Err(e) => format!("err {:?}", e.kind()),
                });
                report(call, self.now, result);
                self.check_timeout(call);
            }
            Answer::Pending => self.wait(call, step, deadline),
            Answer::Cancel => {
                self.log("cancel".into());
                call.cancel(self.now);
            }
        }
    }

    /// Runs one call: to its response head, through the body as the caller reads it, to its
    /// end.
    fn run_call(&mut self, mut call: Call, setup: &Setup) {
        assert!(
            self.in_flight.is_empty(),
            "reads in flight before the call: {:?}",
            self.in_flight
        );
        let head = loop {
            match self.step(&mut call, true) {
                Stepped::Progress => {}
                Stepped::Response(head) => break *head,
                Stepped::Done => panic!("the call ended without a response or an error"),
                Stepped::Failed(e) => {
                    self.log(describe_error(&e));
                    return self.ended(&mut call, false);
                }
            }
        };
        self.log(format!(
            "response {} {:?} fields {} priors {}",
            head.status().as_u16(),
            head.version(),
            head.headers().len(),
            head.prior_count()
        ));
        assert!(
            !head.status().is_informational() || head.status().as_u16() == 101,
            "an interim response was delivered as the final one"
        );
        let mut buf = vec![0u8; setup.buf];
        let mut body = Vec::new();
        loop {
            self.step_taken();
            if setup.read_limit.is_some_and(|limit| body.len() >= limit)
                || self.body_total >= MAX_BODY
            {
                return self.stop_reading(call, setup.discard, &body);
            }
            let now = self.now;
            match call.read_body(now, &mut buf) {
                Err(e) => {
                    self.log(format!("body {}: {}", body.len(), describe_error(&e)));
                    return self.ended(&mut call, false);
                }
                Ok(BodyRead::Data(n)) => {
                    assert!(
                        (1..=buf.len()).contains(&n),
                        "read_body gave {n} bytes into a buffer of {}",
                        buf.len()
                    );
                    body.extend_from_slice(&buf[..n]);
                    self.body_total += n;
                    self.progressed();
                }
                Ok(BodyRead::Cached { .. } | BodyRead::CachedInto(_)) => {
                    panic!("a stored body from a client without a cache")
                }
                Ok(BodyRead::End) => {
                    self.log(format!("body end {} {:08x}", body.len(), crc(&body)));
                    return self.ended(&mut call, true);
                }
                Ok(BodyRead::Direct { conn, max }) => {
                    assert!(
                        (1..=buf.len()).contains(&max),
                        "a direct read of {max} bytes into a buffer of {}",
                        buf.len()
                    );
                    let deadline = call.poll_timeout();
                    let (answer, step) = self.read(conn, Read::Direct, &mut buf[..max], deadline);
                    self.log(format!("direct {conn} {max}"));
                    match answer {
                        Answer::Ready(result) => {
                            self.advance(step_duration(step));
                            let read = result.as_ref().ok().copied();
                            match call.handle_direct_read(self.now, result) {
                                Ok(n) => {
                                    assert!(
                                        read.is_some_and(|read| n <= read) || n == 0,
                                        "{n} body bytes from a read of {read:?}"
                                    );
                                    body.extend_from_slice(&buf[..n]);
                                    self.body_total += n;
                                }
                                Err(e) => {
                                    self.log(format!(
                                        "body {}: {}",
                                        body.len(),
                                        describe_error(&e)
                                    ));
                                    return self.ended(&mut call, false);
                                }
                            }
                            self.check_timeout(&mut call);
                        }
                        Answer::Pending => {
                            let deadline = call.poll_timeout();
                            self.wait(&mut call, step, deadline);
                        }
                        Answer::Cancel => {
                            self.log("cancel".into());
                            call.cancel(self.now);
                        }
                    }
                }
                Ok(BodyRead::Pull(_)) => panic!("a made-up body with no interceptor to make it"),
                Ok(BodyRead::Pending) => match self.step(&mut call, true) {
                    Stepped::Progress | Stepped::Done => {}
                    Stepped::Response(_) => panic!("a second response head during the body"),
                    Stepped::Failed(e) => {
                        self.log(format!("body {}: {}", body.len(), describe_error(&e)));
                        return self.ended(&mut call, false);
                    }
                },
            }
        }
    }

    /// The caller stops reading: it discards what already arrived (the connection may go back to
    /// the pool), or drops the call at once (closing its sockets).
    fn stop_reading(&mut self, mut call: Call, discard: bool, body: &[u8]) {
        self.log(format!("stop after {} discard {discard}", body.len()));
        if discard && call.discard_buffered_body(self.now) {
            return self.ended(&mut call, true);
        }
        self.drop_call(call);
    }

    /// The caller drops the call: the driver closes every socket it holds for it.
    fn drop_call(&mut self, call: Call) {
        drop(call);
        for (id, conn) in &mut self.conns {
            if matches!(conn, Conn::Open(_)) {
                *conn = Conn::Closed;
                self.in_flight.remove(id);
            }
        }
    }

    /// The call ended (its body ended if `well`, or it failed): it may still give back its
    /// connections, then must ask for nothing more and hold no socket.
    fn ended(&mut self, call: &mut Call, well: bool) {
        let result = loop {
            match self.step(call, false) {
                Stepped::Progress => {}
                Stepped::Response(_) => panic!("a response head after the call ended"),
                Stepped::Done => break None,
                Stepped::Failed(e) => break Some(e),
            }
        };
        match (&result, well) {
            (None, true) | (Some(_), false) => {}
            (None, false) => panic!("a failed call reports done"),
            (Some(e), true) => panic!("a call whose body ended fails: {e}"),
        }
        for _ in 0..2 {
            match (call.poll_output(self.now), &result) {
                (Ok(Output::Done), None) => {}
                (Err(e), Some(first)) if e.kind() == first.kind() => {}
                (Ok(output), _) => panic!("after the end, the call asks for {output:?}"),
                (Err(e), _) => panic!("after the end, the call fails with {e}"),
            }
        }
        let mut buf = [0u8; 16];
        match (call.read_body(self.now, &mut buf), &result) {
            (Ok(BodyRead::End), None) | (Err(_), Some(_)) => {}
            (other, _) => panic!("reading the body after the end gives {other:?}"),
        }
        assert_eq!(call.poll_timeout(), None, "a deadline after the end");
        assert!(call.is_finished(), "the call is not finished after its end");
        let held: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c, Conn::Open(_)))
            .map(|(id, _)| *id)
            .collect();
        assert!(
            held.is_empty(),
            "the call ended without closing or releasing {held:?}"
        );
        assert!(
            self.in_flight.is_empty(),
            "reads in flight after the end: {:?}",
            self.in_flight
        );
        self.log(format!("end {}", result.is_none()));
    }
}

/// A checksum of body bytes, for the transcript.
fn crc(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

/// Renders a transcript as text, one line each (for reading a failing input's run).
pub fn render(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    out
}
