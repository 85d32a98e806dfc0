//! Decoding one response body according to its [`Framing`].
//!
//! A body cut short is always an error ("unexpected end of stream"), never a silently short
//! body: only a body framed by the connection's end may end at EOF.
//!
//! When the connection's buffer is empty and the body is in the middle of plain data (a
//! `Content-Length` body, a chunk's data, a close-delimited body), [`BodyDecoder::direct_limit`]
//! says how many bytes may be read from the socket straight into the caller's buffer: large
//! reads then skip the intermediate copy, and never read past the end of the response.

use crate::config::Limits;
use crate::http1::chunked::ChunkedDecoder;
use crate::http1::framing::Framing;
use crate::{Error, Headers};

/// The decoding state of one response body.
#[derive(Debug)]
pub(crate) enum BodyDecoder {
    /// Nothing (left) to read.
    Done,
    /// This many bytes left.
    Length(u64),
    Chunked(Box<ChunkedDecoder>),
    /// Until EOF.
    UntilClose,
}

impl BodyDecoder {
    pub(crate) fn new(framing: Framing) -> BodyDecoder {
        match framing {
            Framing::Empty | Framing::Length(0) => BodyDecoder::Done,
            Framing::Length(n) => BodyDecoder::Length(n),
            Framing::Chunked => BodyDecoder::Chunked(Box::new(ChunkedDecoder::new())),
            Framing::UntilClose => BodyDecoder::UntilClose,
        }
    }

    /// True when the whole body has been decoded.
    pub(crate) fn is_done(&self) -> bool {
        match self {
            BodyDecoder::Done => true,
            BodyDecoder::Chunked(c) => c.is_done(),
            _ => false,
        }
    }

    /// Decodes from `input` into `out`; returns (bytes consumed, bytes produced). Consumes
    /// nothing past the end of the body.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        limits: &Limits,
    ) -> Result<(usize, usize), Error> {
        match self {
            BodyDecoder::Done => Ok((0, 0)),
            BodyDecoder::Length(remaining) => {
                let n = (*remaining).min(input.len() as u64).min(out.len() as u64) as usize;
                out[..n].copy_from_slice(&input[..n]);
                *remaining -= n as u64;
                if *remaining == 0 {
                    *self = BodyDecoder::Done;
                }
                Ok((n, n))
            }
            BodyDecoder::Chunked(c) => c.decode(input, out, limits),
            BodyDecoder::UntilClose => {
                let n = input.len().min(out.len());
                out[..n].copy_from_slice(&input[..n]);
                Ok((n, n))
            }
        }
    }

    /// The connection reached EOF: fine for a close-delimited body, an error for any other body
    /// that is not finished.
    pub(crate) fn on_eof(&mut self) -> Result<(), Error> {
        match self {
            BodyDecoder::Done => Ok(()),
            BodyDecoder::UntilClose => {
                *self = BodyDecoder::Done;
                Ok(())
            }
            BodyDecoder::Length(remaining) => Err(Error::protocol(format!(
                "unexpected end of stream: the response body ended {remaining} bytes short of its Content-Length"
            ))),
            BodyDecoder::Chunked(c) if c.is_done() => Ok(()),
            BodyDecoder::Chunked(_) => Err(Error::protocol(
                "unexpected end of stream in a chunked response body",
            )),
        }
    }

    /// True when the body is its bytes as they arrive, with no framing to decode (a length, or
    /// up to the end of the connection).
    pub(crate) fn is_raw(&self) -> bool {
        matches!(self, BodyDecoder::Length(_) | BodyDecoder::UntilClose)
    }

    /// How many bytes may be read straight into the caller's buffer, if any.
    pub(crate) fn direct_limit(&self) -> Option<u64> {
        match self {
            BodyDecoder::Length(n) => Some(*n),
            BodyDecoder::Chunked(c) => c.data_remaining(),
            BodyDecoder::UntilClose => Some(u64::MAX),
            BodyDecoder::Done => None,
        }
    }

    /// The body bytes still to decode, when the framing tells exactly: a `Content-Length`
    /// body's rest, or nothing once done. Chunked and close-delimited bodies do not say.
    pub(crate) fn exact_remaining(&self) -> Option<u64> {
        match self {
            BodyDecoder::Length(n) => Some(*n),
            BodyDecoder::Done => Some(0),
            BodyDecoder::Chunked(_) | BodyDecoder::UntilClose => None,
        }
    }

    /// Accounts for `n` bytes read directly (`n` is at most [`direct_limit`](Self::direct_limit)).
    pub(crate) fn on_direct(&mut self, n: usize) {
        match self {
            BodyDecoder::Length(remaining) => {
                *remaining -= (n as u64).min(*remaining);
                if *remaining == 0 {
                    *self = BodyDecoder::Done;
                }
            }
            BodyDecoder::Chunked(c) => c.on_direct(n),
            BodyDecoder::UntilClose | BodyDecoder::Done => {}
        }
    }

    /// The trailer fields of a finished chunked body.
    pub(crate) fn take_trailers(&mut self) -> Option<Headers> {
        match self {
            BodyDecoder::Chunked(c) => c.take_trailers(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bodies_stop_at_their_end() {
        let mut d = BodyDecoder::new(Framing::Length(5));
        let mut out = [0u8; 16];
        let (c, p) = d
            .decode(b"helloEXTRA", &mut out, &Limits::default())
            .unwrap();
        assert_eq!((c, p), (5, 5));
        assert!(d.is_done());
    }

    #[test]
    fn eof_ends_only_close_delimited_bodies() {
        let mut d = BodyDecoder::new(Framing::UntilClose);
        assert!(d.on_eof().is_ok() && d.is_done());
        let mut d = BodyDecoder::new(Framing::Length(3));
        let e = d.on_eof().unwrap_err();
        assert!(e.to_string().contains("3 bytes short"), "{e}");
        let mut d = BodyDecoder::new(Framing::Chunked);
        assert!(d.on_eof().is_err());
    }

    #[test]
    fn direct_reads_never_pass_the_end() {
        let mut d = BodyDecoder::new(Framing::Length(10));
        assert_eq!(d.direct_limit(), Some(10));
        d.on_direct(10);
        assert!(d.is_done());
        assert_eq!(d.direct_limit(), None);
    }
}
