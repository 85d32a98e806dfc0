//! Receiving the response: interim responses, the final head, and the body as the caller reads.
//!
//! Interim (1xx) responses are skipped, a `100 Continue` releases a held body, and the head
//! reader accepts at most `max_interim_responses` (counting them toward the head size limit). The final head decides the body's framing and whether
//! the connection can be reused; the body is then decoded only as fast as the caller reads it,
//! so memory stays bounded by the connection's receive buffer.

use std::io;

use http::StatusCode;

use super::{Cx, Exchange, State};
use crate::connection::Connection;
use crate::events::EventKind;
use crate::http1::body::BodyDecoder;
use crate::http1::framing;
use crate::response::ResponseParts;
use crate::{Error, Limits};

/// The most body bytes left that are read through the connection's buffer rather than
/// straight into the caller's (see `read_body`): the buffer's initial size.
const SMALL_REST: u64 = crate::connection::buffer::INITIAL as u64;

/// A final response head, with what the exchange learned about its body.
#[derive(Debug)]
pub(crate) struct Head {
    pub parts: ResponseParts,
    /// The response has no body at all (HEAD, 204, 304, an empty length...).
    pub bodiless: bool,
}

/// The result of reading body bytes into a caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyProgress {
    /// This many bytes were copied into the buffer.
    Data(usize),
    /// Nothing is buffered: read at most this many bytes from the socket straight into the
    /// caller's buffer.
    Direct(usize),
    /// More bytes must arrive first.
    Pending,
    /// The body is complete.
    End,
}

impl Exchange {
    /// Bytes arrived on `conn` (already fed to it): look for the response head. Returns the
    /// final head once it is complete.
    pub(crate) fn on_received(
        &mut self,
        conn: &mut Connection,
        cx: &mut Cx<'_>,
    ) -> Result<Option<Head>, Error> {
        match self.state {
            State::AwaitContinue | State::ReadHead | State::Send => self.read_head(conn, cx),
            State::Body | State::Done => Ok(None),
        }
    }

    /// Parses response heads from the received bytes: interim ones are skipped, the final one
    /// is returned.
    fn read_head(&mut self, conn: &mut Connection, cx: &mut Cx<'_>) -> Result<Option<Head>, Error> {
        let limits = cx.config.limits;
        loop {
            if !conn.inbound_data().is_empty() {
                self.response_started = true;
            }
            let (parts, head_len) = match self.head.read(conn.inbound_data(), &limits)? {
                None => {
                    if conn.is_eof() {
                        return Err(self.eof_before_head());
                    }
                    return Ok(None);
                }
                Some((parts, len)) => {
                    conn.inbound().consume(len);
                    (parts, len)
                }
            };
            // The head reader has counted interim heads against the limits.
            if parts.status.is_informational() && parts.status != StatusCode::SWITCHING_PROTOCOLS {
                self.interim_head(parts, conn, cx)?;
                continue;
            }
            if self.state == State::Send {
                // A final answer while the body is still going out (say, 413 before the whole
                // upload): stop sending; the request framing is unfinished, so the connection
                // will not be reused.
                conn.discard_output();
                self.send.held_for_continue = false;
                self.send.need_pull = false;
            }
            let head = self.finish_head(parts, conn, cx)?;
            // The response's size, when the head says it, picks the buffer the connection's
            // next response is read through.
            let len = self
                .body_remaining()
                .map(|n| n.saturating_add(head_len as u64));
            conn.note_response_len(len);
            return Ok(Some(head));
        }
    }

    /// An interim (1xx) head arrived: told to the listener, and a `100 Continue` releases a
    /// body held for it. Out of line, as are the other rare branches on the way to the final
    /// head: their code would otherwise sit among the lines every response runs through.
    #[inline(never)]
    fn interim_head(
        &mut self,
        parts: ResponseParts,
        conn: &mut Connection,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        let status = parts.status;
        cx.events.emit(cx.now.mono, || EventKind::InterimResponse {
            status,
            version: parts.version,
            reason: parts.reason.into_owned(),
            headers: parts.headers,
        });
        if status == StatusCode::CONTINUE && self.state == State::AwaitContinue {
            self.release_held_body(conn, cx)?;
        }
        Ok(())
    }

