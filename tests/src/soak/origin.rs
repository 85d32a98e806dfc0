//! The fault origin: an HTTP/1.1 server on two loopback ports that answers each request as its
//! [`Case`] says, a normal response or a fault, and checks what the client sent.
//!
//! One thread per connection, on std sockets: faults are easiest to write as straight-line
//! code (write part of a head, then reset), and the soak never has more than a few dozen
//! connections open. The request path `/c/<id>/<hop>` names the case; the origin derives the
//! case from the seed and the id, so it needs no table shared with the client.
//!
//! Anything the client does wrong on the wire is recorded as an anomaly: a request that does not
//! parse (bytes left over from an earlier request on a reused connection would show here), a
//! method or upload that is not the case's, bytes sent on a connection whose response the client
//! should have abandoned, or a stalled connection the client never closes.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::case::{After, Answer, Case, Fault, Framing, Garbage, Port, Verb, rng_for};
use crate::vector::model::RecordedRequest;
use crate::wire;

/// How long a connection may sit idle between requests: longer than the client's pool keeps a
/// connection, so only the client ends idle connections.
const IDLE_LIMIT: Duration = Duration::from_secs(120);
/// How long the client may take to give up on a stalled or garbled response. Far longer than
/// the soak's read timeout: a connection still open after this is one the client forgot.
const STALL_LIMIT: Duration = Duration::from_secs(10);
/// How long a started request may take to arrive whole.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);
/// How often a blocked read checks whether the origin is stopping.
const SLICE: Duration = Duration::from_millis(250);
/// The most anomaly messages kept (all are counted).
const KEPT: usize = 20;

/// The fault origin; stops (and waits for its acceptors) on drop.
#[derive(Debug)]
pub struct FaultOrigin {
    shared: Arc<Shared>,
    acceptors: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    seed: u64,
    main: SocketAddr,
    idempotent: SocketAddr,
    stop: AtomicBool,
    /// Connections accepted and not yet ended.
    open: AtomicUsize,
    accepted: AtomicU64,
    requests: AtomicU64,
    anomalies: AtomicU64,
    kept: Mutex<Vec<String>>,
}

/// What the origin saw, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginStats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests read whole or (for a fault that does not read the body) by their head.
    pub requests: u64,
    /// Connections open now.
    pub open: usize,
    /// Client misbehaviour seen on the wire.
    pub anomalies: u64,
    /// The first few anomalies.
    pub anomaly_samples: Vec<String>,
}

impl FaultOrigin {
    /// Binds two ports on 127.0.0.1 and serves the soak seeded with `seed`.
    pub fn start(seed: u64) -> FaultOrigin {
        let main = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let idempotent = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let shared = Arc::new(Shared {
            seed,
            main: main.local_addr().expect("local_addr"),
            idempotent: idempotent.local_addr().expect("local_addr"),
            stop: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            anomalies: AtomicU64::new(0),
            kept: Mutex::new(Vec::new()),
        });
        let acceptors = [(main, Port::Main), (idempotent, Port::Idempotent)]
            .into_iter()
            .map(|(listener, port)| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name("soak-accept".into())
                    .spawn(move || accept(listener, port, shared))
                    .expect("spawn the soak origin's acceptor")
            })
            .collect();
        FaultOrigin { shared, acceptors }
    }

    /// The address of `port`.
    pub fn addr(&self, port: Port) -> SocketAddr {
        self.shared.addr(port)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Waits up to `limit` for every connection to end; true if they did.
    pub fn wait_all_closed(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.open() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// What the origin saw so far.
    pub fn stats(&self) -> OriginStats {
        let s = &self.shared;
        OriginStats {
            connections: s.accepted.load(Ordering::SeqCst),
            requests: s.requests.load(Ordering::SeqCst),
            open: s.open.load(Ordering::SeqCst),
            anomalies: s.anomalies.load(Ordering::SeqCst),
            anomaly_samples: s.kept.lock().map(|k| k.clone()).unwrap_or_default(),
        }
    }
}

impl Drop for FaultOrigin {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for port in [Port::Main, Port::Idempotent] {
            // Wakes the blocked accept.
            let _ = TcpStream::connect(self.shared.addr(port));
        }
        for acceptor in self.acceptors.drain(..) {
            let _ = acceptor.join();
        }
    }
}

