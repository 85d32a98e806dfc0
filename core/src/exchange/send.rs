//! Sending the request: head, then body, with `Expect: 100-continue` holding the body back.
//!
//! Bytes are queued on the connection and leave through the call's `Transmit` output. The head
//! and a small body are queued together so a typical request is one write. A body larger than
//! [`SHARE_MIN`] on a plain connection is sent straight from the caller's `Bytes` without a copy;
//! on TLS it is encrypted [`PIECE`] bytes at a time as the socket drains, so memory stays
//! bounded. A streamed body is pulled from the driver while less than [`LOW_WATER`] bytes wait
//! to be written, framed with `Content-Length` (checked against the bytes actually produced) or
//! as chunks.

use std::io;

use super::{Cx, Exchange, State};
use crate::connection::Connection;
use crate::events::EventKind;
use crate::http1::encode::{RequestFraming, chunk_header};
use crate::{Error, Phase};

/// Pull more body while fewer bytes than this wait to be written.
pub(super) const LOW_WATER: usize = 64 * 1024;
/// Bytes bodies larger than this go out without a copy on plain connections.
const SHARE_MIN: usize = 64 * 1024;
/// Largest piece of a bytes body encrypted at once.
const PIECE: usize = 64 * 1024;
/// Largest piece pulled from a streamed body.
const PULL_MAX: usize = 32 * 1024;
/// Room before pulled data for a chunk-size line (16 hex digits + CRLF).
const PREFIX: usize = 18;

/// Progress of sending the request body.
#[derive(Debug, Default)]
pub(super) struct SendProgress {
    /// Body bytes handed to the connection.
    pub(super) sent: u64,
    /// Offset into a bytes body.
    bytes_pos: usize,
    done: bool,
    /// Waiting for `100 Continue` before sending the body.
    pub(super) held_for_continue: bool,
    /// A pull of the streamed body is wanted.
    pub(super) need_pull: bool,
    /// Bytes have been pulled from a streamed body.
    pub(super) pulled_any: bool,
    /// Staging buffer for pulled pieces, with room for chunk framing around them.
    pull: Vec<u8>,
}

impl SendProgress {
    pub(super) fn new(expect_continue: bool) -> SendProgress {
        SendProgress {
            held_for_continue: expect_continue,
            ..SendProgress::default()
        }
    }

    pub(super) fn pull_buf(&mut self) -> &mut [u8] {
        if self.pull.is_empty() {
            self.pull = vec![0; PREFIX + PULL_MAX + 2];
        }
        &mut self.pull[PREFIX..PREFIX + PULL_MAX]
    }
}

/// Room reserved for a request head before it is written (most fit; a larger one grows).
const HEAD_CAPACITY: usize = 256;

impl Exchange {
    /// Queues the request head, and as much of the body as is sensible, on `conn`.
    pub(crate) fn start(&mut self, conn: &mut Connection, cx: &mut Cx<'_>) -> Result<(), Error> {
        cx.events
            .emit(cx.now.mono, || EventKind::RequestHeadersStart);
        conn.begin_exchange();
        // A plain request to an HTTP proxy names the whole URL (a tunnel's requests do not).
        let absolute =
            !conn.address().is_tls() && matches!(conn.address().proxy(), crate::Proxy::Http(_));
        match conn.plain_outbound() {
            Some(out) => {
                // A new connection's buffer is empty: one allocation the size of a common
                // head, not the five doublings writing it piece by piece would cost.
                out.reserve(HEAD_CAPACITY);
                self.request.encode(out, absolute)
            }
            None => {
                let mut head = Vec::with_capacity(HEAD_CAPACITY);
                self.request.encode(&mut head, absolute);
                conn.queue(&head)?;
            }
        }
        self.sent_at = cx.now.wall;
        let request = &self.request;
        cx.events
            .emit(cx.now.mono, || EventKind::RequestHeadersEnd {
                line: format!(
                    "{} {} HTTP/1.1",
                    request.method(),
                    &request.url()[url::Position::BeforePath..url::Position::AfterQuery]
                ),
                headers: request.headers(),
            });
        self.state = State::Send;
        self.advance_send(conn, cx)
    }

    /// When the request head was written.
    pub(crate) fn sent_at(&self) -> std::time::SystemTime {
        self.sent_at
    }

