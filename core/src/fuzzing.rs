//! Entry points for the fuzz targets in `fuzz/`, the corpus replay test and the micro-benchmarks
//! in `bench/`. Not a stable API.
//!
//! Each fuzz entry point feeds arbitrary bytes to a decoder and checks the properties that must
//! hold for every input: no panic, bounded work, and the same outcome however the input is split
//! into reads (whole, byte by byte, odd-sized pieces). The benchmark entry points reach the
//! codec's internals the way a call uses them, and [`InMemoryExchange`] runs whole calls with no
//! I/O at all, so a benchmark measures the core and nothing else.

#![doc(hidden)]

use core::net::{Ipv4Addr, SocketAddr};
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use http::Method;

use crate::body::BodyShape;
use crate::http1::body::BodyDecoder;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::encode::{encode_head, framing_for};
use crate::http1::framing;
use crate::http1::head::{HeadReader, Limits};
use crate::{BodyRead, Client, Config, Error, Instant, Now, Output, Request};

/// What decoding one response produced, comparable across splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Status of the final response.
    pub status: u16,
    /// Number of header fields.
    pub headers: usize,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Whether the connection could be reused.
    pub reusable: bool,
}

fn limits() -> Limits {
    Limits {
        max_head_bytes: 16 * 1024,
        max_headers: 64,
        max_interim_responses: 8,
    }
}

/// Decodes `input` as one response to GET (or HEAD when the first byte is odd), arriving in
/// pieces of `piece` bytes, followed by EOF. Errors are reported as their message.
pub fn decode_response(input: &[u8], piece: usize) -> Result<Decoded, String> {
    let method = if input.first().is_some_and(|b| b % 2 == 1) {
        Method::HEAD
    } else {
        Method::GET
    };
    let limits = limits();
    let mut buf: Vec<u8> = Vec::new();
    let mut pieces = input.chunks(piece.max(1));
    let mut reader = HeadReader::default();
    let mut interim = 0;
    let (parts, mut decoder, reusable) = loop {
        match reader.read(&buf, &limits).map_err(|e| e.to_string())? {
            Some((parts, len)) => {
                buf.drain(..len);
                // 101 is a final response (the client refuses it unless it asked to upgrade).
                if parts.status.is_informational()
                    && parts.status != http::StatusCode::SWITCHING_PROTOCOLS
                {
                    interim += 1;
                    if interim > limits.max_interim_responses {
                        return Err("too many interim responses".into());
                    }
                    continue;
                }
                let plan =
                    framing::plan(&method, parts.status, parts.version, &parts.headers, false)
                        .map_err(|e| e.to_string())?;
                break (parts, BodyDecoder::new(plan.framing), plan.reusable);
            }
            None => match pieces.next() {
                Some(p) => buf.extend_from_slice(p),
                None => return Err("unexpected end of stream in the response head".into()),
            },
        }
    };
    let mut body = Vec::new();
    let mut out = [0u8; 61];
    loop {
        if decoder.is_done() {
            break;
        }
        if !buf.is_empty() {
            let (c, p) = decoder
                .decode(&buf, &mut out, &limits)
                .map_err(|e| e.to_string())?;
            buf.drain(..c);
            body.extend_from_slice(&out[..p]);
            if c > 0 || p > 0 {
                continue;
            }
        }
        match pieces.next() {
            Some(p) => buf.extend_from_slice(p),
            None => {
                decoder.on_eof().map_err(|e| e.to_string())?;
                break;
            }
        }
    }
    let leftover = !buf.is_empty() || pieces.next().is_some();
    Ok(Decoded {
        status: parts.status.as_u16(),
        headers: parts.headers.len(),
        body,
        reusable: reusable && !leftover,
    })
}

/// Fuzz target: a whole response must decode without panicking.
pub fn response(input: &[u8]) {
    let _ = decode_response(input, input.len());
}

