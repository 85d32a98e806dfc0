//! How often the driver asks its transport for the time during a keep-alive GET.
//!
//! A clock read costs tens of nanoseconds (about 38 ns on the machine the benchmarks ran on),
//! and a sequential keep-alive request costs about 11 µs of client CPU in all, so reading the
//! clock at every step was a few percent of a request. The driver reads it once after each
//! operation that may have waited (here: the request's write, the response's read, and each time
//! the caller comes back) and keeps that time for the steps that only compute. This counts the
//! reads through an in-memory transport whose sockets never wait, so it is exact: not timing.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::driver::{Driver, DriverBox, Step, Transport};
use wayfarer_core::{Address, Client, Config, ConnId, Connection, Event, Instant, Now, Request};

/// At most this many clock reads per keep-alive GET read to its end, from the call's start to
/// the connection's release: after the write, after the read, and the caller's two body reads.
/// (The runtime reads the clock to start the call, and the first step goes on with that time.)
const BUDGET: usize = 4;
/// The same for a transport that waits only by returning `Pending` (the async runtimes'): no
/// read after the write and the read, which returned at once.
const NON_BLOCKING_BUDGET: usize = 2;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";

/// One in-memory connection: the response is there as soon as a request was written.
#[derive(Debug, Default)]
struct MemSocket {
    pending: usize,
}

/// `BLOCKING`: whether its operations may wait before they return `Ready` (they never do; the
/// driver reads the clock after them all the same).
struct MemTransport<const BLOCKING: bool> {
    client: Arc<Client<MemSocket>>,
    now: Now,
    reads: usize,
    /// Says its writes went out without waiting, as the blocking runtime's do when the
    /// socket has room.
    at_once: bool,
}

impl<const BLOCKING: bool> Transport for MemTransport<BLOCKING> {
    type Socket = MemSocket;
    const WAITS_BEFORE_READY: bool = BLOCKING;

    fn now(&mut self) -> Now {
        self.reads += 1;
        // Each reading is a little later, as a real clock's would be.
        self.now = self.now.advanced(Duration::from_micros(1));
        self.now
    }

    fn poll_resolve(
        &mut self,
        _cx: &mut Context<'_>,
        _host: &str,
        port: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        Poll::Ready(Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]))
    }

    fn poll_connect(
        &mut self,
        _cx: &mut Context<'_>,
        _conn: ConnId,
        _addr: SocketAddr,
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<MemSocket>> {
        Poll::Ready(Ok(MemSocket::default()))
    }

    fn poll_write(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut MemSocket,
        buf: &[u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        socket.pending = RESPONSE.len();
        Poll::Ready(Ok(buf.len()))
    }

    fn wrote_without_waiting(&mut self) -> bool {
        self.at_once
    }

    fn poll_read(
        &mut self,
        _cx: &mut Context<'_>,
        socket: &mut MemSocket,
        buf: &mut [u8],
        _deadline: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        let from = RESPONSE.len() - socket.pending;
        let n = socket.pending.min(buf.len());
        buf[..n].copy_from_slice(&RESPONSE[from..from + n]);
        socket.pending -= n;
        Poll::Ready(Ok(n))
    }

    fn poll_deadline(&mut self, _cx: &mut Context<'_>, _deadline: Instant) -> Poll<()> {
        Poll::Pending
    }

    fn is_healthy(&mut self, _socket: &mut MemSocket) -> bool {
        true
    }

    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, MemSocket)> {
        self.client.acquire(now, address)
    }

    fn release(&mut self, now: Instant, conn: Connection, socket: MemSocket) {
        self.client.release(now, conn, socket);
    }
}

/// How the call and its driver are made.
#[derive(Clone, Copy)]
enum Start {
    /// `Client::start_call`, then `Driver::new`.
    Started,
    /// `Client::prepare_call`, then `DriverBox::start`, as the runtimes do.
    InBox,
}

/// Runs one GET to its body's end; returns the clock reads it made.
fn get<const BLOCKING: bool>(client: &Arc<Client<MemSocket>>, now: &mut Now) -> usize {
    get_as::<BLOCKING>(client, now, Start::InBox, false)
}

