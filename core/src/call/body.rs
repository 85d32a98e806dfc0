//! The response body pipeline: a source (the exchange, or a body an interceptor made up) and an
//! optional decoder (gzip, when the bridge asked for it), read as fast as the caller reads.
//!
//! ```text
//!  exchange ─┬──────────────────────────────▶ caller's buffer   (Direct: socket → caller, no copy)
//!            └─▶ staging ─▶ gzip decoder ────▶ caller's buffer
//!  made-up body (bytes in the core, or pulled by the driver) ──▶ caller's buffer
//! ```
//!
//! Reading straight from the socket into the caller's buffer stays possible exactly when
//! nothing has to transform the bytes: a plain connection, nothing buffered, no decoder.
//!
//! A body no one will read (a redirect's, a response an interceptor replaced) is discarded:
//! what has already arrived is decoded and dropped without I/O, and when more is due, the call
//! reads and drops up to 64 KiB for at most 100 ms so the connection can carry the next
//! exchange; past that the connection is closed instead.

use std::io;
use std::task::{Context, Poll, Waker};

use super::chain::Baton;
use super::{BodyRead, Call, MAX_DRAIN, State, Wait};
use crate::body::Body;
use crate::bridge::gzip::GzipDecoder;
use crate::events::EventKind;
use crate::exchange::BodyProgress;
use crate::{Error, Now};

/// Size of the buffer compressed bytes wait in for the decoder.
const STAGING: usize = 16 * 1024;

#[derive(Debug)]
enum Source {
    /// No body.
    None,
    /// The current exchange's response body.
    Exchange,
    /// A body an interceptor made up.
    MadeUp(Body),
    /// A body the runtime serves itself (its closure interceptor replaced the body).
    External,
}

/// The body of the response on its way to the caller.
#[derive(Debug)]
pub(super) struct ResponseBody {
    source: Source,
    gzip: Option<Box<GzipDecoder>>,
    staging: Vec<u8>,
    staged: std::ops::Range<usize>,
    source_ended: bool,
    delivered: u64,
    started: bool,
    /// Its end was already reported (a runtime interceptor read it to its end).
    ended: bool,
}

impl ResponseBody {
    fn of(source: Source) -> ResponseBody {
        ResponseBody {
            source,
            gzip: None,
            staging: Vec::new(),
            staged: 0..0,
            source_ended: false,
            delivered: 0,
            started: false,
            ended: false,
        }
    }

    pub(super) fn none() -> ResponseBody {
        ResponseBody::of(Source::None)
    }

    /// The exchange's body; `ended` when the response has none.
    pub(super) fn exchange(ended: bool) -> ResponseBody {
        let mut body = ResponseBody::of(Source::Exchange);
        body.source_ended = ended;
        body
    }

    pub(super) fn made_up(body: Body) -> ResponseBody {
        if body.is_empty() {
            ResponseBody::none()
        } else {
            ResponseBody::of(Source::MadeUp(body))
        }
    }

    pub(super) fn external() -> ResponseBody {
        ResponseBody::of(Source::External)
    }

    /// A body a runtime interceptor already read to its end: nothing is left for the caller.
    fn consumed() -> ResponseBody {
        let mut body = ResponseBody::of(Source::None);
        body.started = true;
        body.ended = true;
        body
    }

    /// True when a body may follow (the bridge decodes gzip only then).
    pub(super) fn has_data(&self) -> bool {
        match self.source {
            Source::Exchange => !self.source_ended,
            Source::MadeUp(_) => true,
            Source::None | Source::External => false,
        }
    }

    /// Decodes the body as gzip on its way to the caller.
    pub(super) fn decode_gzip(&mut self, max_decoded: Option<u64>) {
        self.gzip = Some(Box::new(GzipDecoder::new(max_decoded)));
    }

    /// True when reading would end at once, with no I/O.
    fn is_over(&self) -> bool {
        match self.source {
            Source::None | Source::External => true,
            Source::Exchange => self.source_ended && self.gzip.is_none(),
            Source::MadeUp(_) => false,
        }
    }
}

