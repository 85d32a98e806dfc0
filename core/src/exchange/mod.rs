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

use http::Method;
use url::Url;

use crate::body::Body;
use crate::bridge::Bridged;
use crate::connection::Connection;
use crate::events::EventSink;
use crate::http1::body::BodyDecoder;
use crate::http1::encode::{RequestFraming, encode_bridged, encode_head, framing_of};
use crate::http1::head::HeadReader;
use crate::{Config, Error, Headers, Now, Request};

/// A request on its way down to the wire: as the bridge left it (the application's request plus
/// the bridge's fields, never copied), or as a full request once something below the bridge
/// (a network interceptor, the cache's conditional fields) needed one.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// The application's request (above the bridge), or a request a link rewrote.
    Request(Arc<Request>),
    /// The bridge's view of the application's request.
    Bridged(Bridged),
}

impl Outgoing {
    /// The request's URL.
    pub(crate) fn url(&self) -> &Url {
        self.base().url()
    }

    /// The request's method.
    pub(crate) fn method(&self) -> &Method {
        self.base().method_ref()
    }

    /// The request whose method, URL, body and own fields these are.
    fn base(&self) -> &Arc<Request> {
        match self {
            Outgoing::Request(r) => r,
            Outgoing::Bridged(b) => &b.user,
        }
    }

    /// The request as it goes on the wire, as a full [`Request`] (built only for a bridged
    /// request).
    pub(crate) fn to_arc(&self) -> Arc<Request> {
        match self {
            Outgoing::Request(r) => r.clone(),
            Outgoing::Bridged(b) => Arc::new(b.to_request()),
        }
    }

    /// [`to_arc`](Self::to_arc), consuming the request: an application request moves on as it
    /// is, without a count taken and then dropped (each an atomic operation, on every call).
    pub(crate) fn into_arc(self) -> Arc<Request> {
        match self {
            Outgoing::Request(r) => r,
            Outgoing::Bridged(b) => Arc::new(b.to_request()),
        }
    }

    /// The head's fields as sent (for events).
    pub(crate) fn headers(&self) -> Headers {
        match self {
            Outgoing::Request(r) => r.headers().clone(),
            Outgoing::Bridged(b) => b.to_request().headers().clone(),
        }
    }

    /// Whether the application's own fields carry `token` in `name` (the bridge adds none of
    /// the fields asked about: `Expect`, `Connection: close`, `Upgrade`).
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.base().headers().has_token(name, token)
    }

    fn contains(&self, name: &str) -> bool {
        self.base().headers().contains(name)
    }

    /// How the body is framed on the wire.
    fn framing(&self) -> Result<RequestFraming, Error> {
        match self {
            Outgoing::Request(r) => framing_of(r.headers()),
            Outgoing::Bridged(b) => Ok(match b.framing() {
                Some(Some(n)) => RequestFraming::Length(n),
                Some(None) => RequestFraming::Chunked,
                None => RequestFraming::None,
            }),
        }
    }

    /// Appends the head.
    fn encode(&self, out: &mut Vec<u8>, absolute: bool) {
        match self {
            Outgoing::Request(r) => encode_head(out, r, absolute),
            Outgoing::Bridged(b) => encode_bridged(out, b, absolute),
        }
    }
}

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
    request: Outgoing,
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
    /// The server switched protocols (101): the connection is handed over, not pooled.
    upgraded: bool,
    body_read: u64,
    /// Boxed: few responses have trailers, and the exchange is part of every call.
    trailers: Option<Box<Headers>>,
    sent_at: SystemTime,
}

/// How a request goes on the wire ([`Exchange::plan`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendPlan {
    framing: RequestFraming,
    expect_continue: bool,
}

impl Exchange {
    /// How `request` goes on the wire: its body's framing, and whether it waits for
    /// `100 Continue`. Fails when the request's fields cannot frame its body.
    pub(crate) fn plan(request: &Outgoing) -> Result<SendPlan, Error> {
        let framing = request.framing()?;
        let body = request.base().body();
        if framing == RequestFraming::None && body.len() != Some(0) && !body.is_empty() {
            return Err(Error::invalid_input(
                "the request has a body but neither Content-Length nor Transfer-Encoding",
            ));
        }
        let expect_continue = framing != RequestFraming::None
            && framing != RequestFraming::Length(0)
            && request.has_token("expect", "100-continue");
        Ok(SendPlan {
            framing,
            expect_continue,
        })
    }

    /// An exchange for `request`, sent as [`plan`](Self::plan) said. Apart from the plan, and
    /// inline, so that the exchange is built where the call keeps it: it is 300 bytes, and
    /// returned in a `Result` it was built once and copied twice.
    #[inline]
    pub(crate) fn new(request: Outgoing, plan: SendPlan, now: Now) -> Exchange {
        let body = request.base().body().clone();
        Exchange {
            request,
            body,
            framing: plan.framing,
            state: State::Send,
            send: send::SendProgress::new(plan.expect_continue),
            head: HeadReader::default(),
            transmitted: false,
            response_started: false,
            write_error: None,
            decoder: BodyDecoder::Done,
            reusable: false,
            upgraded: false,
            body_read: 0,
            trailers: None,
            sent_at: now.wall,
        }
    }

    /// The request as sent.
    pub(crate) fn request(&self) -> &Outgoing {
        &self.request
    }

    /// The request a response to this exchange names: the application's for a bridged request
    /// (the bridge would give it that one anyway), else the request as sent.
    pub(crate) fn response_request(&self) -> Arc<Request> {
        self.request.base().clone()
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

    /// Whether the server answered `101 Switching Protocols`: the connection now speaks
    /// another protocol and goes to the caller ([`Upgraded`](crate::Upgraded)).
    pub(crate) fn is_upgraded(&self) -> bool {
        self.upgraded
    }

    /// The trailers of a chunked response body, once it has ended.
    pub(crate) fn take_trailers(&mut self) -> Option<Box<Headers>> {
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
