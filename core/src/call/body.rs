//! The response body pipeline: a source (the exchange, the cache, or a body an interceptor made
//! up) and an optional decoder (gzip, when the bridge asked for it), read as fast as the caller
//! reads, with a tee into the cache when the response is being stored.
//!
//! ```text
//!  exchange ─┬──────────────────────────────▶ caller's buffer   (Direct: socket → caller, no copy)
//!            │                   ╰─ tee ─▶ cache entry (the driver writes the caller's bytes)
//!            └─▶ staging ─┬─▶ gzip decoder ─▶ caller's buffer
//!                         ╰─ tee ─▶ cache entry (the undecoded bytes, kept for the driver)
//!  cache entry ─┬────────────────────────────▶ caller's buffer   (Cached: read by the driver)
//!               └─▶ staging ─▶ gzip decoder ─▶ caller's buffer   (CachedInto)
//!  made-up body (bytes in the core, or pulled by the driver) ──▶ caller's buffer
//! ```
//!
//! Reading straight from the socket into the caller's buffer stays possible exactly when
//! nothing has to transform the bytes: a plain connection, nothing buffered, no decoder. The
//! tee only observes bytes, so it keeps that path: the driver writes what the caller got. Over
//! TLS, a body with no framing to decode is read from the TLS session straight into the caller's
//! buffer (the exchange's `Data`), skipping the connection's plaintext buffer.
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
use crate::connection::Connection;
use crate::events::EventKind;
use crate::exchange::{BodyProgress, Exchange};
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
    /// A stored response's body, read by the driver from the cache; this much is left.
    Cache { remaining: u64 },
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
    /// The gzip decoder's last output filled the caller's buffer: it may hold more decoded
    /// bytes, which go out before the call waits for more input.
    gzip_may_hold: bool,
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
            gzip_may_hold: false,
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

    /// The body of a stored response, `len` bytes, read from the cache.
    pub(super) fn cached(len: u64) -> ResponseBody {
        if len == 0 {
            ResponseBody::none()
        } else {
            ResponseBody::of(Source::Cache { remaining: len })
        }
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
            Source::Cache { remaining } => remaining > 0,
            Source::None | Source::External => false,
        }
    }

    /// True when the caller gets the body decoded (so not the bytes the source gave).
    pub(super) fn is_decoded(&self) -> bool {
        self.gzip.is_some()
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
            Source::MadeUp(_) | Source::Cache { .. } => false,
        }
    }
}

impl Call {
    /// True when the response's body is served by the runtime (a closure interceptor replaced
    /// it), not read through [`Call::read_body`].
    pub fn body_is_external(&self) -> bool {
        matches!(self.body.source, Source::External)
    }

