//! The sans-IO client: configuration, id counters and the connection pool, shared by every call.
//!
//! A runtime wraps one `Client<Socket>` in an `Arc` and shares it between threads or tasks.
//! Each call is its own state machine ([`Call`]) run by whichever thread or task executes it;
//! it asks the client for pooled connections and gives them back. The pool sits behind a
//! mutex held only for the few instructions of a lookup or insertion, never across I/O.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::call::{Call, CallId};
use crate::connection::{Address, ConnId, Connection, ConnectionPool};
use crate::{Config, Instant, Now, Request};

/// What every call of one client shares, apart from the pool.
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// Shared with every client made by [`Client::with_config`]: the pool holds connections by
    /// id, so ids must be unique across all clients of one pool.
    ids: Arc<Ids>,
}

#[derive(Default)]
struct Ids {
    next_call: AtomicU64,
    next_conn: AtomicU64,
}

impl Shared {
    pub(crate) fn next_conn_id(&self) -> ConnId {
        ConnId(self.ids.next_conn.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// A client's shared state, generic over the driver's socket type `S`.
pub struct Client<S> {
    shared: Arc<Shared>,
    pool: Arc<Mutex<ConnectionPool<S>>>,
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
        let pool = ConnectionPool::new(config.max_idle_connections, config.keep_alive);
        Client {
            shared: Arc::new(Shared {
                config,
                ids: Arc::default(),
            }),
            pool: Arc::new(Mutex::new(pool)),
        }
    }

    /// A client with other settings that shares this one's connection pool (OkHttp's
    /// `client.newBuilder()...build()`). The pool keeps its own size and keep-alive; the new
    /// configuration's are not used.
    ///
    /// Pooled connections are matched on their whole [`Address`], including the
    /// [`TlsIdentity`](crate::TlsIdentity) of the TLS settings they were made with, so a
    /// connection is only ever handed to a client whose TLS settings (trust, pins, versions and
    /// suites, client certificate) are the same as those it was made under.
    pub fn with_config(&self, config: Config) -> Client<S> {
        Client {
            shared: Arc::new(Shared {
                config,
                ids: self.shared.ids.clone(),
            }),
            pool: self.pool.clone(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Starts a call for `request`: the request goes down the interceptor chain at once, and
    /// the call's outputs say what I/O it needs.
    pub fn start_call(&self, now: Now, request: Request) -> Call {
        let id = CallId(self.shared.ids.next_call.fetch_add(1, Ordering::Relaxed) + 1);
        Call::new(id, self.shared.clone(), now, request)
    }

    /// Takes an idle connection to `address` from the pool, with its socket, after evicting
    /// the connections whose time is up.
    pub fn acquire(&self, now: Instant, address: &Address) -> Option<(Connection, S)> {
        let (found, evicted) = {
            let mut pool = self.lock();
            let evicted = pool.cleanup(now).closed;
            let found = pool.acquire(address);
            // Calls do not report connections they close yet, so in-use connections are not
            // tracked here (a closed one would stay counted forever).
            if let Some((conn, _)) = &found {
                pool.forget(conn.id());
            }
            (found, evicted)
        };
        drop(evicted); // closes their sockets, outside the lock
        found
    }

    /// Returns a connection and its socket to the pool.
    pub fn release(&self, now: Instant, conn: Connection, socket: S) {
        let (refused, evicted) = {
            let mut pool = self.lock();
            let refused = pool.release(now, conn, socket);
            (refused, pool.cleanup(now).closed)
        };
        drop((refused, evicted));
    }

    /// Closes every idle connection.
    pub fn evict_all(&self) {
        let evicted = self.lock().evict_all();
        drop(evicted);
    }

    /// Closes idle connections that expired by `now`.
    pub fn evict_expired(&self, now: Instant) {
        let evicted = self.lock().cleanup(now).closed;
        drop(evicted);
    }

    /// When the longest-idle pooled connection expires, if any is idle: an event loop can wake
    /// then and call [`Client::evict_expired`].
    pub fn next_pool_expiry(&self) -> Option<Instant> {
        self.lock().next_idle_expiry()
    }

    /// Number of idle pooled connections.
    pub fn idle_connection_count(&self) -> usize {
        self.lock().idle_count()
    }

    fn lock(&self) -> MutexGuard<'_, ConnectionPool<S>> {
        // A panic while holding this lock cannot leave the pool inconsistent (every operation
        // is a single push or remove), so a poisoned lock is still usable.
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
