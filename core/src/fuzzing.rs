//! Entry points for the fuzz targets in `fuzz/` and the corpus replay test. Not a stable API.
//!
//! Each entry point feeds arbitrary bytes to a decoder and checks the properties that must hold
//! for every input: no panic, bounded work, and the same outcome however the input is split
//! into reads (whole, byte by byte, odd-sized pieces), or, for the cache's parsers, that what
//! was read is written back and read again unchanged.

#![doc(hidden)]

use std::time::{Duration, SystemTime};

use http::Method;

use crate::Request;
use crate::cache::{CacheControl, CacheStrategy, Entry, Freshness};
use crate::config::Limits;

use crate::http1::body::BodyDecoder;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::framing;
use crate::http1::head::{HeadReader, is_interim};

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
        // Above the head parser's stack room, so both its paths and the limit are exercised.
        max_headers: Some(100),
        max_interim_responses: 8,
        max_chunk_extension_bytes: 1024,
        max_trailer_bytes: 16 * 1024,
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
    let (parts, mut decoder, reusable) = loop {
        match reader.read(&buf, &limits).map_err(|e| e.to_string())? {
            Some((parts, len)) => {
                buf.drain(..len);
                // The reader counts interim heads against the limits; 101 is a final response
                // (the client refuses it unless it asked to upgrade).
                if is_interim(parts.status) {
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
}
