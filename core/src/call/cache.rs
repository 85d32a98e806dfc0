//! The cache link (OkHttp's `CacheInterceptor`): answers from the client's cache when it can,
//! revalidates stale responses, and stores, refreshes or invalidates entries with what the
//! network answers.
//!
//! ```text
//!  request ─▶ Get(key) ─▶ CacheStrategy::compute(wall time, request, stored entry)
//!              │  Cache          ─▶ the stored response (body read through the driver)  ─▶ up
//!              │  Unsatisfiable  ─▶ 504 (only-if-cached)                                 ─▶ up
//!              │  Conditional    ─▶ request + If-None-Match / If-Modified-Since ─┐
//!              └  Network        ─▶ request ─────────────────────────────────────┤
//!                                                                                ▼ network
//!  response ◀─ 304 to a conditional: the stored response, headers merged; Update(key)
//!           ◀─ storable: Edit(key), then the body is teed into the entry as it is read
//!           ◀─ unsafe method: Remove(key) for the URL, Location and Content-Location
//! ```
//!
//! The link never touches the store: it queues [`CacheOp`]s that the driver performs in order
//! (see [`Output::Cache`](crate::Output::Cache)); only `Get` and `Edit` are answered. The tee
//! lets the driver write the body to the open entry as the caller reads it: bytes the caller
//! gets as they came from the network are written by the driver from the caller's buffer
//! (direct reads included); bytes the call decodes first (gzip) or reads itself (a followed
//! redirect's body it drains) are kept here for it. The entry is committed when the body was
//! read to its end, and abandoned otherwise.
//!
//! A client without a cache pays nothing here: the link passes the request down and the
//! response up, and queues nothing.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::body::ResponseBody;
use super::chain::Baton;
use super::output::CacheOp;
use super::{Call, State};
use crate::cache::store::Snapshot;
use crate::cache::{CacheStrategy, CacheUpdate, Entry, key, unsatisfiable_response};
use crate::events::EventKind;
use crate::exchange::Outgoing;
use crate::{Error, Handshake, Now, Request, Response, TlsVersion};

/// The cache link's state for one call: none until the call has a cache to work with. Boxed,
/// so that a call of a client without a cache carries (and drops) one empty pointer rather
/// than a queue, a key and a tee, and asks one question of it on every poll.
#[derive(Debug, Default)]
pub(super) struct CacheLink(Option<Box<LinkState>>);

/// What the cache link keeps for a call of a client with a cache.
#[derive(Debug, Default)]
struct LinkState {
    /// The request that came down to the link for the current hop (built in full: the
    /// strategy reads its fields).
    request: Option<Arc<Request>>,
    /// Its store key.
    key: String,
    /// The stored entry a conditional request is validating (boxed: an entry is large and only
    /// a client with a cache has one).
    validating: Option<Box<Candidate>>,
    /// Store operations for the driver, in order.
    ops: VecDeque<Op>,
    /// The operation handed out last (one that needs no answer), for the output to borrow.
    current: Option<Op>,
    /// Whether the response body is being stored.
    tee: Tee,
    /// Body bytes for the entry that the call itself read (the undecoded bytes of a decoded
    /// body, the rest of a body it drained), until the driver takes them.
    raw: Vec<u8>,
    /// The driver has taken `raw`: the next bytes replace it.
    raw_taken: bool,
}

/// A stored entry as the link read it.
#[derive(Debug)]
struct Candidate {
    entry: Entry,
    key: String,
    sequence: u64,
    body_len: u64,
}

/// One store operation, as queued.
#[derive(Debug)]
enum Op {
    Get(String),
    Edit {
        key: String,
        metadata: Bytes,
    },
    Write,
    Commit,
    Abort,
    Update {
        key: String,
        sequence: u64,
        metadata: Vec<u8>,
    },
    Remove(String),
}

