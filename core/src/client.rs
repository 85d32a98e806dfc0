//! The sans-IO client: configuration, id counters and the connection pool, shared by every call.
//!
//! A runtime wraps one `Client<Socket>` in an `Arc` and shares it between threads or tasks.
//! Each call is its own state machine ([`Call`]) run by whichever thread or task executes it;
//! it asks the client for pooled connections and gives them back. The pool sits behind a
//! mutex held only for the few instructions of a lookup or insertion, never across I/O.
//!
//! A client [derived](Client::derive) from another (OkHttp's `newBuilder()`) has its own
//! configuration but the same pool and id counters, so connections made by one are reused by
//! the other.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::call::{Call, CallId, PreparedCall};
use crate::connection::{Address, BufferPool, ConnId, Connection, ConnectionPool};
use crate::{Config, Instant, Now, Request};

/// Id counters, shared by a client and the clients derived from it: connections of one pool
/// and calls of one dispatcher must never share an id.
#[derive(Debug, Default)]
struct Ids {
    next_call: AtomicU64,
    next_conn: AtomicU64,
}

/// What every call of one client shares, apart from the pool.
pub(crate) struct Shared {
    pub(crate) config: Config,
    ids: Arc<Ids>,
    /// Receive buffers of closed connections, for the next new ones.
    pub(crate) buffers: BufferPool,
}