impl Call {
    /// True when the response's body is served by the runtime (a closure interceptor replaced
    /// it), not read through [`Call::read_body`].
    pub fn body_is_external(&self) -> bool {
        matches!(self.body.source, Source::External)
    }

    /// The chain delivered its response: if its body is already over, the call ends with it.
    pub(super) fn begin_body(&mut self) {
        if self.body.is_over() {
            self.end_body();
        }
    }

    /// The body ended: its connection goes back to the pool (or is closed), and the call ends
    /// (unless a runtime interceptor read it, in which case the call goes on with whatever the
    /// interceptor answers).
    fn end_body(&mut self) {
        let bytes = self.body.delivered;
        if !self.body.ended {
            self.events
                .emit(self.now.mono, || EventKind::ResponseBodyEnd { bytes });
        }
        let reusable = match self.exchange.take() {
            Some(mut exchange) => {
                self.trailers = exchange.take_trailers();
                exchange.is_reusable() && exchange.is_body_done()
            }
            None => true,
        };
        if let Some(conn) = self.conn.take() {
            self.let_go(conn, reusable);
        }
        self.io = None;
        self.want_receive = false;
        if matches!(self.state, State::Intercepting(_)) {
            self.body = ResponseBody::consumed();
            return;
        }
        self.events.emit(self.now.mono, || EventKind::CallEnd);
        // A head still waiting to be handed out is handed out first; the call is done after.
        if !matches!(self.state, State::Delivering(_)) {
            self.state = State::Done;
        }
        self.body_ended = true;
    }