/// The tee's state: whether body bytes read now belong to an entry being written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Tee {
    #[default]
    Off,
    /// An entry is being written.
    On,
    /// The body ended and `Commit` is queued: the bytes of the read that ended it still
    /// belong to the entry.
    Closing,
}

/// The most undecoded body bytes the tee holds for the driver at once. They are handed over
/// after each read that gives the caller decoded bytes, so a gzip body that decodes to nothing
/// for this long (a run of empty deflate blocks, a huge header field) would otherwise pile up
/// in memory, without end on an endless stream. Such an entry is abandoned instead: the caller
/// still reads the body, which is simply not stored.
const MAX_TEE_BACKLOG: usize = 256 * 1024;

impl CacheLink {
    /// The state, made on first use (only a client with a cache uses it).
    fn get(&mut self) -> &mut LinkState {
        self.0.get_or_insert_with(Box::default)
    }

    /// The state, if the call has one.
    fn state(&mut self) -> Option<&mut LinkState> {
        self.0.as_deref_mut()
    }

    /// Appends body bytes the call read itself, if they belong to an entry being written.
    pub(super) fn tee_raw(&mut self, bytes: &[u8]) {
        if let Some(link) = self.state() {
            link.tee_raw(bytes);
        }
    }

    /// True while the response body is being stored.
    pub(super) fn is_teeing(&self) -> bool {
        self.0.as_ref().is_some_and(|link| link.tee == Tee::On)
    }

    /// The body being stored ended: commit the entry if it was read to its end, else abandon
    /// it.
    pub(super) fn tee_end(&mut self, complete: bool) {
        if let Some(link) = self.state() {
            link.tee_end(complete);
        }
    }

    /// A body the call drained to its end (a followed redirect's): what it read goes to the
    /// entry, which is committed.
    pub(super) fn tee_drained(&mut self) {
        if let Some(link) = self.state() {
            link.tee_drained();
        }
    }

    /// The call failed: nothing waits for an answer any more, and an entry being written is
    /// abandoned.
    pub(super) fn on_fail(&mut self) {
        if let Some(link) = self.state() {
            link.on_fail();
        }
    }
}

impl LinkState {
    fn tee_raw(&mut self, bytes: &[u8]) {
        if self.tee != Tee::On || bytes.is_empty() {
            return;
        }
        if self.raw_taken {
            self.raw.clear();
            self.raw_taken = false;
        }
        if self.raw.len() + bytes.len() > MAX_TEE_BACKLOG {
            self.tee_end(false);
            self.raw = Vec::new();
            return;
        }
        self.raw.extend_from_slice(bytes);
    }

    fn tee_end(&mut self, complete: bool) {
        if self.tee != Tee::On {
            return;
        }
        if complete {
            self.ops.push_back(Op::Commit);
            self.tee = Tee::Closing;
        } else {
            self.ops.push_back(Op::Abort);
            self.tee = Tee::Off;
            self.raw.clear();
            self.raw_taken = false;
        }
    }

    fn tee_drained(&mut self) {
        if self.tee != Tee::On {
            return;
        }
        if !self.raw_taken && !self.raw.is_empty() {
            self.ops.push_back(Op::Write);
        }
        self.tee_end(true);
    }

    fn on_fail(&mut self) {
        self.ops
            .retain(|op| !matches!(op, Op::Get(_) | Op::Edit { .. }));
        self.tee_end(false);
        self.validating = None;
    }
}

impl Op {
    fn view<'a>(&'a self, raw: &'a [u8]) -> CacheOp<'a> {
        match self {
            Op::Get(key) => CacheOp::Get { key },
            Op::Edit { key, metadata } => CacheOp::Edit { key, metadata },
            Op::Write => CacheOp::Write { bytes: raw },
            Op::Commit => CacheOp::Commit,
            Op::Abort => CacheOp::Abort,
            Op::Update {
                key,
                sequence,
                metadata,
            } => CacheOp::Update {
                key,
                sequence: *sequence,
                metadata,
            },
            Op::Remove(key) => CacheOp::Remove { key },
        }
    }
}