    /// The connection ended before a complete response head.
    fn eof_before_head(&mut self) -> Error {
        if self.response_started {
            return Error::protocol("unexpected end of stream in the response head");
        }
        self.write_error.take().unwrap_or_else(|| {
            Error::io(
                "the server closed the connection without sending a response",
                None,
            )
        })
    }

    /// A read failed before the body.
    pub(crate) fn on_read_error(&mut self, e: io::Error) -> Error {
        match self.state {
            State::Body => Error::io(
                format!("the connection failed while reading the response body: {e}"),
                Some(e),
            ),
            _ => match self.write_error.take() {
                Some(write_error) if !self.response_started => write_error,
                _ => Error::io(format!("reading the response failed: {e}"), Some(e)),
            },
        }
    }

    /// The final response head arrived.
    fn finish_head(
        &mut self,
        parts: ResponseParts,
        conn: &mut Connection,
        cx: &mut Cx<'_>,
    ) -> Result<Head, Error> {
        if parts.status == StatusCode::SWITCHING_PROTOCOLS && !self.request.contains("upgrade") {
            return Err(Error::protocol(
                "unexpected 101 Switching Protocols to a request that did not ask to upgrade",
            ));
        }
        let wants_close = self.request.has_token("connection", "close");
        let plan = framing::plan(
            self.request.method(),
            parts.status,
            parts.version,
            &parts.headers,
            wants_close,
        )?;
        // A final response before the body was sent (Expect: 100-continue answered with, say,
        // 417, or an early answer after a failed write) leaves the request's framing unfinished:
        // the connection cannot carry another request.
        let body_skipped = self.state != State::ReadHead || self.write_error.is_some();
        let upgraded = parts.status == StatusCode::SWITCHING_PROTOCOLS;
        self.reusable = plan.reusable && !body_skipped && !upgraded;
        self.upgraded = upgraded;
        self.decoder = BodyDecoder::new(if upgraded {
            framing::Framing::Empty
        } else {
            plan.framing
        });
        self.write_error = None;
        self.state = State::Body;
        if cx.events.is_on() {
            head_event(&parts, cx);
        }
        let bodiless = self.decoder.is_done();
        if bodiless {
            self.state = State::Done;
        } else if self.decoder.is_raw() {
            // Over TLS, body bytes that need no decoding go from the session straight to the
            // caller's buffer: one copy fewer than through the connection's buffer.
            conn.set_plain_direct(true)?;
        }
        Ok(Head { parts, bodiless })
    }

