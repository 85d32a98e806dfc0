//! Entry points for the fuzz targets in `fuzz/` and the corpus replay test. Not a stable API.
//!
//! Each entry point feeds arbitrary bytes to a decoder and checks the properties that must hold
//! for every input: no panic, bounded work, and the same outcome however the input is split
//! into reads (whole, byte by byte, odd-sized pieces).

#![doc(hidden)]

use http::Method;

pub use crate::cookies::fuzzing::{cookie_date, netscape_file, set_cookie};

use crate::http1::body::BodyDecoder;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::framing;
use crate::http1::head::{HeadReader, Limits};

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
}
