//! The decision: network, cache, or both (OkHttp's `CacheStrategy`), and what may be stored.
//!
//! [`CacheStrategy::compute`] is a pure function of the time, the request and the stored
//! candidate, checked in this order (the first that applies decides):
//!
//! 1. no candidate, or one for another URL or method, or whose `Vary` headers differ (or are
//!    `*`) → network;
//! 2. an HTTPS candidate without a handshake → network;
//! 3. a candidate that should not have been stored (status, `no-store`, `Vary: *`) → network;
//! 4. a request with `no-cache` (or `Pragma: no-cache`), or with its own `If-Modified-Since` or
//!    `If-None-Match` → network: the caller wants the origin's answer, or validates itself;
//! 5. unless the response says `no-cache`: when `age + min-fresh < min(lifetime, request
//!    max-age) + max-stale` (`max-stale` counts only without the response's
//!    `must-revalidate`) → the cache, with `Warning: 110` if that is only thanks to
//!    `max-stale`, and `Warning: 113` when a heuristic lifetime served a response over a day
//!    old;
//! 6. otherwise a conditional request: `If-None-Match` with the `ETag`, else
//!    `If-Modified-Since` with `Last-Modified`, else with `Date`; with none of them → network.
//!
//! Last, a request with `only-if-cached` whose decision needs the network gets
//! [`CacheStrategy::Unsatisfiable`]: the chain answers [`unsatisfiable_response`], a 504.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode, Version};

use crate::response::ResponseParts;
use crate::{Headers, Request, Response};

use super::control::CacheControl;
use super::entry::Entry;
use super::freshness::{Freshness, header_date};
use super::vary;

/// The `Warning` added to a response served stale under the request's `max-stale`.
pub const WARNING_STALE: &str = "110 - \"Response is stale\"";

/// The `Warning` added to a response served on a heuristic lifetime when it is over a day old.
pub const WARNING_HEURISTIC: &str = "113 - \"Heuristic expiration\"";

/// The reason phrase of the 504 given to an `only-if-cached` request the cache cannot answer.
pub const UNSATISFIABLE_REASON: &str = "Unsatisfiable Request (only-if-cached)";

const ONE_DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// What a call does about the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStrategy {
    /// Send the request as it is; nothing stored is used.
    Network {
        /// Why the stored candidate (if any) could not help.
        reason: NetworkReason,
    },
    /// Answer with the stored response, without the network.
    Cache {
        /// The response headers to serve: the stored ones, with `Age` set to the current age
        /// (RFC 9111 section 4) and any `Warning`s appended.
        headers: Headers,
    },
    /// Ask the origin whether the stored response is still good. A 304 answer means: serve
    /// the stored body with [`combine_headers`](super::combine_headers) of both heads (and
    /// update the entry); any other answer replaces it.
    Conditional {
        /// The headers to send: the request's own, plus `If-None-Match` or
        /// `If-Modified-Since`.
        request_headers: Headers,
    },
    /// The request said `only-if-cached` and nothing stored can answer it: respond with
    /// [`unsatisfiable_response`].
    Unsatisfiable,
}

/// Why a [`CacheStrategy::Network`] decision did not use the stored candidate.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkReason {
    /// Nothing is stored for the URL.
    NoCandidate,
    /// The stored response is for another URL or method, or the request is neither GET nor
    /// HEAD.
    Mismatch,
    /// The request's headers named by the stored response's `Vary` differ (or `Vary: *`).
    VaryMismatch,
    /// The stored HTTPS response has no TLS handshake to serve it with.
    MissingHandshake,
    /// The stored response should never have been stored (status, `no-store`, `Vary: *`).
    NotStorable,
    /// The request says `no-cache` (or `Pragma: no-cache`).
    RequestNoCache,
    /// The request carries its own `If-Modified-Since` or `If-None-Match`.
    RequestConditions,
    /// The stored response is stale and has no validator (`ETag`, `Last-Modified`, `Date`).
    NoValidator,
}

impl CacheStrategy {
    /// Decides how to answer `request` at `now` given the stored `candidate` (the entry stored
    /// under the request URL's [`key`](super::key), if any). See the module docs for the rules.
    pub fn compute(now: SystemTime, request: &Request, candidate: Option<&Entry>) -> CacheStrategy {
        let request_cc = CacheControl::from_headers(request.headers());
        let strategy = candidate_strategy(now, request, &request_cc, candidate);
        if request_cc.is_only_if_cached() && strategy.uses_network() {
            CacheStrategy::Unsatisfiable
        } else {
            strategy
        }
    }

    /// True for decisions that send a request (network or conditional).
    pub fn uses_network(&self) -> bool {
        matches!(
            self,
            CacheStrategy::Network { .. } | CacheStrategy::Conditional { .. }
        )
    }

    /// True for decisions that use the stored response (cache or conditional).
    pub fn uses_cache(&self) -> bool {
        matches!(
            self,
            CacheStrategy::Cache { .. } | CacheStrategy::Conditional { .. }
        )
    }
}

