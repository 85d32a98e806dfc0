//! The interim (1xx) heads of each call, for `-i`, `-I`, `-D` and `%{size_header}`.
//!
//! curl writes every head it receives, a `100 Continue` or a `103 Early Hints` included, before
//! the final one of each exchange, and counts them in `%{size_header}`. The library skips
//! interim responses: a response holds only the final head, and the `InterimResponse` event
//! carries each interim one. [`InterimHeads`] keeps them from the events, apart for each call
//! (by the event's call id, so that one client running several transfers at once, as `-Z`
//! does, keeps each one's heads to itself), and grouped by the exchange whose final head
//! followed them.
//!
//! A transfer learns which call was its own from the thread it is on: a blocking call runs on
//! one thread, the caller's (`Call::execute`) or a dispatcher thread (`Call::enqueue`, whose
//! callback hears the outcome on that thread), so the call a thread started last is the one
//! whose outcome the thread is handling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, ThreadId};

use wayfarer_core::{CallId, Event, EventKind};

use crate::run::{status_text, wire_head};

/// The interim heads of every call of a client; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct InterimHeads {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Each call's interim heads, until its transfer takes them.
    calls: HashMap<CallId, CallHeads>,
    /// The call each thread started last.
    started: HashMap<ThreadId, CallId>,
}

/// The interim heads one call received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallHeads {
    /// Interim heads received since the last final head.
    pending: Vec<u8>,
    /// For each final head received from the network, the interim heads before it.
    by_exchange: Vec<Vec<u8>>,
}

impl InterimHeads {
    /// Notes which call this thread runs, records an interim head, or closes the exchange a
    /// final head ends.
    pub fn on_event(&self, event: &Event) {
        match &event.kind {
            EventKind::CallStart { .. } => self.started(thread::current().id(), event.call),
            EventKind::InterimResponse {
                status,
                version,
                reason,
                headers,
                ..
            } => self.with_call(event.call, |call| {
                let head = wire_head(&status_text(*version, status.as_u16(), reason), headers);
                call.pending.extend_from_slice(&head);
            }),
            EventKind::ResponseHeadersEnd { .. } => self.with_call(event.call, |call| {
                let before = std::mem::take(&mut call.pending);
                call.by_exchange.push(before);
            }),
            _ => {}
        }
    }

    /// Takes the interim heads of the call this thread started last, with its id (`None` if
    /// the thread started none): the call whose outcome the thread has in hand.
    pub fn take_this_threads_call(&self) -> Option<(CallId, CallHeads)> {
        let mut state = self.lock();
        let call = state.started.remove(&thread::current().id())?;
        Some((call, state.calls.remove(&call).unwrap_or_default()))
    }

    fn started(&self, thread: ThreadId, call: CallId) {
        let mut state = self.lock();
        // A thread runs one call at a time: the one it ran before is done with.
        if let Some(done) = state.started.insert(thread, call) {
            state.calls.remove(&done);
        }
    }

    fn with_call(&self, call: CallId, f: impl FnOnce(&mut CallHeads)) {
        f(self.lock().calls.entry(call).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CallHeads {
    /// The interim heads before the final head of the call's `n`th exchange (from 0), the
    /// first received first; empty when there were none.
    ///
    /// Exchanges count in the order their final heads arrived, which is the order of the
    /// call's responses that came from the network (its prior responses, then the last); a
    /// response the cache answered alone had no exchange.
    pub fn before(&self, n: usize) -> &[u8] {
        self.by_exchange.get(n).map_or(&[], Vec::as_slice)
    }

    /// The interim heads received after the call's last final head, the first received first:
    /// those of an exchange that failed before its final head came (the server closed the
    /// connection after a `103 Early Hints`, or sent something that is not HTTP).
    pub fn unanswered(&self) -> &[u8] {
        &self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interim_heads_go_with_the_exchange_they_came_before() {
        let mut call = CallHeads::default();
        call.by_exchange.push(Vec::new());
        let heads = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n";
        call.by_exchange.push(heads.to_vec());
        assert!(call.before(0).is_empty());
        assert_eq!(call.before(1), heads);
        assert!(call.before(2).is_empty(), "no such exchange");
        assert!(
            call.unanswered().is_empty(),
            "every exchange got its final head"
        );
        // An exchange that failed after a 103 leaves it unanswered, apart from the others.
        call.pending = b"HTTP/1.1 103 Early Hints\r\n\r\n".to_vec();
        assert_eq!(call.unanswered(), call.pending.as_slice());
        assert_eq!(call.before(1), heads);
    }
}