    /// How many more bytes reading the response body will give the caller, when that is
    /// known exactly: the rest of a `Content-Length` body (not one being gzip-decoded), of a
    /// stored body, or 0 once it has ended. `None` for a chunked or close-delimited body, a
    /// decoded one, or one an interceptor made up.
    ///
    /// A runtime sizes its reads by it: reading a small body whole costs a buffer of its size,
    /// with no look-up of the head's `Content-Length` (which the exchange already parsed).
    pub fn body_size_hint(&self) -> Option<u64> {
        if self.body.ended || self.body_ended {
            return Some(0);
        }
        if self.body.gzip.is_some() {
            return None;
        }
        match &self.body.source {
            Source::None => Some(0),
            Source::Exchange if self.body.source_ended => Some(0),
            Source::Exchange => self.exchange.as_ref()?.body_remaining(),
            Source::Cache { remaining } => Some(*remaining),
            Source::MadeUp(_) | Source::External => None,
        }
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
        // A stored body is kept only if it came whole from the network.
        let complete = self.body.source_ended && matches!(self.body.source, Source::Exchange);
        self.cache.tee_end(complete);
        let bytes = self.body.delivered;
        if !self.body.ended {
            self.events
                .emit(self.now.mono, || EventKind::ResponseBodyEnd { bytes });
        }
        // Read in place, then dropped there (not moved out: an exchange is 300 bytes).
        let (reusable, upgraded) = match self.exchange.as_mut() {
            Some(exchange) => {
                self.trailers = exchange.take_trailers();
                let reusable = exchange.is_reusable() && exchange.is_body_done();
                (reusable, exchange.is_upgraded())
            }
            None => (true, false),
        };
        self.exchange = None;
        if let Some(conn) = self.conn.take() {
            // A connection that switched protocols is kept for the caller to take (only when
            // the 101 is the response the caller gets: an interceptor that reads it and goes on
            // lets it go).
            if upgraded && !matches!(self.state, State::Intercepting(_)) {
                self.upgraded = Some(conn);
            } else {
                self.let_go(conn, reusable);
            }
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
            Source::Exchange | Source::Cache { .. } if self.body.gzip.is_some() => {
                self.read_gzip(buf)
            }
            Source::Exchange => self.read_plain(buf),
            Source::Cache { remaining } => Ok(Progress::Cached(
                usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len())),
            )),
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
            Ok(Progress::Cached(max)) => Ok(BodyRead::Cached { max }),
            Ok(Progress::CachedInto) => {
                let body = &mut self.body;
                let room = match body.source {
                    Source::Cache { remaining } => {
                        usize::try_from(remaining).map_or(STAGING, |r| r.min(STAGING))
                    }
                    _ => STAGING,
                };
                Ok(BodyRead::CachedInto(&mut body.staging[..room]))
            }
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
            if !staged.is_empty() || body.source_ended || body.gzip_may_hold {
                let (used, produced) = gzip.decode(staged, buf)?;
                body.staged.start += used;
                body.gzip_may_hold = produced == buf.len();
                if produced > 0 {
                    body.delivered += produced as u64;
                    return Ok(Progress::Data(produced));
                }
                if used == 0 && !staged.is_empty() {
                    return Err(Error::decode("corrupt gzip response body"));
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
            if matches!(body.source, Source::Cache { .. }) {
                // The driver reads the stored bytes into the staging buffer.
                return Ok(Progress::CachedInto);
            }
            let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
                return Err(Error::decode("unexpected end of stream in a gzip body"));
            };
            match exchange.read_body(conn, &mut body.staging, &limits)? {
                BodyProgress::Data(n) => {
                    body.staged = 0..n;
                    // The entry keeps the body as it came from the network.
                    self.cache.tee_raw(&body.staging[..n]);
                }
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
    /// caller's buffer; 0 = EOF), [`BodyRead::Pull`] (the driver read the made-up body), and
    /// [`BodyRead::Cached`] and [`BodyRead::CachedInto`] (the driver read the stored body).
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
                    (Source::Cache { .. }, _) => Error::io(
                        format!("reading the cached response body failed: {e}"),
                        Some(e),
                    ),
                    _ => Error::io(format!("reading the response body failed: {e}"), Some(e)),
                };
                self.fail(error);
                return self.failure.clone().map_or(Ok(0), Err);
            }
        };
        self.io = None;
        if matches!(self.body.source, Source::Cache { .. }) {
            return self.on_cache_read(n);
        }
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

    /// The driver read `n` bytes of the stored body (into the caller's buffer, or into the
    /// staging buffer when the body is decoded).
    fn on_cache_read(&mut self, n: usize) -> Result<usize, Error> {
        let body = &mut self.body;
        let Source::Cache { remaining } = &mut body.source else {
            return Ok(0);
        };
        if n == 0 {
            // The store vouched for the length; a shorter body is a damaged entry.
            let left = *remaining;
            self.fail(Error::io(
                format!("the cached response body ended {left} bytes early"),
                None,
            ));
            return self.failure.clone().map_or(Ok(0), Err);
        }
        let n = n.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
        *remaining -= n as u64;
        let ended = *remaining == 0;
        if body.gzip.is_some() {
            body.staged = 0..n;
            body.source_ended = ended;
            return Ok(0);
        }
        body.delivered += n as u64;
        if ended {
            body.source_ended = true;
            self.end_body();
        }
        Ok(n)
    }

    /// Finishes the body from bytes already received, without I/O, discarding them: a caller
    /// that drops a response whose body fully arrived still lets its connection be reused.
    /// When the rest has not arrived, the call ends without it and the connection is closed.
    /// Returns true when the call ended either way (then drain [`Call::poll_output`] for the
    /// release or the close).
    pub fn discard_buffered_body(&mut self, now: Now) -> bool {
        self.tick(now);
        if !matches!(self.state, State::Body) {
            return matches!(self.state, State::Done);
        }
        // The caller did not read the body to its end: it is not stored.
        self.cache.tee_end(false);
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
            // The rest has not arrived: the call ends here, and its connection, with a body
            // half read, is closed (OkHttp's early close: the body ends, the connection is
            // released, the call ends).
            Ok(false) => {
                self.end_body();
                true
            }
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
        if then.is_none() {
            // No one waits for the rest: a body being stored is not stored.
            self.cache.tee_end(false);
        }
        if !matches!(body.source, Source::Exchange) || self.exchange.is_none() {
            self.cache.tee_end(false);
            return then;
        }
        match self.drain_buffered() {
            Ok(true) => {
                self.finish_drain();
                then
            }
            Ok(false)
                if then.is_some()
                    && self.exchange.as_ref().map_or(0, Exchange::body_read) <= MAX_DRAIN =>
            {
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

    /// Reads and drops the body bytes already received (keeping them for the cache entry when
    /// the body is being stored); true once the body has ended.
    fn drain_buffered(&mut self) -> Result<bool, Error> {
        let limits = self.shared.config.limits;
        let (Some(exchange), Some(conn)) = (self.exchange.as_mut(), self.conn.as_mut()) else {
            return Ok(false);
        };
        if !self.cache.is_teeing() {
            return exchange.discard_buffered(conn, &limits);
        }
        let mut scratch = [0u8; 4096];
        loop {
            match exchange.read_body(conn, &mut scratch, &limits)? {
                BodyProgress::End => return Ok(true),
                BodyProgress::Data(n) => self.cache.tee_raw(&scratch[..n]),
                BodyProgress::Direct(_) | BodyProgress::Pending => return Ok(false),
            }
        }
    }

    /// Bytes arrived while draining: done yet?
    pub(super) fn drain_progress(&mut self) {
        match self.drain_buffered() {
            Ok(true) => {
                self.finish_drain();
                self.resume_after_drain();
            }
            Ok(false)
                if self.exchange.as_ref().map_or(u64::MAX, Exchange::body_read) <= MAX_DRAIN
                    && !self.conn.as_ref().is_none_or(Connection::is_eof) => {}
            Ok(false) | Err(_) => self.drain_given_up(),
        }
    }

    /// The drain took too long, failed or grew too large: close the connection and go on.
    pub(super) fn drain_given_up(&mut self) {
        self.cache.tee_end(false);
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
        // A body being stored was read to its end, by the call rather than the caller.
        self.cache.tee_drained();
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
    /// The driver reads at most this many stored bytes into the caller's buffer.
    Cached(usize),
    /// The driver reads stored bytes into the staging buffer.
    CachedInto,
    Pending,
    End,
}
