//! The finder's first step on its own: asking the pool for an idle connection to the address
//! (through the first proxy selected). Nearly every keep-alive call ends there, with a pooled
//! connection it can use as it is, so a call asks through a [`PoolProbe`] and builds a
//! [`Finder`] only when the pool's answer calls for more: none, one idle long enough to be
//! checked first, or one for another address. The finder then goes on from that same answer,
//! as if it had asked itself, so there is one implementation of what follows a miss.
//!
//! A finder is some 280 bytes of routes, plans, proxies and handshakes, written when a call
//! starts looking and dropped when it has found; a probe is the pool key and the proxy list.

use super::{Finder, acquired_pooled};
use crate::Now;
use crate::connection::{Address, Connection, needs_health_check};
use crate::events::EventSink;
use crate::proxy::Proxy;

/// A look in the pool, before any finder (see the module documentation).
#[derive(Debug)]
pub(crate) struct PoolProbe {
    /// The pool key: the origin, through the first proxy selected.
    address: Address,
    /// Every proxy selected, in order (empty: direct), for the finder a miss builds.
    proxies: Vec<Proxy>,
}

impl PoolProbe {
    pub(crate) fn new(address: Address, proxies: Vec<Proxy>) -> PoolProbe {
        PoolProbe { address, proxies }
    }

    /// What to ask the pool for.
    pub(crate) fn address(&self) -> &Address {
        &self.address
    }

    /// The pool's answer. A connection to the address, idle too briefly to need a health
    /// check, is the one: taken, with the `ConnectionAcquired` event the finder would emit.
    /// Anything else is handed back for [`into_finder`](Self::into_finder)'s finder.
    pub(crate) fn take_pooled(
        &self,
        now: Now,
        pooled: Option<Connection>,
        events: &mut EventSink,
    ) -> Result<Connection, Option<Connection>> {
        match pooled {
            Some(conn)
                if *conn.address() == self.address && !needs_health_check(now.mono, &conn) =>
            {
                acquired_pooled(now, &conn, events);
                Ok(conn)
            }
            other => Err(other),
        }
    }

    /// A finder that has asked the pool what this probe asked: give it the answer with
    /// [`Finder::on_acquired`].
    pub(crate) fn into_finder(self) -> Finder {
        Finder::new(self.address, self.proxies, false)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::call::CallId;
    use crate::connection::{ConnId, HEALTH_CHECK_AFTER};
    use crate::events::EventKind;
    use crate::{Instant, Now};

    fn address(host: &str) -> Address {
        Address::from_url(&url::Url::parse(&format!("http://{host}/")).unwrap())
    }

    /// Connection `id` to `host`, idle since `idle_at` seconds.
    fn idle(id: u64, host: &str, idle_at: u64) -> Connection {
        let mut conn = Connection::new(ConnId(id), address(host), "127.0.0.1:80".parse().unwrap());
        conn.park(at(idle_at));
        conn
    }

    fn at(secs: u64) -> Instant {
        Instant::from_epoch(Duration::from_secs(secs))
    }

    fn now(secs: u64) -> Now {
        Now::new(at(secs), SystemTime::UNIX_EPOCH)
    }

    /// The events a probe's answer emitted, as `(conn, reused)` of each `ConnectionAcquired`.
    fn acquired(events: &mut EventSink) -> Vec<(ConnId, bool)> {
        let mut seen = Vec::new();
        while events.advance() {
            if let EventKind::ConnectionAcquired { conn, reused } = &events.next().kind {
                seen.push((*conn, *reused));
            }
        }
        seen
    }

    #[test]
    fn a_connection_idle_briefly_to_the_address_is_taken_as_the_finder_takes_it() {
        let probe = PoolProbe::new(address("a"), Vec::new());
        let mut events = EventSink::new(CallId(1), true);
        let taken = probe.take_pooled(now(1), Some(idle(7, "a", 0)), &mut events);
        assert_eq!(taken.map(|c| c.id()).ok(), Some(ConnId(7)));
        assert_eq!(acquired(&mut events), [(ConnId(7), true)]);
    }

    #[test]
    fn every_other_answer_goes_to_the_finder_untouched_and_unannounced() {
        let probe = PoolProbe::new(address("a"), Vec::new());
        let mut events = EventSink::new(CallId(1), true);
        let check_after = HEALTH_CHECK_AFTER.as_secs() + 1;
        for (answer, id) in [
            // Idle long enough to be checked first: the finder checks it.
            (Some(idle(1, "a", 0)), Some(ConnId(1))),
            // Another address's: the finder closes it.
            (Some(idle(2, "b", check_after)), Some(ConnId(2))),
            // None: the finder goes on to the routes.
            (None, None),
        ] {
            let handed_back = probe.take_pooled(now(check_after), answer, &mut events);
            assert_eq!(handed_back.err().map(|c| c.map(|c| c.id())), Some(id));
        }
        assert!(acquired(&mut events).is_empty());
        let finder = probe.into_finder();
        assert_eq!(
            finder.need().map(|n| format!("{n:?}")),
            Some(format!("Acquire({:?})", address("a")))
        );
    }
}