    /// Queues as much of the body as is sensible and moves on once everything is handed to the
    /// connection and written.
    pub(super) fn advance_send(
        &mut self,
        conn: &mut Connection,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        loop {
            if self.state != State::Send {
                return Ok(());
            }
            if self.send.held_for_continue {
                if !conn.has_output() {
                    self.state = State::AwaitContinue;
                    cx.events
                        .emit(cx.now.mono, || EventKind::ResponseHeadersStart);
                }
                return Ok(());
            }
            if self.send.done {
                if !conn.has_output() {
                    if self.framing != RequestFraming::None {
                        let bytes = self.send.sent;
                        cx.events
                            .emit(cx.now.mono, || EventKind::RequestBodyEnd { bytes });
                    }
                    self.state = State::ReadHead;
                    cx.events
                        .emit(cx.now.mono, || EventKind::ResponseHeadersStart);
                }
                return Ok(());
            }
            if conn.queued() >= LOW_WATER {
                return Ok(());
            }
            if self.framing == RequestFraming::None {
                self.send.done = true;
                continue;
            }
            let Some(bytes) = self.body.bytes().cloned() else {
                if self.body.is_empty() {
                    self.finish_pulled(conn, cx)?;
                    continue;
                }
                self.send.need_pull = true;
                return Ok(());
            };
            let pos = self.send.bytes_pos;
            if pos == 0 {
                if let RequestFraming::Length(len) = self.framing {
                    if len != bytes.len() as u64 {
                        return Err(length_mismatch(bytes.len() as u64, len));
                    }
                }
                if !bytes.is_empty() {
                    cx.events.emit(cx.now.mono, || EventKind::RequestBodyStart);
                }
            }
            let rest = bytes.len() - pos;
            if rest == 0 {
                if self.framing == RequestFraming::Chunked {
                    // A bytes body under chunked framing (a network interceptor's choice) went
                    // out as one chunk: the last chunk ends it.
                    conn.queue(b"0\r\n\r\n")?;
                }
                self.send.done = true;
            } else if self.framing == RequestFraming::Chunked {
                let mut framed = Vec::with_capacity(rest + PREFIX + 2);
                chunk_header(&mut framed, rest);
                framed.extend_from_slice(&bytes[pos..]);
                framed.extend_from_slice(b"\r\n");
                conn.queue(&framed)?;
                self.send.bytes_pos = bytes.len();
            } else if !conn.is_tls() && rest > SHARE_MIN {
                conn.queue_shared(bytes.slice(pos..));
                self.send.bytes_pos = bytes.len();
            } else {
                let n = rest.min(PIECE);
                conn.queue(&bytes[pos..pos + n])?;
                self.send.bytes_pos += n;
            }
            self.send.sent = self.send.bytes_pos as u64;
        }
    }

    /// The driver wrote `n` bytes of the connection's queue.
    pub(crate) fn on_transmitted(
        &mut self,
        conn: &mut Connection,
        n: usize,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        conn.on_transmitted(n);
        self.transmitted = true;
        self.advance_send(conn, cx)
    }

    /// The driver pulled request body bytes into the buffer of `pull_target` (0 = end).
    pub(crate) fn on_pulled(
        &mut self,
        conn: &mut Connection,
        result: io::Result<usize>,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        if self.state != State::Send || !self.send.need_pull {
            return Ok(());
        }
        self.send.need_pull = false;
        let n = match result {
            Ok(n) if n <= PULL_MAX => n,
            Ok(n) => {
                return Err(Error::invalid_input(format!(
                    "body source reported {n} bytes for a smaller buffer"
                )));
            }
            Err(e) => {
                let error = Error::io(format!("reading the request body failed: {e}"), Some(e));
                return Err(error.with_phase(Phase::RequestBody));
            }
        };
        if n == 0 {
            return self.finish_pulled(conn, cx);
        }
        if !self.send.pulled_any {
            self.send.pulled_any = true;
            cx.events.emit(cx.now.mono, || EventKind::RequestBodyStart);
        }
        self.send.sent += n as u64;
        if let RequestFraming::Length(len) = self.framing {
            if self.send.sent > len {
                return Err(Error::invalid_input(format!(
                    "the request body is longer than its declared Content-Length {len}"
                ))
                .with_phase(Phase::RequestBody));
            }
        }
        let chunked = self.framing == RequestFraming::Chunked;
        let pull = &mut self.send.pull;
        let framed = if chunked {
            let mut header = Vec::with_capacity(PREFIX);
            chunk_header(&mut header, n);
            let start = PREFIX - header.len();
            pull[start..PREFIX].copy_from_slice(&header);
            pull[PREFIX + n..PREFIX + n + 2].copy_from_slice(b"\r\n");
            start..PREFIX + n + 2
        } else {
            PREFIX..PREFIX + n
        };
        conn.queue(&pull[framed])?;
        self.advance_send(conn, cx)
    }

    /// The streamed body ended: check its length and close the chunked framing.
    fn finish_pulled(&mut self, conn: &mut Connection, cx: &mut Cx<'_>) -> Result<(), Error> {
        if let RequestFraming::Length(len) = self.framing {
            if len != self.send.sent {
                return Err(length_mismatch(self.send.sent, len).with_phase(Phase::RequestBody));
            }
        }
        if self.framing == RequestFraming::Chunked {
            conn.queue(b"0\r\n\r\n")?;
        }
        self.send.done = true;
        self.advance_send(conn, cx)
    }

    /// `100 Continue` arrived, or waiting for it timed out: send the body.
    pub(crate) fn release_held_body(
        &mut self,
        conn: &mut Connection,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        if self.state != State::AwaitContinue {
            return Ok(());
        }
        self.send.held_for_continue = false;
        self.state = State::Send;
        self.advance_send(conn, cx)
    }

    /// A write failed. When some of the request was sent, the server may have answered and
    /// closed before reading the rest (a 413, say): the exchange goes on to read what it sent,
    /// and reports this error only if nothing comes. Otherwise the error is the exchange's.
    pub(crate) fn on_write_error(
        &mut self,
        conn: &mut Connection,
        e: io::Error,
        cx: &mut Cx<'_>,
    ) -> Result<(), Error> {
        let error = Error::io(format!("writing the request failed: {e}"), Some(e));
        if self.state == State::Send && (self.send.sent > 0 || self.send.done) {
            conn.discard_output();
            self.write_error = Some(error);
            self.send.done = true;
            self.send.need_pull = false;
            self.state = State::ReadHead;
            cx.events
                .emit(cx.now.mono, || EventKind::ResponseHeadersStart);
            return Ok(());
        }
        Err(error)
    }
}

fn length_mismatch(sent: u64, declared: u64) -> Error {
    Error::invalid_input(format!(
        "the request body ended after {sent} bytes but declared Content-Length {declared}"
    ))
}