impl Shared {
    pub(crate) fn next_conn_id(&self) -> ConnId {
        ConnId(self.ids.next_conn.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// A client's shared state, generic over the driver's socket type `S`.
pub struct Client<S> {
    shared: Arc<Shared>,
    pool: SharedPool<S>,
}

impl<S> fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S> From<Config> for Client<S> {
    fn from(config: Config) -> Client<S> {
        Client::new(config)
    }
}

impl<S> Client<S> {
    /// A client with this configuration and an empty pool.
    pub fn new(config: Config) -> Client<S> {
        let pool = SharedPool::new(config.max_idle_connections, config.keep_alive);
        Client {
            shared: Arc::new(Shared {
                config,
                ids: Arc::default(),
                buffers: BufferPool::default(),
            }),
            pool,
        }
    }

    /// A client with `config` that shares this one's id counters and, when `config` keeps the
    /// same pool settings (idle connections and keep-alive), its pool: OkHttp's
    /// `newBuilder().build()`. Other pool settings get a pool of their own, as OkHttp's
    /// `connectionPool(ConnectionPool(...))` does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_core::{Client, Config};
    ///
    /// let base: Client<()> = Client::new(Config::default());
    /// let patient = base.derive(Config::builder().read_timeout(Duration::from_secs(60)).build()?);
    /// assert!(patient.pool().same_pool(base.pool()));
    /// let small = base.derive(Config::builder().max_idle_connections(1).build()?);
    /// assert!(!small.pool().same_pool(base.pool()));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn derive(&self, config: Config) -> Client<S> {
        if self.pool.settings() == (config.max_idle_connections, config.keep_alive) {
            return self.with_config(config);
        }
        let pool = SharedPool::new(config.max_idle_connections, config.keep_alive);
        Client {
            shared: Arc::new(Shared {
                config,
                ids: self.shared.ids.clone(),
                buffers: BufferPool::default(),
            }),
            pool,
        }
    }

    /// A client with other settings that shares this one's connection pool whatever the new
    /// configuration's pool settings (the pool keeps its own size and keep-alive).
    ///
    /// Pooled connections are matched on their whole [`Address`], including the
    /// [`TlsIdentity`](crate::TlsIdentity) of the TLS settings they were made with, so a
    /// connection is only ever handed to a client whose TLS settings (trust, pins, versions and
    /// suites, client certificate) are the same as those it was made under.
    pub fn with_config(&self, config: Config) -> Client<S> {
        let pool = self.pool.clone();
        Client {
            shared: Arc::new(Shared {
                config,
                ids: self.shared.ids.clone(),
                buffers: BufferPool::default(),
            }),
            pool,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The connection pool.
    pub fn pool(&self) -> &SharedPool<S> {
        &self.pool
    }

    /// Starts a call for `request`: the request goes down the interceptor chain at once, and
    /// the call's outputs say what I/O it needs. The client's
    /// [default headers](crate::ClientBuilder::default_header) the request does not set itself
    /// are added to it first.
    pub fn start_call(&self, now: Now, request: Request) -> Call {
        let mut call = Call::prepared(self.prepare_call(now, Arc::new(request)));
        call.begin();
        call
    }

    /// A call for `request` that starts only in the driver that will run it
    /// ([`Driver::start`](crate::driver::Driver::start),
    /// [`DriverBox::start`](crate::driver::DriverBox::start)): the same call as
    /// [`start_call`](Self::start_call) makes, started where it stays instead of copied there.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::SystemTime;
    /// use wayfarer_core::{Client, Config, Instant, Now, Request};
    ///
    /// let config = Config::builder().default_header("Accept", "text/plain").build()?;
    /// let client: Client<()> = Client::new(config);
    /// let now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
    /// let request = Request::get("http://example.com/").build()?;
    /// let call = client.prepare_call(now, Arc::new(request));
    /// // The client's default fields are already in; nothing has been sent or asked for.
    /// assert_eq!(call.request().header("accept"), Some("text/plain"));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    #[inline]
    pub fn prepare_call(&self, now: Now, mut request: Arc<Request>) -> PreparedCall {
        crate::config::apply_default_headers(self.config().default_headers(), &mut request);
        let id = CallId(self.shared.ids.next_call.fetch_add(1, Ordering::Relaxed) + 1);
        PreparedCall {
            id,
            shared: self.shared.clone(),
            now,
            request,
        }
    }

    /// Takes an idle connection to `address` from the pool, with its socket, after evicting
    /// the connections whose time is up. See [`SharedPool::acquire`].
    pub fn acquire(&self, now: Instant, address: &Address) -> Option<(Connection, S)> {
        self.pool.acquire(now, address)
    }

    /// Returns a connection and its socket to the pool. A runtime that schedules the pool's
    /// cleanup uses [`SharedPool::release`], which says when to start it.
    pub fn release(&self, now: Instant, conn: Connection, socket: S) {
        let _ = self.pool.release(now, conn, socket);
    }

    /// Closes every idle connection.
    pub fn evict_all(&self) {
        self.pool.evict_all();
    }

    /// Closes idle connections that expired by `now`.
    pub fn evict_expired(&self, now: Instant) {
        let evicted = self.pool.lock().pool.cleanup(now).closed;
        drop(evicted);
    }

    /// When the longest-idle pooled connection expires, if any is idle: an event loop can wake
    /// then and call [`Client::evict_expired`].
    pub fn next_pool_expiry(&self) -> Option<Instant> {
        self.pool.lock().pool.next_idle_expiry()
    }

    /// Number of idle pooled connections.
    pub fn idle_connection_count(&self) -> usize {
        self.pool.idle_count()
    }
}

/// The pool and whether its cleanup is scheduled, behind one lock.
struct PoolState<S> {
    pool: ConnectionPool<S>,
    /// The runtime's cleanup (a timer task, a thread) is running: it calls
    /// [`SharedPool::cleanup`] until that says the pool is empty.
    cleaner: bool,
}

/// A client's connection pool, shared by the clients derived from it, with the bookkeeping a
/// runtime needs to run OkHttp's cleanup on its own schedule.
///
/// Every operation holds the lock for a few instructions; connections the pool gives up are
/// returned or dropped after the lock is released, so closing a socket never happens under it.
///
/// # Tracking and cleanup
///
/// A driver tells the pool about every connection a call makes ([`register`](Self::register))
/// and every one it closes instead of releasing ([`forget`](Self::forget)); connections taken
/// with [`acquire`](Self::acquire) and given back with [`release`](Self::release) are tracked
/// by those. So [`connection_count`](Self::connection_count) is exact, and the pool knows when
/// it holds nothing at all.
///
/// The cleanup runs as a pure function of `now` ([`ConnectionPool::cleanup`]); the runtime
/// only schedules it. `register` and `release` return `true` when the pool holds idle
/// connections and no cleanup is running (in practice: a release into a pool without one): the
/// runtime then starts its cleanup (a timer task, a thread), which calls
/// [`cleanup`](Self::cleanup) and sleeps until the time it returns, until it returns `None`
/// (the pool is empty; the next release starts a new one).
///
/// ```
/// use std::time::Duration;
/// use wayfarer_core::{Client, Config, Instant};
///
/// let client: Client<()> = Client::new(Config::default());
/// let now = Instant::from_epoch(Duration::from_secs(1));
/// // Nothing pooled: no cleanup to run.
/// assert_eq!(client.pool().cleanup(now), None);
/// assert_eq!(client.pool().connection_count(), 0);
/// ```
pub struct SharedPool<S> {
    state: Arc<Mutex<PoolState<S>>>,
}

impl<S> Clone for SharedPool<S> {
    fn clone(&self) -> SharedPool<S> {
        SharedPool {
            state: self.state.clone(),
        }
    }
}

impl<S> fmt::Debug for SharedPool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SharedPool")
            .field("pool", &state.pool)
            .field("cleaner", &state.cleaner)
            .finish()
    }
}

/// A [`SharedPool`] that does not keep the pool alive: a runtime's cleanup holds one, so
/// dropping the last client closes its pool at once.
pub struct WeakPool<S> {
    state: Weak<Mutex<PoolState<S>>>,
}

impl<S> fmt::Debug for WeakPool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakPool").finish_non_exhaustive()
    }
}