impl Shared {
    fn addr(&self, port: Port) -> SocketAddr {
        match port {
            Port::Main => self.main,
            Port::Idempotent => self.idempotent,
        }
    }

    fn anomaly(&self, message: String) {
        self.anomalies.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() < KEPT {
                kept.push(message);
            }
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

fn accept(listener: TcpListener, port: Port, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        shared.open.fetch_add(1, Ordering::SeqCst);
        let conn_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("soak-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                serve(stream, port, &conn_shared);
                conn_shared.open.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            shared.open.fetch_sub(1, Ordering::SeqCst);
            shared.anomaly(format!(
                "the origin could not start a connection thread: {e}"
            ));
        }
    }
}

/// One connection: requests until the client closes it or an answer ends it.
fn serve(mut stream: TcpStream, port: Port, shared: &Shared) {
    if stream.set_nodelay(true).is_err()
        || stream.set_read_timeout(Some(SLICE)).is_err()
        || stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .is_err()
    {
        return;
    }
    let mut buf = Vec::new();
    loop {
        let mut request = match read_head(&mut stream, &mut buf, shared) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) => return shared.anomaly(e),
        };
        shared.requests.fetch_add(1, Ordering::SeqCst);
        let (case, hop) = match identify(&request, port, shared) {
            Ok(found) => found,
            Err(e) => return shared.anomaly(e),
        };
        let final_answer = hop == case.hops.len();
        if final_answer && case.answer == Answer::Fault(Fault::CloseBeforeBody) {
            return; // the upload is unread: closing now may reset instead of FIN
        }
        if let Err(e) = read_body(&mut stream, &mut buf, &mut request, shared) {
            return shared.anomaly(format!("case {}: {e}", case.id));
        }
        if let Err(e) = check_upload(&case, hop, &request, shared.seed) {
            return shared.anomaly(e);
        }
        let mut out = Out {
            stream: &mut stream,
            shared,
        };
        let keep = if final_answer {
            answer(&mut out, &case)
        } else {
            redirect(&mut out, &case, hop, port)
        };
        match keep {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

/// Reads the next request head; `None` when the client closed the connection between requests.
fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared,
) -> Result<Option<RecordedRequest>, String> {
    let mut deadline = Instant::now() + IDLE_LIMIT;
    loop {
        if let Some(request) = wire::take_head(buf, 1)? {
            return Ok(Some(request));
        }
        let started = !buf.is_empty();
        if started {
            deadline = deadline.min(Instant::now() + REQUEST_LIMIT);
        }
        match fill(stream, buf, deadline, shared) {
            Filled::Data => {}
            Filled::Closed if !started => return Ok(None),
            Filled::Closed => {
                return Err(format!(
                    "the client closed a connection in the middle of a request head ({} bytes)",
                    buf.len()
                ));
            }
            Filled::TimedOut if !started => {
                return Err(format!(
                    "a connection sat idle for {IDLE_LIMIT:?}: the client's pool should have closed it"
                ));
            }
            Filled::TimedOut => return Err("a request head did not arrive whole".into()),
            Filled::Stopped => return Ok(None),
        }
    }
}

fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    request: &mut RecordedRequest,
    shared: &Shared,
) -> Result<(), String> {
    let deadline = Instant::now() + REQUEST_LIMIT;
    while !wire::take_body(buf, request)? {
        match fill(stream, buf, deadline, shared) {
            Filled::Data => {}
            // A client that fails while sending (its call failed for a reason of its own)
            // closes the connection; nothing is wrong on the wire.
            Filled::Closed | Filled::Stopped => return Ok(()),
            Filled::TimedOut => return Err("a request body did not arrive whole".into()),
        }
    }
    Ok(())
}

/// The case and hop a request names, checked against the listener and method it came with.
fn identify(
    request: &RecordedRequest,
    port: Port,
    shared: &Shared,
) -> Result<(Case, usize), String> {
    let mut words = request.line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut parts = target.strip_prefix("/c/").unwrap_or("").split('/');
    let id = parts.next().and_then(|s| s.parse::<u64>().ok());
    let hop = parts.next().and_then(|s| s.parse::<usize>().ok());
    let (Some(id), Some(hop)) = (id, hop) else {
        return Err(format!(
            "a request for an unknown target: {:?}",
            request.line
        ));
    };
    let case = Case::new(shared.seed, id);
    if hop > case.hops.len() {
        return Err(format!(
            "case {id}: a request for hop {hop} of {}",
            case.hops.len()
        ));
    }
    let want = case.method_at(hop);
    if method != want.as_str() || port != case.port_at(hop) {
        return Err(format!(
            "case {id} hop {hop}: {method} on the {port:?} port, expected {} on the {:?} port",
            want.as_str(),
            case.port_at(hop)
        ));
    }
    Ok((case, hop))
}