fn get_as<const BLOCKING: bool>(
    client: &Arc<Client<MemSocket>>,
    now: &mut Now,
    start: Start,
    at_once: bool,
) -> usize {
    let request = Request::get("http://example.test/").build().unwrap();
    let transport = MemTransport::<BLOCKING> {
        client: client.clone(),
        now: *now,
        reads: 0,
        at_once,
    };
    let mut driver = match start {
        Start::Started => {
            let call = client.start_call(*now, request);
            DriverBox::new(Driver::new(call, transport, client.config()))
        }
        Start::InBox => {
            let call = client.prepare_call(*now, Arc::new(request));
            DriverBox::start(call, transport, client.config())
        }
    };
    let mut cx = Context::from_waker(Waker::noop());
    match driver.poll_until_step(&mut cx) {
        Poll::Ready(Ok(Step::Response)) => {
            let head = driver.take_response().expect("the head");
            assert_eq!(head.status().as_u16(), 200);
        }
        other => panic!("expected the response head, got {other:?}"),
    }
    // As the runtimes do with every response head.
    driver.settle_after_step();
    let mut body = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match driver.poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(0)) => break,
            Poll::Ready(Ok(n)) => body.extend_from_slice(&buf[..n]),
            other => panic!("the body did not arrive: {other:?}"),
        }
    }
    assert_eq!(body, b"Hello, world!");
    *now = driver.transport().now;
    driver.transport().reads
}

/// Clock reads of a keep-alive GET (after a first GET that opened the connection).
fn keep_alive_reads<const BLOCKING: bool>() -> (usize, usize) {
    let client = Arc::new(Client::new(Default::default()));
    let mut now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
    let first = get::<BLOCKING>(&client, &mut now);
    assert_eq!(client.pool().idle_count(), 1, "the connection was pooled");
    let reads = get::<BLOCKING>(&client, &mut now);
    assert_eq!(client.pool().idle_count(), 1, "and reused");
    (first, reads)
}

#[test]
fn a_keep_alive_get_reads_the_clock_within_its_budget() {
    let (first, reads) = keep_alive_reads::<true>();
    assert!(
        reads <= BUDGET,
        "{reads} clock reads for a keep-alive GET, over the budget of {BUDGET} (first call: {first})"
    );
}

/// A blocking transport whose write went out without waiting (the socket had room) saves the
/// clock read after it: one fewer per keep-alive GET, and only that one.
#[test]
fn a_write_that_went_out_at_once_keeps_the_time_read_before_it() {
    let client = Arc::new(Client::new(Default::default()));
    let mut now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
    get::<true>(&client, &mut now);
    let waiting = get_as::<true>(&client, &mut now, Start::InBox, false);
    let at_once = get_as::<true>(&client, &mut now, Start::InBox, true);
    assert_eq!(
        client.pool().idle_count(),
        1,
        "the connection was reused throughout"
    );
    assert_eq!(
        at_once,
        waiting - 1,
        "{waiting} clock reads, then {at_once}"
    );
}

#[test]
fn a_transport_that_never_waits_in_ready_reads_the_clock_less() {
    let (first, reads) = keep_alive_reads::<false>();
    assert!(
        reads <= NON_BLOCKING_BUDGET,
        "{reads} clock reads for a keep-alive GET, over the budget of {NON_BLOCKING_BUDGET} \
         (first call: {first})"
    );
}

/// A call prepared and started in its driver's box (the runtimes' way) does what a call
/// started by the client and then handed to a driver does: the same events in the same order,
/// the same clock reads, the same body.
#[test]
fn a_call_started_in_its_box_runs_as_one_started_by_the_client() {
    let run = |start: Start| {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let config = Config::builder()
            .event_listener(move |event: &Event| {
                let kind = format!("{:?}", event.kind);
                seen.lock().unwrap().push(kind);
            })
            .build()
            .unwrap();
        let client = Arc::new(Client::new(config));
        let mut now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
        let reads = [
            get_as::<true>(&client, &mut now, start, false),
            get_as::<true>(&client, &mut now, start, false),
        ];
        let events = std::mem::take(&mut *events.lock().unwrap());
        (reads, events)
    };
    let (reads, events) = run(Start::InBox);
    assert_eq!(run(Start::Started), (reads, events.clone()));
    assert!(
        events[0].starts_with("CallStart"),
        "the call's first event is its start: {events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| e.starts_with("CallStart")).count(),
        2
    );
}