    /// Reads response body bytes into `buf`. See [`BodyRead`].
    ///
    /// While a runtime interceptor runs ([`Output::Proceeded`](crate::Output::Proceeded) handed
    /// it a response), this reads that response's body, as the interceptor asks.
    pub fn read_body(&mut self, now: Now, buf: &mut [u8]) -> Result<BodyRead<'_>, Error> {
        self.tick(now);
        match self.state {
            State::Body | State::Intercepting(_) => {}
            State::Done => return Ok(BodyRead::End),
            State::Failed => return Err(self.failure.clone().unwrap_or_else(Error::canceled)),
            _ => {
                return Err(Error::invalid_input(
                    "the response body is not available yet",
                ));
            }
        }
        if self.call_deadline.is_some_and(|d| self.now.mono >= d) {
            self.check_deadlines();
            return Err(self.failure.clone().unwrap_or_else(Error::canceled));
        }
        if buf.is_empty() {
            return Ok(BodyRead::Data(0));
        }
        if !self.body.started {
            self.body.started = true;
            self.events
                .emit(self.now.mono, || EventKind::ResponseBodyStart);
        }
        let result = match self.body.source {
            Source::Exchange if self.body.gzip.is_some() => self.read_gzip(buf),
            Source::Exchange => self.read_plain(buf),
            Source::MadeUp(_) => self.read_made_up(buf),
            Source::None | Source::External => {
                self.end_body();
                Ok(Progress::End)
            }
        };
        match result {
            Ok(Progress::Data(n)) => Ok(BodyRead::Data(n)),
            Ok(Progress::End) => Ok(BodyRead::End),
            Ok(Progress::Pending) => {
                self.want_receive = true;
                self.arm(Wait::Read);
                Ok(BodyRead::Pending)
            }
            Ok(Progress::Direct(conn, max)) => {
                self.arm(Wait::Read);
                Ok(BodyRead::Direct { conn, max })
            }
            Ok(Progress::Pull) => match &mut self.body.source {
                Source::MadeUp(body) => Ok(BodyRead::Pull(body)),
                _ => Ok(BodyRead::Pending),
            },
            Err(e) => {
                self.fail(e);
                Err(self.failure.clone().unwrap_or_else(Error::canceled))
            }
        }
    }

    /// The exchange's body, straight to the caller.
    fn read_plain(&mut self, buf: &mut [u8]) -> Result<Progress, Error> {
        let limits = self.shared.config.limits;
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            self.end_body();
            return Ok(Progress::End);
        };
        match exchange.read_body(conn, buf, &limits)? {
            BodyProgress::Data(n) => {
                self.body.delivered += n as u64;
                if exchange.is_body_done() {
                    self.body.source_ended = true;
                    self.end_body();
                }
                Ok(Progress::Data(n))
            }
            BodyProgress::End => {
                self.body.source_ended = true;
                self.end_body();
                Ok(Progress::End)
            }
            BodyProgress::Direct(max) => Ok(Progress::Direct(conn.id(), max)),
            BodyProgress::Pending => Ok(Progress::Pending),
        }
    }

    /// The exchange's body through the gzip decoder.
    fn read_gzip(&mut self, buf: &mut [u8]) -> Result<Progress, Error> {
        let limits = self.shared.config.limits;
        loop {
            let body = &mut self.body;
            let Some(gzip) = body.gzip.as_mut() else {
                return Ok(Progress::End);
            };
            let staged = &body.staging[body.staged.clone()];
            if !staged.is_empty() || body.source_ended {
                let (used, produced) = gzip.decode(staged, buf)?;
                body.staged.start += used;
                if produced > 0 {
                    body.delivered += produced as u64;
                    return Ok(Progress::Data(produced));
                }
                if used == 0 && !staged.is_empty() {
                    return Err(Error::protocol("corrupt gzip response body"));
                }
                if body.source_ended && body.staged.is_empty() {
                    gzip.finish()?;
                    self.end_body();
                    return Ok(Progress::End);
                }
                if used > 0 {
                    continue;
                }
            }
            if body.staging.is_empty() {
                body.staging = vec![0; STAGING];
            }
            let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
                return Err(Error::protocol("unexpected end of stream in a gzip body"));
            };
            match exchange.read_body(conn, &mut body.staging, &limits)? {
                BodyProgress::Data(n) => body.staged = 0..n,
                BodyProgress::End => body.source_ended = true,
                BodyProgress::Direct(_) | BodyProgress::Pending => return Ok(Progress::Pending),
            }
            if exchange.is_body_done() {
                body.source_ended = true;
            }
        }
    }

    /// A body an interceptor made up: bytes are copied here; other bodies are read by the
    /// driver ([`BodyRead::Pull`]).
    fn read_made_up(&mut self, buf: &mut [u8]) -> Result<Progress, Error> {
        let Source::MadeUp(body) = &mut self.body.source else {
            return Ok(Progress::End);
        };
        if body.bytes().is_none() {
            return Ok(Progress::Pull);
        }
        // A bytes body never waits and never fails: no driver is needed.
        let mut cx = Context::from_waker(Waker::noop());
        match body.poll_read(&mut cx, buf) {
            Poll::Ready(Ok(0)) | Poll::Pending | Poll::Ready(Err(_)) => {
                self.end_body();
                Ok(Progress::End)
            }
            Poll::Ready(Ok(n)) => {
                self.body.delivered += n as u64;
                Ok(Progress::Data(n))
            }
        }
    }

    /// Answers [`BodyRead::Direct`] (the driver read `n` bytes from the socket into the
    /// caller's buffer; 0 = EOF) and [`BodyRead::Pull`] (the driver read the made-up body).
    /// Returns how many of them are body bytes for the caller; 0 means none this time (the
    /// body ended, or the source was not ready): call [`Call::read_body`] again, which reports
    /// [`BodyRead::End`] once the body is over.
    pub fn handle_direct_read(
        &mut self,
        now: Now,
        result: io::Result<usize>,
    ) -> Result<usize, Error> {
        self.tick(now);
        if !matches!(self.state, State::Body | State::Intercepting(_)) {
            return match &self.failure {
                Some(e) => Err(e.clone()),
                None => Ok(0),
            };
        }
        let n = match result {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(0);
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                self.check_deadlines();
                return self.failure.clone().map_or(Ok(0), Err);
            }
            Err(e) => {
                let error = match (&self.body.source, self.exchange.as_mut()) {
                    (Source::Exchange, Some(exchange)) => exchange.on_read_error(e),
                    _ => Error::io(format!("reading the response body failed: {e}"), Some(e)),
                };
                self.fail(error);
                return self.failure.clone().map_or(Ok(0), Err);
            }
        };
        self.io = None;
        if matches!(self.body.source, Source::MadeUp(_)) {
            if n == 0 {
                self.end_body();
            } else {
                self.body.delivered += n as u64;
            }
            return Ok(n);
        }
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return Ok(0);
        };
        match exchange.on_direct_read(conn, n) {
            Ok(count) => {
                self.body.delivered += count as u64;
                if exchange.is_body_done() {
                    self.body.source_ended = true;
                    self.end_body();
                }
                Ok(count)
            }
            Err(e) => {
                self.fail(e);
                self.failure.clone().map_or(Ok(0), Err)
            }
        }
    }

    /// Finishes the body from bytes already received, without I/O, discarding them: a caller
    /// that drops a response whose body fully arrived still lets its connection be reused.
    /// Returns true if the body is complete (then drain [`Call::poll_output`] for the release).
    pub fn discard_buffered_body(&mut self, now: Now) -> bool {
        self.tick(now);
        if !matches!(self.state, State::Body) {
            return matches!(self.state, State::Done);
        }
        if !matches!(self.body.source, Source::Exchange) {
            self.end_body();
            return true;
        }
        let limits = self.shared.config.limits;
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return false;
        };
        match exchange.discard_buffered(conn, &limits) {
            Ok(true) => {
                // Decoding a gzip body to its end is not needed to reuse the connection.
                self.body.gzip = None;
                self.body.source_ended = true;
                self.end_body();
                true
            }
            Ok(false) => false,
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Discards the current response body before the chain goes on with `then`. Returns the
    /// baton when that needs no I/O; otherwise the call drains the body and resumes later.
    /// Without `then` (the caller goes on at once), a body that has not fully arrived costs
    /// the connection instead of a wait.
    pub(super) fn discard_body(&mut self, then: Option<Baton>) -> Option<Baton> {
        let body = std::mem::replace(&mut self.body, ResponseBody::none());
        if !matches!(body.source, Source::Exchange) || self.exchange.is_none() {
            return then;
        }
        let limits = self.shared.config.limits;
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return then;
        };
        match exchange.discard_buffered(conn, &limits) {
            Ok(true) => {
                self.finish_drain();
                then
            }
            Ok(false) if then.is_some() && exchange.body_read() <= MAX_DRAIN => {
                self.state = State::Draining(then);
                self.io = None;
                self.arm(Wait::Drain);
                None
            }
            Ok(false) | Err(_) => {
                self.abandon_exchange();
                then
            }
        }
    }

    /// Bytes arrived while draining: done yet?
    pub(super) fn drain_progress(&mut self) {
        let limits = self.shared.config.limits;
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return self.drain_given_up();
        };
        match exchange.discard_buffered(conn, &limits) {
            Ok(true) => {
                self.finish_drain();
                self.resume_after_drain();
            }
            Ok(false) if exchange.body_read() <= MAX_DRAIN && !conn.is_eof() => {}
            Ok(false) | Err(_) => self.drain_given_up(),
        }
    }

    /// The drain took too long, failed or grew too large: close the connection and go on.
    pub(super) fn drain_given_up(&mut self) {
        self.abandon_exchange();
        self.resume_after_drain();
    }

    fn resume_after_drain(&mut self) {
        self.io = None;
        if let State::Draining(Some(baton)) = std::mem::replace(&mut self.state, State::Running) {
            self.run(baton);
        }
    }

    /// The discarded body ended: the exchange is over, and its connection waits for the next
    /// one (or is closed if it cannot carry it).
    fn finish_drain(&mut self) {
        if let Some(exchange) = self.exchange.take() {
            if !exchange.is_reusable() {
                if let Some(conn) = self.conn.take() {
                    self.let_go(conn, false);
                }
            }
        }
    }

    /// Drops the current exchange and closes its connection.
    fn abandon_exchange(&mut self) {
        self.exchange = None;
        if let Some(conn) = self.conn.take() {
            self.let_go(conn, false);
        }
    }
}

/// What reading the body produced, before it becomes a [`BodyRead`].
enum Progress {
    Data(usize),
    Direct(crate::connection::ConnId, usize),
    Pull,
    Pending,
    End,
}