fn check_upload(
    case: &Case,
    hop: usize,
    request: &RecordedRequest,
    seed: u64,
) -> Result<(), String> {
    let want = if case.method_at(hop) == Verb::Post {
        case.upload_bytes(seed)
    } else {
        Vec::new()
    };
    if request.body != want {
        return Err(format!(
            "case {} hop {hop}: the request body was {} bytes, expected {} ({})",
            case.id,
            request.body.len(),
            want.len(),
            if request.body.len() == want.len() {
                "same length, different bytes"
            } else {
                "different length"
            }
        ));
    }
    Ok(())
}

/// What one attempt to read more came to.
enum Filled {
    Data,
    Closed,
    TimedOut,
    Stopped,
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Instant, shared: &Shared) -> Filled {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if shared.stopping() {
            return Filled::Stopped;
        }
        if Instant::now() >= deadline {
            return Filled::TimedOut;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Filled::Closed,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Filled::Data;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Filled::Closed,
        }
    }
}

/// Writes to one connection.
struct Out<'a> {
    stream: &'a mut TcpStream,
    shared: &'a Shared,
}

impl Out<'_> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Makes the connection end with an RST instead of a FIN when the socket is dropped, which
    /// every answer that calls this does next (by ending the connection).
    fn reset(&mut self) {
        let _ = socket2::SockRef::from(&*self.stream).set_linger(Some(Duration::ZERO));
    }

    /// Waits for the client to close a connection whose response it must abandon (a stall, a
    /// garbled head, a body it must fail). Any byte it sends instead is an anomaly.
    fn await_close(&mut self, case: &Case) {
        let mut buf = Vec::new();
        let deadline = Instant::now() + STALL_LIMIT;
        match fill(self.stream, &mut buf, deadline, self.shared) {
            Filled::Closed | Filled::Stopped => {}
            Filled::Data => self.shared.anomaly(format!(
                "case {}: the client sent {} bytes on a connection whose response it had to abandon",
                case.id,
                buf.len()
            )),
            Filled::TimedOut => self.shared.anomaly(format!(
                "case {} ({}): the client kept the connection open for {STALL_LIMIT:?}",
                case.id,
                case.answer_name()
            )),
        }
    }

    /// Waits for the client to close the connection or to send another request, with an idle
    /// connection's patience.
    fn await_reuse(&mut self) -> bool {
        let mut byte = [0u8; 1];
        let deadline = Instant::now() + IDLE_LIMIT;
        while Instant::now() < deadline && !self.shared.stopping() {
            match self.stream.peek(&mut byte) {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        false
    }
}

/// A redirect response for `hop`. Returns whether the connection stays open.
fn redirect(out: &mut Out<'_>, case: &Case, hop: usize, port: Port) -> io::Result<bool> {
    let h = case.hops[hop];
    let next = case.path(hop + 1);
    let location = if h.to == port {
        next
    } else {
        format!("http://{}{next}", out.shared.addr(h.to))
    };
    let reason = match h.status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        _ => "Permanent Redirect",
    };
    let body = case.hop_body(hop).to_vec();
    let mut rng = rng_for(out.shared.seed, case.id, 100 + hop as u64);
    let mut response = format!("HTTP/1.1 {} {reason}\r\nLocation: {location}\r\n", h.status);
    let bytes = if h.chunked {
        response.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let mut bytes = response.into_bytes();
        bytes.extend(chunked(&body, &mut rng, None));
        bytes
    } else {
        response.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = response.into_bytes();
        bytes.extend_from_slice(&body);
        bytes
    };
    out.send(&bytes)?;
    Ok(true)
}

