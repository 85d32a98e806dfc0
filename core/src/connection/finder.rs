//! Finding a connection for an exchange (OkHttp's `ExchangeFinder`): a pooled one, else a
//! fresh one over the next route: proxy selection, name resolution, TCP connect, the proxy's
//! handshake (a SOCKS5 greeting or an HTTP `CONNECT` tunnel) and the TLS handshake.
//!
//! ```text
//!  Acquire ──pooled, idle < HEALTH_CHECK_AFTER─────────────────────────────▶ Found
//!     │   └─pooled, idle longer──▶ CheckHealth ──healthy──────────────────────▶ Found
//!     │ none                           └─closed──▶ (close it) Acquire
//!     │ (with several proxies selected: Acquire again through each later one)
//!     ▼
//!  RouteSelector ──Lookup──▶ Resolve ──▶ routes (failed ones last, families interleaved)
//!     ▼
//!  Connect(c1) ─250 ms─▶ Connect(c2) ... (FastFallback: several attempts in flight)
//!     └─first to connect wins, the others are closed ──▶ SOCKS5 / CONNECT tunnel (proxy)
//!        ──▶ TLS (https) ─────────────────────────────────────────────────────▶ Found
//!  every attempt of the batch failed or timed out ──▶ next batch (next proxy) ... Failed
//!  the winner's setup failed (a proxy's refusal, an I/O error or timeout, TLS but not the
//!  certificate) ──▶ a race over what the batch had left ──▶ next batch ... Failed
//! ```
//!
//! Every I/O request names the connection it is for, so a driver keeps sockets by id, and an
//! abandoned attempt is closed by id. A batch of routes races through
//! [`FastFallback`](crate::connection::FastFallback) (RFC 8305: IPv6 and IPv4 interleaved, a
//! new attempt every 250 ms while none has answered, at once after a failure); with
//! `fast_fallback(false)` the batch runs one attempt at a time in the resolver's order. A batch
//! of one route is a single attempt. Each attempt has its own connect timeout, and each failed
//! route is remembered in the route database.
//!
//! A call's first look in the pool is a [`PoolProbe`]'s, before any finder exists: the finder
//! is built only when the pool's answer needs more than taking the connection (see
//! `finder/probe.rs`), and starts from that answer in its `Acquire` state.

use std::collections::{HashSet, VecDeque};
use std::io;

use core::net::{IpAddr, SocketAddr};

use smallvec::SmallVec;

use crate::client::Shared;
use crate::connection::{
    Address, AttemptId, ConnId, ConnectAction, Connection, Route, RouteSelector, RouteStep,
    needs_health_check,
};
use crate::events::{EventKind, EventSink};
use crate::proxy::Proxy;
use crate::proxy::socks5::{self, Socks5};
use crate::proxy::tunnel::{Tunnel, TunnelStep};
use crate::{Error, Instant, Now, TimeoutKind};

mod contest;
mod probe;
mod setup;

use contest::Contest;
pub(crate) use probe::PoolProbe;