fn candidate_strategy(
    now: SystemTime,
    request: &Request,
    request_cc: &CacheControl,
    candidate: Option<&Entry>,
) -> CacheStrategy {
    let network = |reason| CacheStrategy::Network { reason };
    let Some(entry) = candidate else {
        return network(NetworkReason::NoCandidate);
    };
    if !entry.matches_target(request) {
        return network(NetworkReason::Mismatch);
    }
    if !vary::vary_matches(&entry.headers, &entry.vary_headers, request.headers()) {
        return network(NetworkReason::VaryMismatch);
    }
    if entry.is_https() && entry.handshake.is_none() {
        return network(NetworkReason::MissingHandshake);
    }
    if !response_storable(entry.status, &entry.headers) {
        return network(NetworkReason::NotStorable);
    }
    if request_cc.is_no_cache() {
        return network(NetworkReason::RequestNoCache);
    }
    if request.headers().contains("if-modified-since")
        || request.headers().contains("if-none-match")
    {
        return network(NetworkReason::RequestConditions);
    }

    let response_cc = entry.cache_control();
    let freshness = Freshness::of(entry, now);
    let mut fresh = freshness.lifetime;
    if let Some(max_age) = request_cc.max_age() {
        fresh = fresh.min(max_age);
    }
    let min_fresh = request_cc.min_fresh().unwrap_or(Duration::ZERO);
    let max_stale = match request_cc.max_stale() {
        Some(max_stale) if !response_cc.must_revalidate() => max_stale,
        _ => Duration::ZERO,
    };
    let needed_age = freshness.age.saturating_add(min_fresh);
    if !response_cc.is_no_cache() && needed_age < fresh.saturating_add(max_stale) {
        let mut headers = entry.headers.clone();
        let age_secs = freshness
            .age
            .as_secs()
            .min(super::control::MAX_DELTA_SECONDS);
        // Constant names and plain values: these cannot fail validation.
        let _ = headers.set("Age", age_secs.to_string());
        if needed_age >= fresh {
            let _ = headers.append("Warning", WARNING_STALE);
        }
        if freshness.age > ONE_DAY && freshness.heuristic {
            let _ = headers.append("Warning", WARNING_HEURISTIC);
        }
        return CacheStrategy::Cache { headers };
    }

    let stored = &entry.headers;
    let condition = if let Some(etag) = stored.get_bytes("etag") {
        ("If-None-Match", etag)
    } else if header_date(stored, "last-modified").is_some() {
        (
            "If-Modified-Since",
            stored.get_bytes("last-modified").unwrap_or_default(),
        )
    } else if header_date(stored, "date").is_some() {
        (
            "If-Modified-Since",
            stored.get_bytes("date").unwrap_or_default(),
        )
    } else {
        return network(NetworkReason::NoValidator);
    };
    let mut request_headers = request.headers().clone();
    match request_headers.append(condition.0, condition.1) {
        Ok(()) => CacheStrategy::Conditional { request_headers },
        // Stored headers are valid header values, so this does not happen; if it did, asking
        // without a condition is still correct.
        Err(_) => network(NetworkReason::NoValidator),
    }
}

/// True when a response to a request with `method` and `request_headers` may be stored
/// (RFC 9111 section 3, with OkHttp's status list):
///
/// - only GET responses are stored (HEAD is answered from a stored GET);
/// - status 200, 203, 204, 300, 301, 308, 404, 405, 410, 414 or 501; 302 and 307 only with
///   explicit freshness (`max-age`, `Expires`, `public` or `private`; `s-maxage` is for shared
///   caches);
/// - no `no-store` in the request or the response;
/// - no `Vary: *`;
/// - a request with `Authorization` only when the response says `public`, `must-revalidate`
///   or `s-maxage` (section 3.5).
pub fn is_storable(
    method: &Method,
    request_headers: &Headers,
    status: StatusCode,
    response_headers: &Headers,
) -> bool {
    if method != Method::GET
        || CacheControl::from_headers(request_headers).is_no_store()
        || !response_storable(status, response_headers)
    {
        return false;
    }
    if request_headers.contains("authorization") {
        let cc = CacheControl::from_headers(response_headers);
        return cc.is_public() || cc.must_revalidate() || cc.s_max_age().is_some();
    }
    true
}

/// The response half of [`is_storable`]: status, `no-store`, `Vary: *`.
fn response_storable(status: StatusCode, headers: &Headers) -> bool {
    let cc = CacheControl::from_headers(headers);
    let status_ok = match status.as_u16() {
        200 | 203 | 204 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501 => true,
        302 | 307 => {
            headers.contains("expires")
                || cc.max_age().is_some()
                || cc.is_public()
                || cc.is_private()
        }
        _ => false,
    };
    status_ok && !cc.is_no_store() && !vary::has_vary_all(headers)
}

/// The response to an `only-if-cached` request the cache cannot answer: `HTTP/1.1 504
/// Unsatisfiable Request (only-if-cached)`, no headers, sent and received at `now` (nothing was
/// sent), as OkHttp's `CacheInterceptor` makes it.
pub fn unsatisfiable_response(request: Arc<Request>, now: SystemTime) -> Response<()> {
    Response::from_parts(
        ResponseParts {
            status: StatusCode::GATEWAY_TIMEOUT,
            reason: UNSATISFIABLE_REASON.into(),
            version: Version::HTTP_11,
            headers: Headers::new(),
        },
        request,
        now,
        now,
    )
}
