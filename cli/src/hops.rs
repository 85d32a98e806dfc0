//! What `-i`, `-D` and `-w %{url_effective}` still show when a call with `-L` fails part way
//! through its redirect chain (one redirect more than `--max-redirs` allows, or a later hop
//! that cannot connect).
//!
//! curl writes each response head as it arrives, so the heads of the redirects it followed
//! are out before the failure. The library hands back either a response, whose prior
//! responses hold the chain, or an error, which holds none of it. [`Hops`] is a network
//! interceptor that keeps each hop's head as it comes up from the wire, for the error case,
//! apart for each call (one client runs every transfer of several URLs).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use wayfarer_core::{
    CallId, Error, Interceptor, InterceptorContext, Response, ResponseAction, Url,
};

use crate::interim::{CallHeads, InterimHeads};
use crate::run::{content_type, head_bytes};

/// One response the call received from the network.
#[derive(Debug, Clone)]
pub struct Hop {
    /// The URL of the request it answered (without userinfo).
    pub url: Url,
    /// Its head, as `-i` writes it.
    pub head: Vec<u8>,
    /// Its `%{content_type}`.
    pub content_type: String,
}

/// The network interceptor that records every hop of each call; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct Hops {
    seen: Arc<Mutex<HashMap<CallId, Vec<Hop>>>>,
}

impl Hops {
    /// Takes the hops recorded for `call`, the first one first.
    fn take(&self, call: CallId) -> Vec<Hop> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&call)
            .unwrap_or_default()
    }
}

/// Takes what `hops` and `interim` recorded of the call this thread handled last (the one
/// whose outcome it has in hand; see [`InterimHeads::take_this_threads_call`]): the hops of its
/// redirect chain and its interim heads. Hops are recorded only along with interim heads, so
/// without `interim` there are none.
pub fn take_this_threads_heads(
    hops: Option<&Hops>,
    interim: Option<&InterimHeads>,
) -> (Vec<Hop>, CallHeads) {
    let Some((call, heads)) = interim.and_then(InterimHeads::take_this_threads_call) else {
        return (Vec::new(), CallHeads::default());
    };
    (hops.map(|h| h.take(call)).unwrap_or_default(), heads)
}

/// Every head a call that failed had received, as `-i` writes them and in the order curl does:
/// the head of each hop of its redirect chain (`hops`), each after the interim (1xx) heads of
/// its exchange, then the interim heads of the exchange that failed before its final head came.
/// Empty when it received none.
pub fn failed_heads(hops: &[Hop], interim: &CallHeads) -> Vec<u8> {
    let mut heads = Vec::new();
    for (n, hop) in hops.iter().enumerate() {
        heads.extend_from_slice(interim.before(n));
        heads.extend_from_slice(&hop.head);
    }
    heads.extend_from_slice(interim.unanswered());
    heads
}

impl Interceptor for Hops {
    fn on_response(
        &self,
        cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        match result {
            Ok(response) => {
                let hop = Hop {
                    url: response.request().url().clone(),
                    head: head_bytes(&response),
                    content_type: content_type(response.headers()),
                };
                self.seen
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(cx.call())
                    .or_default()
                    .push(hop);
                ResponseAction::Return(response)
            }
            Err(e) => ResponseAction::Fail(e),
        }
    }

    fn name(&self) -> &str {
        "hops"
    }
}
