//! What `-i`, `-D` and `-w %{url_effective}` still show when a call with `-L` fails part way
//! through its redirect chain (one redirect more than `--max-redirs` allows, or a later hop
//! that cannot connect).
//!
//! curl writes each response head as it arrives, so the heads of the redirects it followed
//! are out before the failure. The library hands back either a response, whose prior
//! responses hold the chain, or an error, which holds none of it. [`Hops`] is a network
//! interceptor that keeps each hop's head as it comes up from the wire, for the error case.

use std::sync::{Arc, Mutex, PoisonError};

use wayfarer_core::{Error, Interceptor, InterceptorContext, Response, ResponseAction, Url};

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

/// The network interceptor that records every hop of one call; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct Hops {
    seen: Arc<Mutex<Vec<Hop>>>,
}

impl Hops {
    /// The hops recorded so far, the first one first.
    pub fn seen(&self) -> Vec<Hop> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Interceptor for Hops {
    fn on_response(
        &self,
        _cx: &mut InterceptorContext<'_>,
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
