//! The chain runner: the request goes down the links, the response comes back up, and each
//! link answers as OkHttp's interceptors do, without recursion.
//!
//! The links, by position (`A` application interceptors, `N` network interceptors):
//!
//! ```text
//!  0 .. A          application interceptors
//!  A               retry and follow-up
//!  A + 1           bridge
//!  A + 2           cache: answers from the client's cache, revalidates, stores (`cache.rs`)
//!  A + 3           connect: binds a connection (Finder) to the request (`connect.rs`)
//!  A + 4 .. +N     network interceptors
//!  A + 4 + N       call server: the exchange
//! ```
//!
//! `Baton::Down(request)` at position `p` is the request arriving at link `p`;
//! `Baton::Up(result)` at position `p` is the result link `p` produced, arriving at link `p - 1`
//! (at position 0 it goes to the caller). A link that answers a response with a new request
//! (a follow-up, an application interceptor proceeding again) first has the response's body
//! discarded, so its connection can carry the next exchange.

use std::any::Any;
use std::sync::Arc;

use super::body::ResponseBody;
use super::{Call, Handoff, State};
use crate::body::Body;
use crate::bridge::Bridge;
use crate::events::EventKind;
use crate::exchange::{Cx, Exchange, Outgoing};
use crate::follow_up::{Decision, FollowUp};
use crate::interceptor::{
    InterceptorContext, InterceptorId, InterceptorSlot, RequestAction, ResponseAction, SlotKind,
};
use crate::{Config, Error, Request, Response};

/// What travels through the chain.
#[derive(Debug)]
pub(super) enum Baton {
    Down(Outgoing),
    Up(Result<Response<()>, Error>),
}

/// What a link did with a result coming up the chain ([`Call::up`]).
enum Up {
    /// Looked at it or changed it in place: on to the next link up.
    PassedOn,
    /// A failure to retry: this request goes down again, on a fresh connection.
    Retry(Arc<Request>),
    /// The response calls for this request next; the response becomes its prior response.
    Follow(Box<Request>),
    /// This interceptor takes the result by value.
    Interceptor(InterceptorId),
    /// The cache link of a client with a cache takes the result by value.
    Cache,
}

impl Baton {
    fn down(request: Arc<Request>) -> Baton {
        Baton::Down(Outgoing::Request(request))
    }
}

/// A user interceptor's place in one call.
struct Frame {
    slot: InterceptorSlot,
    state: Option<Box<dyn Any + Send>>,
    proceeded: u32,
    /// Network interceptors: the host and port of the request they were given.
    origin: Option<(String, Option<u16>)>,
}

impl Frame {
    fn new(slot: &InterceptorSlot) -> Frame {
        Frame {
            slot: slot.clone(),
            state: None,
            proceeded: 0,
            origin: None,
        }
    }
}

/// Which link is at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    App(usize),
    FollowUp,
    Bridge,
    Cache,
    Connect,
    Network(usize),
    CallServer,
}

