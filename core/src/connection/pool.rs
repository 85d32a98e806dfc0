//! The connection pool: connections in use and idle, and OkHttp's cleanup schedule.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use crate::Instant;
use crate::connection::{Address, ConnId, Connection};

/// A pooled connection idle this long is checked before reuse (OkHttp's
/// `IDLE_CONNECTION_HEALTHY_NS`); fresher ones are trusted, and a request that meets a connection
/// the server closed is retried once on a new one.
pub const HEALTH_CHECK_AFTER: Duration = Duration::from_secs(10);

/// Whether `conn`, taken from the pool, must be health-checked before use at `now`: only after
/// it has been idle for [`HEALTH_CHECK_AFTER`] or longer.
///
/// A connection that was never idle (just connected) needs no check.
pub fn needs_health_check(now: Instant, conn: &Connection) -> bool {
    conn.idle_since()
        .is_some_and(|since| now - since >= HEALTH_CHECK_AFTER)
}

/// A pooled connection idle at least this long, and not yet watched, is looked at (one
/// non-blocking peek) before a call reuses it, so bytes that arrived while it was idle (an
/// unsolicited response, the server closing it) never reach the call. A connection reused
/// sooner is not: a sequential keep-alive request keeps its one `write` and one `read`, and
/// bytes arriving within a millisecond of the response are as likely still part of it as
/// unsolicited.
pub const QUIET_CHECK_AFTER: Duration = Duration::from_millis(1);

/// Whether `conn`, taken from the pool at `now` with no idle watch on its socket yet, is
/// peeked at before reuse: when it was idle for [`QUIET_CHECK_AFTER`] or longer, and for less
/// than [`HEALTH_CHECK_AFTER`] (the call checks those itself).
pub fn needs_quiet_check(now: Instant, conn: &Connection) -> bool {
    conn.idle_since().is_some_and(|since| {
        let idle = now - since;
        idle >= QUIET_CHECK_AFTER && idle < HEALTH_CHECK_AFTER
    })
}

/// A connection with the driver's socket for it.
pub type Pooled<S> = (Connection, S);

/// What one [`ConnectionPool::cleanup`] run decided.
#[must_use = "the evicted connections must be closed and the next run scheduled"]
pub struct Cleanup<S> {
    /// Connections evicted, longest-idle first: the driver closes their sockets.
    pub closed: Vec<Pooled<S>>,
    /// When the pool must be cleaned up next; `None` until a connection is added.
    pub next_run: Option<Instant>,
}

impl<S> fmt::Debug for Cleanup<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let closed: Vec<ConnId> = self.closed.iter().map(|(c, _)| c.id()).collect();
        f.debug_struct("Cleanup")
            .field("closed", &closed)
            .field("next_run", &self.next_run)
            .finish()
    }
}

struct Idle<S> {
    conn: Connection,
    socket: S,
    since: Instant,
}

struct InUse {
    address: Address,
    /// [`ConnectionPool::evict_all`] ran while it was in use: close it when it comes back.
    retired: bool,
}

