//! Writing a request head.
//!
//! The head is written exactly as the request gives it: the request line in origin form, then
//! the request's fields in their order. Nothing is added here: the bridge link of the
//! interceptor chain adds `Host`, `User-Agent`, the framing fields and the rest before the
//! request reaches the exchange, so network interceptors and events see the head as sent.
//!
//! ```text
//! GET /search?q=rust HTTP/1.1\r\n
//! Host: example.com:8080\r\n
//! Accept: text/html\r\n
//! \r\n
//! ```

use crate::headers::trim_ows;
use crate::{Error, Headers, Request};

/// How the request body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestFraming {
    /// No body and no framing header.
    None,
    /// `Content-Length: n` (also `0` for a bodiless POST, PUT or PATCH).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The request target: origin form (`/path?query`), or absolute form without userinfo
/// (`http://host:port/path?query`) for a plain request to an HTTP proxy (RFC 9112 3.2.2).
fn write_target(out: &mut Vec<u8>, url: &url::Url, absolute: bool) {
    if absolute {
        out.extend_from_slice(url.scheme().as_bytes());
        out.extend_from_slice(b"://");
        out.extend_from_slice(url[url::Position::BeforeHost..url::Position::BeforePath].as_bytes());
    }
    out.extend_from_slice(url[url::Position::BeforePath..url::Position::AfterQuery].as_bytes());
}

/// Appends the request head to `out`, exactly as `request` gives it (`absolute`: the target
/// in absolute form, for an HTTP proxy).
pub(crate) fn encode_head(out: &mut Vec<u8>, request: &Request, absolute: bool) {
    let url = request.url();
    out.extend_from_slice(request.method_ref().as_str().as_bytes());
    out.push(b' ');
    write_target(out, url, absolute);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers().iter() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the head of a request as the bridge sends it: the application's fields and the
/// bridge's, written straight from where they are (no request is built for it).
pub(crate) fn encode_bridged(out: &mut Vec<u8>, request: &crate::bridge::Bridged, absolute: bool) {
    let user = &request.user;
    let url = user.url();
    out.extend_from_slice(user.method_ref().as_str().as_bytes());
    out.push(b' ');
    write_target(out, url, absolute);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    request.for_each_field(|name, value| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        value.write(out);
        out.extend_from_slice(b"\r\n");
    });
    out.extend_from_slice(b"\r\n");
}

/// The framing a request's own fields declare: `Transfer-Encoding` ending in `chunked`, else a
/// `Content-Length`, else none. The bridge sets these from the body; a head that declares
/// something else (another transfer coding, conflicting lengths) cannot be framed and is
/// refused before anything is sent.
pub(crate) fn framing_of(headers: &Headers) -> Result<RequestFraming, Error> {
    if headers.contains("transfer-encoding") {
        let chunked_last = headers
            .get_all("transfer-encoding")
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim_ows)
            .filter(|c| !c.is_empty())
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
        if !chunked_last || headers.contains("content-length") {
            return Err(Error::invalid_input(
                "the request's Transfer-Encoding must end in chunked and come without Content-Length",
            ));
        }
        return Ok(RequestFraming::Chunked);
    }
    let mut length = None;
    for value in headers.get_all("content-length") {
        let n = std::str::from_utf8(trim_ows(value))
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| Error::invalid_input("the request's Content-Length is not a number"))?;
        if length.is_some_and(|l| l != n) {
            return Err(Error::invalid_input(
                "the request has conflicting Content-Length values",
            ));
        }
        length = Some(n);
    }
    Ok(length.map_or(RequestFraming::None, RequestFraming::Length))
}

/// A u64 in decimal, without allocating.
pub(crate) struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

pub(crate) fn itoa_buf(mut n: u64) -> Digits {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start: i }
}

/// Appends the chunk-size line for a chunk of `len` bytes.
pub(crate) fn chunk_header(out: &mut Vec<u8>, len: usize) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut n = len;
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(request: &Request) -> String {
        let mut out = Vec::new();
        encode_head(&mut out, request, false);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_the_request_exactly_as_given() {
        let r = Request::get("http://example.com:8080/a/b?q=1#frag")
            .header("Accept", "*/*")
            .header("X-Two", "a")
            .header("x-two", "b")
            .build()
            .unwrap();
        assert_eq!(
            head(&r),
            "GET /a/b?q=1 HTTP/1.1\r\nAccept: */*\r\nX-Two: a\r\nx-two: b\r\n\r\n"
        );
    }

    #[test]
    fn framing_comes_from_the_fields() {
        let mut h = Headers::new();
        assert_eq!(framing_of(&h).unwrap(), RequestFraming::None);
        h.append("Content-Length", "12").unwrap();
        h.append("content-length", "12").unwrap();
        assert_eq!(framing_of(&h).unwrap(), RequestFraming::Length(12));
        h.append("Content-Length", "13").unwrap();
        assert!(framing_of(&h).is_err());
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "gzip, chunked").unwrap();
        assert_eq!(framing_of(&h).unwrap(), RequestFraming::Chunked);
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "gzip").unwrap();
        assert!(framing_of(&h).is_err());
        let mut h = Headers::new();
        h.append("Content-Length", "-1").unwrap();
        assert!(framing_of(&h).is_err());
    }

    #[test]
    fn numbers_without_allocating() {
        assert_eq!(itoa_buf(0).as_bytes(), b"0");
        assert_eq!(
            itoa_buf(u64::MAX).as_bytes(),
            u64::MAX.to_string().as_bytes()
        );
        let mut out = Vec::new();
        chunk_header(&mut out, 0x1a2b);
        chunk_header(&mut out, 0);
        assert_eq!(out, b"1a2b\r\n0\r\n");
    }
}
