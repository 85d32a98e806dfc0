//! Recent answers of the system resolver, reused for a while instead of asking again.
//!
//! OkHttp resolves through the JVM, which keeps a successful lookup for 30 seconds; curl keeps
//! its answers for 60. `getaddrinfo` itself keeps nothing: every lookup reads the hosts file
//! and may ask a DNS server, which costs a new connection to a named host several system calls
//! and often a network round trip. The client keeps each host's addresses for
//! [`dns_cache_ttl`](crate::ClientBuilder::dns_cache_ttl) (30 s by default), as the JVM would
//! under OkHttp.
//!
//! Only the runtime's system resolver is cached: a resolver the application set with
//! [`dns`](crate::ClientBuilder::dns) is asked for every new connection, as OkHttp asks its
//! `Dns`, since it may keep its own cache or answer differently on purpose. Failed lookups
//! are not kept. A call that could connect to none of the addresses an answer gave drops it,
//! so the next call asks again instead of trusting a list that may be stale; one address
//! failing while another connects (a server listening on IPv4 only, for a name with an IPv6
//! address too) keeps it, or every call would ask again.
//!
//! The cache is pure data keyed by the time the driver reports: a hit makes no output at all,
//! and the events are the same as for a lookup (`DnsStart`, then `DnsEnd` with the addresses),
//! as OkHttp's are when the JVM answers from its cache.

use std::collections::HashMap;
use std::time::Duration;

use core::net::IpAddr;

use crate::Instant;

/// At most this many hosts are kept: the oldest answer makes room for a new one.
const MAX_HOSTS: usize = 256;

/// Host names (lowercase) to the addresses the resolver gave and when they stop being used.
#[derive(Debug)]
pub(crate) struct DnsCache {
    ttl: Duration,
    entries: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    addrs: Vec<IpAddr>,
    expires: Instant,
}

impl DnsCache {
    /// An empty cache keeping answers for `ttl` (not zero: a zero TTL means no cache at all).
    pub(crate) fn new(ttl: Duration) -> DnsCache {
        DnsCache {
            ttl,
            entries: HashMap::new(),
        }
    }

    /// How long an answer is kept.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The addresses `host` resolved to less than the TTL before `now`, if any.
    pub(crate) fn lookup(&mut self, host: &str, now: Instant) -> Option<Vec<IpAddr>> {
        let key = key(host);
        let entry = self.entries.get(key.as_ref())?;
        if now >= entry.expires {
            self.entries.remove(key.as_ref());
            return None;
        }
        Some(entry.addrs.clone())
    }

    /// Keeps `addrs` as `host`'s answer from `now` (an empty answer is not kept).
    pub(crate) fn remember(&mut self, host: &str, addrs: &[IpAddr], now: Instant) {
        if addrs.is_empty() {
            return;
        }
        let key = key(host).into_owned();
        if self.entries.len() >= MAX_HOSTS && !self.entries.contains_key(&key) {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= MAX_HOSTS {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(host, _)| host.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        let entry = Entry {
            addrs: addrs.to_vec(),
            expires: now + self.ttl,
        };
        self.entries.insert(key, entry);
    }

    /// Drops the answer for `host`, if any.
    pub(crate) fn forget(&mut self, host: &str) {
        self.entries.remove(key(host).as_ref());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Host names compare case-insensitively; the URL parser already lowercases them, so the
/// common case borrows.
fn key(host: &str) -> std::borrow::Cow<'_, str> {
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        host.to_ascii_lowercase().into()
    } else {
        host.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Instant {
        Instant::from_epoch(Duration::from_secs(secs))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_answer_is_reused_until_its_ttl_ends() {
        let mut cache = DnsCache::new(Duration::from_secs(30));
        assert_eq!(cache.lookup("example.com", at(0)), None);
        cache.remember("example.com", &[ip("192.0.2.1"), ip("::1")], at(10));
        assert_eq!(
            cache.lookup("example.com", at(39)),
            Some(vec![ip("192.0.2.1"), ip("::1")])
        );
        assert_eq!(cache.lookup("example.com", at(40)), None, "expired");
        assert_eq!(cache.len(), 0, "an expired answer is dropped when seen");
    }

    #[test]
    fn host_names_compare_without_case() {
        let mut cache = DnsCache::new(Duration::from_secs(30));
        cache.remember("Proxy.Example", &[ip("192.0.2.1")], at(0));
        assert_eq!(
            cache.lookup("proxy.example", at(1)),
            Some(vec![ip("192.0.2.1")])
        );
        assert_eq!(
            cache.lookup("PROXY.EXAMPLE", at(1)),
            Some(vec![ip("192.0.2.1")])
        );
    }

    #[test]
    fn an_empty_answer_is_not_kept() {
        let mut cache = DnsCache::new(Duration::from_secs(30));
        cache.remember("example.com", &[], at(0));
        assert_eq!(cache.lookup("example.com", at(0)), None);
    }

    #[test]
    fn a_forgotten_answer_is_asked_for_again() {
        let mut cache = DnsCache::new(Duration::from_secs(30));
        cache.remember("a.example", &[ip("192.0.2.1")], at(0));
        cache.remember("b.example", &[ip("192.0.2.2")], at(0));
        cache.forget("A.example");
        assert_eq!(cache.lookup("a.example", at(1)), None);
        assert_eq!(
            cache.lookup("b.example", at(1)),
            Some(vec![ip("192.0.2.2")])
        );
    }

    #[test]
    fn the_cache_stays_bounded_dropping_the_oldest_answer() {
        let mut cache = DnsCache::new(Duration::from_secs(3600));
        for i in 0..MAX_HOSTS as u64 {
            cache.remember(&format!("h{i}.example"), &[ip("192.0.2.1")], at(i));
        }
        assert_eq!(cache.len(), MAX_HOSTS);
        cache.remember("new.example", &[ip("192.0.2.9")], at(MAX_HOSTS as u64));
        assert_eq!(cache.len(), MAX_HOSTS);
        assert_eq!(cache.lookup("h0.example", at(MAX_HOSTS as u64)), None);
        assert!(cache.lookup("h1.example", at(MAX_HOSTS as u64)).is_some());
        assert_eq!(
            cache.lookup("new.example", at(MAX_HOSTS as u64)),
            Some(vec![ip("192.0.2.9")])
        );
    }

    #[test]
    fn when_full_expired_answers_go_first() {
        let mut cache = DnsCache::new(Duration::from_secs(30));
        cache.remember("old.example", &[ip("192.0.2.1")], at(0));
        for i in 1..MAX_HOSTS as u64 {
            cache.remember(&format!("h{i}.example"), &[ip("192.0.2.1")], at(100));
        }
        // At 120 s, "old" has expired and the rest have not: only "old" goes.
        cache.remember("new.example", &[ip("192.0.2.9")], at(120));
        assert_eq!(cache.len(), MAX_HOSTS);
        assert!(cache.lookup("h1.example", at(120)).is_some());
        assert!(cache.lookup("new.example", at(120)).is_some());
    }
}