impl<S> Clone for WeakPool<S> {
    fn clone(&self) -> WeakPool<S> {
        WeakPool {
            state: self.state.clone(),
        }
    }
}

impl<S> WeakPool<S> {
    /// The pool, if a client still holds it.
    pub fn upgrade(&self) -> Option<SharedPool<S>> {
        self.state.upgrade().map(|state| SharedPool { state })
    }
}

impl<S> SharedPool<S> {
    fn new(max_idle: usize, keep_alive: Duration) -> SharedPool<S> {
        SharedPool {
            state: Arc::new(Mutex::new(PoolState {
                pool: ConnectionPool::new(max_idle, keep_alive),
                cleaner: false,
            })),
        }
    }

    fn settings(&self) -> (usize, Duration) {
        let state = self.lock();
        (state.pool.max_idle(), state.pool.keep_alive())
    }

    /// True if both handles are the same pool.
    pub fn same_pool(&self, other: &SharedPool<S>) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// A handle that does not keep the pool alive.
    pub fn downgrade(&self) -> WeakPool<S> {
        WeakPool {
            state: Arc::downgrade(&self.state),
        }
    }

    /// Tracks a connection a call just made (it is in use until released or forgotten).
    /// Returns `true` when the runtime must start its cleanup: see the type's docs.
    #[must_use = "a true result means the cleanup must be started"]
    pub fn register(&self, conn: &Connection) -> bool {
        let mut state = self.lock();
        state.pool.register(conn);
        start_cleaner(&mut state)
    }

    /// Stops tracking a connection that was closed instead of released (a no-op for one the
    /// pool does not track).
    pub fn forget(&self, id: ConnId) {
        self.lock().pool.forget(id);
    }

    /// Takes an idle connection to `address`, with its socket, after evicting the connections
    /// whose time is up; it is in use from now on.
    pub fn acquire(&self, now: Instant, address: &Address) -> Option<(Connection, S)> {
        let (found, evicted) = {
            let mut state = self.lock();
            let evicted = state.pool.cleanup_if_due(now);
            (state.pool.acquire(address), evicted)
        };
        drop(evicted); // closes their sockets, outside the lock
        found
    }

