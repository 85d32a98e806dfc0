//! Fast fallback: RFC 8305 "Happy Eyeballs v2" connection racing for one call, as a pure state
//! machine with time as input (OkHttp's `FastFallbackExchangeFinder`).

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use smallvec::SmallVec;

use crate::connection::Route;
use crate::{Error, Instant};

/// Identifies one connect attempt of a [`FastFallback`]; shown as `attempt#1`, `attempt#2`, ...
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(u32);

impl AttemptId {
    /// The number behind the id (attempts are numbered from 1 in start order).
    pub fn get(self) -> u32 {
        self.0
    }

    /// The id of a race's first attempt.
    pub(crate) const FIRST: AttemptId = AttemptId(1);

    /// The attempt after this one.
    #[cfg(test)]
    pub(crate) fn next(self) -> AttemptId {
        AttemptId(self.0 + 1)
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt#{}", self.0)
    }
}

impl fmt::Debug for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What [`FastFallback::poll`] asks the driver to do.
#[derive(Debug, Clone)]
#[must_use]
pub enum ConnectAction {
    /// Start a TCP connect over `route` (to [`Route::socket_addr`]); report the result with
    /// [`FastFallback::on_connected`] or [`FastFallback::on_failed`] for `attempt`.
    Connect {
        /// The id to report the result under.
        attempt: AttemptId,
        /// The route to connect over.
        route: Route,
    },
    /// Abandon this attempt: close its socket, connected or not. Its result no longer matters.
    Cancel(AttemptId),
    /// Nothing to start now: wait for a connect result, or until the instant given (when the
    /// next attempt starts), whichever comes first. `None`: wait for a result only.
    Wait(Option<Instant>),
    /// This attempt connected first: use its socket for `route`. Every other attempt has been
    /// canceled (the `Cancel` actions came first). Repeated on every later poll. Should setting
    /// up the connection fail (a proxy's or the TLS handshake), the routes the race did not
    /// finish with are in [`FastFallback::take_untried`].
    Done {
        /// The winning attempt.
        attempt: AttemptId,
        /// Its route.
        route: Route,
    },
    /// Every attempt failed and no route is left (or the race was canceled). The error is the
    /// first attempt failure, as OkHttp reports the first exception with the later ones
    /// suppressed; [`FastFallback::errors`] has them all. Repeated on every later poll.
    Failed(Error),
}

enum Outcome {
    // Not boxed: a race lives in the finder's boxed state already.
    Done(AttemptId, Route),
    Failed(Error),
}