/// The links' state for one call.
pub(super) struct Chain {
    app: Vec<Frame>,
    network: Vec<Frame>,
    follow_up: FollowUp,
    bridge: Bridge,
    /// The link holding the baton.
    pub(super) pos: usize,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl Chain {
    pub(super) fn new(config: &Config) -> Chain {
        Chain {
            app: config.interceptors.iter().map(Frame::new).collect(),
            network: config.network_interceptors.iter().map(Frame::new).collect(),
            follow_up: FollowUp::default(),
            bridge: Bridge::default(),
            pos: 0,
        }
    }

    fn link(&self, pos: usize) -> Link {
        let a = self.app.len();
        if pos < a {
            return Link::App(pos);
        }
        match pos - a {
            0 => Link::FollowUp,
            1 => Link::Bridge,
            2 => Link::Cache,
            3 => Link::Connect,
            n if n - 4 < self.network.len() => Link::Network(n - 4),
            _ => Link::CallServer,
        }
    }

    fn position(&self, link: Link) -> usize {
        let a = self.app.len();
        match link {
            Link::App(i) => i,
            Link::FollowUp => a,
            Link::Bridge => a + 1,
            Link::Cache => a + 2,
            Link::Connect => a + 3,
            Link::Network(i) => a + 4 + i,
            Link::CallServer => a + 4 + self.network.len(),
        }
    }

    pub(super) fn server_pos(&self) -> usize {
        self.position(Link::CallServer)
    }

    fn frame(&mut self, id: InterceptorId) -> Option<&mut Frame> {
        if id.network {
            self.network.get_mut(id.index)
        } else {
            self.app.get_mut(id.index)
        }
    }

    fn position_of(&self, id: InterceptorId) -> usize {
        self.position(if id.network {
            Link::Network(id.index)
        } else {
            Link::App(id.index)
        })
    }
}

impl Call {
    /// Runs the chain from the baton until a link waits for I/O (or for a runtime
    /// interceptor), or the call has its response.
    pub(super) fn run(&mut self, baton: Baton) {
        self.state = State::Running;
        let result = match baton {
            Baton::Down(request) => match self.descend(request) {
                Some(result) => result,
                None => return,
            },
            Baton::Up(result) => result,
        };
        self.climb(result);
    }

    /// The result from below (a response head, or a failure) goes up the chain from the link
    /// below `pos`; as [`run`](Self::run) does with `Baton::Up(result)`. Its own entry, taking
    /// the result as it is, so that a response arriving from the network is not first wrapped
    /// in a baton and then unwrapped from it: a response is 280 bytes, and each move copies it.
    pub(super) fn run_up(&mut self, result: Result<Response<()>, Error>) {
        self.state = State::Running;
        self.climb(result);
    }

    /// Down the chain from the link at `pos`: only the request moves. Returns the result a link
    /// answered with, for the links above it; `None` when the call now waits, or ended.
    fn descend(&mut self, mut request: Outgoing) -> Option<Result<Response<()>, Error>> {
        loop {
            let next = self.down(request);
            if matches!(self.state, State::Failed | State::Done) {
                return None;
            }
            match next? {
                Baton::Down(next) => request = next,
                Baton::Up(result) => return Some(result),
            }
        }
    }

    /// Up the chain: the result stays put while links look at it or change it in place. Only
    /// the links that must own it (an interceptor, the cache) take it by value; a link may
    /// also send a request down again (a retry, a follow-up), whose result then climbs on.
    fn climb(&mut self, mut result: Result<Response<()>, Error>) {
        loop {
            let next = loop {
                if self.chain.pos == 0 {
                    return self.finish_chain(result);
                }
                self.chain.pos -= 1;
                match self.up(&mut result) {
                    Up::PassedOn => continue,
                    Up::Retry(request) => break Some(Baton::down(request)),
                    Up::Follow(request) => {
                        if let Ok(response) = result {
                            self.chain.follow_up.keep_prior(response);
                        }
                        break self.follow_up_down(request);
                    }
                    Up::Interceptor(id) => break self.interceptor_up(id, result),
                    Up::Cache => break self.cache_up(result),
                }
            };
            let Some(next) = next else {
                return;
            };
            if matches!(self.state, State::Failed | State::Done) {
                return;
            }
            result = match next {
                Baton::Up(result) => result,
                Baton::Down(request) => match self.descend(request) {
                    Some(result) => result,
                    None => return,
                },
            };
        }
    }

    /// The request arrives at the link at `pos`. Returns the next baton, or `None` when the
    /// call now waits.
    fn down(&mut self, request: Outgoing) -> Option<Baton> {
        let pos = self.chain.pos;
        match self.chain.link(pos) {
            Link::App(i) => self.interceptor_down(
                InterceptorId {
                    network: false,
                    index: i,
                },
                request.into_arc(),
            ),
            Link::FollowUp => {
                let request = request.into_arc();
                self.chain.follow_up.on_request(&request, &self.request);
                self.chain.pos += 1;
                Some(Baton::down(request))
            }
            Link::Bridge => {
                let network =
                    self.chain
                        .bridge
                        .on_request(self.now, request.into_arc(), &self.shared.config);
                self.chain.pos += 1;
                Some(Baton::Down(Outgoing::Bridged(network)))
            }
            Link::Cache => self.cache_down(request),
            Link::Connect => self.connect(request),
            Link::Network(i) => self.interceptor_down(
                InterceptorId {
                    network: true,
                    index: i,
                },
                request.into_arc(),
            ),
            Link::CallServer => self.start_exchange(request),
        }
    }