/// Fuzz target: a response decoded byte by byte, and in 7-byte pieces, must give exactly what
/// decoding it whole gives.
pub fn response_bytewise(input: &[u8]) {
    let whole = decode_response(input, input.len());
    let bytewise = decode_response(input, 1);
    assert_eq!(whole, bytewise, "byte-by-byte decoding differs from whole");
    let sevens = decode_response(input, 7);
    assert_eq!(whole, sevens, "7-byte decoding differs from whole");
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

/// Benchmark entry point: appends the head a call would send for `request` to `out` (framing
/// chosen from its body as a call chooses it, `user_agent` added unless the request has one).
/// Returns the length of the request line.
pub fn encode_request_head(
    out: &mut Vec<u8>,
    request: &Request,
    user_agent: Option<&[u8]>,
) -> usize {
    let body = request.body();
    let has_body = !matches!(body.shape(), BodyShape::None);
    let framing = framing_for(
        request.method_ref(),
        request.headers(),
        body.len(),
        has_body,
    );
    encode_head(out, request, framing, user_agent, None)
}

/// Whole calls through the core against an in-memory origin that answers every request with
/// the same canned response: no sockets, no clock, no threads. Sockets are numbers; a write is
/// always taken whole; reads are served from the canned bytes. Connections go back to the
/// client's pool as usual, so consecutive calls reuse one when the response allows it.
///
/// The clock stands still at one instant: timeouts never fire and pooled connections never
/// expire, which is what a benchmark of the core's own work wants.
#[derive(Debug)]
pub struct InMemoryExchange {
    client: Client<usize>,
    response: Vec<u8>,
    now: Now,
    /// Per socket, how much of the canned response the origin has yet to deliver.
    unread: Vec<usize>,
}

impl InMemoryExchange {
    /// A client with `config` and an origin that answers every request with `response` (one
    /// complete response: head and body).
    pub fn new(config: Config, response: Vec<u8>) -> InMemoryExchange {
        InMemoryExchange {
            client: Client::new(config),
            response,
            now: Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH),
            unread: Vec::new(),
        }
    }

    /// Runs `request` to the end of its response body, reading the body through `buf`.
    /// Returns the status and the body's length.
    pub fn call(&mut self, request: Request, buf: &mut [u8]) -> Result<(u16, usize), Error> {
        let now = self.now;
        let (mut call, mut body) = self.client.start_call(now, request);
        let mut socket: Option<usize> = None;
        // The origin answers once the request has started to arrive.
        let mut answered = false;
        let mut status = None;
        let mut length = 0;
        loop {
            if status.is_some() {
                match call.read_body(now, buf)? {
                    BodyRead::Data(n) => {
                        length += n;
                        continue;
                    }
                    BodyRead::Direct(max) => {
                        let n = self.origin_read(socket, &mut buf[..max]);
                        length += call.handle_direct_read(now, n)?;
                        continue;
                    }
                    BodyRead::End | BodyRead::Pending => {}
                }
            }
            match call.poll_output()? {
                Output::Event(_) => {}
                Output::Acquire => {
                    let pooled = self.client.acquire(now.mono, call.address());
                    let conn = pooled.map(|(conn, s)| {
                        socket = Some(s);
                        conn
                    });
                    call.handle_acquired(now, conn);
                }
                Output::CheckHealth => call.handle_health(now, true),
                Output::Resolve { .. } => {
                    let origin = SocketAddr::from((Ipv4Addr::LOCALHOST, 80));
                    call.handle_resolved(now, Ok(vec![origin]));
                }
                Output::Connect { .. } => {
                    socket = Some(self.unread.len());
                    self.unread.push(0);
                    call.handle_connected(now, Ok(()));
                }
                Output::Transmit { bytes, .. } => {
                    let n = bytes.len();
                    if !answered {
                        answered = true;
                        if let Some(s) = socket {
                            self.unread[s] = self.response.len();
                        }
                    }
                    call.handle_transmitted(now, Ok(n));
                }
                Output::Receive { buf, .. } => {
                    let n = self.origin_read(socket, buf);
                    call.handle_received(now, n);
                }
                Output::PullBody(out) => {
                    let mut cx = Context::from_waker(Waker::noop());
                    let pulled = match body.poll_read(&mut cx, out) {
                        Poll::Ready(result) => result,
                        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
                    };
                    call.handle_body_pulled(now, pulled);
                }
                Output::RewindBody => {
                    let rewound = body.rewind();
                    call.handle_body_rewound(now, rewound);
                }
                Output::Response(head) => status = Some(head.status().as_u16()),
                Output::Release(conn) => match socket.take() {
                    Some(s) => self.client.release(now.mono, conn, s),
                    None => drop(conn),
                },
                Output::Close => socket = None,
                Output::Idle | Output::Done => break,
            }
        }
        status
            .map(|status| (status, length))
            .ok_or_else(|| Error::io("the call ended without a response", None))
    }

    /// The origin's side of a read on `socket`: the next canned bytes, then end of stream.
    fn origin_read(&mut self, socket: Option<usize>, buf: &mut [u8]) -> io::Result<usize> {
        let unread = socket
            .and_then(|s| self.unread.get_mut(s))
            .ok_or(io::ErrorKind::NotConnected)?;
        let start = self.response.len() - *unread;
        let n = buf.len().min(*unread);
        buf[..n].copy_from_slice(&self.response[start..start + n]);
        *unread -= n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_response_the_same_in_every_split() {
        let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let d = decode_response(input, input.len()).unwrap();
        assert_eq!(
            d,
            Decoded {
                status: 200,
                headers: 1,
                body: b"abc".to_vec(),
                reusable: true
            }
        );
        response_bytewise(input);
        chunked(b"3\r\nabc\r\n0\r\n\r\n");
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
        let mut head = Vec::new();
        let line = encode_request_head(&mut head, &request, Some(b"ua/1"));
        assert_eq!(line, "POST /a?b HTTP/1.1".len());
        assert_eq!(
            head,
            b"POST /a?b HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: ua/1\r\nContent-Length: 3\r\n\r\n"
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
            exchange.unread.len(),
            1,
            "one connection for all three calls"
        );
        assert_eq!(exchange.client.idle_connection_count(), 1);
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
        assert_eq!(exchange.unread.len(), 2);
        assert_eq!(exchange.client.idle_connection_count(), 0);
    }

    #[test]
    fn in_memory_call_reports_a_truncated_response() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec();
        let mut exchange = InMemoryExchange::new(Config::default(), response);
        let request = Request::get("http://origin.test/").build().unwrap();
        let error = exchange.call(request, &mut [0u8; 64]).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Protocol, "{error}");
    }
}