/// Races connect attempts over one call's routes (RFC 8305 sections 4 and 5), with time as
/// input (OkHttp's `FastFallbackExchangeFinder`).
///
/// ```text
///  poll ──▶ Connect #1 ─┬─ 250 ms, no answer ──▶ Connect #2 ─┬─ ... (several in flight)
///                       └─ #1 failed sooner ───▶ Connect #2 ─┘
///  first on_connected(#k) ──▶ Cancel every other attempt in flight ──▶ Done(#k, route)
///  every attempt failed, no route left ──▶ Failed(first error)
/// ```
///
/// The driver loops on [`FastFallback::poll`] until it gets [`ConnectAction::Wait`] (then waits
/// for a connect result or the deadline), [`ConnectAction::Done`] or [`ConnectAction::Failed`].
/// It reports every attempt's outcome with [`FastFallback::on_connected`] or
/// [`FastFallback::on_failed`]; outcomes of canceled or unknown attempts are ignored, and the
/// driver closes any socket it holds for an attempt it was told to cancel.
///
/// Only the TCP connect races. TLS, tunnels and proxy handshakes follow on the winner (as in
/// OkHttp), and per-attempt connect timeouts are the driver's: it reports a timed-out attempt
/// through `on_failed`.
///
/// - **Order** (fast fallback on): the routes are interleaved by IP family, starting with the
///   family of the first one, as [`interleave_families`] does. Within a family the given
///   (DNS) order is kept; RFC 6724 destination sorting is left to the resolver.
/// - **Stagger**: the first attempt starts at once; the next starts when the most recently
///   started attempt has not succeeded within the attempt delay (250 ms by default, RFC 8305's
///   recommendation), or at once if it failed sooner. Several attempts can be in flight.
/// - **Winner**: the first attempt to connect wins; every other one in flight is canceled.
/// - **All fail**: [`ConnectAction::Failed`] with the first error.
/// - **Fast fallback off** ([`FastFallback::sequential`]): one attempt at a time, in the given
///   order, the next one starting when the previous failed (OkHttp's
///   `SequentialExchangeFinder`).
///
/// ```
/// use std::time::Duration;
/// use wayfarer_core::{Address, ConnectAction, Error, FastFallback, Instant, Route, Url};
///
/// let address = Address::from_url(&Url::parse("https://example.com/").unwrap());
/// let route = |ip: &str| Route::new(address.clone(), (ip.parse::<std::net::IpAddr>().unwrap(), 443).into());
/// let ms = |ms| Instant::from_epoch(Duration::from_millis(ms));
/// let mut race = FastFallback::new(vec![route("2001:db8::1"), route("192.0.2.1")]);
///
/// let ConnectAction::Connect { attempt: v6, .. } = race.poll(ms(0)) else { panic!() };
/// // IPv6 has not answered within 250 ms: IPv4 starts too.
/// assert!(matches!(race.poll(ms(0)), ConnectAction::Wait(Some(t)) if t == ms(250)));
/// let ConnectAction::Connect { attempt: v4, route: r } = race.poll(ms(250)) else { panic!() };
/// assert_eq!(r, route("192.0.2.1"));
/// // IPv4 connects first: the IPv6 attempt is canceled.
/// race.on_connected(ms(300), v4);
/// assert!(matches!(race.poll(ms(300)), ConnectAction::Cancel(a) if a == v6));
/// assert!(matches!(race.poll(ms(300)), ConnectAction::Done { attempt, .. } if attempt == v4));
/// // A late result for the canceled attempt is ignored.
/// race.on_failed(ms(310), v6, Error::connect("refused", None));
/// assert!(matches!(race.poll(ms(310)), ConnectAction::Done { .. }));
/// ```
pub struct FastFallback {
    /// Routes not yet attempted, in attempt order.
    routes: VecDeque<Route>,
    /// Routes of the attempts canceled when another one won, in start order.
    deferred: Vec<Route>,
    /// The attempt delay; `None` when fast fallback is off.
    delay: Option<Duration>,
    /// Attempts started and not yet finished, in start order.
    in_flight: SmallVec<[(AttemptId, Route); 1]>,
    last_started: Option<AttemptId>,
    /// When the next attempt may start while others are in flight.
    next_start_at: Option<Instant>,
    next_id: u32,
    /// Cancel actions waiting to be polled.
    queued: VecDeque<ConnectAction>,
    outcome: Option<Outcome>,
    finished_at: Option<Instant>,
    errors: Vec<(Route, Error)>,
}

impl fmt::Debug for FastFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastFallback")
            .field("routes", &self.routes)
            .field("delay", &self.delay)
            .field("in_flight", &self.in_flight)
            .field("next_start_at", &self.next_start_at)
            .field("errors", &self.errors.len())
            .finish_non_exhaustive()
    }
}

impl FastFallback {
    /// RFC 8305's recommended connection attempt delay.
    pub const DEFAULT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