/// What the finder needs next.
#[derive(Debug)]
pub(crate) enum Need<'a> {
    /// Look in the pool for this address.
    Acquire(&'a Address),
    /// Check the pooled socket of this connection.
    CheckHealth(ConnId),
    /// Resolve the host.
    Resolve { host: &'a str, port: u16 },
    /// Open a TCP connection for attempt `conn`.
    Connect { conn: ConnId, addr: SocketAddr },
    /// A handshake runs on this connection (SOCKS5, `CONNECT`, TLS): write its queued bytes,
    /// or read.
    Handshake,
}

/// What happened after an input.
#[derive(Debug)]
pub(crate) enum Found {
    /// Nothing decided yet.
    Pending,
    /// A connection is ready for an exchange: take it with [`Finder::take_ready`].
    Ready,
    /// No connection could be made.
    Failed(Error),
}

/// The lookup of `host` answered `ips`, used with `port`.
fn dns_end(events: &mut EventSink, now: Now, host: String, ips: &[IpAddr], port: u16) {
    events.emit(now.mono, || EventKind::DnsEnd {
        host,
        addrs: ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect(),
    });
}

/// A pooled connection is the call's now (OkHttp's `connectionAcquired`, reused).
fn acquired_pooled(now: Now, conn: &Connection, events: &mut EventSink) {
    let id = conn.id();
    events.emit(now.mono, || EventKind::ConnectionAcquired {
        conn: id,
        reused: true,
    });
}

/// A handshake on a connected socket.
#[derive(Debug)]
enum Setup {
    Socks(Box<Socks5>),
    Tunnel,
    Tls,
}

#[derive(Debug)]
enum State {
    Acquire,
    CheckHealth(Connection),
    Resolve {
        host: String,
        port: u16,
    },
    /// Connect attempts race over a batch of routes.
    Connect(Box<Race>),
    Setup(Connection, Setup),
    /// Found: the connection waits to be taken.
    Ready(Connection, bool),
    Done,
}

/// One connect attempt of a race.
#[derive(Debug)]
struct Attempt {
    attempt: AttemptId,
    conn: ConnId,
    addr: SocketAddr,
    /// When its connect timeout expires (`None`: no connect timeout, or not asked yet).
    deadline: Option<Instant>,
    /// The driver was handed its `Connect` (so it may hold a socket to close).
    asked: bool,
}

/// A batch of routes racing (see [`Contest`]), with the connection id of each attempt.
#[derive(Debug)]
struct Race {
    contest: Contest,
    attempts: SmallVec<[Attempt; 1]>,
    /// When the next attempt starts if none has answered by then.
    next_start: Option<Instant>,
}

impl Race {
    fn position(&self, conn: ConnId) -> Option<usize> {
        self.attempts.iter().position(|a| a.conn == conn)
    }
}

/// Where a finder's routes come from.
#[derive(Debug)]
enum Plan {
    /// No route asked for yet.
    Unplanned,
    /// A direct connection to an IP literal has exactly one route, known without a lookup,
    /// and it was handed out. No [`RouteSelector`] is built for it: it would look nothing up,
    /// and the route database could only postpone a lone route to the end of a list of one.
    /// Most new connections to an IP literal are made this way, and the selector (a box, its
    /// pending proxy, a second parse of the literal) was a tenth of their cost.
    OneRoute,
    /// Boxed, like the tunnel and a SOCKS handshake: only a new connection needs one, and a
    /// call (which holds its finder) is moved whole several times per request.
    Selector(Box<RouteSelector>),
}

/// Where the next routes come from, as [`Plan::source`] says.
enum Source<'a> {
    /// The route selector's next step.
    Selector(&'a mut RouteSelector),
    /// The one route of a direct connection to an IP literal, handed out now.
    OneRoute(Route),
    /// That one route was handed out before: there are no more.
    Exhausted,
}

impl Plan {
    /// Where the next routes come from: the route selector (built on first use), or, for a
    /// direct connection to an IP literal, its one route the first time and nothing after.
    fn source(
        &mut self,
        address: &Address,
        proxies: &mut Vec<Proxy>,
        shared: &Shared,
    ) -> Source<'_> {
        if let Plan::Unplanned = self {
            let direct = address.proxy().is_direct() && proxies.iter().all(Proxy::is_direct);
            if let Some(ip) = address.ip().filter(|_| direct) {
                *self = Plan::OneRoute;
                let route = Route::new(address.clone(), SocketAddr::new(ip, address.port()));
                return Source::OneRoute(route);
            }
            let origin = address.clone().with_proxy(Proxy::Direct);
            let selector = RouteSelector::new(origin, std::mem::take(proxies));
            *self = Plan::Selector(Box::new(match &shared.config.routing.dns_overrides {
                Some(overrides) => selector.with_dns_overrides(overrides.clone()),
                None => selector,
            }));
        }
        match self {
            Plan::Selector(selector) => Source::Selector(selector),
            _ => Source::Exhausted,
        }
    }
}

/// Finds one connection for one exchange.
#[derive(Debug)]
pub(crate) struct Finder {
    /// The pool key: the origin, through the first proxy selected.
    address: Address,
    proxies: Vec<crate::proxy::Proxy>,
    /// While looking in the pool: the origin through a later proxy of `proxies` (the
    /// `acquiring`th), since a connection a fallback proxy made serves as well as one through
    /// the first (OkHttp's pool matches the address, whichever proxy the route took). `None`:
    /// through the first.
    probe: Option<Box<Address>>,
    acquiring: usize,
    state: State,
    /// Where the routes come from (see [`Plan`]).
    plan: Plan,
    /// Routes of the current batch not yet tried (those a won race left, while the winner is
    /// set up).
    routes: VecDeque<Route>,
    /// The route of the connection being set up, kept for a tunnel that must start over on a
    /// new connection (boxed: only new connections have one, see `selector`).
    route: Option<Box<Route>>,
    /// The `CONNECT` tunnel, kept across the new connection a `407` may ask for.
    tunnel: Option<Box<Tunnel>>,
    last_error: Option<Error>,
    /// The names looked up for this connection (from the resolver or its cache): if no route
    /// to their addresses connects, their cached answers are dropped.
    looked_up: Vec<String>,
    /// Connections to close before anything else (a pooled one found dead, an abandoned
    /// attempt).
    closing: Vec<ConnId>,
}

