//! Sending the request: head, then body, with `Expect: 100-continue` holding the body back.
//!
//! Bytes are queued on the connection and leave through [`Output::Transmit`]. The head and a
//! small body are queued together so a typical request is one write. A body larger than
//! [`SHARE_MIN`] on a plain connection is sent straight from the caller's `Bytes` without a copy;
//! on TLS it is encrypted [`PIECE`] bytes at a time as the socket drains, so memory stays bounded.
//! A streamed body is pulled from the driver ([`Output::PullBody`]) while less than
//! [`LOW_WATER`] bytes wait to be written, framed with `Content-Length` (checked against the
//! bytes actually produced) or as chunks.

use std::io;

use super::{Call, Output, State};
use crate::Error;
use crate::body::BodyShape;
use crate::events::EventKind;
use crate::http1::encode::{RequestFraming, chunk_header, encode_head};

/// Pull more body while fewer bytes than this wait to be written.
const LOW_WATER: usize = 64 * 1024;
/// Bytes bodies larger than this go out without a copy on plain connections.
const SHARE_MIN: usize = 64 * 1024;
/// Largest piece of a bytes body encrypted at once.
const PIECE: usize = 64 * 1024;
/// Largest piece pulled from a streamed body.
const PULL_MAX: usize = 32 * 1024;
/// Room before pulled data for a chunk-size line (16 hex digits + CRLF).
const PREFIX: usize = 18;

impl Call {
    /// The connection is ready: queue the request head and start on the body.
    pub(super) fn begin_exchange(&mut self) {
        self.event(EventKind::RequestHeadersStart);
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        conn.begin_exchange();
        let user_agent = self.shared.config.user_agent.as_deref();
        let mut sent = self.events_on.then(crate::Headers::new);
        let queued = match conn.plain_outbound() {
            Some(out) => {
                encode_head(out, &self.request, self.framing, user_agent, sent.as_mut());
                Ok(())
            }
            None => {
                let mut head = Vec::with_capacity(256);
                encode_head(
                    &mut head,
                    &self.request,
                    self.framing,
                    user_agent,
                    sent.as_mut(),
                );
                conn.queue(&head)
            }
        };
        if let Err(e) = queued {
            return self.fail(e);
        }
        self.sent_at = self.now.wall;
        if let Some(headers) = sent {
            let url = self.request.url();
            let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
            let line = format!("{} {target} HTTP/1.1", self.request.method_ref());
            self.event(EventKind::RequestHeadersEnd { line, headers });
        }
        self.send.held_for_continue = self.expect_continue;
        self.state = State::Send;
        self.advance_send();
    }

