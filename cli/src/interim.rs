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
        self.on_kind(&event.kind);
    }

    fn on_kind(&self, kind: &EventKind) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match kind {
            EventKind::InterimResponse {
                status,
                version,
                reason,
                headers,
            } => {
                let head = wire_head(&status_text(*version, status.as_u16(), reason), headers);
                state.pending.extend_from_slice(&head);
            }
            EventKind::ResponseHeadersEnd { .. } => {
                let before = std::mem::take(&mut state.pending);
                state.by_exchange.push(before);
            }
            _ => {}
        }
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
    use wayfarer_core::{Headers, StatusCode, Version};

    #[test]
    fn interim_heads_go_with_the_exchange_they_came_before() {
        let heads = InterimHeads::default();
        let mut link = Headers::new();
        link.append("Link", "</a>; rel=preload").unwrap();
        let interim = |status: u16, reason: &str, headers: Headers| EventKind::InterimResponse {
            status: StatusCode::from_u16(status).unwrap(),
            version: Version::HTTP_11,
            reason: reason.into(),
            headers,
        };
        let final_head = || EventKind::ResponseHeadersEnd {
            status: StatusCode::OK,
            version: Version::HTTP_11,
            reason: "OK".into(),
            headers: Headers::new(),
        };
        heads.on_kind(&final_head());
        heads.on_kind(&interim(100, "Continue", Headers::new()));
        heads.on_kind(&interim(103, "Early Hints", link));
        heads.on_kind(&final_head());
        assert!(heads.before(0).is_empty());
        assert_eq!(
            heads.before(1),
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
        );
        assert!(heads.before(2).is_empty(), "no such exchange");
    }
}
