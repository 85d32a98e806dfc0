//! Writing a request head.
//!
//! The head is the request line in origin form, `Host` first (RFC 9112 section 3.2), the
//! caller's fields in their order, a default `User-Agent` when the caller set none, and the body
//! framing the call chose: `Content-Length` for a known length, `Transfer-Encoding: chunked` for
//! an unknown one. The caller's own `Content-Length` and `Transfer-Encoding` fields are replaced
//! by the framing actually used, so the head can never disagree with the bytes that follow.
//!
//! ```text
//! GET /search?q=rust HTTP/1.1\r\n
//! Host: example.com:8080\r\n
//! Accept: text/html\r\n
//! User-Agent: wayfarer/0.1.0\r\n
//! \r\n
//! ```

use http::Method;

use crate::{Headers, Request};

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

/// Appends the request head to `out`. When `sent` is given, it receives the fields as written
/// (for the `RequestHeadersEnd` event). Returns the length of the request line, without CRLF.
pub(crate) fn encode_head(
    out: &mut Vec<u8>,
    request: &Request,
    framing: RequestFraming,
    user_agent: Option<&[u8]>,
    mut sent: Option<&mut Headers>,
) -> usize {
    let url = request.url();
    let start = out.len();
    out.extend_from_slice(request.method_ref().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url[url::Position::BeforePath..url::Position::AfterQuery].as_bytes());
    out.extend_from_slice(b" HTTP/1.1");
    let line_len = out.len() - start;
    out.extend_from_slice(b"\r\n");

    let mut field = |out: &mut Vec<u8>, name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
        if let Some(sent) = sent.as_deref_mut() {
            sent.push_unchecked(
                bytes::Bytes::copy_from_slice(name),
                bytes::Bytes::copy_from_slice(value),
            );
        }
    };

    let headers = request.headers();
    if !headers.contains("host") {
        let host = url.host_str().unwrap_or_default();
        match url.port() {
            // `port()` is None for the scheme's default port, which Host omits.
            Some(port) => field(out, b"Host", format!("{host}:{port}").as_bytes()),
            None => field(out, b"Host", host.as_bytes()),
        }
    }
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        field(out, name.as_bytes(), value);
    }
    if let Some(ua) = user_agent {
        if !headers.contains("user-agent") {
            field(out, b"User-Agent", ua);
        }
    }
    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(n) => {
            let digits = itoa_buf(n);
            field(out, b"Content-Length", digits.as_bytes());
        }
        RequestFraming::Chunked => field(out, b"Transfer-Encoding", b"chunked"),
    }
    out.extend_from_slice(b"\r\n");
    line_len
}

/// The framing for a request: the body's own length if known, else a valid `Content-Length` the
/// caller set, else chunked. Methods that define a meaning for content get `Content-Length: 0`
/// when they have no body (RFC 9110 section 8.6).
pub(crate) fn framing_for(
    method: &Method,
    headers: &Headers,
    body_len: Option<u64>,
    has_body: bool,
) -> RequestFraming {
    if !has_body {
        return if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            RequestFraming::Length(0)
        } else {
            RequestFraming::None
        };
    }
    if let Some(n) = body_len {
        return RequestFraming::Length(n);
    }
    match headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(n) => RequestFraming::Length(n),
        None => RequestFraming::Chunked,
    }
}

/// A u64 in decimal, without allocating.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_buf(mut n: u64) -> Digits {
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

    fn head(request: &Request, framing: RequestFraming) -> String {
        let mut out = Vec::new();
        encode_head(&mut out, request, framing, Some(b"wayfarer/test"), None);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_origin_form_with_host_first() {
        let r = Request::get("http://example.com:8080/a/b?q=1#frag")
            .header("Accept", "*/*")
            .build()
            .unwrap();
        assert_eq!(
            head(&r, RequestFraming::None),
            "GET /a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nUser-Agent: wayfarer/test\r\n\r\n"
        );
    }

    #[test]
    fn default_ports_and_ipv6_hosts() {
        let r = Request::get("https://example.com:443/").build().unwrap();
        assert!(head(&r, RequestFraming::None).contains("Host: example.com\r\n"));
        let r = Request::get("http://[::1]:8080/").build().unwrap();
        assert!(head(&r, RequestFraming::None).contains("Host: [::1]:8080\r\n"));
    }

    #[test]
    fn framing_headers_replace_the_callers() {
        let r = Request::post("http://h/")
            .header("Content-Length", "999")
            .header("Transfer-Encoding", "gzip")
            .header("User-Agent", "mine")
            .build()
            .unwrap();
        let h = head(&r, RequestFraming::Length(3));
        assert!(
            h.contains("Content-Length: 3\r\n") && !h.contains("999") && !h.contains("gzip"),
            "{h}"
        );
        assert!(
            h.contains("User-Agent: mine\r\n") && !h.contains("wayfarer/test"),
            "{h}"
        );
        assert!(head(&r, RequestFraming::Chunked).contains("Transfer-Encoding: chunked\r\n"));
    }

    #[test]
    fn chooses_framing() {
        let none = Headers::new();
        assert_eq!(
            framing_for(&Method::GET, &none, Some(0), false),
            RequestFraming::None
        );
        assert_eq!(
            framing_for(&Method::POST, &none, Some(0), false),
            RequestFraming::Length(0)
        );
        assert_eq!(
            framing_for(&Method::POST, &none, Some(7), true),
            RequestFraming::Length(7)
        );
        assert_eq!(
            framing_for(&Method::POST, &none, None, true),
            RequestFraming::Chunked
        );
        let mut cl = Headers::new();
        cl.append("Content-Length", "12").unwrap();
        assert_eq!(
            framing_for(&Method::PUT, &cl, None, true),
            RequestFraming::Length(12)
        );
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