    /// Queues as much of the body as is sensible and moves to the next state once everything is
    /// handed to the connection and written.
    pub(super) fn advance_send(&mut self) {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            if self.send.held_for_continue {
                if !conn.has_output() {
                    self.state = State::AwaitContinue;
                    self.event(EventKind::ResponseHeadersStart);
                }
                return;
            }
            if self.send.done {
                if !conn.has_output() {
                    if !matches!(self.body, BodyShape::None) {
                        self.event(EventKind::RequestBodyEnd {
                            bytes: self.send.sent,
                        });
                    }
                    self.state = State::ReadHead;
                    self.event(EventKind::ResponseHeadersStart);
                }
                return;
            }
            if conn.queued() >= LOW_WATER {
                return;
            }
            match &self.body {
                BodyShape::None => self.send.done = true,
                BodyShape::Stream { .. } => {
                    self.send.need_pull = true;
                    return;
                }
                BodyShape::Bytes(bytes) => {
                    let bytes = bytes.clone();
                    let pos = self.send.bytes_pos;
                    if pos == 0 && !bytes.is_empty() {
                        self.event(EventKind::RequestBodyStart);
                    }
                    let rest = bytes.len() - pos;
                    let Some(conn) = self.conn.as_mut() else {
                        return;
                    };
                    if rest == 0 {
                        self.send.done = true;
                    } else if !conn.is_tls() && rest > SHARE_MIN {
                        conn.queue_shared(bytes.slice(pos..));
                        self.send.bytes_pos = bytes.len();
                    } else {
                        let n = rest.min(PIECE);
                        if let Err(e) = conn.queue(&bytes[pos..pos + n]) {
                            return self.fail(e);
                        }
                        self.send.bytes_pos += n;
                    }
                    self.send.sent = self.send.bytes_pos as u64;
                }
            }
        }
    }

    /// The output while sending: pull body bytes while there is room, else transmit.
    pub(super) fn poll_send(&mut self) -> Result<Output<'_>, Error> {
        let queued = self.conn.as_ref().map_or(0, |c| c.queued());
        if self.send.need_pull && queued < LOW_WATER {
            if self.send.pull.is_empty() {
                self.send.pull = vec![0; PREFIX + PULL_MAX + 2];
            }
            return Ok(Output::PullBody(
                &mut self.send.pull[PREFIX..PREFIX + PULL_MAX],
            ));
        }
        self.poll_io(false)
    }

    /// Answers [`Output::PullBody`] with the number of bytes read (0 = end of body), or the
    /// body source's error.
    pub fn handle_body_pulled(&mut self, now: crate::Now, result: io::Result<usize>) {
        self.tick(now);
        if self.state != State::Send || !self.send.need_pull {
            return;
        }
        self.send.need_pull = false;
        let n = match result {
            Ok(n) if n <= PULL_MAX => n,
            Ok(n) => {
                return self.fail(Error::invalid_input(format!(
                    "body source reported {n} bytes for a smaller buffer"
                )));
            }
            Err(e) => {
                let error = Error::io(format!("reading the request body failed: {e}"), Some(e));
                return self.fail(error.with_phase(crate::Phase::RequestBody));
            }
        };
        let declared = match self.framing {
            RequestFraming::Length(len) => Some(len),
            _ => None,
        };
        if n == 0 {
            if let Some(len) = declared.filter(|&len| len != self.send.sent) {
                let sent = self.send.sent;
                let error = Error::invalid_input(format!(
                    "the request body ended after {sent} bytes but declared Content-Length {len}"
                ));
                return self.fail(error.with_phase(crate::Phase::RequestBody));
            }
            if self.framing == RequestFraming::Chunked {
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                if let Err(e) = conn.queue(b"0\r\n\r\n") {
                    return self.fail(e);
                }
            }
            self.send.done = true;
            return self.advance_send();
        }
        if !self.send.pulled_any {
            self.send.pulled_any = true;
            self.event(EventKind::RequestBodyStart);
        }
        self.send.sent += n as u64;
        if let Some(len) = declared.filter(|&len| self.send.sent > len) {
            let error = Error::invalid_input(format!(
                "the request body is longer than its declared Content-Length {len}"
            ));
            return self.fail(error.with_phase(crate::Phase::RequestBody));
        }
        let pull = &mut self.send.pull;
        let framed = if self.framing == RequestFraming::Chunked {
            let mut header = Vec::with_capacity(PREFIX);
            chunk_header(&mut header, n);
            let start = PREFIX - header.len();
            pull[start..PREFIX].copy_from_slice(&header);
            pull[PREFIX + n..PREFIX + n + 2].copy_from_slice(b"\r\n");
            start..PREFIX + n + 2
        } else {
            PREFIX..PREFIX + n
        };
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if let Err(e) = conn.queue(&pull[framed]) {
            return self.fail(e);
        }
        self.advance_send();
    }

    /// `100 Continue` arrived, or waiting for it timed out: send the body.
    pub(super) fn release_held_body(&mut self) {
        if self.state != State::AwaitContinue {
            return;
        }
        self.send.held_for_continue = false;
        self.state = State::Send;
        self.advance_send();
    }

    /// A write failed.
    pub(super) fn write_failed(&mut self, e: io::Error) {
        let error = Error::io(format!("writing the request failed: {e}"), Some(e));
        match self.state {
            State::Send if self.can_retry() => self.retry(error),
            // The server may have answered and closed before reading the whole body (say, a
            // 413): read what it sent; if nothing, this error is the call's.
            State::Send if self.send.sent > 0 || self.send.done => {
                if let Some(conn) = self.conn.as_mut() {
                    conn.discard_output();
                }
                self.write_error = Some(error);
                self.send.done = true;
                self.state = State::ReadHead;
                self.event(EventKind::ResponseHeadersStart);
            }
            _ => self.fail(error),
        }
    }
}