    /// The result from below arrives at the link at `pos` (already decremented), which looks
    /// at it or changes it in place, or says that it takes it by value.
    fn up(&mut self, result: &mut Result<Response<()>, Error>) -> Up {
        match self.chain.link(self.chain.pos) {
            Link::Connect | Link::CallServer => Up::PassedOn,
            Link::Bridge => {
                self.bridge_up(result);
                Up::PassedOn
            }
            Link::Cache if self.shared.config.cache.is_none() => {
                self.note_network_origin(result);
                Up::PassedOn
            }
            Link::Cache => Up::Cache,
            Link::FollowUp => self.follow_up_up(result),
            Link::App(i) => Up::Interceptor(InterceptorId {
                network: false,
                index: i,
            }),
            Link::Network(i) => Up::Interceptor(InterceptorId {
                network: true,
                index: i,
            }),
        }
    }

    /// The bridge link on the way up: the response's fields as the application sees them,
    /// and the body decoded when the bridge asked for gzip.
    fn bridge_up(&mut self, result: &mut Result<Response<()>, Error>) {
        let Ok(response) = result else {
            return;
        };
        let has_body = self.body.has_data();
        let config = &self.shared.config;
        // The request the follow-up link sent down is the one the bridge was given.
        let user = self.chain.follow_up.request(&self.request);
        if self
            .chain
            .bridge
            .on_response(self.now, response, has_body, config, user)
        {
            self.body
                .decode_gzip(self.shared.config.max_decompressed_bytes);
        }
    }

    /// The chain's result reached the caller.
    fn finish_chain(&mut self, result: Result<Response<()>, Error>) {
        match result {
            Err(e) => self.fail(e),
            Ok(response) => {
                self.state = State::Delivering(response);
                self.begin_body();
            }
        }
    }

    // ------------------------------------------------------------------ follow-ups

