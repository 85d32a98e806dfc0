//! Entry points for the fuzz targets in `fuzz/` and the corpus replay test. Not a stable API.
//!
//! Each entry point feeds arbitrary bytes to a part of the core and checks the properties that
//! must hold for every input: no panic, bounded work, and for the decoders the same outcome
//! however the input is split into reads (whole, byte by byte, odd-sized pieces), or, for the
//! cache's parsers, that what was read is written back and read again unchanged. `call` runs
//! the whole call machine under a driver the input controls.

#![doc(hidden)]

mod call;
mod parsers;

use core::net::{Ipv4Addr, SocketAddr};
use std::io;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use crate::cache::{CacheControl, CacheStrategy, Entry, Freshness};
use crate::config::Limits;
use crate::driver::{Driver, Step, Transport};
use crate::{Address, Client, Config, ConnId, Connection, Error, Instant, Now, Request};

use crate::http1::chunked::ChunkedDecoder;
use crate::http1::head::{HeadReader, is_interim};

pub use crate::cookies::fuzzing::{cookie_date, netscape_file, set_cookie};
pub use call::{
    CONN_SEPARATOR, RESPONSE_SEPARATOR, SETUP_BYTES, render as render_transcript, transcript,
};
pub use parsers::{content_type, decode_gzip, gzip, location};

/// Fuzz target: a whole call, driven by a driver the input controls (see [`transcript`] for
/// the input's layout and the checks).
pub fn call(input: &[u8]) {
    call::run(input);
}

/// One configuration built the usual way (without the built-in roots); fuzzed ones are copies
/// with fields changed, since building the TLS configuration for every input would cost more
/// than the rest of the run.
fn base_config() -> &'static Config {
    static BASE: OnceLock<Config> = OnceLock::new();
    BASE.get_or_init(|| {
        Config::builder()
            .tls_built_in_roots(false)
            .build()
            .unwrap_or_default()
    })
}

fn limits() -> Limits {
    Limits {
        max_head_bytes: 16 * 1024,
        // Above the head parser's stack room, so both its paths and the limit are exercised.
        max_headers: Some(100),
        max_interim_responses: 8,
        max_chunk_extension_bytes: 1024,
        max_trailer_bytes: 16 * 1024,
    }
}

/// What the head reader made of the heads at the start of a response.
pub type Heads = Result<(Vec<(u16, usize)>, usize), String>;

/// Reads the heads at the start of `input` with the head reader an exchange uses, the input
/// arriving in pieces of `piece` bytes: interim (1xx) heads, each counted against the limits
/// by the reader, up to the first final one. Returns each head's status and number of fields,
/// and how many bytes the heads took; or the first error's message.
pub fn read_heads(input: &[u8], piece: usize) -> Heads {
    let limits = limits();
    let mut reader = HeadReader::default();
    let mut pieces = input.chunks(piece.max(1));
    let mut buf: Vec<u8> = Vec::new();
    let mut heads = Vec::new();
    let mut taken = 0;
    loop {
        match reader.read(&buf, &limits).map_err(|e| e.to_string())? {
            Some((parts, len)) => {
                // Obsolete line folding is undone while reading: no value keeps a line end.
                for (_, value) in parts.headers.iter() {
                    assert!(
                        !value.iter().any(|&b| b == b'\r' || b == b'\n'),
                        "a folded value was left folded: {value:?}"
                    );
                }
                buf.drain(..len);
                taken += len;
                heads.push((parts.status.as_u16(), parts.headers.len()));
                if !is_interim(parts.status) {
                    return Ok((heads, taken));
                }
            }
            None => match pieces.next() {
                Some(p) => buf.extend_from_slice(p),
                None => return Err("unexpected end of stream in the response head".into()),
            },
        }
    }
}

/// Fuzz target: the response heads read byte by byte, and in 7-byte pieces, must be what
/// reading them whole gives.
pub fn response_head(input: &[u8]) {
    let whole = read_heads(input, input.len());
    assert_eq!(
        whole,
        read_heads(input, 1),
        "byte by byte differs from whole"
    );
    assert_eq!(
        whole,
        read_heads(input, 7),
        "7-byte pieces differ from whole"
    );
    if let Ok((_, taken)) = whole {
        assert!(taken <= input.len());
    }
}

/// Fuzz target: the response head scanner reads any input as httparse, the parser it replaced,
/// does: the same head, partial at the same point, or refused in the same words; with room for
/// 64 fields and for 2.
pub fn head_syntax(input: &[u8]) {
    crate::http1::head_syntax_oracle::agree(input, 64);
    crate::http1::head_syntax_oracle::agree(input, 2);
}