    /// RFC 8305's floor for the attempt delay ("MUST NOT be less than 10 milliseconds").
    pub const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);

    /// Races `routes` with fast fallback on: interleaved by IP family, a new attempt every
    /// 250 ms until one connects.
    pub fn new(routes: Vec<Route>) -> FastFallback {
        FastFallback::with_delay(
            interleave_families(routes),
            Some(Self::DEFAULT_ATTEMPT_DELAY),
        )
    }

    /// Tries `routes` one at a time, in the given order (fast fallback off).
    pub fn sequential(routes: Vec<Route>) -> FastFallback {
        FastFallback::with_delay(routes, None)
    }

    /// The same race with another attempt delay (at least [`Self::MIN_ATTEMPT_DELAY`]). No
    /// effect on a sequential plan.
    #[must_use]
    pub fn attempt_delay(mut self, delay: Duration) -> FastFallback {
        if self.delay.is_some() {
            self.delay = Some(delay.max(Self::MIN_ATTEMPT_DELAY));
        }
        self
    }

    fn with_delay(routes: Vec<Route>, delay: Option<Duration>) -> FastFallback {
        FastFallback {
            routes: routes.into(),
            deferred: Vec::new(),
            delay,
            in_flight: SmallVec::new(),
            last_started: None,
            next_start_at: None,
            next_id: 0,
            queued: VecDeque::new(),
            outcome: None,
            finished_at: None,
            errors: Vec::new(),
        }
    }

    /// The next thing to do. Call until it returns [`ConnectAction::Wait`], `Done` or `Failed`;
    /// call again after every `on_*` report and when a `Wait` deadline passes.
    pub fn poll(&mut self, now: Instant) -> ConnectAction {
        if let Some(action) = self.queued.pop_front() {
            return action;
        }
        match &self.outcome {
            Some(Outcome::Done(attempt, route)) => {
                return ConnectAction::Done {
                    attempt: *attempt,
                    route: Route::clone(route),
                };
            }
            Some(Outcome::Failed(error)) => return ConnectAction::Failed(error.clone()),
            None => {}
        }
        let due = self.in_flight.is_empty()
            || (self.delay.is_some() && self.next_start_at.is_some_and(|at| at <= now));
        if due {
            if let Some(route) = self.routes.pop_front() {
                self.next_id += 1;
                let attempt = AttemptId(self.next_id);
                self.in_flight.push((attempt, route.clone()));
                self.last_started = Some(attempt);
                self.next_start_at = self.delay.map(|d| now + d);
                return ConnectAction::Connect { attempt, route };
            }
        }
        if self.in_flight.is_empty() {
            let error = match self.errors.first() {
                Some((_, e)) => e.clone(),
                None => Error::connect("no route to connect over", None),
            };
            self.finish(now, Outcome::Failed(error.clone()));
            return ConnectAction::Failed(error);
        }
        let next = match self.delay {
            Some(_) if !self.routes.is_empty() => self.next_start_at,
            _ => None,
        };
        ConnectAction::Wait(next)
    }

    /// Reports that `attempt` connected. The first one wins; later ones are ignored (they were
    /// canceled when the winner was chosen).
    pub fn on_connected(&mut self, now: Instant, attempt: AttemptId) {
        if self.outcome.is_some() {
            return;
        }
        let Some(pos) = self.in_flight.iter().position(|(a, _)| *a == attempt) else {
            return;
        };
        let (_, route) = self.in_flight.remove(pos);
        // The losers are canceled, not failed: like the routes never started, they are kept
        // for `take_untried` (OkHttp defers them) and not counted as failures.
        for (loser, route) in self.in_flight.drain(..) {
            self.queued.push_back(ConnectAction::Cancel(loser));
            self.deferred.push(route);
        }
        self.finish(now, Outcome::Done(attempt, route));
    }

    /// Reports that `attempt` failed with `error`. If it was the most recently started attempt,
    /// the next one starts at once.
    pub fn on_failed(&mut self, now: Instant, attempt: AttemptId, error: Error) {
        if self.outcome.is_some() {
            return;
        }
        let Some(pos) = self.in_flight.iter().position(|(a, _)| *a == attempt) else {
            return;
        };
        let (_, route) = self.in_flight.remove(pos);
        self.errors.push((route, error));
        if self.last_started == Some(attempt) && self.delay.is_some() {
            self.next_start_at = Some(now);
        }
    }

    /// Abandons the race (the call was canceled): every attempt in flight is canceled and the
    /// outcome is a [canceled](crate::ErrorKind::Canceled) failure. No effect once finished.
    pub fn cancel(&mut self, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        for (attempt, _) in self.in_flight.drain(..) {
            self.queued.push_back(ConnectAction::Cancel(attempt));
        }
        self.routes.clear();
        self.finish(now, Outcome::Failed(Error::canceled()));
    }

    /// Once the race is won: the routes it did not finish with, to go on with if the winning
    /// connection cannot be set up (its proxy refused the tunnel, say). First the attempts
    /// canceled when the winner connected, in start order, then the routes never started, in
    /// attempt order, as OkHttp tries its deferred plans before the routes left. Empty before
    /// the race is won, after it failed or was canceled, and once taken.
    pub fn take_untried(&mut self) -> Vec<Route> {
        if !matches!(self.outcome, Some(Outcome::Done(..))) {
            return Vec::new();
        }
        let mut untried = std::mem::take(&mut self.deferred);
        untried.extend(self.routes.drain(..));
        untried
    }

    fn finish(&mut self, now: Instant, outcome: Outcome) {
        self.outcome = Some(outcome);
        self.finished_at = Some(now);
    }

    /// Every attempt failure so far, in the order they were reported, with its route (for the
    /// [`RouteDatabase`](crate::RouteDatabase)).
    pub fn errors(&self) -> &[(Route, Error)] {
        &self.errors
    }

    /// The attempts in flight, in start order.
    pub fn in_flight(&self) -> impl Iterator<Item = (AttemptId, &Route)> {
        self.in_flight.iter().map(|(a, r)| (*a, r))
    }

    /// When the race was won, failed or canceled.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at
    }
}