impl Call {
    /// The cache link, going down: look up the request's stored entry (GET and HEAD), or
    /// decide at once.
    #[inline(never)] // As `cache_up`.
    pub(super) fn cache_down(&mut self, outgoing: Outgoing) -> Option<Baton> {
        if self.shared.config.cache.is_none() {
            self.chain.pos += 1;
            return Some(Baton::Down(outgoing));
        }
        let request = outgoing.to_arc();
        let link = self.cache.get();
        link.validating = None;
        link.key = key(request.url());
        let lookup = matches!(*request.method_ref(), Method::GET | Method::HEAD);
        link.request = Some(request);
        if lookup {
            link.ops.push_back(Op::Get(link.key.clone()));
            self.state = State::Caching(outgoing);
            return None;
        }
        self.cache_decide(outgoing, None)
    }

    /// Answers [`CacheOp::Get`]: the entry stored under the key, if any (a store error counts
    /// as none). The call decides with it at once: the body reader the driver keeps is read
    /// only if the call answers from the cache.
    pub fn handle_cache_get(&mut self, now: Now, result: io::Result<Option<&Snapshot>>) {
        self.tick(now);
        let Some(link) = self.cache.state() else {
            return;
        };
        if !matches!(link.ops.front(), Some(Op::Get(_))) {
            return;
        }
        link.ops.pop_front();
        let State::Caching(outgoing) = std::mem::replace(&mut self.state, State::Running) else {
            return;
        };
        let candidate = match result {
            Ok(Some(snapshot)) => Entry::decode(snapshot.metadata())
                .ok()
                .map(|entry| Candidate {
                    entry,
                    key: snapshot.key().to_owned(),
                    sequence: snapshot.sequence(),
                    body_len: snapshot.body_len(),
                }),
            // A corrupt entry or a failing store: a miss. A response stored later replaces it.
            Ok(None) | Err(_) => None,
        };
        if let Some(baton) = self.cache_decide(outgoing, candidate) {
            self.run(baton);
        }
    }

    /// Answers [`CacheOp::Edit`]: whether the store opened an entry (`Ok(false)` when another
    /// call is writing the same one: then this response is simply not stored).
    pub fn handle_cache_edit(&mut self, now: Now, result: io::Result<bool>) {
        self.tick(now);
        let Some(link) = self.cache.state() else {
            return;
        };
        if !matches!(link.ops.front(), Some(Op::Edit { .. })) {
            return;
        }
        link.ops.pop_front();
        if !matches!(result, Ok(true)) {
            // Nothing to write to: stop keeping bytes for it. Its Commit or Abort, if queued,
            // finds no entry open.
            link.tee = Tee::Off;
            link.raw.clear();
            link.raw_taken = false;
        }
    }

    /// The response body bytes that belong to the cache entry being written, after a read
    /// that handed `delivered` to the caller (empty for [`BodyRead::End`](crate::BodyRead)).
    ///
    /// When the body reaches the caller as it came from the network, that is `delivered`
    /// itself; when the call decodes it first, it is the undecoded bytes the call read for it
    /// (each returned once). Empty when nothing is being stored. A driver that keeps an editor
    /// ([`CacheOp::Edit`]) writes these to it after every read.
    pub fn take_tee_bytes<'a>(&'a mut self, delivered: &'a [u8]) -> &'a [u8] {
        let Some(link) = self.cache.state() else {
            return &[];
        };
        if link.tee == Tee::Off {
            return &[];
        }
        if !self.body.is_decoded() {
            return delivered;
        }
        if link.raw_taken {
            return &[];
        }
        link.raw_taken = true;
        &link.raw
    }