/// Connections in use and idle, with OkHttp's cleanup schedule.
///
/// The pool is a plain data structure over the driver's socket type `S`. Idle entries hold the
/// core's [`Connection`] with the driver's socket; connections in use are only tracked (by
/// [`ConnId`] and [`Address`]) so that they count and keep the cleanup scheduled. The pool never
/// touches a socket and never reads a clock: every operation that depends on time takes `now`,
/// and connections it gives up are returned, so the driver closes them outside any lock it
/// holds around the pool.
///
/// # Cleanup
///
/// [`ConnectionPool::cleanup`] is OkHttp's `cleanup(now)`, a pure function of `now`:
///
/// 1. count the connections in use and idle, and find the one idle the longest;
/// 2. if it has been idle for `keep_alive` or more, or more than `max_idle` connections are
///    idle, evict it and start again at 1 (OkHttp returns "run again at once"; we loop);
/// 3. otherwise, if any connection is idle, run again when the longest-idle one expires;
/// 4. otherwise, if any is in use, run again `keep_alive` from now;
/// 5. otherwise there is nothing to do until a connection is added.
///
/// A runtime that keeps one timer per pool calls `cleanup(now)` after every release or
/// registration and whenever the timer fires, closes what it returns, and re-arms the timer
/// for [`Cleanup::next_run`].
///
/// ```
/// use std::time::Duration;
/// use wayfarer_core::{ConnectionPool, Instant};
///
/// // The driver's socket type; here a stand-in.
/// struct Socket;
/// let mut pool: ConnectionPool<Socket> = ConnectionPool::default();
/// assert_eq!(pool.max_idle(), 5);
/// assert_eq!(pool.keep_alive(), Duration::from_secs(300));
///
/// // The run a timer-driven runtime makes when its pool timer fires.
/// let now = Instant::from_epoch(Duration::from_secs(60));
/// let cleanup = pool.cleanup(now);
/// for (_connection, socket) in cleanup.closed {
///     drop(socket); // close it, after releasing any lock around the pool
/// }
/// // An empty pool needs no timer until a connection is added.
/// assert_eq!(cleanup.next_run, None);
/// ```
pub struct ConnectionPool<S> {
    /// Idle connections, in the order they were released (most recent last).
    idle: Vec<Idle<S>>,
    in_use: HashMap<ConnId, InUse, BuildHasherDefault<IdHasher>>,
    max_idle: usize,
    keep_alive: Duration,
    /// No idle connection expires before this (`None`: none is idle). It may be earlier than
    /// the true first expiry (after an `acquire`), never later: it only tells when a
    /// [`cleanup`](Self::cleanup) can be skipped.
    first_expiry: Option<Instant>,
}

impl<S> fmt::Debug for ConnectionPool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("idle", &self.idle.len())
            .field("in_use", &self.in_use.len())
            .field("max_idle", &self.max_idle)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

/// Hashes a [`ConnId`] with one multiplication. Every request takes a connection out of the
/// in-use map and puts it back, and ids are the client's own counter, never chosen by a peer:
/// SipHash's resistance to crafted keys, the map's default, would buy nothing for its cost.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing: the multiplier spreads a counter's changing low bits over the
        // whole word, whose top bits the map uses.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// OkHttp's defaults: 5 idle connections, kept for 5 minutes.
impl<S> Default for ConnectionPool<S> {
    fn default() -> ConnectionPool<S> {
        ConnectionPool::new(5, Duration::from_secs(5 * 60))
    }
}

impl<S> ConnectionPool<S> {
    /// An empty pool keeping at most `max_idle` idle connections, each for at most `keep_alive`.
    pub fn new(max_idle: usize, keep_alive: Duration) -> ConnectionPool<S> {
        ConnectionPool {
            idle: Vec::new(),
            in_use: HashMap::default(),
            max_idle,
            keep_alive,
            first_expiry: None,
        }
    }

    /// Most idle connections kept.
    pub fn max_idle(&self) -> usize {
        self.max_idle
    }

    /// How long an idle connection is kept.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// Number of idle connections.
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// Number of connections in use (registered or acquired, not yet released or forgotten).
    pub fn in_use_count(&self) -> usize {
        self.in_use.len()
    }

    /// Number of connections, in use and idle.
    pub fn connection_count(&self) -> usize {
        self.idle.len() + self.in_use.len()
    }

    /// Tracks a freshly connected connection, in use by the call that made it. It counts in
    /// [`connection_count`](Self::connection_count) and keeps the cleanup scheduled until it is
    /// [released](Self::release) or [forgotten](Self::forget).
    pub fn register(&mut self, conn: &Connection) {
        self.in_use.insert(
            conn.id(),
            InUse {
                address: conn.address().clone(),
                retired: false,
            },
        );
    }

    /// Takes the most recently used idle connection whose address equals `address` (it is the
    /// least likely to have been closed by the server), with its socket. It is then in use.
    ///
    /// The pool does not check its age: run [`cleanup`](Self::cleanup) first (or on schedule)
    /// so expired connections are gone, and check [`needs_health_check`] before using it.
    pub fn acquire(&mut self, address: &Address) -> Option<Pooled<S>> {
        let pos = self
            .idle
            .iter()
            .rposition(|i| i.conn.address() == address)?;
        let idle = self.idle.remove(pos);
        self.in_use.insert(
            idle.conn.id(),
            InUse {
                address: idle.conn.address().clone(),
                retired: false,
            },
        );
        Some((idle.conn, idle.socket))
    }

