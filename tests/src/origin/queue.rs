//! Queue mode: an origin that answers each request with the next queued [`Reply`], for tests
//! written in Rust rather than as vectors (OkHttp's MockWebServer with `enqueue`/`takeRequest`).

use std::collections::{HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::conn::{self, Conn, Fill};
use super::{STEP_TIMEOUT, lock};
use crate::vector::model::RecordedRequest;
use crate::wire;

/// An idle kept-alive connection may wait this long for its next request; in practice the origin
/// is dropped long before.
const IDLE: Duration = Duration::from_secs(3600);

/// What the origin does with a connection after writing a [`Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Wait for the next request on it (the default).
    KeepOpen,
    /// End it cleanly (FIN), as a server that does not keep connections alive.
    Close,
    /// Abort it (RST).
    Reset,
    /// Never write again; read and discard until the client gives up and closes it.
    Stall,
}

/// One scripted response: the exact bytes to write, and how to write them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    bytes: Vec<u8>,
    pause_before: Duration,
    dribble: Option<(usize, Duration)>,
    respond_before_body: bool,
    after: After,
}

impl Reply {
    /// A reply that writes exactly `bytes` (status line, headers, body: nothing is added) at once,
    /// then keeps the connection open.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            bytes: bytes.into(),
            pause_before: Duration::ZERO,
            dribble: None,
            respond_before_body: false,
            after: After::KeepOpen,
        }
    }

    /// Waits this long after reading the request before writing, to exercise client timeouts.
    pub fn pause_before(mut self, pause: Duration) -> Reply {
        self.pause_before = pause;
        self
    }

    /// Writes `chunk_bytes` at a time with `delay` between writes, so the client sees the reply
    /// arrive in many small reads.
    pub fn dribble(mut self, chunk_bytes: usize, delay: Duration) -> Reply {
        self.dribble = Some((chunk_bytes.max(1), delay));
        self
    }

    /// Answers as soon as the request head is read; the body is read (and recorded) afterwards,
    /// like a server rejecting an upload early.
    pub fn respond_before_body(mut self) -> Reply {
        self.respond_before_body = true;
        self
    }

    /// What to do with the connection once the reply is written.
    pub fn then(mut self, after: After) -> Reply {
        self.after = after;
        self
    }
}

