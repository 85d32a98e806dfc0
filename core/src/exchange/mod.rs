//! The exchange: one request and its response on one connection (OkHttp's `Exchange` with its
//! HTTP/1 codec).
//!
//! ```text
//!  start ──▶ Send ──Expect: 100-continue──▶ AwaitContinue ──100 / timeout──▶ Send
//!             │                                   │ final response
//!             ▼                                   ▼
//!          ReadHead ──1xx (skipped)──▶ ReadHead ──final──▶ Body ──▶ Done
//! ```
//!
//! Sending and receiving progress apart: the head and body go out through the connection's
//! send queue while the response head is looked for in what arrives, so a server that answers
//! early (a 413 before the whole upload, a final status instead of `100 Continue`) is heard.
//! The head is encoded exactly as the request gives it; the body is framed as the request's
//! own `Content-Length` or `Transfer-Encoding` says (the bridge set them).
//!
//! The exchange owns no I/O: the call lends it the [`Connection`] with every input and turns
//! what it wants ([`Want`]) into outputs. It reports what happened through the call's events,
//! and keeps the facts the retry rules need: whether any request byte went out, whether any
//! request body was pulled, and whether any response byte came back.

mod recv;
mod send;

use std::sync::Arc;
use std::time::SystemTime;

use crate::body::Body;
use crate::connection::Connection;
use crate::events::EventSink;
use crate::http1::body::BodyDecoder;
use crate::http1::encode::{RequestFraming, framing_of};
use crate::http1::head::HeadReader;
use crate::{Config, Error, Headers, Now, Request};

pub(crate) use recv::{BodyProgress, Head};

/// What an exchange is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Writing the head and the body.
    Send,
    /// The head went out with `Expect: 100-continue`; the body waits for `100 Continue`.
    AwaitContinue,
    /// The request is out; waiting for the response head.
    ReadHead,
    /// The head was delivered; the body is read as the caller asks.
    Body,
    /// The response body ended.
    Done,
}

/// The I/O an exchange needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Queued bytes wait to be written.
    Write,
    /// More request body is needed from the driver.
    Pull,
    /// Bytes from the server are needed.
    Read,
    /// Nothing until the caller reads the body.
    Nothing,
}

/// What an exchange shares with the call at every input.
pub(crate) struct Cx<'a> {
    pub now: Now,
    pub events: &'a mut EventSink,
    pub config: &'a Config,
}

/// One request and its response on one connection.
#[derive(Debug)]
pub(crate) struct Exchange {
    request: Arc<Request>,
    /// The body being sent (a share of the request's).
    body: Body,
    framing: RequestFraming,
    state: State,
    send: send::SendProgress,
    head: HeadReader,
    /// Some request byte was accepted by the socket: the request may have reached the server.
    transmitted: bool,
    /// Some byte of a response arrived.
    response_started: bool,
    /// A write failed mid-body: the server may have answered early; report this if it did not.
    write_error: Option<Error>,
    decoder: BodyDecoder,
    reusable: bool,
    body_read: u64,
    trailers: Option<Headers>,
    sent_at: SystemTime,
}

impl Exchange {
    /// An exchange for `request` as it will go on the wire. Fails when the request's fields
    /// cannot frame its body.
    pub(crate) fn new(request: Arc<Request>, now: Now) -> Result<Exchange, Error> {
        let framing = framing_of(request.headers())?;
        let body = request.body().clone();
        if framing == RequestFraming::None && body.len() != Some(0) && !body.is_empty() {
            return Err(Error::invalid_input(
                "the request has a body but neither Content-Length nor Transfer-Encoding",
            ));
        }
        let expect_continue = framing != RequestFraming::None
            && framing != RequestFraming::Length(0)
            && request
                .headers()
                .get_all("expect")
                .any(|v| v.eq_ignore_ascii_case(b"100-continue"));
        Ok(Exchange {
            request,
            body,
            framing,
            state: State::Send,
            send: send::SendProgress::new(expect_continue),
            head: HeadReader::default(),
            transmitted: false,
            response_started: false,
            write_error: None,
            decoder: BodyDecoder::Done,
            reusable: false,
            body_read: 0,
            trailers: None,
            sent_at: now.wall,
        })
    }

    /// The request as sent.
    pub(crate) fn request(&self) -> &Arc<Request> {
        &self.request
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Some request byte was written: the server may have seen the request.
    pub(crate) fn transmitted_any(&self) -> bool {
        self.transmitted
    }

    /// Some of a streamed request body was pulled (a one-shot body cannot be sent again).
    pub(crate) fn body_pulled(&self) -> bool {
        self.send.pulled_any
    }

    /// Some byte of a response arrived on the connection.
    pub(crate) fn response_started(&self) -> bool {
        self.response_started
    }

    /// Whether the connection can carry another exchange once this one's body has ended.
    pub(crate) fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// The trailers of a chunked response body, once it has ended.
    pub(crate) fn take_trailers(&mut self) -> Option<Headers> {
        self.trailers.take()
    }

    /// Response body bytes delivered so far.
    pub(crate) fn body_read(&self) -> u64 {
        self.body_read
    }

    /// What the exchange needs next on `conn`.
    pub(crate) fn want(&self, conn: &Connection) -> Want {
        if conn.has_output() {
            return Want::Write;
        }
        match self.state {
            State::Send if self.send.need_pull && conn.queued() < send::LOW_WATER => Want::Pull,
            State::Send => Want::Nothing,
            State::AwaitContinue | State::ReadHead => Want::Read,
            State::Body | State::Done => Want::Nothing,
        }
    }

    /// The request body and the buffer to pull it into, for [`Want::Pull`].
    pub(crate) fn pull_target(&mut self) -> (&mut Body, &mut [u8]) {
        let buf = self.send.pull_buf();
        (&mut self.body, buf)
    }
}