/// The final answer. Returns whether the connection stays open for another request.
fn answer(out: &mut Out<'_>, case: &Case) -> io::Result<bool> {
    let seed = out.shared.seed;
    let method = case.method_at(case.hops.len());
    // The upload was checked on arrival: echoing the expected one echoes what came.
    let body = case.answer_body(seed, method).to_vec();
    let mut rng = rng_for(seed, case.id, 2);
    let head_only = method == Verb::Head;
    match case.answer {
        Answer::Ok {
            framing,
            after,
            interim,
            ..
        } => {
            let mut bytes = Vec::new();
            if interim {
                bytes.extend_from_slice(
                    b"HTTP/1.1 103 Early Hints\r\nLink: </soak.css>; rel=preload\r\n\r\n",
                );
            }
            let id = case.id;
            match framing {
                Framing::Length | Framing::Drip { .. } => {
                    bytes.extend(length_head(&body, id));
                    if !head_only {
                        bytes.extend_from_slice(&body);
                    }
                }
                Framing::Chunked { trailers } => {
                    let trailer = trailers.then(|| format!("X-Soak-Id: {id}\r\n"));
                    let announce = if trailers {
                        "Trailer: X-Soak-Id\r\n"
                    } else {
                        ""
                    };
                    bytes.extend(
                        format!(
                            "HTTP/1.1 200 OK\r\nX-Soak-Id: {id}\r\n{announce}Transfer-Encoding: chunked\r\n\r\n"
                        )
                        .into_bytes(),
                    );
                    if !head_only {
                        bytes.extend(chunked(&body, &mut rng, trailer.as_deref()));
                    }
                }
                Framing::UntilClose => {
                    bytes
                        .extend(format!("HTTP/1.1 200 OK\r\nX-Soak-Id: {id}\r\n\r\n").into_bytes());
                    bytes.extend_from_slice(&body);
                }
                Framing::Gzip { chunked: by_chunks } => {
                    let zipped = gzip(&body);
                    let framing = if by_chunks {
                        "Transfer-Encoding: chunked".to_string()
                    } else {
                        format!("Content-Length: {}", zipped.len())
                    };
                    bytes.extend(
                        format!(
                            "HTTP/1.1 200 OK\r\nX-Soak-Id: {id}\r\nContent-Encoding: gzip\r\n{framing}\r\n\r\n"
                        )
                        .into_bytes(),
                    );
                    if by_chunks {
                        bytes.extend(chunked(&zipped, &mut rng, None));
                    } else {
                        bytes.extend_from_slice(&zipped);
                    }
                }
                Framing::ChunkedWithLength => {
                    bytes.extend(
                        format!(
                            "HTTP/1.1 200 OK\r\nX-Soak-Id: {id}\r\nTransfer-Encoding: chunked\r\nContent-Length: {}\r\n\r\n",
                            body.len() / 2 + 1
                        )
                        .into_bytes(),
                    );
                    bytes.extend(chunked(&body, &mut rng, None));
                }
            }
            if let Framing::Drip { piece, gap_ms } = framing {
                for (i, part) in bytes.chunks(piece.max(1)).enumerate() {
                    if i > 0 {
                        std::thread::sleep(Duration::from_millis(gap_ms));
                    }
                    out.send(part)?;
                }
            } else {
                out.send(&bytes)?;
            }
            if framing == Framing::UntilClose {
                return Ok(false); // dropping the socket ends the body
            }
            match after {
                After::KeepOpen => Ok(true),
                After::CloseWhenIdle => {
                    let _ = out.stream.shutdown(Shutdown::Write);
                    // Whatever the client sends next is answered by the close; it must retry.
                    out.await_reuse();
                    Ok(false)
                }
                After::ResetWhenIdle => {
                    if out.await_reuse() {
                        out.reset();
                    }
                    Ok(false)
                }
            }
        }
        Answer::Bodiless { status } => {
            let head = if status == 204 {
                "HTTP/1.1 204 No Content\r\n\r\n".to_string()
            } else {
                format!(
                    "HTTP/1.1 304 Not Modified\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
            };
            out.send(head.as_bytes())?;
            Ok(true)
        }
        Answer::Fault(fault) => {
            serve_fault(out, case, fault, &body, &mut rng);
            Ok(false)
        }
    }
}

fn serve_fault(out: &mut Out<'_>, case: &Case, fault: Fault, body: &[u8], rng: &mut fastrand::Rng) {
    let head = length_head(body, case.id);
    let at = |cut: u16, len: usize| cut as usize * len / 1000;
    // A head cut somewhere after its first byte and before its end.
    let head_cut = |cut: u16| 1 + at(cut, head.len() - 2);
    let chunked_head = format!(
        "HTTP/1.1 200 OK\r\nX-Soak-Id: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        case.id
    );
    // Write errors are the client's business: it may already have given up.
    let _ = match fault {
        Fault::ResetBeforeHead => {
            out.reset();
            Ok(())
        }
        Fault::ResetInHead { cut } => out.send(&head[..head_cut(cut)]).map(|()| out.reset()),
        Fault::ResetInBody { cut } => out
            .send(&head)
            .and_then(|()| out.send(&body[..at(cut, body.len())]))
            .map(|()| out.reset()),
        // Returning drops the socket: FIN (the request was read whole).
        Fault::CloseBeforeHead | Fault::CloseBeforeBody => Ok(()),
        Fault::CloseInHead { cut } => out.send(&head[..head_cut(cut)]),
        Fault::TruncatedLength { cut } => out
            .send(&head)
            .and_then(|()| out.send(&body[..at(cut, body.len())])),
        Fault::TruncatedChunked { cut } => {
            let encoded = chunked(body, rng, None);
            // Stop before the last chunk ("0\r\n\r\n") begins.
            let end = at(cut, encoded.len() - 5);
            out.send(chunked_head.as_bytes())
                .and_then(|()| out.send(&encoded[..end]))
        }
        Fault::StallBeforeHead => {
            out.await_close(case);
            Ok(())
        }
        Fault::StallInHead { cut } => out
            .send(&head[..head_cut(cut)])
            .map(|()| out.await_close(case)),
        Fault::StallInBody { cut } => out
            .send(&head)
            .and_then(|()| out.send(&body[..at(cut, body.len())]))
            .map(|()| out.await_close(case)),
        Fault::GarbageHead(kind) => out
            .send(&garbage(kind, rng))
            .map(|()| out.await_close(case)),
        Fault::GarbageChunk => out
            .send(chunked_head.as_bytes())
            .and_then(|()| out.send(b"zz\r\nnot a chunk\r\n0\r\n\r\n"))
            .map(|()| out.await_close(case)),
    };
}

/// A 200 head with `Content-Length` for `body`.
fn length_head(body: &[u8], id: u64) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nX-Soak-Id: {id}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes()
}

