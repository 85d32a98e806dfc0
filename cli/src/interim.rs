//! The interim (1xx) heads a call received, for `-i`, `-I`, `-D` and `%{size_header}`.
//!
//! curl writes every head it receives, a `100 Continue` or a `103 Early Hints` included, before
//! the final one of each exchange, and counts them in `%{size_header}`. The library skips
//! interim responses: a response holds only the final head, and the `InterimResponse` event
//! carries each interim one. [`InterimHeads`] keeps them from the events, grouped by the
//! exchange whose final head followed them.

use std::sync::{Arc, Mutex, PoisonError};

use wayfarer_core::{Event, EventKind};

use crate::run::{status_text, wire_head};

/// The interim heads of one call, as `-i` writes them; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct InterimHeads {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Interim heads received since the last final head.
    pending: Vec<u8>,
    /// For each final head received from the network, the interim heads before it.
    by_exchange: Vec<Vec<u8>>,
}

impl InterimHeads {
    /// Records an interim head, or closes the exchange a final head ends.
    pub fn on_event(&self, event: &Event) {
        match &event.kind {
            EventKind::InterimResponse {
                status,
                version,
                reason,
                headers,
                ..
            } => self.on_interim(&wire_head(
                &status_text(*version, status.as_u16(), reason),
                headers,
            )),
            EventKind::ResponseHeadersEnd { .. } => self.on_final(),
            _ => {}
        }
    }

    /// An interim head arrived (`head` as `-i` writes it).
    fn on_interim(&self, head: &[u8]) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.pending.extend_from_slice(head);
    }

    /// A final head arrived, ending its exchange.
    fn on_final(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let before = std::mem::take(&mut state.pending);
        state.by_exchange.push(before);
    }

    /// The interim heads before the final head of the `n`th exchange (from 0), the first
    /// received first; empty when there were none.
    ///
    /// Exchanges count in the order their final heads arrived, which is the order of the
    /// call's responses (its prior responses, then the last). A response the cache answered
    /// alone had no exchange: with `--cache-dir`, a later hop's interim heads would be taken
    /// for an earlier one's, a case left as it is (a cached redirect followed by a 1xx).
    pub fn before(&self, n: usize) -> Vec<u8> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.by_exchange.get(n).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interim_heads_go_with_the_exchange_they_came_before() {
        let heads = InterimHeads::default();
        let go_on = b"HTTP/1.1 100 Continue\r\n\r\n";
        let early = b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n";
        heads.on_final();
        heads.on_interim(go_on);
        heads.on_interim(early);
        heads.on_final();
        assert!(heads.before(0).is_empty());
        assert_eq!(heads.before(1), [&go_on[..], early].concat());
        assert!(heads.before(2).is_empty(), "no such exchange");
    }
}