/// Decodes `input` as a chunked body in pieces of `piece` bytes with an output buffer of `out`
/// bytes. Returns the body, whether it completed, and how many input bytes it consumed.
pub fn decode_chunked(
    input: &[u8],
    piece: usize,
    out: usize,
) -> Result<(Vec<u8>, bool, usize), String> {
    let limits = limits();
    let mut decoder = ChunkedDecoder::new();
    let mut pending = Vec::new();
    let mut body = Vec::new();
    let mut consumed = 0;
    let mut scratch = vec![0u8; out.max(1)];
    for piece in input.chunks(piece.max(1)) {
        pending.extend_from_slice(piece);
        loop {
            let (c, p) = decoder
                .decode(&pending, &mut scratch, &limits)
                .map_err(|e| e.to_string())?;
            pending.drain(..c);
            consumed += c;
            body.extend_from_slice(&scratch[..p]);
            if (c == 0 && p == 0) || decoder.is_done() {
                break;
            }
        }
        if decoder.is_done() {
            break;
        }
    }
    Ok((body, decoder.is_done(), consumed))
}

/// Fuzz target: the chunked decoder gives the same result for any split and output size, and
/// never consumes bytes past the end of the body.
pub fn chunked(input: &[u8]) {
    let whole = decode_chunked(input, input.len(), 1 << 16);
    for (piece, out) in [(1, 1), (3, 5), (64, 7)] {
        let split = decode_chunked(input, piece, out);
        match (&whole, &split) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "split {piece}/{out} differs"),
            (Err(_), Err(_)) => {}
            // A split decode stops at the first error; whole decoding may fail later or earlier
            // only if the error is in bytes one of them did not reach, which cannot happen.
            (a, b) => panic!("whole {a:?} vs split {piece}/{out} {b:?}"),
        }
    }
    if let Ok((_, true, consumed)) = &whole {
        assert!(*consumed <= input.len());
    }
}

/// Fuzz target: `Cache-Control` parsing never panics, and rendering what was parsed reads back
/// as the same directives. The input also goes, as a request's and a stored response's
/// `Cache-Control` (when it is a valid header value), through the cache decision at a few
/// times.
pub fn cache_control(input: &[u8]) {
    let cc = CacheControl::parse_value(input);
    let rendered = cc.to_string();
    assert_eq!(
        CacheControl::parse_value(rendered.as_bytes()),
        cc,
        "rendered as {rendered:?}"
    );
    let mut headers = crate::Headers::new();
    if headers.append("Cache-Control", input).is_err() {
        return;
    }
    let received = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let Ok(url) = url::Url::parse("http://h.test/a") else {
        return;
    };
    let entry = Entry::new(
        url,
        http::StatusCode::OK,
        headers.clone(),
        received,
        received,
    );
    let Ok(mut request) = Request::get("http://h.test/a").build() else {
        return;
    };
    *request.headers_mut() = headers;
    for later in [0, 59, 86_401, u64::from(u32::MAX)] {
        let now = received + Duration::from_secs(later);
        let _ = Freshness::of(&entry, now);
        let _ = CacheStrategy::compute(now, &request, Some(&entry));
    }
}

/// Fuzz target: decoding stored entry metadata never panics, and an entry that decodes is
/// encoded and decoded again to the same entry. A decoded entry also goes through the cache
/// decision and the key.
pub fn cache_entry(input: &[u8]) {
    let Ok(entry) = Entry::decode(input) else {
        return;
    };
    let encoded = entry.encode();
    assert_eq!(
        Entry::decode(&encoded).as_ref(),
        Ok(&entry),
        "re-decoding {:?}",
        String::from_utf8_lossy(&encoded)
    );
    let _ = entry.key();
    if let Ok(request) = Request::get(entry.url.clone()).build() {
        for now in [entry.received_at, SystemTime::UNIX_EPOCH] {
            let _ = CacheStrategy::compute(now, &request, Some(&entry));
        }
    }
}