    /// Gives back a connection and its socket, idle from `now` (closed instead if
    /// [`evict_all`](Self::evict_all) ran while it was in use, or if the pool is over its idle
    /// limit). Returns `true` when the runtime must start its cleanup: see the type's docs.
    #[must_use = "a true result means the cleanup must be started"]
    pub fn release(&self, now: Instant, conn: Connection, socket: S) -> bool {
        let (refused, evicted, start) = {
            let mut state = self.lock();
            let refused = state.pool.release(now, conn, socket);
            let evicted = state.pool.cleanup_if_due(now);
            let start = start_cleaner(&mut state);
            (refused, evicted, start)
        };
        drop((refused, evicted));
        start
    }

    /// Runs OkHttp's cleanup at `now` (closing what it evicts) and returns when to run it
    /// next. `None` means the pool is empty and the cleanup ends: the next
    /// [`register`](Self::register) or [`release`](Self::release) asks for a new one.
    pub fn cleanup(&self, now: Instant) -> Option<Instant> {
        let (evicted, next) = {
            let mut state = self.lock();
            let cleanup = state.pool.cleanup(now);
            if cleanup.next_run.is_none() {
                state.cleaner = false;
            }
            (cleanup.closed, cleanup.next_run)
        };
        drop(evicted);
        next
    }

    /// The runtime's cleanup stopped before [`cleanup`](Self::cleanup) returned `None` (its
    /// task was dropped with its runtime, say): the next [`register`](Self::register) or
    /// [`release`](Self::release) asks for a new one, where none would ever start again.
    pub fn cleanup_stopped(&self) {
        self.lock().cleaner = false;
    }

    /// Closes the idle connections for which `unusable` returns true (bytes arrived on them,
    /// the peer closed them), and returns how many. `unusable` runs under the pool's lock: it
    /// must only look at the socket (a reactor's readiness, a flag), never block.
    pub fn close_idle_where(&self, mut unusable: impl FnMut(&Connection, &mut S) -> bool) -> usize {
        let evicted = self.lock().pool.evict_idle_where(|c, s| unusable(c, s));
        let n = evicted.len();
        drop(evicted);
        n
    }

    /// Calls `f` with every idle connection and its socket (to watch them), under the lock.
    pub fn for_each_idle(&self, f: impl FnMut(&Connection, &mut S)) {
        self.lock().pool.for_each_idle(f);
    }

    /// Closes every idle connection; connections in use are closed when they come back.
    pub fn evict_all(&self) {
        let evicted = self.lock().pool.evict_all();
        drop(evicted);
    }

    /// Number of idle connections.
    pub fn idle_count(&self) -> usize {
        self.lock().pool.idle_count()
    }

    /// Number of connections, in use and idle.
    pub fn connection_count(&self) -> usize {
        self.lock().pool.connection_count()
    }

