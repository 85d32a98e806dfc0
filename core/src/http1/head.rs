//! Reading a response head incrementally.
//!
//! Bytes arrive in arbitrary pieces, down to one at a time. [`HeadReader`] remembers how far it
//! has looked for the blank line that ends the head, so each new piece is scanned once and the
//! head is handed to httparse exactly once, when it is complete: reading a head byte by byte
//! costs the same as reading it whole, and gives the same result.
//!
//! Limits come from the client's configuration: the head's size (checked before the blank line
//! arrives, so a server cannot make us buffer without bound) and its number of fields. Both
//! give an [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) error.

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::{StatusCode, Version};

use crate::response::ResponseParts;
use crate::{Error, Headers};

/// The most header fields httparse is given room for; `Limits::max_headers` is capped to it.
pub(crate) const MAX_HEADERS_CAP: usize = 1024;

/// Bounds on what a server may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head (status line and fields, including line ends, and any empty lines
    /// before the status line), in bytes.
    pub max_head_bytes: usize,
    /// Most header fields in one response head (and in a trailer section).
    pub max_headers: usize,
    /// Most interim (1xx) responses before the final one.
    pub max_interim_responses: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 128,
            max_interim_responses: 16,
        }
    }
}

/// Finds and parses one response head in a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    /// Bytes at the start of the buffer already known not to end the head.
    scanned: usize,
}

impl HeadReader {
    /// Looks for a complete head at the start of `buf`. Returns the head and its length in bytes
    /// once complete, `None` while more bytes are needed.
    pub(crate) fn read(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<(ResponseParts, usize)>, Error> {
        // Leading empty lines before the status line are tolerated (RFC 9112 section 2.2);
        // httparse skips them too, but the end-of-head scan must not mistake them for the end.
        let skip = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        // The limit counts those leading empty lines too: while the head is incomplete they are
        // buffered like the rest of it, and the check must not depend on how the bytes arrived
        // (counting them only before the head ends would refuse byte by byte what it accepts
        // whole).
        let Some(end) = self.find_end(buf, skip) else {
            if buf.len() > limits.max_head_bytes {
                return Err(head_too_large(limits));
            }
            return Ok(None);
        };
        if end > limits.max_head_bytes {
            return Err(head_too_large(limits));
        }
        self.scanned = 0;
        parse(&buf[..end], limits).map(|parts| Some((parts, end)))
    }

    /// The index just past the blank line ending the head, scanning from where the last call
    /// stopped.
    fn find_end(&mut self, buf: &[u8], skip: usize) -> Option<usize> {
        let mut i = self.scanned.max(skip);
        while i < buf.len() {
            if buf[i] == b'\n' {
                match buf.get(i + 1..) {
                    Some([b'\n', ..]) => return Some(i + 2),
                    Some([b'\r', b'\n', ..]) => return Some(i + 3),
                    // Not enough bytes yet to know: look here again next time.
                    Some([] | [b'\r']) => {
                        self.scanned = i;
                        return None;
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.scanned = buf.len();
        None
    }
}

fn head_too_large(limits: &Limits) -> Error {
    Error::protocol(format!(
        "response head is larger than the limit of {} bytes",
        limits.max_head_bytes
    ))
}

/// Parses a complete head.
fn parse(head: &[u8], limits: &Limits) -> Result<ResponseParts, Error> {
    let max_headers = limits.max_headers.min(MAX_HEADERS_CAP);
    let mut storage: Vec<MaybeUninit<httparse::Header<'_>>> = Vec::with_capacity(max_headers);
    storage.resize_with(max_headers, MaybeUninit::uninit);
    let mut response = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    // RFC 9112 section 5.2: a user agent must accept obs-fold in responses and replace it with
    // spaces (done below).
    config.allow_obsolete_multiline_headers_in_responses(true);
    match config.parse_response_with_uninit_headers(&mut response, head, &mut storage) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(Error::protocol("incomplete response head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Error::protocol(format!(
                "response head has more than the limit of {} header fields",
                limits.max_headers
            )));
        }
        Err(e) => return Err(Error::protocol(format!("malformed response head: {e}"))),
    }
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(Error::protocol("unsupported HTTP version in status line")),
    };
    let code = response
        .code
        .ok_or_else(|| Error::protocol("missing status code"))?;
    let status = StatusCode::from_u16(code)
        .map_err(|_| Error::protocol(format!("invalid status code {code}")))?;
    let reason = response.reason.unwrap_or("").to_owned();

    // One copy of the field bytes; every name and value is a cheap slice of it.
    let fields = Bytes::copy_from_slice(head);
    let mut headers = Headers::with_capacity(response.headers.len());
    for h in response.headers.iter() {
        let name = fields.slice(within(head, h.name.as_bytes()));
        let value = if h.value.contains(&b'\n') {
            unfold(h.value)
        } else {
            fields.slice(within(head, h.value))
        };
        headers.push_unchecked(name, value);
    }
    Ok(ResponseParts {
        status,
        reason,
        version,
        headers,
    })
}

/// The position of `part` inside `whole` (httparse hands out sub-slices of its input), so the
/// same range can be cut from our owned copy of the input.
fn within(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len());
    start..(start + part.len()).min(whole.len())
}