/// Configures an [`Origin`] before it starts.
#[derive(Debug, Default)]
pub struct OriginBuilder {
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl OriginBuilder {
    /// Serves every connection through rustls with this configuration (`https://` URLs).
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> OriginBuilder {
        self.tls = Some(config);
        self
    }

    /// Binds 127.0.0.1 on a free port and starts accepting.
    pub fn start(self) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let addr = listener
            .local_addr()
            .expect("local_addr of a bound listener");
        let shared = Arc::new(Shared::default());
        let tls = self.tls.clone();
        let accept_shared = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name(format!("origin-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, tls, accept_shared))
            .expect("spawn the origin's accept thread");
        Origin {
            addr,
            tls: self.tls.is_some(),
            shared,
            acceptor: Some(acceptor),
        }
    }
}

/// A MockWebServer-style origin: enqueue replies, point the client at [`Origin::url`], then
/// inspect the requests with [`Origin::take_request`]. Dropping it closes every connection, stalled
/// ones included, without waiting for the client.
#[derive(Debug)]
pub struct Origin {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    /// Recorded requests not yet taken, and a signal for `take_request`.
    requests: Mutex<VecDeque<RecordedRequest>>,
    arrived: Condvar,
    request_count: AtomicUsize,
    connection_count: AtomicUsize,
    /// Connections whose TLS handshake resumed an earlier session.
    resumed_count: AtomicUsize,
    stop: AtomicBool,
    /// Control handles of open connections by number, to interrupt blocked I/O on drop. A
    /// connection removes its own before it closes, or the duplicate handle would keep the socket
    /// open (and turn a reset into nothing).
    controls: Mutex<HashMap<usize, TcpStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

impl Origin {
    /// Starts a plain-HTTP origin.
    pub fn start() -> Origin {
        OriginBuilder::default().start()
    }

    /// Configures an origin (TLS) before starting it.
    pub fn builder() -> OriginBuilder {
        OriginBuilder::default()
    }

    /// Queues the answer to the next request that arrives on any connection. With the queue
    /// empty, a request is answered by closing its connection.
    pub fn enqueue(&self, reply: Reply) {
        lock(&self.shared.replies).push_back(reply);
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// `http://` (or `https://` with TLS) + authority + `path`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// The next request in arrival order, waiting up to 10 s for one; panics if none arrives, so
    /// a test reads `let request = origin.take_request();`.
    pub fn take_request(&self) -> RecordedRequest {
        self.try_take_request(STEP_TIMEOUT)
            .unwrap_or_else(|| panic!("no request arrived at the origin within {STEP_TIMEOUT:?}"))
    }

    /// The next request in arrival order, or `None` if none arrives within `timeout`.
    pub fn try_take_request(&self, timeout: Duration) -> Option<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut queue = lock(&self.shared.requests);
        loop {
            if let Some(request) = queue.pop_front() {
                return Some(request);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            queue = match self.shared.arrived.wait_timeout(queue, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Requests read so far (taken or not).
    pub fn request_count(&self) -> usize {
        self.shared.request_count.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.connection_count.load(Ordering::SeqCst)
    }

    /// Connections so far whose TLS handshake resumed an earlier session (counted once the
    /// connection's first request arrived).
    pub fn resumed_count(&self) -> usize {
        self.shared.resumed_count.load(Ordering::SeqCst)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, control) in lock(&self.shared.controls).drain() {
            let _ = control.shutdown(Shutdown::Both);
        }
        let handlers = std::mem::take(&mut *lock(&self.shared.handlers));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

fn accept_loop(listener: TcpListener, tls: Option<Arc<rustls::ServerConfig>>, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let tcp = match listener.accept() {
            Ok((tcp, _)) => tcp,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
        };
        let number = shared.connection_count.fetch_add(1, Ordering::SeqCst) + 1;
        let Ok(conn) = Conn::new(tcp, tls.as_ref()) else {
            continue;
        };
        if let Ok(control) = conn.control() {
            lock(&shared.controls).insert(number, control);
        }
        let handler_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("origin-conn-{number}"))
            .spawn(move || serve(conn, number, handler_shared));
        if let Ok(handler) = spawned {
            lock(&shared.handlers).push(handler);
        }
    }
}

/// Serves one connection: request, reply, repeat, until a reply ends it or the queue is empty.
fn serve(mut conn: Conn, number: usize, shared: Arc<Shared>) {
    let stop = &shared.stop;
    let mut first = true;
    let ending = loop {
        let Some(mut request) = read_head(&mut conn, number, stop) else {
            break After::Close;
        };
        if std::mem::take(&mut first) && conn.resumed() {
            shared.resumed_count.fetch_add(1, Ordering::SeqCst);
        }
        let reply = lock(&shared.replies).pop_front();
        let early = reply.as_ref().is_some_and(|r| r.respond_before_body);
        if !early {
            let complete = read_body(&mut conn, &mut request, stop);
            record(&shared, request.clone());
            if !complete {
                break After::Close;
            }
        }
        let Some(reply) = reply else {
            break After::Close;
        };
        conn::sleep(reply.pause_before, stop);
        match reply.dribble {
            Some((size, delay)) => conn.send(&reply.bytes, Some(size), delay, stop),
            None => conn.send(&reply.bytes, None, Duration::ZERO, stop),
        }
        if early {
            let complete = read_body(&mut conn, &mut request, stop);
            record(&shared, request);
            if !complete {
                break After::Close;
            }
        }
        if reply.after != After::KeepOpen {
            break reply.after;
        }
    };
    lock(&shared.controls).remove(&number);
    match ending {
        After::Reset => conn.reset(),
        After::Close | After::KeepOpen => {
            conn.close_write();
            // Drain until the client closes, so late bytes cannot turn our FIN into an RST.
            conn.wait_for_close(Instant::now() + IDLE, stop, false);
        }
        After::Stall => {
            conn.wait_for_close(Instant::now() + IDLE, stop, false);
        }
    }
}

fn record(shared: &Shared, request: RecordedRequest) {
    shared.request_count.fetch_add(1, Ordering::SeqCst);
    lock(&shared.requests).push_back(request);
    shared.arrived.notify_all();
}

/// Reads the next request head; `None` when the client closes (or sends garbage) first.
fn read_head(conn: &mut Conn, number: usize, stop: &AtomicBool) -> Option<RecordedRequest> {
    loop {
        match wire::take_head(&mut conn.buf, number) {
            Ok(Some(request)) => return Some(request),
            Ok(None) => {}
            Err(_) => return None,
        }
        if !matches!(conn.fill(Instant::now() + IDLE, stop), Fill::Data) {
            return None;
        }
    }
}

/// Reads the request's body; false if the connection ended first (the request keeps what arrived).
fn read_body(conn: &mut Conn, request: &mut RecordedRequest, stop: &AtomicBool) -> bool {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        match wire::take_body(&mut conn.buf, request) {
            Ok(true) => return true,
            Ok(false) => {}
            Err(_) => return false,
        }
        if !matches!(conn.fill(deadline, stop), Fill::Data) {
            request.raw_body = conn.buf.clone();
            return false;
        }
    }
}