impl Finder {
    /// Starts finding a connection to `address` through `proxies` (in order; empty: direct);
    /// with `fresh`, the pool is skipped (a retry after a pooled connection failed).
    pub(crate) fn new(address: Address, proxies: Vec<Proxy>, fresh: bool) -> Finder {
        Finder {
            address,
            proxies,
            probe: None,
            acquiring: 0,
            state: if fresh { State::Done } else { State::Acquire },
            plan: Plan::Unplanned,
            routes: VecDeque::new(),
            route: None,
            tunnel: None,
            last_error: None,
            looked_up: Vec::new(),
            closing: Vec::new(),
        }
    }

    /// The driver is asked to connect attempt `conn` (an [`Output::Connect`](crate::Output)).
    /// An attempt abandoned before that has no socket, and the driver never heard its id, so
    /// there is nothing to close.
    /// The attempt's connect timeout runs from then: the time of this poll, not of an earlier
    /// input.
    /// Returns the attempt's connect deadline.
    pub(crate) fn asked_to_connect(
        &mut self,
        now: Now,
        conn: ConnId,
        shared: &Shared,
    ) -> Option<Instant> {
        let State::Connect(race) = &mut self.state else {
            return None;
        };
        let i = race.position(conn)?;
        let attempt = &mut race.attempts[i];
        if !attempt.asked {
            attempt.asked = true;
            attempt.deadline = shared.config.connect_timeout.map(|d| now.mono + d);
        }
        attempt.deadline
    }

    /// When the call must wake up for the race: the next attempt's start or the earliest
    /// attempt's connect timeout.
    pub(crate) fn connect_wake(&self) -> Option<Instant> {
        let State::Connect(race) = &self.state else {
            return None;
        };
        race.attempts
            .iter()
            .filter_map(|a| a.deadline)
            .fold(race.next_start, |wake, d| {
                Some(wake.map_or(d, |w| w.min(d)))
            })
    }

    /// True if attempt `conn` is in flight with a connect timeout of its own.
    pub(crate) fn attempt_has_deadline(&self, conn: ConnId) -> bool {
        match &self.state {
            State::Connect(race) => race
                .position(conn)
                .is_some_and(|i| race.attempts[i].deadline.is_some()),
            _ => false,
        }
    }

    /// Starts the finder, emitting the events of its first state.
    pub(crate) fn start(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        match self.state {
            State::Done => self.next_route(now, shared, events),
            _ => Found::Pending,
        }
    }

    /// A connection to close before anything else.
    pub(crate) fn take_closing(&mut self) -> Option<ConnId> {
        self.closing.pop()
    }

