//! Receiving the response: interim responses, the final head, and the body as the caller reads.
//!
//! Interim (1xx) responses are skipped, a `100 Continue` releases a held body, and the head
//! reader accepts at most `max_interim_responses`. The final head decides the body's framing and whether
//! the connection can be reused; the body is then decoded only as fast as the caller reads it,
//! so memory stays bounded by the connection's receive buffer.

use std::io;

use http::StatusCode;

use super::{BodyRead, Call, State};
use crate::events::EventKind;
use crate::http1::body::BodyDecoder;
use crate::http1::framing;
use crate::response::ResponseParts;
use crate::{Error, Now, Response};

impl Call {
    /// `n` bytes arrived in the buffer `Output::Receive` offered (0 = EOF).
    pub(super) fn received(&mut self, n: usize) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        self.io = None;
        if let Err(e) = conn.on_received(n) {
            return self.fail(e);
        }
        match self.state {
            State::Handshake => {
                if !conn.is_handshaking() {
                    if let Some(n) = conn.negotiated() {
                        self.event(EventKind::SecureConnectEnd {
                            version: n.version,
                            cipher_suite: n.cipher_suite,
                            alpn: n.alpn,
                        });
                    }
                    self.begin_exchange();
                } else if conn.is_eof() {
                    self.fail(Error::tls(
                        rustls::Error::General(
                            "the server closed the connection during the TLS handshake".into(),
                        ),
                        self.address.host(),
                    ));
                }
            }
            State::AwaitContinue | State::ReadHead => self.read_head(),
            State::Body => self.want_receive = false,
            _ => {}
        }
    }

    /// A read failed.
    pub(super) fn read_failed(&mut self, e: io::Error) {
        match self.state {
            State::AwaitContinue | State::ReadHead if self.can_retry() => {
                let reason = Error::io(format!("reading the response failed: {e}"), Some(e));
                self.retry(reason);
            }
            State::AwaitContinue | State::ReadHead if self.write_error.is_some() => {
                let error = self
                    .write_error
                    .take()
                    .unwrap_or_else(|| Error::io("write failed", None));
                self.fail(error);
            }
            State::Body => {
                self.fail(Error::io(
                    format!("the connection failed while reading the response body: {e}"),
                    Some(e),
                ));
            }
            _ => self.fail(Error::io(
                format!("reading the response failed: {e}"),
                Some(e),
            )),
        }
    }

    /// Parses response heads from the received bytes: interim ones are skipped, the final one
    /// is delivered.
    fn read_head(&mut self) {
        let limits = self.shared.config.limits;
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            if !conn.inbound_data().is_empty() {
                self.response_started = true;
            }
            let parts = match self.head.read(conn.inbound_data(), &limits) {
                Err(e) => return self.fail(e),
                Ok(None) => {
                    if conn.is_eof() {
                        self.eof_before_head();
                    }
                    return;
                }
                Ok(Some((parts, len))) => {
                    conn.inbound().consume(len);
                    parts
                }
            };
            // The head reader has counted interim heads against the limits.
            if parts.status.is_informational() && parts.status != StatusCode::SWITCHING_PROTOCOLS {
                self.event(EventKind::InterimResponse {
                    status: parts.status,
                });
                if parts.status == StatusCode::CONTINUE && self.state == State::AwaitContinue {
                    return self.release_held_body();
                }
                continue;
            }
            return self.finish_head(parts);
        }
    }

    /// The connection ended before a complete response head.
    fn eof_before_head(&mut self) {
        if self.response_started {
            return self.fail(Error::protocol(
                "unexpected end of stream in the response head",
            ));
        }
        let reason = Error::io(
            "the server closed the connection without sending a response",
            None,
        );
        if self.can_retry() {
            self.retry(reason);
        } else if let Some(error) = self.write_error.take() {
            self.fail(error);
        } else {
            self.fail(reason);
        }
    }

    /// The final response head arrived.
    fn finish_head(&mut self, parts: ResponseParts) {
        if parts.status == StatusCode::SWITCHING_PROTOCOLS
            && !self.request.headers().contains("upgrade")
        {
            return self.fail(Error::protocol(
                "unexpected 101 Switching Protocols to a request that did not ask to upgrade",
            ));
        }
        let wants_close = self.request.headers().has_token("connection", "close");
        let plan = match framing::plan(
            self.request.method_ref(),
            parts.status,
            parts.version,
            &parts.headers,
            wants_close,
        ) {
            Ok(plan) => plan,
            Err(e) => return self.fail(e),
        };
        // A final response before the body was sent (Expect: 100-continue answered with, say,
        // 417, or an early answer after a failed write) leaves the request's framing unfinished:
        // the connection cannot carry another request.
        let body_skipped = self.state == State::AwaitContinue || self.write_error.is_some();
        let upgraded = parts.status == StatusCode::SWITCHING_PROTOCOLS;
        self.reusable = plan.reusable && !body_skipped && !upgraded;
        self.decoder = BodyDecoder::new(if upgraded {
            framing::Framing::Empty
        } else {
            plan.framing
        });
        self.write_error = None;
        if self.events_on {
            self.event(EventKind::ResponseHeadersEnd {
                status: parts.status,
                version: parts.version,
                reason: parts.reason.clone(),
                headers: parts.headers.clone(),
            });
        }
        let response =
            Response::from_parts(parts, self.request.clone(), self.sent_at, self.now.wall);
        self.delivery = Some(response);
        self.state = State::Deliver;
    }

    /// Reads response body bytes into `buf`. See [`BodyRead`].
    pub fn read_body(&mut self, now: Now, buf: &mut [u8]) -> Result<BodyRead, Error> {
        self.tick(now);
        match self.state {
            State::Body => {}
            State::Release | State::Done => return Ok(BodyRead::End),
            State::Failed => return Err(self.failure.clone().unwrap_or_else(Error::canceled)),
            _ => {
                return Err(Error::invalid_input(
                    "the response body is not available yet",
                ));
            }
        }
        if self.call_deadline.is_some_and(|d| self.now.mono >= d) {
            self.handle_timeout(now);
            return Err(self.failure.clone().unwrap_or_else(Error::canceled));
        }
        if buf.is_empty() {
            return Ok(BodyRead::Data(0));
        }
        let limits = self.shared.config.limits;
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(BodyRead::End);
            };
            let data = conn.inbound_data();
            if !data.is_empty() {
                let (consumed, produced) = match self.decoder.decode(data, buf, &limits) {
                    Ok(progress) => progress,
                    Err(e) => {
                        self.fail(e.clone());
                        return Err(self.failure.clone().unwrap_or(e));
                    }
                };
                conn.inbound().consume(consumed);
                self.body_read += produced as u64;
                if self.decoder.is_done() {
                    self.finish_body();
                    return Ok(if produced > 0 {
                        BodyRead::Data(produced)
                    } else {
                        BodyRead::End
                    });
                }
                if produced > 0 {
                    return Ok(BodyRead::Data(produced));
                }
                if consumed > 0 {
                    continue;
                }
            }
            if conn.is_eof() {
                return match self.decoder.on_eof() {
                    Ok(()) => {
                        self.finish_body();
                        Ok(BodyRead::End)
                    }
                    Err(e) => {
                        self.fail(e.clone());
                        Err(self.failure.clone().unwrap_or(e))
                    }
                };
            }
            let direct = conn
                .can_read_direct()
                .then(|| self.decoder.direct_limit())
                .flatten();
            self.want_receive = true;
            self.arm(super::Wait::Read);
            return Ok(match direct {
                Some(limit) => BodyRead::Direct(limit.min(buf.len() as u64) as usize),
                None => BodyRead::Pending,
            });
        }
    }

    /// Answers [`BodyRead::Direct`]: the driver read `n` bytes (0 = EOF) from the socket into
    /// the caller's buffer. Returns how many of them are body bytes for the caller; 0 means none
    /// this time (the body ended, or the socket was not ready): call [`Call::read_body`] again,
    /// which reports [`BodyRead::End`] once the body is over.
    pub fn handle_direct_read(
        &mut self,
        now: Now,
        result: io::Result<usize>,
    ) -> Result<usize, Error> {
        self.tick(now);
        if self.state != State::Body {
            return match &self.failure {
                Some(e) => Err(e.clone()),
                None => Ok(0),
            };
        }
        let n = match result {
            Ok(n) => n,
            // Not ready: nothing happened; the caller asks `read_body` again.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(0);
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::TimedOut {
                    self.check_deadlines();
                } else {
                    self.read_failed(e);
                }
                return match &self.failure {
                    Some(failure) => Err(failure.clone()),
                    None => Ok(0),
                };
            }
        };
        self.io = None;
        self.want_receive = false;
        let Some(conn) = self.conn.as_mut() else {
            return Ok(0);
        };
        if n == 0 {
            conn.on_direct_received(0);
            return match self.decoder.on_eof() {
                Ok(()) => {
                    self.finish_body();
                    Ok(0)
                }
                Err(e) => {
                    self.fail(e.clone());
                    Err(self.failure.clone().unwrap_or(e))
                }
            };
        }
        let limit = self.decoder.direct_limit().unwrap_or(0);
        if n as u64 > limit {
            self.fail(Error::invalid_input(
                "the driver read past the end of the response body",
            ));
            return Err(self.failure.clone().unwrap_or_else(Error::canceled));
        }
        self.decoder.on_direct(n);
        self.body_read += n as u64;
        if self.decoder.is_done() {
            self.finish_body();
        }
        Ok(n)
    }

    /// Finishes the body from bytes already received, without I/O, discarding them: a caller
    /// that drops a response whose body fully arrived still lets its connection be reused.
    /// Returns true if the body is complete (then drain [`Call::poll_output`] for the release).
    pub fn discard_buffered_body(&mut self, now: Now) -> bool {
        self.tick(now);
        if self.state != State::Body {
            return matches!(self.state, State::Release | State::Done);
        }
        let limits = self.shared.config.limits;
        let mut scratch = [0u8; 4096];
        while let Some(conn) = self.conn.as_mut() {
            let data = conn.inbound_data();
            if data.is_empty() {
                return false;
            }
            match self.decoder.decode(data, &mut scratch, &limits) {
                Ok((consumed, produced)) => {
                    conn.inbound().consume(consumed);
                    self.body_read += produced as u64;
                    if self.decoder.is_done() {
                        self.finish_body();
                        return true;
                    }
                    if consumed == 0 {
                        return false;
                    }
                }
                Err(e) => {
                    self.fail(e);
                    return false;
                }
            }
        }
        false
    }

    /// The body is complete: decide whether the connection goes back to the pool.
    pub(super) fn finish_body(&mut self) {
        self.trailers = self.decoder.take_trailers();
        self.want_receive = false;
        self.io = None;
        self.event(EventKind::ResponseBodyEnd {
            bytes: self.body_read,
        });
        let conn = self.conn.take();
        if let Some(conn) = conn {
            let pooled = self.reusable && conn.is_clean();
            self.event(EventKind::ConnectionReleased {
                conn: conn.id(),
                pooled,
            });
            if pooled {
                self.releasing = Some(conn);
            }
        }
        self.event(EventKind::CallEnd);
        self.state = State::Release;
    }
}