/// Replaces each obs-fold (line end plus leading whitespace) with one space.
fn unfold(value: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' | b'\n' => {
                while i < value.len() && matches!(value[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Bytes::from(out)
}

/// Parses a trailer section (header fields followed by a blank line), for chunked bodies.
pub(crate) fn parse_trailers(block: &[u8], limits: &Limits) -> Result<Headers, Error> {
    // httparse configures obs-fold handling only for whole responses, so the trailer fields are
    // parsed behind a stand-in status line: trailers follow exactly the same field rules as the
    // head (obs-fold unfolded, same limits) with one code path.
    let mut framed = Vec::with_capacity(block.len() + 17);
    framed.extend_from_slice(b"HTTP/1.1 200 T\r\n");
    framed.extend_from_slice(block);
    parse(&framed, limits)
        .map(|parts| parts.headers)
        .map_err(|e| {
            Error::protocol(format!(
                "malformed trailer section: {}",
                e.message().trim_start_matches("malformed response head: ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_whole(input: &[u8], limits: &Limits) -> Result<Option<(ResponseParts, usize)>, Error> {
        HeadReader::default().read(input, limits)
    }

    fn read_bytewise(
        input: &[u8],
        limits: &Limits,
    ) -> Result<Option<(ResponseParts, usize)>, Error> {
        let mut reader = HeadReader::default();
        for end in 1..=input.len() {
            if let Some(done) = reader.read(&input[..end], limits)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    const HEAD: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Multi: a\r\nx-multi: b\r\n\r\nbody";

    #[test]
    fn parses_a_head_whole_and_byte_by_byte_alike() {
        let limits = Limits::default();
        for read in [read_whole, read_bytewise] {
            let (parts, len) = read(HEAD, &limits).unwrap().unwrap();
            assert_eq!(len, HEAD.len() - 4);
            assert_eq!(parts.status, StatusCode::OK);
            assert_eq!(parts.reason, "OK");
            assert_eq!(parts.version, Version::HTTP_11);
            assert_eq!(parts.headers.get("content-type"), Some("text/plain"));
            assert_eq!(parts.headers.get_all("X-MULTI").count(), 2);
        }
    }

    #[test]
    fn accepts_bare_lf_leading_blank_lines_and_missing_reason() {
        let limits = Limits::default();
        let (parts, _) = read_bytewise(b"\r\nHTTP/1.0 204\nA: 1\n\n", &limits)
            .unwrap()
            .unwrap();
        assert_eq!(parts.status, StatusCode::NO_CONTENT);
        assert_eq!(parts.reason, "");
        assert_eq!(parts.version, Version::HTTP_10);
        assert_eq!(parts.headers.get("a"), Some("1"));
    }

    #[test]
    fn unfolds_obsolete_line_folding() {
        let (parts, _) = read_whole(
            b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n",
            &Limits::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(parts.headers.get("x"), Some("a b"));
    }

    #[test]
    fn enforces_limits_before_the_head_ends() {
        let limits = Limits {
            max_head_bytes: 32,
            ..Limits::default()
        };
        let long = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert!(
            read_bytewise(long, &limits)
                .unwrap_err()
                .to_string()
                .contains("larger than the limit")
        );
        let limits = Limits {
            max_headers: 2,
            ..Limits::default()
        };
        let many = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(
            read_whole(many, &limits)
                .unwrap_err()
                .to_string()
                .contains("header fields")
        );
    }

    #[test]
    fn leading_empty_lines_count_toward_the_limit_however_the_head_arrives() {
        let input = b"\r\n\r\n\n\nHTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
        for max_head_bytes in 16..=input.len() + 1 {
            let limits = Limits {
                max_head_bytes,
                ..Limits::default()
            };
            let whole = read_whole(input, &limits).map(|r| r.map(|(_, len)| len));
            let bytewise = read_bytewise(input, &limits).map(|r| r.map(|(_, len)| len));
            assert_eq!(
                whole.is_ok(),
                max_head_bytes >= input.len(),
                "limit {max_head_bytes}"
            );
            assert_eq!(
                whole.map_err(|e| e.to_string()),
                bytewise.map_err(|e| e.to_string()),
                "limit {max_head_bytes}"
            );
        }
    }

    #[test]
    fn rejects_malformed_heads() {
        for bad in [
            &b"HTTP/1.1 2000 OK\r\n\r\n"[..],
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
        ] {
            let e = read_whole(bad, &Limits::default()).unwrap_err();
            assert_eq!(
                e.kind(),
                crate::ErrorKind::Protocol,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn trailers_follow_the_head_rules() {
        let t = parse_trailers(b"X: a\r\n b\r\n\r\n", &Limits::default()).unwrap();
        assert_eq!(t.get("x"), Some("a b"));
        assert!(parse_trailers(b"Bad Field\r\n\r\n", &Limits::default()).is_err());
        let limits = Limits {
            max_headers: 1,
            ..Limits::default()
        };
        assert!(parse_trailers(b"A: 1\r\nB: 2\r\n\r\n", &limits).is_err());
    }

    #[test]
    fn parses_trailers() {
        let t = parse_trailers(b"X-Sum: 1\r\nY: 2\r\n\r\n", &Limits::default()).unwrap();
        assert_eq!(t.get("x-sum"), Some("1"));
        assert_eq!(t.len(), 2);
    }
}