    /// Readies the next store operation for the driver; false when there is none (always,
    /// without a cache). [`cache_op`](Self::cache_op) then shows it.
    pub(super) fn next_cache_op(&mut self) -> bool {
        let Some(link) = self.cache.state() else {
            return false;
        };
        link.current = None;
        loop {
            match link.ops.front() {
                None => return false,
                // Answered ones stay at the front until their answer.
                Some(Op::Get(_) | Op::Edit { .. }) => return true,
                Some(Op::Write) if link.raw_taken => {
                    link.ops.pop_front();
                }
                Some(_) => {
                    let op = link.ops.pop_front();
                    match op {
                        Some(Op::Write) => link.raw_taken = true,
                        Some(Op::Commit) if link.tee == Tee::Closing => link.tee = Tee::Off,
                        _ => {}
                    }
                    link.current = op;
                    return true;
                }
            }
        }
    }

    /// The store operation [`next_cache_op`](Self::next_cache_op) readied.
    pub(super) fn cache_op(&self) -> Option<CacheOp<'_>> {
        let link = self.cache.0.as_deref()?;
        link.current
            .as_ref()
            .or_else(|| link.ops.front())
            .map(|op| op.view(&link.raw))
    }

    /// Decides, with the stored candidate, how to answer the request that came down as
    /// `outgoing` (OkHttp's `CacheInterceptor.intercept` up to `chain.proceed`). A request
    /// that goes to the network as it came goes on as `outgoing`.
    fn cache_decide(&mut self, outgoing: Outgoing, candidate: Option<Candidate>) -> Option<Baton> {
        let (Some(cache), Some(request)) = (
            self.shared.config.cache.clone(),
            self.cache.get().request.clone(),
        ) else {
            self.chain.pos += 1;
            return Some(Baton::Down(outgoing));
        };
        let wall = self.now.wall;
        let strategy = CacheStrategy::compute(wall, &request, candidate.as_ref().map(|c| &c.entry));
        cache.track(&strategy);
        match (strategy, candidate) {
            (CacheStrategy::Cache { headers }, Some(candidate)) => {
                self.events.emit(self.now.mono, || EventKind::CacheHit);
                let mut response = candidate.entry.response_head(request.clone(), headers);
                response.set_handshake(stored_handshake(&candidate.entry));
                response.set_cache_response(Some(response.head()));
                self.body = cached_body(&request, candidate.body_len);
                Some(Baton::Up(Ok(response)))
            }
            (CacheStrategy::Conditional { request_headers }, Some(candidate)) => {
                self.events
                    .emit(self.now.mono, || EventKind::CacheConditionalHit);
                self.cache.get().validating = Some(Box::new(candidate));
                let mut conditional = Arc::unwrap_or_clone(request);
                *conditional.headers_mut() = request_headers;
                self.chain.pos += 1;
                Some(Baton::Down(Outgoing::Request(Arc::new(conditional))))
            }
            (CacheStrategy::Unsatisfiable, _) => {
                self.events
                    .emit(self.now.mono, || EventKind::SatisfactionFailure);
                self.body = ResponseBody::none();
                Some(Baton::Up(Ok(unsatisfiable_response(request, wall))))
            }
            // Network, or (never, as the strategy only uses a candidate it was given) a
            // decision that needs one without it.
            _ => {
                self.events.emit(self.now.mono, || EventKind::CacheMiss);
                self.chain.pos += 1;
                Some(Baton::Down(outgoing))
            }
        }
    }

    /// Notes the network's response as such, lazily: it is built only if someone asks, or
    /// before someone above changes this one. The whole cache link when there is no cache.
    pub(super) fn note_network_origin(&mut self, result: &mut Result<Response<()>, Error>) {
        if let (Ok(response), Some(exchange)) = (result, &self.exchange) {
            response.set_network_origin(exchange.request().clone());
        }
    }

    /// The cache link, coming up with the network's answer (OkHttp's `CacheInterceptor` after
    /// `chain.proceed`).
    #[inline(never)] // Its many responses stay out of the chain loop's stack frame.
    pub(super) fn cache_up(&mut self, mut result: Result<Response<()>, Error>) -> Option<Baton> {
        self.note_network_origin(&mut result);
        let Some(cache) = self.shared.config.cache.clone() else {
            return Some(Baton::Up(result));
        };
        let link = self.cache.get();
        let validated = link.validating.take();
        let mut network = match result {
            Ok(response) => response,
            Err(e) => return Some(Baton::Up(Err(e))),
        };
        let request = link
            .request
            .clone()
            .unwrap_or_else(|| Arc::new(network.request().clone()));
        // The headers the request went out with (network interceptors' included): what `Vary`
        // and the `Authorization` rule look at.
        let sent_headers = match &self.exchange {
            Some(exchange) => exchange.request().headers(),
            None => request.headers().clone(),
        };
        let handshake = self.conn.as_ref().and_then(|c| c.cache_handshake());
        let update = CacheUpdate::compute(
            &sent_headers,
            validated.as_ref().map(|c| &c.entry),
            &network,
            handshake,
        );
        if let (CacheUpdate::Refresh(entry), Some(stored)) = (&update, &validated) {
            // 304: the stored body, with the headers merged; the 304's exchange is over.
            let mut response = entry.response_head(request.clone(), entry.headers.clone());
            response.set_handshake(stored_handshake(&stored.entry));
            response.set_cache_response(Some(
                stored
                    .entry
                    .response_head(request.clone(), stored.entry.headers.clone()),
            ));
            response.set_network_response(network.network_response().map(Response::head));
            self.discard_body(None);
            self.body = cached_body(&request, stored.body_len);
            cache.track_conditional_hit();
            self.events.emit(self.now.mono, || EventKind::CacheHit);
            self.cache.get().ops.push_back(Op::Update {
                key: stored.key.clone(),
                sequence: stored.sequence,
                metadata: entry.encode(),
            });
            return Some(Baton::Up(Ok(response)));
        }
        if let Some(stored) = &validated {
            // The origin sent a new response: the stored one was stale.
            network.set_cache_response(Some(
                stored
                    .entry
                    .response_head(request.clone(), stored.entry.headers.clone()),
            ));
            self.events.emit(self.now.mono, || EventKind::CacheMiss);
        }
        match update {
            CacheUpdate::Store(entry) => {
                let link = self.cache.get();
                link.ops.push_back(Op::Edit {
                    key: entry.key(),
                    metadata: Bytes::from(entry.encode()),
                });
                link.tee = Tee::On;
                link.raw.clear();
                link.raw_taken = false;
            }
            CacheUpdate::Invalidate(urls) => {
                for url in urls {
                    self.cache.get().ops.push_back(Op::Remove(key(&url)));
                }
            }
            CacheUpdate::Refresh(_) | CacheUpdate::Keep => {}
        }
        Some(Baton::Up(Ok(network)))
    }
}

/// The TLS handshake a stored HTTPS response came over, as [`Response::handshake`] reports it
/// (OkHttp serves a cached response with its original handshake). `None` for a plain one, and
/// for a version or cipher suite this client does not offer (the entry names them as rustls
/// does; the client certificate sent is not kept).
fn stored_handshake(entry: &Entry) -> Option<Arc<Handshake>> {
    let stored = entry.handshake.as_ref()?;
    let version = match stored.tls_version.as_str() {
        "TLSv1_3" => TlsVersion::Tls1_3,
        "TLSv1_2" => TlsVersion::Tls1_2,
        _ => return None,
    };
    let suite = rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .map(|s| s.suite())
        .find(|s| s.as_str() == Some(stored.cipher_suite.as_str()))?;
    let peer = stored
        .peer_certificates
        .iter()
        .map(|der| crate::Certificate::from_der(der.clone()))
        .collect();
    Some(Arc::new(Handshake::new(version, suite, peer, Vec::new())))
}

/// The body of a stored response served for `request`: none for HEAD.
fn cached_body(request: &Request, len: u64) -> ResponseBody {
    if *request.method_ref() == Method::HEAD {
        ResponseBody::none()
    } else {
        ResponseBody::cached(len)
    }
}