/// Orders routes for Happy Eyeballs (RFC 8305 section 4, with a "first address family count"
/// of 1): alternately one of the first route's IP family and one of the other family, each
/// family in its given order, the rest of the longer family at the end.
///
/// Interleaving an interleaved list changes nothing, so routes may pass through it twice.
///
/// ```
/// use wayfarer_core::{Address, Route, Url, interleave_families};
///
/// let address = Address::from_url(&Url::parse("http://example.com/").unwrap());
/// let routes: Vec<Route> = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "192.0.2.3"]
///     .iter()
///     .map(|ip| Route::new(address.clone(), (ip.parse::<std::net::IpAddr>().unwrap(), 80).into()))
///     .collect();
/// let order: Vec<String> = interleave_families(routes)
///     .iter()
///     .map(|r| r.socket_addr().ip().to_string())
///     .collect();
/// assert_eq!(order, ["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2", "192.0.2.3"]);
/// ```
pub fn interleave_families(routes: Vec<Route>) -> Vec<Route> {
    let Some(first_v6) = routes.first().map(|r| r.socket_addr().is_ipv6()) else {
        return routes;
    };
    // One family (a single address, or only IPv4 ones): already in order, and a new
    // connection then pays for no reordering.
    if routes.iter().all(|r| r.socket_addr().is_ipv6() == first_v6) {
        return routes;
    }
    let (mut first, mut other): (VecDeque<Route>, VecDeque<Route>) = routes
        .into_iter()
        .partition(|r| r.socket_addr().is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(first.len() + other.len());
    loop {
        match (first.pop_front(), other.pop_front()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Address, ErrorKind};

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn route(ip: &str) -> Route {
        let address = Address::from_url(&url::Url::parse("https://example.com/").unwrap());
        let ip: core::net::IpAddr = ip.parse().unwrap();
        Route::new(address, (ip, 443).into())
    }

    fn err(msg: &'static str) -> Error {
        Error::connect(msg, None)
    }

    /// Polls once and renders the action compactly.
    fn poll(ff: &mut FastFallback, now: u64) -> String {
        match ff.poll(at(now)) {
            ConnectAction::Connect { attempt, route } => {
                format!("connect {attempt} {}", route.socket_addr().ip())
            }
            ConnectAction::Cancel(a) => format!("cancel {a}"),
            ConnectAction::Wait(Some(t)) => format!("wait {}", t.since_epoch().as_millis()),
            ConnectAction::Wait(None) => "wait".into(),
            ConnectAction::Done { attempt, route } => {
                format!("done {attempt} {}", route.socket_addr().ip())
            }
            ConnectAction::Failed(e) => format!("failed {}", e.message()),
        }
    }

    fn id(n: u32) -> AttemptId {
        AttemptId(n)
    }

    #[test]
    fn attempts_are_staggered_and_the_first_success_wins() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 0), "wait 250");
        assert_eq!(poll(&mut ff, 249), "wait 250");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        assert_eq!(poll(&mut ff, 250), "wait 500");
        assert_eq!(poll(&mut ff, 510), "connect attempt#3 ::2");
        // No route left: wait for results only.
        assert_eq!(poll(&mut ff, 510), "wait");
        assert_eq!(ff.in_flight().count(), 3);
        ff.on_connected(at(600), id(2));
        assert_eq!(poll(&mut ff, 600), "cancel attempt#1");
        assert_eq!(poll(&mut ff, 600), "cancel attempt#3");
        assert_eq!(poll(&mut ff, 600), "done attempt#2 10.0.0.1");
        assert_eq!(poll(&mut ff, 700), "done attempt#2 10.0.0.1");
        assert_eq!(ff.finished_at(), Some(at(600)));
        // Results after the race are ignored.
        ff.on_connected(at(610), id(1));
        ff.on_failed(at(610), id(3), err("late"));
        assert_eq!(poll(&mut ff, 610), "done attempt#2 10.0.0.1");
        assert!(ff.errors().is_empty());
    }

    #[test]
    fn the_winner_leaves_the_routes_it_did_not_finish_with() {
        let mut ff = FastFallback::new(vec![
            route("::1"),
            route("10.0.0.1"),
            route("::2"),
            route("10.0.0.2"),
        ]);
        assert!(ff.take_untried().is_empty(), "nothing is decided yet");
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        ff.on_connected(at(300), id(2));
        assert_eq!(poll(&mut ff, 300), "cancel attempt#1");
        assert_eq!(poll(&mut ff, 300), "done attempt#2 10.0.0.1");
        // The canceled attempt first, then the routes never started.
        let untried: Vec<String> = ff
            .take_untried()
            .iter()
            .map(|r| r.socket_addr().ip().to_string())
            .collect();
        assert_eq!(untried, ["::1", "::2", "10.0.0.2"]);
        assert!(ff.take_untried().is_empty(), "taken once");
        assert!(ff.errors().is_empty(), "a canceled attempt did not fail");
        assert_eq!(poll(&mut ff, 310), "done attempt#2 10.0.0.1");
    }

    #[test]
    fn a_failed_or_canceled_race_leaves_no_routes() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        ff.cancel(at(10));
        assert!(ff.take_untried().is_empty());
        let mut ff = FastFallback::sequential(vec![route("::1")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        ff.on_failed(at(10), id(1), err("refused"));
        assert_eq!(poll(&mut ff, 10), "failed refused");
        assert!(ff.take_untried().is_empty());
    }

    #[test]
    fn families_are_interleaved_starting_with_the_first_resolved() {
        let mut ff = FastFallback::new(vec![
            route("10.0.0.1"),
            route("10.0.0.2"),
            route("10.0.0.3"),
            route("::1"),
        ]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 10.0.0.1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 ::1");
        assert_eq!(poll(&mut ff, 500), "connect attempt#3 10.0.0.2");
        assert_eq!(poll(&mut ff, 750), "connect attempt#4 10.0.0.3");
        let order = |ips: &[&str]| -> Vec<String> {
            interleave_families(ips.iter().map(|ip| route(ip)).collect())
                .iter()
                .map(|r| r.socket_addr().ip().to_string())
                .collect()
        };
        assert_eq!(
            order(&["::1", "::2", "10.0.0.1"]),
            ["::1", "10.0.0.1", "::2"]
        );
        assert_eq!(
            order(&["::1", "10.0.0.1", "::2", "10.0.0.2"]),
            ["::1", "10.0.0.1", "::2", "10.0.0.2"]
        );
        assert_eq!(order(&["10.0.0.1", "10.0.0.2"]), ["10.0.0.1", "10.0.0.2"]);
        assert!(order(&[]).is_empty());
    }

    #[test]
    fn a_failure_before_the_delay_starts_the_next_attempt_at_once() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        ff.on_failed(at(40), id(1), err("refused"));
        assert_eq!(poll(&mut ff, 40), "connect attempt#2 10.0.0.1");
        assert_eq!(poll(&mut ff, 40), "wait 290");
    }

    #[test]
    fn the_latest_attempt_failing_starts_the_next_while_others_race() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        ff.on_failed(at(300), id(2), err("refused"));
        // Attempt 1 is still in flight, but the newest one failed: no need to wait until 500.
        assert_eq!(poll(&mut ff, 300), "connect attempt#3 ::2");
        assert_eq!(poll(&mut ff, 300), "wait");
        assert_eq!(
            ff.in_flight().map(|(a, _)| a).collect::<Vec<_>>(),
            [id(1), id(3)]
        );
    }

    #[test]
    fn an_older_attempt_failing_keeps_the_schedule() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        ff.on_failed(at(300), id(1), err("unreachable"));
        // Attempt 2 (started at 250) still has until 500.
        assert_eq!(poll(&mut ff, 300), "wait 500");
        assert_eq!(poll(&mut ff, 500), "connect attempt#3 ::2");
    }

    #[test]
    fn all_failing_reports_the_first_error() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        ff.on_failed(at(260), id(2), err("v4 refused"));
        assert_eq!(poll(&mut ff, 260), "wait");
        ff.on_failed(at(270), id(1), err("v6 unreachable"));
        assert_eq!(poll(&mut ff, 270), "failed v4 refused");
        assert_eq!(poll(&mut ff, 300), "failed v4 refused");
        let errors: Vec<(String, &str)> = ff
            .errors()
            .iter()
            .map(|(r, e)| (r.socket_addr().ip().to_string(), e.message()))
            .collect();
        assert_eq!(
            errors,
            [
                ("10.0.0.1".into(), "v4 refused"),
                ("::1".into(), "v6 unreachable")
            ]
        );
    }

    #[test]
    fn sequential_mode_runs_one_attempt_at_a_time() {
        let mut ff =
            FastFallback::sequential(vec![route("10.0.0.1"), route("::1"), route("10.0.0.2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 10.0.0.1");
        assert_eq!(poll(&mut ff, 10_000), "wait");
        ff.on_failed(at(10_000), id(1), err("timed out"));
        // Given order kept: no interleaving.
        assert_eq!(poll(&mut ff, 10_000), "connect attempt#2 ::1");
        ff.on_connected(at(10_050), id(2));
        assert_eq!(poll(&mut ff, 10_050), "done attempt#2 ::1");
    }

    #[test]
    fn cancel_abandons_every_attempt() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")]);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 250), "connect attempt#2 10.0.0.1");
        ff.cancel(at(260));
        assert_eq!(poll(&mut ff, 260), "cancel attempt#1");
        assert_eq!(poll(&mut ff, 260), "cancel attempt#2");
        match ff.poll(at(260)) {
            ConnectAction::Failed(e) => assert_eq!(e.kind(), ErrorKind::Canceled),
            other => panic!("{other:?}"),
        }
        ff.on_connected(at(270), id(1));
        assert!(matches!(ff.poll(at(270)), ConnectAction::Failed(_)));
    }

    #[test]
    fn no_routes_fail_at_once_and_unknown_attempts_are_ignored() {
        let mut ff = FastFallback::new(vec![]);
        assert_eq!(poll(&mut ff, 0), "failed no route to connect over");
        let mut ff = FastFallback::new(vec![route("::1")]).attempt_delay(Duration::ZERO);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        ff.on_connected(at(1), id(7));
        ff.on_failed(at(1), id(8), err("x"));
        assert_eq!(poll(&mut ff, 1), "wait");
        assert_eq!(ff.in_flight().map(|(a, _)| a).collect::<Vec<_>>(), [id(1)]);
    }

    #[test]
    fn the_attempt_delay_is_configurable_with_a_floor() {
        let mut ff = FastFallback::new(vec![route("::1"), route("10.0.0.1"), route("::2")])
            .attempt_delay(Duration::from_millis(100));
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 0), "wait 100");
        assert_eq!(poll(&mut ff, 100), "connect attempt#2 10.0.0.1");
        let mut ff =
            FastFallback::new(vec![route("::1"), route("10.0.0.1")]).attempt_delay(Duration::ZERO);
        assert_eq!(poll(&mut ff, 0), "connect attempt#1 ::1");
        assert_eq!(poll(&mut ff, 0), "wait 10");
    }
}