/// Benchmark entry point: reads one complete response head at the start of `buf` with the head
/// reader a call uses, under the default limits. Returns the status, the number of fields and
/// the head's length, or `None` while the head is incomplete.
pub fn decode_head(buf: &[u8]) -> Result<Option<(u16, usize, usize)>, String> {
    match HeadReader::default().read(buf, &Limits::default()) {
        Ok(Some((parts, len))) => Ok(Some((parts.status.as_u16(), parts.headers.len(), len))),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Benchmark entry point: decodes the chunked body at the start of `input` through `out`, as a
/// call copies decoded bytes into the caller's buffer (each pass overwrites `out`). Returns how
/// many body bytes it produced and whether the body ended.
pub fn decode_chunked_through(input: &[u8], out: &mut [u8]) -> Result<(usize, bool), String> {
    let limits = Limits::default();
    let mut decoder = ChunkedDecoder::new();
    let (mut consumed, mut produced) = (0, 0);
    while !decoder.is_done() {
        let (c, p) = decoder
            .decode(&input[consumed..], out, &limits)
            .map_err(|e| e.to_string())?;
        consumed += c;
        produced += p;
        if c == 0 && p == 0 {
            break;
        }
    }
    Ok((produced, decoder.is_done()))
}

/// Benchmark entry point: appends the head a call would send for `request` under `config` to
/// `out`: the bridge's fields (Host, framing, Connection, Accept-Encoding, User-Agent), then
/// the encoder. Returns the head's length.
pub fn encode_request_head(out: &mut Vec<u8>, request: &Request, config: &Config) -> usize {
    let start = out.len();
    let now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
    let network =
        crate::bridge::Bridge::default().on_request(now, Arc::new(request.clone()), config);
    crate::http1::encode::encode_bridged(out, &network, false);
    out.len() - start
}

/// Whole calls through the core (the chain, the exchange, the pool) against an in-memory
/// origin that answers every request with the same canned response: no sockets, no clock, no
/// threads. The call is driven by the same [`Driver`] the runtimes use, over a transport whose
/// sockets are numbers, whose writes are taken whole and whose reads are served from the canned
/// bytes. Connections go back to the client's pool as usual, so consecutive calls reuse one
/// when the response allows it.
///
/// The clock stands still at one instant: timeouts never fire and pooled connections never
/// expire, which is what a benchmark of the core's own work wants.
#[derive(Debug)]
pub struct InMemoryExchange {
    client: Arc<Client<usize>>,
    origin: Origin,
}

/// The in-memory origin: per socket, how much of the canned response is still to deliver.
#[derive(Debug, Default)]
struct Origin {
    response: Arc<[u8]>,
    unread: Vec<usize>,
}

impl Origin {
    /// The origin's side of a read on `socket`: the next canned bytes, then end of stream.
    fn read(&mut self, socket: usize, buf: &mut [u8]) -> io::Result<usize> {
        let unread = self
            .unread
            .get_mut(socket)
            .ok_or(io::ErrorKind::NotConnected)?;
        let start = self.response.len() - *unread;
        let n = buf.len().min(*unread);
        buf[..n].copy_from_slice(&self.response[start..start + n]);
        *unread -= n;
        Ok(n)
    }
}

/// The transport of one in-memory call: it borrows the origin for the call.
struct InMemory<'a> {
    client: &'a Client<usize>,
    origin: &'a mut Origin,
    /// The origin answers once the request has started to arrive.
    answered: bool,
}

impl Transport for InMemory<'_> {
    type Socket = usize;

    fn now(&mut self) -> Now {
        Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH)
    }

    fn poll_resolve(
        &mut self,
        _: &mut Context<'_>,
        _: &str,
        _: u16,
    ) -> Poll<io::Result<Vec<SocketAddr>>> {
        Poll::Ready(Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 80))]))
    }

    fn poll_connect(
        &mut self,
        _: &mut Context<'_>,
        _: ConnId,
        _: SocketAddr,
        _: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        self.origin.unread.push(0);
        Poll::Ready(Ok(self.origin.unread.len() - 1))
    }

    fn poll_write(
        &mut self,
        _: &mut Context<'_>,
        socket: &mut usize,
        buf: &[u8],
        _: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        if !self.answered {
            self.answered = true;
            if let Some(unread) = self.origin.unread.get_mut(*socket) {
                *unread = self.origin.response.len();
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_read(
        &mut self,
        _: &mut Context<'_>,
        socket: &mut usize,
        buf: &mut [u8],
        _: Option<Instant>,
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.origin.read(*socket, buf))
    }

    fn poll_deadline(&mut self, _: &mut Context<'_>, _: Instant) -> Poll<()> {
        Poll::Pending
    }

    fn is_healthy(&mut self, _: &mut usize) -> bool {
        true
    }

    fn acquire(&mut self, now: Instant, address: &Address) -> Option<(Connection, usize)> {
        self.client.acquire(now, address)
    }

    fn release(&mut self, now: Instant, conn: Connection, socket: usize) {
        self.client.release(now, conn, socket);
    }
}

impl InMemoryExchange {
    /// A client with `config` and an origin that answers every request with `response` (one
    /// complete response: head and body).
    pub fn new(config: Config, response: Vec<u8>) -> InMemoryExchange {
        InMemoryExchange {
            client: Arc::new(Client::new(config)),
            origin: Origin {
                response: response.into(),
                unread: Vec::new(),
            },
        }
    }

    /// Runs `request` to the end of its response body, reading the body through `buf`.
    /// Returns the status and the body's length.
    pub fn call(&mut self, request: Request, buf: &mut [u8]) -> Result<(u16, usize), Error> {
        let client = &*self.client;
        let now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
        let call = client.start_call(now, request);
        let transport = InMemory {
            client,
            origin: &mut self.origin,
            answered: false,
        };
        let mut driver = Driver::new(call, transport, client.config());
        let mut cx = Context::from_waker(Waker::noop());
        let status = match driver.poll_until_step(&mut cx) {
            Poll::Ready(Ok(Step::Response)) => match driver.take_response() {
                Some(head) => head.status().as_u16(),
                None => return Err(Error::io("no head after Step::Response", None)),
            },
            Poll::Ready(Ok(other)) => {
                return Err(Error::io(format!("unexpected {other:?}"), None));
            }
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return Err(Error::io("the in-memory call blocked", None)),
        };
        let mut length = 0;
        loop {
            match driver.poll_read(&mut cx, buf) {
                Poll::Ready(Ok(0)) => return Ok((status, length)),
                Poll::Ready(Ok(n)) => length += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Err(Error::io("the in-memory body blocked", None)),
            }
        }
    }

    /// How many connections the origin accepted.
    pub fn connections(&self) -> usize {
        self.origin.unread.len()
    }

    /// Idle connections in the client's pool.
    pub fn idle_connections(&self) -> usize {
        self.client.idle_connection_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_the_same_in_every_split() {
        let body = b"3\r\nabc\r\n0\r\n\r\n";
        let input = [
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                [..],
            body,
        ]
        .concat();
        let input = &input[..];
        let heads = read_heads(input, input.len()).unwrap();
        assert_eq!(heads, (vec![(100, 0), (200, 1)], input.len() - body.len()));
        response_head(input);
        assert!(read_heads(b"HTTP/1.1 200 OK\r\n", 3).is_err());
        chunked(b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn cache_entry_points_accept_odd_input() {
        cache_control(b"max-age=\"5\", x=\"unterminated, no-cache=\"a, b\"; public");
        cache_control(b"\xff=\xfe, max-stale, min-fresh=99999999999999999999");
        cache_control(b"a\r\nb");
        cache_entry(
            b"wayfarer-cache-entry 1\nurl http://h.test/\nmethod GET\nvary 0\n\
            status HTTP/1.1 200 OK\nheaders 1\nAge: 5\nsent-at 0.000000000\n\
            received-at -1.000000000\ntls -\nend\n",
        );
        cache_entry(
            b"wayfarer-cache-entry 1\nurl http://h.test/\nmethod GET\nvary 999999999999999999999\n",
        );
    }

    #[test]
    fn benchmark_entry_points_decode_and_encode() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc";
        assert_eq!(decode_head(head), Ok(Some((200, 2, head.len() - 3))));
        assert_eq!(decode_head(&head[..20]), Ok(None));
        assert!(decode_head(b"HTTP/1.1 999999 What\r\n\r\n").is_err());

        let mut out = [0u8; 2];
        assert_eq!(
            decode_chunked_through(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT", &mut out),
            Ok((5, true))
        );
        assert_eq!(decode_chunked_through(b"3\r\nab", &mut out), Ok((2, false)));

        let request = Request::post("http://example.com:8080/a?b")
            .body("xyz")
            .build()
            .unwrap();
        let config = Config::builder().user_agent("ua/1").build().unwrap();
        let mut head = Vec::new();
        let len = encode_request_head(&mut head, &request, &config);
        assert_eq!(len, head.len());
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "POST /a?b HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 3\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip\r\nUser-Agent: ua/1\r\n\r\n"
        );
    }

    #[test]
    fn in_memory_calls_reuse_one_connection() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec();
        let mut exchange = InMemoryExchange::new(Config::default(), response);
        let mut buf = [0u8; 3];
        for _ in 0..3 {
            let request = Request::get("http://origin.test/").build().unwrap();
            assert_eq!(exchange.call(request, &mut buf).unwrap(), (200, 5));
        }
        assert_eq!(
            exchange.connections(),
            1,
            "one connection for all three calls"
        );
        assert_eq!(exchange.idle_connections(), 1);
    }

    #[test]
    fn in_memory_calls_open_a_connection_each_when_the_origin_closes() {
        let response =
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
                .to_vec();
        let mut exchange = InMemoryExchange::new(Config::default(), response);
        let mut buf = [0u8; 64];
        for _ in 0..2 {
            let request = Request::post("http://origin.test/")
                .body("x")
                .build()
                .unwrap();
            assert_eq!(exchange.call(request, &mut buf).unwrap(), (200, 2));
        }
        assert_eq!(exchange.connections(), 2);
        assert_eq!(exchange.idle_connections(), 0);
    }

    #[test]
    fn in_memory_call_reports_a_truncated_response() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
        let mut exchange = InMemoryExchange::new(Config::default(), response);
        let mut buf = [0u8; 64];
        let request = Request::get("http://origin.test/").build().unwrap();
        assert_eq!(
            exchange.call(request, &mut buf).unwrap_err().kind(),
            crate::ErrorKind::Protocol
        );
    }
}