    /// The follow-up link on the way up: a failure may be retried, a response may call for
    /// another request (auth, redirect, retry). Either goes down again; else the result goes
    /// on up, a failure the link decided on in place of the response.
    fn follow_up_up(&mut self, result: &mut Result<Response<()>, Error>) -> Up {
        let config = &self.shared.config;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let Some(request) =
                    self.chain
                        .follow_up
                        .on_failure(error, &self.attempt, config, &self.request)
                else {
                    return Up::PassedOn;
                };
                let reason = error.clone();
                self.events
                    .emit(self.now.mono, || EventKind::RetryOnFreshConnection {
                        reason,
                    });
                self.fresh_connection = true;
                self.chain.pos += 1;
                return Up::Retry(request);
            }
        };
        let proxy = self.conn.as_ref().map(|conn| conn.address().proxy());
        match self.chain.follow_up.on_response(response, config, proxy) {
            Decision::Return => Up::PassedOn,
            Decision::Fail(e) => {
                *result = Err(e);
                self.discard_body(None);
                Up::PassedOn
            }
            Decision::FollowUp(next) => Up::Follow(next),
        }
    }

    /// A follow-up request goes down the chain, once the body of the response that asked for
    /// it is out of the way.
    fn follow_up_down(&mut self, next: Box<Request>) -> Option<Baton> {
        let (status, method, url) = (self.body_status(), next.method(), next.redacted_url());
        self.events.emit(self.now.mono, || EventKind::FollowUp {
            status,
            method,
            url,
        });
        // The follow-up is now the request a failure would retry, not the one before it.
        let next = Arc::new(*next);
        self.chain.follow_up.on_request(&next, &self.request);
        self.chain.pos += 1;
        self.discard_body(Some(Baton::down(next)))
    }

    // ------------------------------------------------------------------ call server

    /// The call-server link: starts the exchange on the bound connection.
    fn start_exchange(&mut self, request: Outgoing) -> Option<Baton> {
        let Some(conn) = self.conn.as_mut() else {
            return Some(Baton::Up(Err(Error::io(
                "no connection for the exchange",
                None,
            ))));
        };
        let plan = match Exchange::plan(&request) {
            Ok(plan) => plan,
            Err(e) => return Some(Baton::Up(Err(e.with_phase(crate::Phase::Send)))),
        };
        let exchange = self.exchange.insert(Exchange::new(request, plan, self.now));
        let mut cx = Cx {
            now: self.now,
            events: &mut self.events,
            config: &self.shared.config,
        };
        let started = exchange.start(conn, &mut cx);
        self.state = State::Exchanging;
        if let Err(e) = started {
            self.exchange_failed(e);
        }
        None
    }

    // ------------------------------------------------------------------ user interceptors

    #[inline(never)] // Only for calls with interceptors: its values stay out of `run`'s frame.
    fn interceptor_down(&mut self, id: InterceptorId, request: Arc<Request>) -> Option<Baton> {
        let now = self.now;
        let call = self.id;
        let Some(frame) = self.chain.frame(id) else {
            return Some(Baton::Up(Err(Error::invalid_input("unknown interceptor"))));
        };
        let name = frame.slot.name();
        if id.network {
            frame.proceeded = 0;
            frame.origin = Some(origin_of(&request));
        }
        let interceptor = match &frame.slot.0 {
            SlotKind::External(_) => {
                self.state = State::Intercepting(id);
                let request = Box::new(Arc::unwrap_or_clone(request));
                self.intercept = Some(Handoff::Request(request));
                return None;
            }
            SlotKind::Core(i) => i.clone(),
        };
        let mut cx = InterceptorContext {
            call,
            now,
            proceeded: frame.proceeded,
            state: &mut frame.state,
        };
        let action = interceptor.on_request(&mut cx, Arc::unwrap_or_clone(request));
        match action {
            RequestAction::Proceed(next) => self.interceptor_proceeds(id, &name, next),
            RequestAction::Respond(response) => {
                if id.network {
                    return Some(Baton::Up(Err(network_rule(
                        &name,
                        "must call proceed() exactly once",
                    ))));
                }
                Some(Baton::Up(Ok(self.respond_with(response))))
            }
            RequestAction::Fail(e) => Some(Baton::Up(Err(e))),
        }
    }

    /// Interceptor `id` proceeds with `request`: check the network rules and go down.
    fn interceptor_proceeds(
        &mut self,
        id: InterceptorId,
        name: &str,
        request: Request,
    ) -> Option<Baton> {
        let pos = self.chain.position_of(id);
        let frame = self.chain.frame(id)?;
        frame.proceeded += 1;
        if id.network {
            if frame.proceeded > 1 {
                return Some(Baton::Up(Err(network_rule(
                    name,
                    "must call proceed() exactly once",
                ))));
            }
            if frame.origin.as_ref() != Some(&origin_of(&request)) {
                return Some(Baton::Up(Err(network_rule(
                    name,
                    "must retain the same host and port",
                ))));
            }
        }
        self.chain.pos = pos + 1;
        Some(Baton::down(Arc::new(request)))
    }

    #[inline(never)] // As `interceptor_down`.
    fn interceptor_up(
        &mut self,
        id: InterceptorId,
        result: Result<Response<()>, Error>,
    ) -> Option<Baton> {
        let now = self.now;
        let call = self.id;
        let Some(frame) = self.chain.frame(id) else {
            return Some(Baton::Up(result));
        };
        let name = frame.slot.name();
        let interceptor = match &frame.slot.0 {
            SlotKind::External(_) => {
                self.state = State::Intercepting(id);
                self.intercept = Some(Handoff::Result(Box::new(result)));
                return None;
            }
            SlotKind::Core(i) => i.clone(),
        };
        let mut cx = InterceptorContext {
            call,
            now,
            proceeded: frame.proceeded,
            state: &mut frame.state,
        };
        match interceptor.on_response(&mut cx, result) {
            ResponseAction::Return(response) => Some(Baton::Up(Ok(response))),
            ResponseAction::Fail(e) => {
                self.discard_body(None);
                Some(Baton::Up(Err(e)))
            }
            ResponseAction::Respond(response) => {
                if id.network {
                    self.discard_body(None);
                    return Some(Baton::Up(Err(network_rule(
                        &name,
                        "must not replace the response body",
                    ))));
                }
                self.discard_body(None);
                Some(Baton::Up(Ok(self.respond_with(response))))
            }
            ResponseAction::Proceed(next) => {
                let then = self.interceptor_proceeds(id, &name, next)?;
                self.discard_body(Some(then))
            }
        }
    }

    /// A runtime interceptor proceeded with `request` (the closure form's
    /// `chain.proceed(request)`).
    pub(super) fn external_proceed(&mut self, id: InterceptorId, request: Request) {
        if !matches!(self.state, State::Intercepting(current) if current == id) {
            return;
        }
        let name = self
            .chain
            .frame(id)
            .map(|f| f.slot.name())
            .unwrap_or_default();
        self.state = State::Running;
        let Some(baton) = self.interceptor_proceeds(id, &name, request) else {
            return;
        };
        // Proceeding again: the body of the response it had is no one's now.
        if let Some(next) = self.discard_body(Some(baton)) {
            self.run(next);
        }
    }

    /// A runtime interceptor returned `result`; with `replaced`, the body is the runtime's own
    /// and the one that came up is discarded.
    pub(super) fn external_done(
        &mut self,
        id: InterceptorId,
        result: Result<Response<()>, Error>,
        replaced: bool,
    ) {
        if !matches!(self.state, State::Intercepting(current) if current == id) {
            return;
        }
        self.state = State::Running;
        let name = self
            .chain
            .frame(id)
            .map(|f| f.slot.name())
            .unwrap_or_default();
        let proceeded = self.chain.frame(id).map_or(0, |f| f.proceeded);
        // Proceeding once is checked first, as OkHttp does: a network interceptor that answers
        // without proceeding broke that rule, whatever body it made up.
        let result = match result {
            Ok(_) if id.network && proceeded != 1 => {
                Err(network_rule(&name, "must call proceed() exactly once"))
            }
            Ok(_) if id.network && replaced => {
                Err(network_rule(&name, "must not replace the response body"))
            }
            other => other,
        };
        self.chain.pos = self.chain.position_of(id);
        let baton = Baton::Up(result);
        let next = if replaced || baton_is_err(&baton) {
            let next = self.discard_body(Some(baton));
            if replaced {
                self.body = ResponseBody::external();
            }
            next
        } else {
            Some(baton)
        };
        if let Some(next) = next {
            self.run(next);
        }
    }

    /// A response an interceptor made up, with its body as the call's body.
    fn respond_with(&mut self, response: Response<Body>) -> Response<()> {
        let (mut head, body) = response.into_parts();
        if head.sent_at() == std::time::UNIX_EPOCH {
            head.set_times(self.now.wall, self.now.wall);
        }
        self.body = ResponseBody::made_up(body);
        head
    }

    /// The status of the response being followed (for the follow-up event).
    fn body_status(&self) -> http::StatusCode {
        self.chain
            .follow_up
            .followed_status()
            .unwrap_or(http::StatusCode::OK)
    }
}

fn baton_is_err(baton: &Baton) -> bool {
    matches!(baton, Baton::Up(Err(_)))
}

/// The host and port a network interceptor must keep.
fn origin_of(request: &Request) -> (String, Option<u16>) {
    (
        request
            .url()
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        request.url().port_or_known_default(),
    )
}

fn network_rule(name: &str, rule: &str) -> Error {
    Error::invalid_input(format!("network interceptor {name} {rule}"))
}
