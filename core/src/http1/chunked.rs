//! The chunked transfer coding (RFC 9112 section 7.1), decoded incrementally.
//!
//! ```text
//!        ┌──────────── hex digits ─────────────┐
//!        ▼                                     │
//!  ┌──▶ Size ──[SP]* ';'──▶ Extension ──CR──▶ SizeLf ──LF──┐
//!  │     │ CR / LF ──────────────────────────────────────┤
//!  │     ▼                                              ▼
//!  │   size > 0: Data ──(size bytes)──▶ DataCr ──▶ DataLf        size == 0: Trailer ──blank line──▶ Done
//!  └───────────────────────────────────────────────────┘
//! ```
//!
//! Every state consumes what it can of the input and stops when the input or the output runs
//! out, so the decoder produces the same bytes however the input is split. The size line
//! (digits plus extensions, which are skipped, never kept) and the trailer section are bounded
//! by the client's [`Limits`], sizes that overflow a u64 are refused, and chunk data must be
//! followed by a line end. Bare LF is accepted wherever CRLF is expected, as RFC 9112 section
//! 2.2 allows a recipient to.

use crate::config::Limits;
use crate::http1::head::parse_trailers;
use crate::{Error, Headers, Limit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    /// Whitespace after the size digits: only `;` (an extension) or the line end may follow.
    SizeSpace,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    Done,
}