    fn lock(&self) -> MutexGuard<'_, PoolState<S>> {
        // A panic while holding this lock cannot leave the pool inconsistent (every operation
        // is a single push or remove), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Marks the cleanup as running if the pool holds idle connections and none runs: true if the
/// caller must start it. Connections in use have nothing to clean up, so a client whose
/// connections are never pooled (`Connection: close` everywhere) never starts one: no thread
/// or task per connection.
fn start_cleaner<S>(state: &mut PoolState<S>) -> bool {
    if state.cleaner || state.pool.idle_count() == 0 {
        return false;
    }
    state.cleaner = true;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Address;

    fn conn(client: &Client<u32>, host: &str) -> Connection {
        let address = Address::from_url(&url::Url::parse(&format!("http://{host}/")).unwrap());
        Connection::new(
            client.shared.next_conn_id(),
            address,
            "127.0.0.1:80".parse().unwrap(),
        )
    }

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn client(keep_alive_ms: u64) -> Client<u32> {
        Client::new(
            Config::builder()
                .keep_alive(Duration::from_millis(keep_alive_ms))
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn the_cleanup_is_started_once_and_ends_when_the_pool_is_empty() {
        let client = client(100);
        let pool = client.pool();
        let c1 = conn(&client, "a");
        assert!(
            !pool.register(&c1),
            "a connection in use has nothing to clean up"
        );
        let c2 = conn(&client, "a");
        assert!(!pool.register(&c2));
        assert_eq!(pool.connection_count(), 2);
        let address = c1.address().clone();
        assert!(
            pool.release(at(10), c1, 1),
            "the first idle connection starts the cleanup"
        );
        // Still one in use: the cleanup wakes again after keep-alive.
        assert_eq!(pool.cleanup(at(10)), Some(at(110)));
        let c3 = conn(&client, "a");
        assert!(!pool.register(&c3), "one cleanup per pool");
        assert!(!pool.release(at(10), c3, 3), "one cleanup per pool");
        pool.forget(c2.id());
        // Take c3 back out and close it: c1 is left, idle.
        let (c3, _) = pool.acquire(at(10), &address).unwrap();
        pool.forget(c3.id());
        assert_eq!((pool.idle_count(), pool.connection_count()), (1, 1));
        assert_eq!(pool.cleanup(at(20)), Some(at(110)));
        assert_eq!(pool.cleanup(at(110)), None, "expired, and nothing left");
        assert_eq!(pool.connection_count(), 0);
        // The next idle connection starts a new cleanup.
        let c = conn(&client, "a");
        assert!(!pool.register(&c));
        assert!(pool.release(at(120), c, 4));
    }

    #[test]
    fn a_cleanup_that_stopped_early_is_started_again() {
        let client = client(100);
        let pool = client.pool();
        assert!(pool.release(at(0), conn(&client, "a"), 1));
        assert!(!pool.release(at(0), conn(&client, "a"), 2), "one runs");
        // Its task was dropped before the pool was empty.
        pool.cleanup_stopped();
        assert!(pool.release(at(0), conn(&client, "a"), 3));
    }

    #[test]
    fn a_release_without_registration_still_starts_the_cleanup() {
        let client = client(100);
        let c = conn(&client, "a");
        assert!(client.pool().release(at(0), c, 7));
        assert_eq!(client.pool().cleanup(at(50)), Some(at(100)));
    }

    #[test]
    fn acquired_connections_stay_counted_until_released_or_forgotten() {
        let client = client(100);
        let c = conn(&client, "a");
        let address = c.address().clone();
        let id = c.id();
        client.release(at(0), c, 1);
        let (c, socket) = client.acquire(at(1), &address).unwrap();
        assert_eq!((c.id(), socket), (id, 1));
        assert_eq!(
            (client.pool().idle_count(), client.pool().connection_count()),
            (0, 1)
        );
        client.pool().forget(id);
        assert_eq!(client.pool().connection_count(), 0);
    }

    #[test]
    fn unusable_idle_connections_are_closed_on_request() {
        let client = client(100);
        for socket in 1..=3 {
            let c = conn(&client, "a");
            client.release(at(0), c, socket);
        }
        let mut seen = Vec::new();
        client.pool().for_each_idle(|_, s| seen.push(*s));
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(client.pool().close_idle_where(|_, s| *s == 2), 1);
        assert_eq!(client.pool().idle_count(), 2);
    }

    #[test]
    fn derived_clients_share_the_pool_and_ids_unless_the_pool_settings_change() {
        let base = client(100);
        let same = base.derive(
            Config::builder()
                .keep_alive(Duration::from_millis(100))
                .build()
                .unwrap(),
        );
        assert!(same.pool().same_pool(base.pool()));
        let c = conn(&same, "a");
        assert_ne!(c.id(), conn(&base, "a").id(), "one id counter");
        same.release(at(0), c, 1);
        assert_eq!(base.pool().idle_count(), 1);
        let other = base.derive(Config::default());
        assert!(!other.pool().same_pool(base.pool()));
        assert_eq!(other.pool().idle_count(), 0);
        // A weak handle does not keep a pool alive.
        let weak = other.pool().downgrade();
        assert!(weak.upgrade().is_some());
        drop(other);
        assert!(weak.upgrade().is_none());
    }
}