    /// Gives back a connection that can carry another request; it is idle from `now`.
    ///
    /// Returns the pair when the pool will not keep it: [`evict_all`](Self::evict_all) ran
    /// while it was in use, so the driver closes it. (A pool over its idle limit keeps it until
    /// the next [`cleanup`](Self::cleanup), which evicts the longest-idle connection.)
    pub fn release(&mut self, now: Instant, mut conn: Connection, socket: S) -> Option<Pooled<S>> {
        if self.in_use.remove(&conn.id()).is_some_and(|u| u.retired) {
            return Some((conn, socket));
        }
        conn.park(now);
        let expiry = now + self.keep_alive;
        self.first_expiry = Some(self.first_expiry.map_or(expiry, |t| t.min(expiry)));
        self.idle.push(Idle {
            conn,
            socket,
            since: now,
        });
        None
    }

    /// Stops tracking an in-use connection that was closed instead of released. Returns
    /// whether it was tracked.
    pub fn forget(&mut self, id: ConnId) -> bool {
        self.in_use.remove(&id).is_some()
    }

    /// The address of an in-use connection, if it is tracked.
    pub fn in_use_address(&self, id: ConnId) -> Option<&Address> {
        self.in_use.get(&id).map(|u| &u.address)
    }

    /// Evicts what OkHttp's `cleanup(now)` evicts and says when to run again (see the
    /// [`ConnectionPool`] docs).
    pub fn cleanup(&mut self, now: Instant) -> Cleanup<S> {
        let mut closed = Vec::new();
        loop {
            // The longest idle: the earliest `since`, the first released on ties. (Releases
            // normally come in time order, but a scan keeps this right for any `now` given.)
            let longest = self
                .idle
                .iter()
                .enumerate()
                .min_by_key(|(_, i)| i.since)
                .map(|(pos, i)| (pos, i.since));
            let next_run = match longest {
                Some((pos, since))
                    if now - since >= self.keep_alive || self.idle.len() > self.max_idle =>
                {
                    let idle = self.idle.remove(pos);
                    closed.push((idle.conn, idle.socket));
                    continue;
                }
                Some((_, since)) => Some(since + self.keep_alive),
                None if !self.in_use.is_empty() => Some(now + self.keep_alive),
                None => None,
            };
            self.first_expiry = longest.map(|(_, since)| since + self.keep_alive);
            return Cleanup { closed, next_run };
        }
    }

    /// Whether a [`cleanup`](Self::cleanup) at `now` could evict anything: an idle connection
    /// may have expired, or more are idle than the pool keeps. When not, it can be skipped
    /// (the pool's timer still runs it on schedule), which spares a scan on every acquire
    /// and release.
    pub fn is_cleanup_due(&self, now: Instant) -> bool {
        self.idle.len() > self.max_idle || self.first_expiry.is_some_and(|t| now >= t)
    }

    /// What a [`cleanup`](Self::cleanup) at `now` evicts, found without a scan when none is
    /// [due](Self::is_cleanup_due).
    pub(crate) fn cleanup_if_due(&mut self, now: Instant) -> Vec<Pooled<S>> {
        if self.is_cleanup_due(now) {
            self.cleanup(now).closed
        } else {
            Vec::new()
        }
    }

    /// Removes every idle connection, for the driver to close. Connections in use are marked so
    /// that the pool refuses them when they are released (OkHttp's `evictAll` marks them
    /// "no new exchanges").
    pub fn evict_all(&mut self) -> Vec<Pooled<S>> {
        for in_use in self.in_use.values_mut() {
            in_use.retired = true;
        }
        self.idle.drain(..).map(|i| (i.conn, i.socket)).collect()
    }

    /// Removes the idle connections for which `evict` returns true (a driver found bytes or an
    /// end of stream on their sockets), for the driver to close.
    pub fn evict_idle_where(
        &mut self,
        mut evict: impl FnMut(&Connection, &mut S) -> bool,
    ) -> Vec<Pooled<S>> {
        let mut evicted = Vec::new();
        let mut i = 0;
        while i < self.idle.len() {
            let idle = &mut self.idle[i];
            if evict(&idle.conn, &mut idle.socket) {
                let idle = self.idle.remove(i);
                evicted.push((idle.conn, idle.socket));
            } else {
                i += 1;
            }
        }
        evicted
    }

