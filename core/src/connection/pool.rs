//! The connection pool: idle keep-alive connections waiting for the next call to their address.
//!
//! The pool is a plain data structure over `(Connection, S)` pairs, where `S` is whatever the
//! driver uses as a socket; it never touches the socket. Every operation takes `now`, and
//! eviction is a pure function of it:
//! - a connection idle for `keep_alive` or longer is evicted;
//! - when more than `max_idle` connections are idle, the longest-idle ones are evicted.
//!
//! `acquire` hands out the most recently used connection for an address (it is the least likely
//! to have been closed by the server). Evicted pairs are returned, not dropped, so a driver can
//! close sockets outside any lock it holds around the pool.
//!
//! This is the minimal pool; OkHttp's full cleanup schedule (a wake-up for the next expiry,
//! `evict_all`, in-use accounting) builds on [`ConnectionPool::next_expiry`].

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use crate::Instant;
use crate::connection::{Address, Connection};

/// A connection with the driver's socket for it.
pub type Pooled<S> = (Connection, S);

struct Idle<S> {
    conn: Connection,
    socket: S,
    since: Instant,
}

/// Idle connections, most recently released last.
pub struct ConnectionPool<S> {
    idle: VecDeque<Idle<S>>,
    max_idle: usize,
    keep_alive: Duration,
}

impl<S> fmt::Debug for ConnectionPool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("idle", &self.idle.len())
            .field("max_idle", &self.max_idle)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

impl<S> ConnectionPool<S> {
    /// An empty pool keeping at most `max_idle` idle connections, each for at most `keep_alive`.
    pub fn new(max_idle: usize, keep_alive: Duration) -> ConnectionPool<S> {
        ConnectionPool {
            idle: VecDeque::new(),
            max_idle,
            keep_alive,
        }
    }

    /// Number of idle connections.
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// Takes the most recently used idle connection to `address`, after evicting expired ones.
    /// Returns it along with the evicted pairs (for the driver to close).
    pub fn acquire(
        &mut self,
        now: Instant,
        address: &Address,
    ) -> (Option<Pooled<S>>, Vec<Pooled<S>>) {
        let evicted = self.evict(now);
        let found = self
            .idle
            .iter()
            .rposition(|i| i.conn.address() == address)
            .and_then(|pos| self.idle.remove(pos))
            .map(|i| (i.conn, i.socket));
        (found, evicted)
    }

    /// Puts a connection back. Returns the pairs evicted to respect the limits (possibly the
    /// connection just released, when `max_idle` is 0).
    pub fn release(&mut self, now: Instant, mut conn: Connection, socket: S) -> Vec<Pooled<S>> {
        conn.park(now);
        self.idle.push_back(Idle {
            conn,
            socket,
            since: now,
        });
        self.evict(now)
    }

    /// Removes expired connections and those over the idle limit, oldest first.
    pub fn evict(&mut self, now: Instant) -> Vec<Pooled<S>> {
        let mut evicted = Vec::new();
        while let Some(oldest) = self.idle.front() {
            let expired = now - oldest.since >= self.keep_alive;
            if !expired && self.idle.len() <= self.max_idle {
                break;
            }
            if let Some(i) = self.idle.pop_front() {
                evicted.push((i.conn, i.socket));
            }
        }
        evicted
    }

    /// Removes every idle connection.
    pub fn evict_all(&mut self) -> Vec<Pooled<S>> {
        self.idle.drain(..).map(|i| (i.conn, i.socket)).collect()
    }

    /// When the longest-idle connection will expire, if any is idle.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.idle.front().map(|i| i.since + self.keep_alive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::ConnId;

    fn at(s: u64) -> Instant {
        Instant::from_epoch(Duration::from_secs(s))
    }

    fn conn(id: u64, host: &str) -> Connection {
        let address = Address::from_url(&url::Url::parse(&format!("http://{host}/")).unwrap());
        Connection::new(ConnId(id), address, "127.0.0.1:80".parse().unwrap())
    }

    fn addr(host: &str) -> Address {
        Address::from_url(&url::Url::parse(&format!("http://{host}/")).unwrap())
    }

    #[test]
    fn hands_out_the_most_recent_connection_for_the_address() {
        let mut pool = ConnectionPool::new(5, Duration::from_secs(300));
        assert!(pool.release(at(0), conn(1, "a"), "s1").is_empty());
        assert!(pool.release(at(1), conn(2, "b"), "s2").is_empty());
        assert!(pool.release(at(2), conn(3, "a"), "s3").is_empty());
        let (found, _) = pool.acquire(at(3), &addr("a"));
        let (c, s) = found.unwrap();
        assert_eq!((c.id(), s), (ConnId(3), "s3"));
        assert_eq!(c.idle_since(), Some(at(2)));
        assert_eq!(pool.acquire(at(3), &addr("c")).0.map(|(_, s)| s), None);
        assert_eq!(pool.idle_count(), 2);
    }

    #[test]
    fn evicts_expired_and_surplus_connections_oldest_first() {
        let mut pool = ConnectionPool::new(2, Duration::from_secs(300));
        pool.release(at(0), conn(1, "a"), 1);
        pool.release(at(10), conn(2, "a"), 2);
        let evicted = pool.release(at(20), conn(3, "a"), 3);
        assert_eq!(evicted.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [1]);
        assert_eq!(pool.next_expiry(), Some(at(310)));
        let (found, evicted) = pool.acquire(at(310), &addr("a"));
        assert_eq!(evicted.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [2]);
        assert_eq!(found.map(|(_, s)| s), Some(3));
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(pool.next_expiry(), None);
    }

    #[test]
    fn zero_max_idle_keeps_nothing() {
        let mut pool = ConnectionPool::new(0, Duration::from_secs(300));
        assert_eq!(pool.release(at(0), conn(1, "a"), 1).len(), 1);
        assert_eq!(pool.idle_count(), 0);
    }
}