/// `body` in chunks of random sizes (one with an extension now and then), then the last chunk
/// and `trailer` (a whole field line) if any.
fn chunked(body: &[u8], rng: &mut fastrand::Rng, trailer: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut rest = body;
    while !rest.is_empty() {
        let n = rng.usize(1..=rest.len().min(16 * 1024));
        let extension = if rng.u32(0..10) == 0 { ";soak=1" } else { "" };
        out.extend(format!("{n:x}{extension}\r\n").into_bytes());
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\n");
    if let Some(line) = trailer {
        out.extend_from_slice(line.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory")
}

/// A response head that is not HTTP/1.1, always ended by an empty line so the client can tell
/// at once.
fn garbage(kind: Garbage, rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut bytes = match kind {
        Garbage::Bytes => {
            let mut junk: Vec<u8> = (0..rng.usize(1..300)).map(|_| rng.u8(..)).collect();
            // Not a status line's start, and not the blank lines a parser may skip.
            junk[0] = *rng.choice(b"<{!?0x\x00\x7f\xff".iter()).unwrap_or(&b'<');
            junk
        }
        Garbage::BadStatus => rng
            .choice([
                "HTTP/1.1 2x0 OK\r\n",
                "HTTP/1.1 99999 Big\r\n",
                "HTTP/1.1 OK\r\n",
            ])
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        Garbage::BadVersion => rng
            .choice([
                "HTTP/2.0 200 OK\r\n",
                "HTTQ/1.1 200 OK\r\n",
                "HTTP/1.1200 OK\r\n",
            ])
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        Garbage::BadLength => b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n".to_vec(),
        Garbage::ConflictingLength => {
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n".to_vec()
        }
        Garbage::BadHeaderLine => rng
            .choice([
                "HTTP/1.1 200 OK\r\nno colon here\r\n",
                "HTTP/1.1 200 OK\r\n: no name\r\n",
                "HTTP/1.1 200 OK\r\nBad\x01Name: x\r\n",
            ])
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
        Garbage::DoubleChunked => {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n".to_vec()
        }
    };
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes
}