    /// Calls `f` with every idle connection and its socket, longest-idle first.
    pub fn for_each_idle(&mut self, mut f: impl FnMut(&Connection, &mut S)) {
        for idle in &mut self.idle {
            f(&idle.conn, &mut idle.socket);
        }
    }

    /// When the longest-idle connection expires, if any is idle.
    pub fn next_idle_expiry(&self) -> Option<Instant> {
        self.idle.iter().map(|i| i.since + self.keep_alive).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::TlsIdentity;
    use crate::proxy::Proxy;

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn addr(host: &str) -> Address {
        Address::from_url(&url::Url::parse(&format!("https://{host}/")).unwrap())
    }

    fn conn(id: u64, address: Address) -> Connection {
        Connection::new(ConnId(id), address, "127.0.0.1:443".parse().unwrap())
    }

    /// A pool with OkHttp's test settings: keep-alive 100 ms.
    fn pool(max_idle: usize) -> ConnectionPool<u64> {
        ConnectionPool::new(max_idle, Duration::from_millis(100))
    }

    /// Adds connection `id` to `host` as OkHttp's test factory does: connected and released
    /// at `idle_at`.
    fn add(pool: &mut ConnectionPool<u64>, id: u64, host: &str, idle_at: u64) {
        let c = conn(id, addr(host));
        pool.register(&c);
        assert!(pool.release(at(idle_at), c, id).is_none());
    }

    fn run(pool: &mut ConnectionPool<u64>, now: u64) -> (Vec<u64>, Option<u64>) {
        let Cleanup { closed, next_run } = pool.cleanup(at(now));
        let closed = closed.into_iter().map(|(_, s)| s).collect();
        let next = next_run.map(|t| t.since_epoch().as_millis() as u64);
        (closed, next)
    }

    /// Skipping a cleanup that is not due never keeps an expired or surplus connection: when
    /// `is_cleanup_due` says no, a cleanup would evict nothing.
    #[test]
    fn a_cleanup_not_due_would_evict_nothing() {
        let mut pool = pool(2);
        add(&mut pool, 1, "a", 0);
        add(&mut pool, 2, "b", 40);
        assert!(!pool.is_cleanup_due(at(99)));
        assert!(pool.is_cleanup_due(at(100)), "connection 1 expires at 100");
        // Taking the first to expire leaves the hint early: a due cleanup that finds nothing.
        let (c1, _) = pool.acquire(&addr("a")).unwrap();
        assert!(pool.is_cleanup_due(at(100)));
        assert_eq!(run(&mut pool, 100), (vec![], Some(140)));
        assert!(!pool.is_cleanup_due(at(139)));
        assert!(pool.is_cleanup_due(at(140)));
        // Over the idle limit, a cleanup is due at once.
        assert!(pool.release(at(110), c1, 1).is_none());
        add(&mut pool, 3, "c", 120);
        assert!(pool.is_cleanup_due(at(120)));
        assert_eq!(run(&mut pool, 120), (vec![2], Some(210)));
        assert!(!pool.is_cleanup_due(at(120)));
        assert!(pool.cleanup_if_due(at(209)).is_empty());
        assert_eq!(pool.cleanup_if_due(at(210)).len(), 1);
    }

    #[test]
    fn connections_evicted_when_idle_long_enough() {
        let mut pool = pool(5);
        add(&mut pool, 1, "a", 50);
        assert_eq!(run(&mut pool, 50), (vec![], Some(150)));
        assert_eq!(run(&mut pool, 60), (vec![], Some(150)));
        assert_eq!(run(&mut pool, 149), (vec![], Some(150)));
        assert_eq!(pool.connection_count(), 1);
        assert_eq!(run(&mut pool, 150), (vec![1], None));
        assert_eq!(pool.connection_count(), 0);
        assert_eq!(run(&mut pool, 150), (vec![], None));
    }

    #[test]
    fn in_use_connections_are_not_evicted_and_keep_the_pool_scheduled() {
        let mut pool = pool(5);
        let c1 = conn(1, addr("a"));
        pool.register(&c1);
        assert_eq!(pool.connection_count(), 1);
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(run(&mut pool, 50), (vec![], Some(150)));
        assert_eq!(run(&mut pool, 60), (vec![], Some(160)));
        assert_eq!(run(&mut pool, 160), (vec![], Some(260)));
        assert_eq!(pool.in_use_address(c1.id()), Some(&addr("a")));
        // Closed instead of released: nothing left to schedule.
        assert!(pool.forget(c1.id()));
        assert!(!pool.forget(c1.id()));
        assert_eq!(run(&mut pool, 170), (vec![], None));
        assert_eq!(pool.connection_count(), 0);
    }

    #[test]
    fn cleanup_prioritizes_earliest_eviction() {
        let mut pool = pool(5);
        add(&mut pool, 1, "a", 75);
        add(&mut pool, 2, "b", 50);
        assert_eq!(run(&mut pool, 75), (vec![], Some(150)));
        assert_eq!(run(&mut pool, 149), (vec![], Some(150)));
        assert_eq!(run(&mut pool, 150), (vec![2], Some(175)));
        assert_eq!(pool.connection_count(), 1);
        assert_eq!(run(&mut pool, 175), (vec![1], None));
    }

    #[test]
    fn oldest_connections_evicted_if_idle_limit_exceeded() {
        let mut pool = pool(2);
        add(&mut pool, 1, "a", 50);
        add(&mut pool, 2, "b", 75);
        assert_eq!(run(&mut pool, 100), (vec![], Some(150)));
        add(&mut pool, 3, "c", 75);
        // The third connection bounces the first; the second is next to expire.
        assert_eq!(run(&mut pool, 100), (vec![1], Some(175)));
        assert_eq!(pool.idle_count(), 2);
    }

    #[test]
    fn overflow_and_expiry_evict_in_one_run() {
        let mut pool = pool(1);
        add(&mut pool, 1, "a", 0);
        add(&mut pool, 2, "a", 10);
        add(&mut pool, 3, "a", 120);
        // At 130: 1 and 2 expired (idle >= 100); then 3 alone is within the limit.
        assert_eq!(run(&mut pool, 130), (vec![1, 2], Some(220)));
    }

    #[test]
    fn eviction_schedule_over_a_sequence_of_calls() {
        let mut pool = pool(2);
        // t=0: a call connects c1 and is still using it.
        let c1 = conn(1, addr("a"));
        pool.register(&c1);
        assert_eq!(run(&mut pool, 0), (vec![], Some(100)));
        // t=20: c1 comes back; it expires at 120.
        assert!(pool.release(at(20), c1, 1).is_none());
        assert_eq!(run(&mut pool, 20), (vec![], Some(120)));
        // t=40: another call takes c1 again; only in-use remains.
        let (c1, s1) = pool.acquire(&addr("a")).unwrap();
        assert_eq!(s1, 1);
        assert_eq!(run(&mut pool, 40), (vec![], Some(140)));
        // t=50..70: c2 and c3 connect and come back; c1 comes back at 90.
        add(&mut pool, 2, "b", 50);
        add(&mut pool, 3, "c", 70);
        assert_eq!(run(&mut pool, 70), (vec![], Some(150)));
        assert!(pool.release(at(90), c1, 1).is_none());
        // Three idle, two allowed: c2 (idle since 50) goes; c3 is next, at 170.
        assert_eq!(run(&mut pool, 90), (vec![2], Some(170)));
        // t=170: c3 expires; c1 (idle since 90) expires at 190.
        assert_eq!(run(&mut pool, 170), (vec![3], Some(190)));
        assert_eq!(run(&mut pool, 200), (vec![1], None));
        assert_eq!(pool.connection_count(), 0);
    }

    #[test]
    fn zero_max_idle_keeps_nothing() {
        let mut pool = pool(0);
        add(&mut pool, 1, "a", 0);
        assert_eq!(run(&mut pool, 0), (vec![1], None));
    }

    #[test]
    fn acquire_hands_out_the_most_recent_connection_for_the_address() {
        let mut pool = pool(5);
        add(&mut pool, 1, "a", 0);
        add(&mut pool, 2, "b", 1);
        add(&mut pool, 3, "a", 2);
        let (c, s) = pool.acquire(&addr("a")).unwrap();
        assert_eq!((c.id(), s), (ConnId(3), 3));
        assert_eq!(c.idle_since(), Some(at(2)));
        assert!(pool.acquire(&addr("c")).is_none());
        assert_eq!((pool.idle_count(), pool.in_use_count()), (2, 1));
        assert_eq!(pool.connection_count(), 3);
    }

    #[test]
    fn keys_with_another_proxy_or_tls_identity_never_match() {
        let mut pool = pool(5);
        let plain = addr("a");
        let proxied = plain.clone().with_proxy(Proxy::http("proxy", 8080));
        let socks = plain.clone().with_proxy(Proxy::socks5("proxy", 8080));
        let cert = plain
            .clone()
            .with_tls_identity(TlsIdentity::from_parts(["client-cert"]));
        let c = conn(1, proxied.clone());
        pool.register(&c);
        assert!(pool.release(at(0), c, 1).is_none());
        let c = conn(2, cert.clone());
        pool.register(&c);
        assert!(pool.release(at(0), c, 2).is_none());
        assert!(pool.acquire(&plain).is_none());
        assert!(pool.acquire(&socks).is_none());
        let weaker = plain
            .clone()
            .with_tls_identity(TlsIdentity::from_parts(["other-cert"]));
        assert!(pool.acquire(&weaker).is_none());
        assert_eq!(pool.acquire(&proxied).map(|(_, s)| s), Some(1));
        assert_eq!(pool.acquire(&cert).map(|(_, s)| s), Some(2));
    }

    #[test]
    fn evict_all_closes_idle_and_retires_in_use() {
        let mut pool = pool(5);
        add(&mut pool, 1, "a", 0);
        add(&mut pool, 2, "b", 0);
        let busy = conn(3, addr("c"));
        pool.register(&busy);
        let closed: Vec<u64> = pool.evict_all().into_iter().map(|(_, s)| s).collect();
        assert_eq!(closed, [1, 2]);
        assert_eq!(pool.connection_count(), 1);
        // The busy one is refused when it comes back, and nothing remains.
        let refused = pool.release(at(5), busy, 3).map(|(_, s)| s);
        assert_eq!(refused, Some(3));
        assert_eq!(pool.connection_count(), 0);
        assert_eq!(run(&mut pool, 5), (vec![], None));
        // Connections registered afterwards are pooled as usual.
        add(&mut pool, 4, "c", 6);
        assert_eq!(pool.idle_count(), 1);
    }

    #[test]
    fn idle_connections_can_be_evicted_by_what_their_sockets_show() {
        let mut pool = pool(5);
        add(&mut pool, 1, "a", 0);
        add(&mut pool, 2, "a", 1);
        add(&mut pool, 3, "b", 2);
        let mut seen = Vec::new();
        pool.for_each_idle(|c, s| seen.push((c.id(), *s)));
        assert_eq!(seen, [(ConnId(1), 1), (ConnId(2), 2), (ConnId(3), 3)]);
        let evicted: Vec<u64> = pool
            .evict_idle_where(|_, s| *s != 2)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(evicted, [1, 3]);
        assert_eq!((pool.idle_count(), pool.connection_count()), (1, 1));
        assert_eq!(run(&mut pool, 50), (vec![], Some(101)));
    }

    #[test]
    fn health_is_checked_only_after_an_idle_interval() {
        let mut pool = pool(5);
        let fresh = conn(1, addr("a"));
        assert!(!needs_health_check(at(60_000), &fresh));
        add(&mut pool, 2, "a", 1_000);
        let (c, _) = pool.acquire(&addr("a")).unwrap();
        assert!(!needs_health_check(at(10_999), &c));
        assert!(needs_health_check(at(11_000), &c));
        assert_eq!(pool.next_idle_expiry(), None);
    }

    #[test]
    fn an_unwatched_connection_is_peeked_at_between_a_millisecond_and_the_health_check() {
        let mut pool = pool(5);
        assert!(!needs_quiet_check(at(60_000), &conn(1, addr("a"))));
        add(&mut pool, 2, "a", 1_000);
        let (c, _) = pool.acquire(&addr("a")).unwrap();
        assert!(!needs_quiet_check(at(1_000), &c), "reused at once");
        assert!(needs_quiet_check(at(1_001), &c));
        assert!(needs_quiet_check(at(10_999), &c));
        assert!(!needs_quiet_check(at(11_000), &c), "the call's own check");
    }
}