    /// True once the response body has ended.
    pub(crate) fn is_body_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many body bytes are still to come, when the framing says exactly (a
    /// `Content-Length` body, or one that has ended).
    pub(crate) fn body_remaining(&self) -> Option<u64> {
        match self.state {
            State::Done => Some(0),
            State::Body => self.decoder.exact_remaining(),
            _ => None,
        }
    }

    fn end_body(&mut self, conn: &mut Connection) -> Result<(), Error> {
        self.trailers = self.decoder.take_trailers().map(Box::new);
        self.state = State::Done;
        conn.set_plain_direct(false)
    }

    /// Reads response body bytes from what `conn` has buffered into `buf`.
    pub(crate) fn read_body(
        &mut self,
        conn: &mut Connection,
        buf: &mut [u8],
        limits: &Limits,
    ) -> Result<BodyProgress, Error> {
        match self.state {
            State::Body => {}
            State::Done => return Ok(BodyProgress::End),
            _ => {
                return Err(Error::invalid_input(
                    "the response body is not available yet",
                ));
            }
        }
        if buf.is_empty() {
            return Ok(BodyProgress::Data(0));
        }
        loop {
            let data = conn.inbound_data();
            if !data.is_empty() {
                let (consumed, produced) = self.decoder.decode(data, buf, limits)?;
                conn.inbound().consume(consumed);
                self.body_read += produced as u64;
                if self.decoder.is_done() {
                    self.end_body(conn)?;
                    return Ok(if produced > 0 {
                        BodyProgress::Data(produced)
                    } else {
                        BodyProgress::End
                    });
                }
                if produced > 0 {
                    return Ok(BodyProgress::Data(produced));
                }
                if consumed > 0 {
                    continue;
                }
            }
            if conn.is_plain_direct() {
                let limit = self.decoder.direct_limit().unwrap_or(0);
                let max = limit.min(buf.len() as u64) as usize;
                let n = if max > 0 {
                    conn.read_plain(&mut buf[..max])?
                } else {
                    0
                };
                if n > 0 {
                    self.decoder.on_direct(n);
                    self.body_read += n as u64;
                    if self.decoder.is_done() {
                        self.end_body(conn)?;
                    }
                    return Ok(BodyProgress::Data(n));
                }
            }
            if conn.is_eof() {
                self.decoder.on_eof()?;
                self.end_body(conn)?;
                return Ok(BodyProgress::End);
            }
            // A rest of the body that fits the connection's buffer is read there instead: that
            // read can come back short, which tells an async runtime's reactor the socket is
            // drained. One that exactly fills its buffer (a direct read of exactly the rest)
            // leaves the readiness set, and releasing the connection then costs a peek. The
            // copy this adds is at most `SMALL_REST` bytes.
            let direct = conn
                .can_read_direct()
                .then(|| self.decoder.direct_limit())
                .flatten();
            let direct = match direct {
                Some(rest) if rest <= SMALL_REST => {
                    // It fits the buffer as it is: a full read before it is no reason to grow.
                    conn.inbound().note_fill(false);
                    None
                }
                other => other,
            };
            return Ok(match direct {
                Some(limit) => BodyProgress::Direct(limit.min(buf.len() as u64) as usize),
                None => BodyProgress::Pending,
            });
        }
    }

    /// The driver read `n` bytes (0 = EOF) from the socket straight into the caller's buffer,
    /// as [`BodyProgress::Direct`] allowed. Returns how many of them are body bytes.
    pub(crate) fn on_direct_read(
        &mut self,
        conn: &mut Connection,
        n: usize,
    ) -> Result<usize, Error> {
        if self.state != State::Body {
            return Ok(0);
        }
        if n == 0 {
            conn.on_direct_received(0);
            self.decoder.on_eof()?;
            self.end_body(conn)?;
            return Ok(0);
        }
        let limit = self.decoder.direct_limit().unwrap_or(0);
        if n as u64 > limit {
            return Err(Error::invalid_input(
                "the driver read past the end of the response body",
            ));
        }
        self.decoder.on_direct(n);
        self.body_read += n as u64;
        if self.decoder.is_done() {
            self.end_body(conn)?;
        }
        Ok(n)
    }

    /// Decodes and drops body bytes already buffered, without I/O. Returns true once the body
    /// has ended.
    pub(crate) fn discard_buffered(
        &mut self,
        conn: &mut Connection,
        limits: &Limits,
    ) -> Result<bool, Error> {
        let mut scratch = [0u8; 4096];
        loop {
            match self.read_body(conn, &mut scratch, limits)? {
                BodyProgress::End => return Ok(true),
                BodyProgress::Data(_) => {}
                BodyProgress::Direct(_) | BodyProgress::Pending => return Ok(false),
            }
        }
    }
}

/// Tells the listener the final head arrived (out of line: most calls have no listener).
#[inline(never)]
fn head_event(parts: &ResponseParts, cx: &mut Cx<'_>) {
    cx.events
        .emit(cx.now.mono, || EventKind::ResponseHeadersEnd {
            status: parts.status,
            version: parts.version,
            reason: parts.reason.to_string(),
            headers: parts.headers.clone(),
        });
}