/// Decodes one chunked body.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// Size of the current chunk while reading its size line; bytes left of it in `Data`.
    size: u64,
    digits: usize,
    line_len: usize,
    trailer: Vec<u8>,
    trailers: Option<Headers>,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            trailer: Vec::new(),
            trailers: None,
        }
    }

    /// True once the last chunk and the trailer section have been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// While inside chunk data: how many data bytes remain in this chunk. A driver may read that
    /// many bytes straight into the caller's buffer.
    pub(crate) fn data_remaining(&self) -> Option<u64> {
        (self.state == State::Data && self.size > 0).then_some(self.size)
    }

    /// Accounts for `n` data bytes that were read directly into the caller's buffer.
    pub(crate) fn on_direct(&mut self, n: usize) {
        debug_assert!(self.state == State::Data && n as u64 <= self.size);
        self.size -= n as u64;
        if self.size == 0 {
            self.state = State::DataCr;
        }
    }

    /// The trailer fields, once the body is done.
    pub(crate) fn take_trailers(&mut self) -> Option<Headers> {
        self.trailers.take()
    }

    /// Decodes from `input` into `out`; returns (bytes consumed, bytes produced).
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        limits: &Limits,
    ) -> Result<(usize, usize), Error> {
        let mut i = 0;
        let mut o = 0;
        while i < input.len() && self.state != State::Done {
            if self.state == State::Data {
                let n = (self.size.min(usize::MAX as u64) as usize)
                    .min(input.len() - i)
                    .min(out.len() - o);
                if n == 0 {
                    break; // output full
                }
                out[o..o + n].copy_from_slice(&input[i..i + n]);
                i += n;
                o += n;
                self.size -= n as u64;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            if let Err(e) = self.step(input[i], limits) {
                // A failed step changes nothing, so the same byte fails again on the next call:
                // hand over the data decoded before it first, and the caller sees the same body
                // and then the same error however the input was split.
                if o > 0 {
                    return Ok((i, o));
                }
                return Err(e);
            }
            i += 1;
        }
        Ok((i, o))
    }

    /// Advances over one byte outside chunk data. On error nothing has changed.
    fn step(&mut self, b: u8, limits: &Limits) -> Result<(), Error> {
        match self.state {
            State::Size | State::SizeSpace | State::Extension => {
                let line_len = self.line_len + usize::from(b != b'\r' && b != b'\n');
                if line_len > limits.max_chunk_extension_bytes {
                    return Err(Error::limit_exceeded(
                        Limit::ChunkExtension,
                        limits.max_chunk_extension_bytes as u64,
                    ));
                }
                match (self.state, b) {
                    (State::Size, b) if b.is_ascii_hexdigit() => {
                        let digit = u64::from((b as char).to_digit(16).unwrap_or(0) as u8);
                        self.size = self
                            .size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(digit))
                            .ok_or_else(|| Error::protocol("chunk size overflows"))?;
                        self.digits += 1;
                    }
                    (_, b'\r') if self.digits > 0 => self.state = State::SizeLf,
                    (_, b'\n') if self.digits > 0 => self.end_size_line(),
                    (State::Size | State::SizeSpace, b' ' | b'\t') if self.digits > 0 => {
                        self.state = State::SizeSpace
                    }
                    (State::Size | State::SizeSpace, b';') if self.digits > 0 => {
                        self.state = State::Extension
                    }
                    (State::Extension, b) if b >= 0x20 || b == b'\t' => {}
                    (_, b) => {
                        return Err(Error::protocol(format!(
                            "invalid chunk size line (byte {:?})",
                            b as char
                        )));
                    }
                }
                self.line_len = line_len;
            }
            State::SizeLf => {
                if b != b'\n' {
                    return Err(Error::protocol("chunk size line not ended by CRLF"));
                }
                self.end_size_line();
            }
            State::DataCr => match b {
                b'\r' => self.state = State::DataLf,
                b'\n' => self.start_size(),
                _ => return Err(Error::protocol("chunk data not followed by CRLF")),
            },
            State::DataLf => {
                if b != b'\n' {
                    return Err(Error::protocol("chunk data not followed by CRLF"));
                }
                self.start_size();
            }
            State::Trailer => {
                if self.trailer.len() >= limits.max_trailer_bytes {
                    return Err(Error::limit_exceeded(
                        Limit::TrailerBytes,
                        limits.max_trailer_bytes as u64,
                    ));
                }
                self.trailer.push(b);
                if b == b'\n' {
                    let t = &self.trailer[..];
                    if t == b"\n" || t == b"\r\n" {
                        self.trailers = Some(Headers::new());
                        self.state = State::Done;
                    } else if t.ends_with(b"\n\n") || t.ends_with(b"\n\r\n") {
                        match parse_trailers(t, limits) {
                            Ok(trailers) => self.trailers = Some(trailers),
                            Err(e) => {
                                self.trailer.pop();
                                return Err(e);
                            }
                        }
                        self.trailer = Vec::new();
                        self.state = State::Done;
                    }
                }
            }
            State::Data | State::Done => {}
        }
        Ok(())
    }

    fn end_size_line(&mut self) {
        self.state = if self.size == 0 {
            State::Trailer
        } else {
            State::Data
        };
    }

    fn start_size(&mut self) {
        self.state = State::Size;
        self.size = 0;
        self.digits = 0;
        self.line_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` split into pieces of `piece` bytes, with an output buffer of `out_len`.
    fn decode(input: &[u8], piece: usize, out_len: usize) -> Result<(Vec<u8>, bool, usize), Error> {
        let limits = Limits::default();
        let mut d = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut consumed_total = 0;
        for chunk in input.chunks(piece.max(1)) {
            pending.extend_from_slice(chunk);
            loop {
                let mut out = vec![0u8; out_len];
                let (c, p) = d.decode(&pending, &mut out, &limits)?;
                pending.drain(..c);
                consumed_total += c;
                body.extend_from_slice(&out[..p]);
                if c == 0 && p == 0 {
                    break;
                }
            }
        }
        Ok((body, d.is_done(), consumed_total))
    }

    const BODY: &[u8] =
        b"5;name=value;flag\r\nhello\r\n000A\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";

    #[test]
    fn any_split_gives_the_same_body() {
        for piece in [1, 2, 3, 7, BODY.len()] {
            for out_len in [1, 4, 64] {
                let (body, done, consumed) = decode(BODY, piece, out_len).unwrap();
                assert_eq!(body, b"hello0123456789", "piece {piece} out {out_len}");
                assert!(done);
                assert_eq!(
                    consumed,
                    BODY.len() - 4,
                    "bytes after the body are not consumed"
                );
            }
        }
    }

    #[test]
    fn keeps_trailers() {
        let limits = Limits::default();
        let mut d = ChunkedDecoder::new();
        let mut out = [0u8; 16];
        d.decode(b"0\r\nX-A: 1\r\nX-B: 2\r\n\r\n", &mut out, &limits)
            .unwrap();
        assert!(d.is_done());
        let t = d.take_trailers().unwrap();
        assert_eq!(t.get("x-b"), Some("2"));
    }

    #[test]
    fn whitespace_after_the_size_may_only_lead_to_an_extension_or_the_line_end() {
        let (body, done, _) = decode(b"3 \t;ext=1\r\nabc\r\n0  \r\n\r\n", 1, 8).unwrap();
        assert_eq!(body, b"abc");
        assert!(done);
    }

    #[test]
    fn accepts_bare_lf() {
        let (body, done, _) = decode(b"3\nabc\n0\n\n", 1, 8).unwrap();
        assert_eq!(body, b"abc");
        assert!(done);
    }

    #[test]
    fn refuses_bad_framing() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b";ext\r\n",
            b"fffffffffffffffff1\r\n",
            b"3\r\nabcX\r\n",
            b"3\r\nabc\rX",
            b"3\rX",
            b"3;\x01\r\n",
            b"5 6\r\n",
            b"5 junk\r\n",
            b"5\tX\r\n",
        ] {
            let e = decode(bad, 1, 8).unwrap_err();
            assert_eq!(
                e.kind(),
                crate::ErrorKind::Protocol,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn the_size_line_and_the_trailer_are_bounded_by_their_limits() {
        let limits = Limits {
            max_chunk_extension_bytes: 8,
            max_trailer_bytes: 12,
            ..Limits::default()
        };
        let decode_all = |input: &[u8]| {
            let mut d = ChunkedDecoder::new();
            let mut out = [0u8; 16];
            let mut at = 0;
            while at < input.len() && !d.is_done() {
                let (c, _) = d.decode(&input[at..=at], &mut out, &limits)?;
                at += c;
            }
            Ok::<_, Error>(d.is_done())
        };
        // Eight bytes before the line end fit, nine do not; the line end is not counted.
        assert!(decode_all(b"1;abcdef\r\nx\r\n0\r\n\r\n").unwrap());
        let e = decode_all(b"1;abcdefg\r\nx\r\n0\r\n\r\n").unwrap_err();
        assert_eq!(e.limit(), Some(Limit::ChunkExtension));
        assert!(e.to_string().contains("max_chunk_extension_bytes"), "{e}");
        // Leading zeros count too, so a size line cannot run forever.
        let zeros = [&b"0"[..]; 9].concat();
        let e = decode_all(&zeros).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::ChunkExtension));

        // The trailer section counts its blank line: 12 bytes fit, 13 do not.
        assert!(decode_all(b"0\r\nA: 12345\r\n\r\n").unwrap());
        let e = decode_all(b"0\r\nA: 123456\r\n\r\n").unwrap_err();
        assert_eq!(e.limit(), Some(Limit::TrailerBytes));
        assert!(e.to_string().contains("max_trailer_bytes"), "{e}");
    }

    #[test]
    fn data_before_an_error_is_delivered_first_however_the_input_is_split() {
        for bad in [
            &b"5\r\nhelloXX0\r\n\r\n"[..],
            b"5\r\nhello\r\nzz\r\n",
            b"5\r\nhello\r\n0\r\nBad Field\r\n\r\n",
        ] {
            for piece in [1, 3, bad.len()] {
                let limits = Limits::default();
                let mut d = ChunkedDecoder::new();
                let mut body = Vec::new();
                let mut pending = Vec::new();
                let mut error = None;
                'feed: for chunk in bad.chunks(piece) {
                    pending.extend_from_slice(chunk);
                    loop {
                        let mut out = [0u8; 64];
                        match d.decode(&pending, &mut out, &limits) {
                            Ok((0, 0)) => break,
                            Ok((c, p)) => {
                                pending.drain(..c);
                                body.extend_from_slice(&out[..p]);
                            }
                            Err(e) => {
                                error = Some(e);
                                break 'feed;
                            }
                        }
                    }
                }
                let name = String::from_utf8_lossy(bad);
                assert_eq!(body, b"hello", "{name} in pieces of {piece}");
                assert!(error.is_some(), "{name} in pieces of {piece}");
            }
        }
    }

    #[test]
    fn direct_reads_account_for_chunk_data() {
        let limits = Limits::default();
        let mut d = ChunkedDecoder::new();
        let mut out = [0u8; 0];
        let (c, _) = d.decode(b"a\r\n", &mut out, &limits).unwrap();
        assert_eq!(c, 3);
        assert_eq!(d.data_remaining(), Some(10));
        d.on_direct(4);
        assert_eq!(d.data_remaining(), Some(6));
        d.on_direct(6);
        assert_eq!(d.data_remaining(), None);
        let mut out = [0u8; 4];
        d.decode(b"\r\n0\r\n\r\n", &mut out, &limits).unwrap();
        assert!(d.is_done());
    }
}