    /// The connection the finder holds (a handshake in progress), for I/O.
    pub(crate) fn conn_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.state {
            State::Setup(conn, _) | State::CheckHealth(conn) => Some(conn),
            _ => None,
        }
    }

    /// The connection the finder holds (a proxy or TLS handshake in progress, a pooled one
    /// being checked).
    pub(crate) fn conn(&self) -> Option<&Connection> {
        match &self.state {
            State::Setup(conn, _) | State::CheckHealth(conn) => Some(conn),
            _ => None,
        }
    }

    /// True while a TCP connect is in flight (the call arms the connect timeout).
    pub(crate) fn is_connecting(&self) -> bool {
        matches!(self.state, State::Connect(_))
    }

    /// What the finder needs next.
    pub(crate) fn need(&self) -> Option<Need<'_>> {
        match &self.state {
            State::Acquire => Some(Need::Acquire(
                self.probe.as_deref().unwrap_or(&self.address),
            )),
            State::CheckHealth(conn) => Some(Need::CheckHealth(conn.id())),
            State::Resolve { host, port } => Some(Need::Resolve { host, port: *port }),
            // An attempt the driver has not heard of first, else the latest one (a driver
            // polls every attempt it was handed).
            State::Connect(race) => {
                let attempt = race
                    .attempts
                    .iter()
                    .find(|a| !a.asked)
                    .or(race.attempts.last())?;
                Some(Need::Connect {
                    conn: attempt.conn,
                    addr: attempt.addr,
                })
            }
            State::Setup(..) => Some(Need::Handshake),
            State::Ready(..) | State::Done => None,
        }
    }

    /// The pool's answer: an idle connection to the address, or none.
    pub(crate) fn on_acquired(
        &mut self,
        now: Now,
        pooled: Option<Connection>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if !matches!(self.state, State::Acquire) {
            return Found::Pending;
        }
        let looking_for = self.probe.as_deref().unwrap_or(&self.address);
        match pooled {
            Some(conn) if conn.address() != looking_for => {
                // Not for us: close it rather than lose track of its socket.
                self.closing.push(conn.id());
                self.next_route(now, shared, events)
            }
            Some(conn) => {
                if needs_health_check(now.mono, &conn) {
                    self.state = State::CheckHealth(conn);
                    Found::Pending
                } else {
                    self.found_pooled(now, conn, events)
                }
            }
            None => {
                // None through this proxy: perhaps through the next one the selector lists.
                self.acquiring += 1;
                match self.proxies.get(self.acquiring) {
                    Some(proxy) => {
                        let address = self.address.clone().with_proxy(proxy.clone());
                        self.probe = Some(Box::new(address));
                        Found::Pending
                    }
                    None => self.next_route(now, shared, events),
                }
            }
        }
    }

    fn found_pooled(&mut self, now: Now, conn: Connection, events: &mut EventSink) -> Found {
        acquired_pooled(now, &conn, events);
        self.state = State::Ready(conn, true);
        Found::Ready
    }

    /// The driver's health check of a pooled connection.
    pub(crate) fn on_health(
        &mut self,
        now: Now,
        conn: ConnId,
        healthy: bool,
        events: &mut EventSink,
    ) -> Found {
        let State::CheckHealth(pooled) = &self.state else {
            return Found::Pending;
        };
        if pooled.id() != conn {
            return Found::Pending;
        }
        let State::CheckHealth(pooled) = std::mem::replace(&mut self.state, State::Acquire) else {
            return Found::Pending;
        };
        if healthy {
            self.found_pooled(now, pooled, events)
        } else {
            self.closing.push(pooled.id());
            Found::Pending
        }
    }

    /// Starts a race over the rest of the current batch of routes, asking the route selector
    /// for more routes (and lookups) as needed; fails when none is left.
    fn next_route(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        let routing = &shared.config.routing;
        loop {
            if !self.routes.is_empty() {
                // The batch's own buffer becomes the race's (no copy into a new one).
                let routes = Vec::from(std::mem::take(&mut self.routes));
                let contest = Contest::new(routes, shared.config.routing.sequential);
                return self.race(contest, now, shared, events);
            }
            let selector = match self.plan.source(&self.address, &mut self.proxies, shared) {
                Source::Selector(selector) => selector,
                Source::OneRoute(route) => {
                    return self.race(Contest::lone(route), now, shared, events);
                }
                Source::Exhausted => return self.exhausted(shared),
            };
            let step = match routing.route_database.lock() {
                Ok(db) => selector.next(&db),
                Err(poisoned) => selector.next(&poisoned.into_inner()),
            };
            match step {
                RouteStep::Lookup { host, port } => {
                    let name = host.clone();
                    events.emit(now.mono, || EventKind::DnsStart { host: name });
                    // A fresh answer of the system resolver is used as it is: no output.
                    if let Some(ips) = routing.cached_lookup(&host, now.mono) {
                        self.looked_up.push(host.clone());
                        dns_end(events, now, host, &ips, port);
                        if let Err(e) = selector.handle_lookup(Ok(ips)) {
                            self.last_error = Some(e);
                        }
                        continue;
                    }
                    self.state = State::Resolve { host, port };
                    return Found::Pending;
                }
                // FastFallback orders them (RFC 8305, or the resolver's order when off).
                RouteStep::Routes(routes) => self.routes = routes.into(),
                RouteStep::Exhausted => return self.exhausted(shared),
            }
        }
    }

    /// Every route was tried: the call fails with the first error of the last batch.
    fn exhausted(&mut self, shared: &Shared) -> Found {
        // Nothing connected: the next call asks the resolver again rather than trust answers
        // that may have gone stale.
        for host in self.looked_up.drain(..) {
            shared.config.routing.forget_lookup(&host);
        }
        let error = self
            .last_error
            .take()
            .unwrap_or_else(|| Error::connect("no route to the origin", None));
        self.fail(error)
    }

    /// Starts a race over a batch of routes (the routes left for later stay in `self.routes`).
    fn race(
        &mut self,
        contest: Contest,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        self.state = State::Connect(Box::new(Race {
            contest,
            attempts: SmallVec::new(),
            next_start: None,
        }));
        self.drive_race(now, shared, events)
    }

    /// The resolver's answer.
    pub(crate) fn on_resolved(
        &mut self,
        now: Now,
        result: io::Result<Vec<SocketAddr>>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let State::Resolve { host, port } = std::mem::replace(&mut self.state, State::Done) else {
            return Found::Pending;
        };
        let result = result.map(|addrs| {
            let mut seen = HashSet::new();
            addrs
                .into_iter()
                .map(|a| a.ip())
                .filter(|ip| seen.insert(*ip))
                .collect::<Vec<IpAddr>>()
        });
        if let Ok(ips) = &result {
            if !ips.is_empty() {
                shared.config.routing.remember_lookup(&host, ips, now.mono);
                self.looked_up.push(host.clone());
                dns_end(events, now, host.clone(), ips, port);
            }
        }
        let Plan::Selector(selector) = &mut self.plan else {
            return self.fail(Error::dns(&host, None));
        };
        if let Err(e) = selector.handle_lookup(result) {
            self.last_error = Some(e);
        }
        self.next_route(now, shared, events)
    }

    fn fail(&mut self, error: Error) -> Found {
        self.state = State::Done;
        Found::Failed(error)
    }

    /// Does what the race asks until it waits: starts attempts (each with its own connect
    /// timeout), closes the losers, sets up the winner, or moves on to the next batch when
    /// every attempt failed.
    fn drive_race(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        loop {
            let State::Connect(race) = &mut self.state else {
                return Found::Pending;
            };
            match race.contest.poll(now.mono) {
                ConnectAction::Connect { attempt, route } => {
                    let addr = route.socket_addr();
                    events.emit(now.mono, || EventKind::ConnectStart { addr });
                    race.attempts.push(Attempt {
                        attempt,
                        conn: shared.next_conn_id(),
                        addr,
                        deadline: None,
                        asked: false,
                    });
                }
                ConnectAction::Cancel(attempt) => {
                    if let Some(i) = race.attempts.iter().position(|a| a.attempt == attempt) {
                        let loser = race.attempts.remove(i);
                        if loser.asked {
                            self.closing.push(loser.conn);
                        }
                    }
                }
                ConnectAction::Wait(at) => {
                    race.next_start = at;
                    return Found::Pending;
                }
                ConnectAction::Done { attempt, route } => {
                    let winner = race.attempts.iter().find(|a| a.attempt == attempt);
                    let Some((conn, addr)) = winner.map(|a| (a.conn, a.addr)) else {
                        return self.fail(Error::connect("the winning attempt was lost", None));
                    };
                    shared.config.routing.route_connected(&route);
                    // Should this connection's setup fail (a proxy refusing the tunnel), the
                    // call goes on with the routes the race left: its canceled attempts, then
                    // those it never started.
                    for route in race.contest.take_untried().into_iter().rev() {
                        self.routes.push_front(route);
                    }
                    // `ConnectEnd` and `ConnectionAcquired` wait until the tunnel and the TLS
                    // handshake, if any, stand (OkHttp's order): see `established`.
                    let connection = Connection::new(conn, route.address().clone(), addr)
                        .with_buffer(shared.buffers.take());
                    self.state = State::Done;
                    // Known before the setup starts: a setup that fails at once fails it.
                    self.route = Some(Box::new(route.clone()));
                    return self.set_up(now, connection, &route, shared, events);
                }
                ConnectAction::Failed(error) => {
                    // Every route of the batch failed (each is in the route database): the
                    // first failure is the one reported, as OkHttp does.
                    self.last_error.get_or_insert(error);
                    self.state = State::Done;
                    return self.next_route(now, shared, events);
                }
            }
        }
    }

    /// The TCP connect of attempt `conn` finished.
    pub(crate) fn on_connected(
        &mut self,
        now: Now,
        conn: ConnId,
        result: io::Result<()>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let State::Connect(race) = &mut self.state else {
            return Found::Pending;
        };
        let Some(i) = race.position(conn) else {
            // A canceled attempt answered late: close what it opened.
            if result.is_ok() {
                self.closing.push(conn);
            }
            return Found::Pending;
        };
        let attempt = race.attempts[i].attempt;
        match result {
            Ok(()) => race.contest.on_connected(now.mono, attempt),
            Err(e) => {
                // The attempt is over: the driver holds no socket for it.
                let addr = race.attempts.remove(i).addr;
                let error = Error::connect(format!("failed to connect to {addr}: {e}"), Some(e));
                self.attempt_failed(now, attempt, addr, error, shared, events);
            }
        }
        self.drive_race(now, shared, events)
    }

    /// Attempt `attempt` to `addr` failed: its route is remembered as failed and the race hears
    /// of it (the next attempt starts at once if it was the latest).
    fn attempt_failed(
        &mut self,
        now: Now,
        attempt: AttemptId,
        addr: SocketAddr,
        error: Error,
        shared: &Shared,
        events: &mut EventSink,
    ) {
        let State::Connect(race) = &mut self.state else {
            return;
        };
        if let Some(route) = race.contest.in_flight(attempt) {
            shared.config.routing.route_failed(route);
        }
        let reported = error.clone();
        events.emit(now.mono, || EventKind::ConnectFailed {
            addr,
            error: reported,
        });
        race.contest.on_failed(now.mono, attempt, error);
    }

    /// Time passed during the race: attempts past their connect timeout are abandoned (the
    /// driver closes whatever it started) and count as failed; the next attempt starts if its
    /// time has come.
    pub(crate) fn on_connect_timer(
        &mut self,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let State::Connect(race) = &mut self.state else {
            return Found::Pending;
        };
        let expired = |a: &Attempt| a.deadline.is_some_and(|d| d <= now.mono);
        let timed_out: Vec<(AttemptId, SocketAddr)> = race
            .attempts
            .iter()
            .filter(|a| expired(a))
            .map(|a| (a.attempt, a.addr))
            .collect();
        for a in race.attempts.iter().filter(|a| expired(a) && a.asked) {
            self.closing.push(a.conn);
        }
        race.attempts.retain(|a| !expired(a));
        for (attempt, addr) in timed_out {
            let error = Error::timeout(TimeoutKind::Connect, shared.config.connect_timeout);
            self.attempt_failed(now, attempt, addr, error, shared, events);
        }
        self.drive_race(now, shared, events)
    }

    /// The connection found, and whether it came from the pool.
    pub(crate) fn take_ready(&mut self) -> Option<(Connection, bool)> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Ready(conn, reused) => Some((conn, reused)),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Whether the finder holds a connection ready for the call (its `ConnectionAcquired` was
    /// emitted).
    pub(crate) fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready(..))
    }

    /// The connection the finder holds failed with `error` (a read or write error or timeout,
    /// a TLS failure in the bytes received): during a handshake, the route failed and the next
    /// one may be tried (see `setup_failed`); otherwise the finder gives up.
    pub(crate) fn on_io_failed(
        &mut self,
        error: Error,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if matches!(self.state, State::Setup(..)) {
            return self.setup_error(error, now, shared, events);
        }
        if let Some(conn) = self.abandon() {
            self.closing.push(conn.id());
        }
        Found::Failed(error)
    }

    /// Gives up: the connection being set up or checked, or the one found, is handed back (to
    /// close), and the connects in flight are closed.
    pub(crate) fn abandon(&mut self) -> Option<Connection> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Setup(conn, _) | State::CheckHealth(conn) | State::Ready(conn, _) => Some(conn),
            State::Connect(race) => {
                let asked = race.attempts.iter().filter(|a| a.asked);
                self.closing.extend(asked.map(|a| a.conn));
                None
            }
            _ => None,
        }
    }
}

/// The event for a connected socket whose setup (a proxy's or the TLS handshake) failed: for
/// listeners, the connect failed.
fn connect_failed(conn: &Connection, error: &Error, now: Now, events: &mut EventSink) {
    let (addr, reported) = (conn.peer(), error.clone());
    events.emit(now.mono, || EventKind::ConnectFailed {
        addr,
        error: reported,
    });
}
