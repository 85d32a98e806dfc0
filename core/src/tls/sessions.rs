//! TLS sessions kept for resumption, one store per port.
//!
//! rustls keys its session store by server name alone, so a single store would offer a session
//! (and its ticket, which identifies the client) made with `https://host:8443` to
//! `https://host:443`: another server, perhaps another operator, that could link the two
//! visits. JSSE, under OkHttp, and curl key sessions by host and port; so do these stores.

use std::sync::{Arc, Mutex};

use rustls::client::{ClientSessionMemoryCache, ClientSessionStore};

/// How many ports keep a store; the least recently used one goes first.
const PORTS_KEPT: usize = 32;

/// Sessions kept per port (as many server names as rustls's default store keeps).
const SESSIONS_PER_PORT: usize = 256;

/// The session stores of one client's TLS policy, by port.
#[derive(Debug, Default)]
pub(crate) struct PortSessions {
    /// Most recently used last.
    stores: Mutex<Vec<(u16, Arc<ClientSessionMemoryCache>)>>,
}

impl PortSessions {
    /// The store for connections to `port`.
    pub(crate) fn for_port(&self, port: u16) -> Arc<dyn ClientSessionStore> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        let store = match stores.iter().position(|(p, _)| *p == port) {
            Some(i) => stores.remove(i).1,
            None => {
                if stores.len() >= PORTS_KEPT {
                    stores.remove(0);
                }
                Arc::new(ClientSessionMemoryCache::new(SESSIONS_PER_PORT))
            }
        };
        stores.push((port, store.clone()));
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &Arc<dyn ClientSessionStore>, b: &Arc<dyn ClientSessionStore>) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
    }

    #[test]
    fn each_port_has_its_own_store_and_the_least_recent_goes_first() {
        let sessions = PortSessions::default();
        let https = sessions.for_port(443);
        assert!(same(&https, &sessions.for_port(443)));
        assert!(!same(&https, &sessions.for_port(8443)));
        for port in 1..PORTS_KEPT as u16 {
            sessions.for_port(port);
        }
        // 443 was used before 8443 and the others: it is the one dropped.
        assert!(!same(&https, &sessions.for_port(443)));
        assert_eq!(sessions.stores.lock().unwrap().len(), PORTS_KEPT);
    }
}
