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
//! out, so the decoder produces the same bytes however the input is split. The size line is
//! bounded (digits plus extensions), sizes that overflow a u64 are refused, and chunk data must
//! be followed by a line end. Bare LF is accepted wherever CRLF is expected, as RFC 9112 section
//! 2.2 allows a recipient to.

use crate::http1::head::{Limits, parse_trailers};
use crate::{Error, Headers};

/// The longest size line (digits, extensions, line end) accepted.
const MAX_SIZE_LINE: usize = 4096;

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
            let b = input[i];
            i += 1;
            self.step(b, limits)?;
        }
        Ok((i, o))
    }

    /// Advances over one byte outside chunk data.
    fn step(&mut self, b: u8, limits: &Limits) -> Result<(), Error> {
        match self.state {
            State::Size | State::SizeSpace | State::Extension => {
                self.line_len += 1;
                if self.line_len > MAX_SIZE_LINE {
                    return Err(Error::protocol("chunk size line too long"));
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
                self.trailer.push(b);
                if self.trailer.len() > limits.max_head_bytes {
                    return Err(Error::protocol(
                        "trailer section larger than the response head limit",
                    ));
                }
                if b == b'\n' {
                    let t = &self.trailer[..];
                    if t == b"\n" || t == b"\r\n" {
                        self.trailers = Some(Headers::new());
                        self.state = State::Done;
                    } else if t.ends_with(b"\n\n") || t.ends_with(b"\n\r\n") {
                        self.trailers = Some(parse_trailers(t, limits)?);
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
        let long = [b"1".as_slice(), &[b';'; MAX_SIZE_LINE]].concat();
        assert!(decode(&long, 64, 8).is_err());
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
