//! HTTP caching (RFC 9111) as OkHttp does it: the handle a client is given, and the pure
//! decisions.
//!
//! A client caches when it is given a [`Cache`] (a store plus statistics). Everything else here
//! is a function of its arguments: no store, no clock, no I/O. A store keeps entries (metadata
//! [`Entry`] plus body) under [`key`]`(url)`; the cache link of a call asks
//! [`CacheStrategy::compute`] what to do with the stored candidate, and [`CacheUpdate::compute`]
//! what the network's answer does to the store.
//!
//! | OkHttp | here |
//! |---|---|
//! | `Cache` (the handle: statistics, `urls()`, `evictAll`, `size`, ...) | [`Cache`] (`handle.rs`) |
//! | `CacheInterceptor` | the call's cache link (`call/cache.rs`), which asks its driver for store operations ([`CacheOp`](crate::CacheOp)) |
//! | `CacheControl`, `FORCE_NETWORK`, `FORCE_CACHE` | [`CacheControl`] (`control.rs`) |
//! | `Cache.Entry`, `Cache.key` | [`Entry`], [`key`] (`entry.rs`) |
//! | `CacheStrategy.Factory.compute` | [`CacheStrategy::compute`] (`strategy.rs`) |
//! | `cacheResponseAge`, `computeFreshnessLifetime` | [`Freshness`] (`freshness.rs`) |
//! | `CacheStrategy.isCacheable` | [`is_storable`] |
//! | `Cache.varyMatches`, `varyHeaders` | [`vary_matches`], [`vary_headers`] (`vary.rs`) |
//! | `DiskLruCache` (its contract) | [`store::CacheStore`], [`store::MemoryStore`]; the disk store is the `wayfarer-disk-cache` crate |
//! | `CacheInterceptor.combine`, `Cache.update`, `HttpMethod.invalidatesCache` | [`combine_headers`], [`Entry::refreshed`], [`invalidated_urls`] (`update.rs`) |
//!
//! # The strategy
//!
//! Given `now`, the request and the entry stored for its URL, the decision is one of:
//!
//! - **network**: nothing usable is stored (none, another URL or method, `Vary` differs, an
//!   HTTPS entry without handshake, a status that is not storable), or the request opts out
//!   (`no-cache`, its own `If-None-Match` / `If-Modified-Since`);
//! - **cache**: the stored response is fresh enough for the request: its age (RFC 9111 section
//!   4.2.3) plus the request's `min-fresh` is below its freshness lifetime (`max-age`, else
//!   `Expires - Date`, else 10 % of `Date - Last-Modified` for URLs without a query), capped by
//!   the request's `max-age`, plus the request's `max-stale` unless the response says
//!   `must-revalidate`; the response must not say `no-cache`. Stale answers carry `Warning:
//!   110`, heuristic ones over a day old `Warning: 113`;
//! - **conditional**: stale, but it has a validator: send the request with `If-None-Match`
//!   (from `ETag`) or `If-Modified-Since` (from `Last-Modified`, else `Date`); a 304 refreshes
//!   the entry ([`combine_headers`]) and serves its body;
//! - **unsatisfiable**: the request says `only-if-cached` but the decision needs the network:
//!   answer [`unsatisfiable_response`] (504).
//!
//! [`strategy`](CacheStrategy) lists the checks in order; [`control`](CacheControl) how odd
//! `Cache-Control` fields are read.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use wayfarer_core::cache::{CacheStrategy, Entry, Freshness, NetworkReason, WARNING_STALE};
//! use wayfarer_core::{Headers, Request, StatusCode, Url};
//!
//! // Stored: a response received at noon, fresh for 60 s, with an ETag.
//! let noon = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_268_800);
//! let mut headers = Headers::new();
//! headers.append("Date", "Thu, 01 Jan 2026 12:00:00 GMT")?;
//! headers.append("Cache-Control", "max-age=60")?;
//! headers.append("ETag", "\"v1\"")?;
//! let url = Url::parse("http://example.com/news")?;
//! let entry = Entry::new(url, StatusCode::OK, headers, noon, noon);
//! let request = Request::get("http://example.com/news").build()?;
//!
//! // 30 s later it is fresh: served from the cache, with its age.
//! let later = noon + Duration::from_secs(30);
//! assert_eq!(Freshness::of(&entry, later).age, Duration::from_secs(30));
//! let CacheStrategy::Cache { headers } = CacheStrategy::compute(later, &request, Some(&entry))
//! else { panic!("expected a cache hit") };
//! assert_eq!(headers.get("age"), Some("30"));
//!
//! // 90 s later it is stale: ask the origin with the ETag.
//! let stale = noon + Duration::from_secs(90);
//! let CacheStrategy::Conditional { request_headers } =
//!     CacheStrategy::compute(stale, &request, Some(&entry))
//! else { panic!("expected a conditional request") };
//! assert_eq!(request_headers.get("if-none-match"), Some("\"v1\""));
//!
//! // Unless the caller takes stale answers: then the cache serves it, with a warning.
//! let lenient = Request::get("http://example.com/news")
//!     .header("Cache-Control", "max-stale=60")
//!     .build()?;
//! let CacheStrategy::Cache { headers } = CacheStrategy::compute(stale, &lenient, Some(&entry))
//! else { panic!("expected a stale hit") };
//! assert_eq!(headers.get("warning"), Some(WARNING_STALE));
//!
//! // Nothing stored: the network.
//! assert_eq!(
//!     CacheStrategy::compute(stale, &request, None),
//!     CacheStrategy::Network { reason: NetworkReason::NoCandidate }
//! );
//!
//! // Stored metadata round-trips through its serialisation.
//! assert_eq!(Entry::decode(&entry.encode()), Ok(entry));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod control;
mod entry;
mod freshness;
mod handle;
pub mod store;
mod strategy;
mod update;
mod vary;

pub use control::{CacheControl, CacheControlBuilder, MAX_DELTA_SECONDS};
pub use entry::{ENTRY_FORMAT, Entry, EntryError, Handshake, key};
pub use freshness::{Freshness, current_age, freshness_lifetime};
pub use handle::{Cache, Urls};
pub use strategy::{
    CacheStrategy, NetworkReason, UNSATISFIABLE_REASON, WARNING_HEURISTIC, WARNING_STALE,
    is_storable, unsatisfiable_response,
};
pub use update::{CacheUpdate, combine_headers, invalidated_urls, invalidates_cache};
pub use vary::{has_vary_all, vary_fields, vary_headers, vary_matches};

/// Headers from `(name, value)` pairs, for tests.
#[cfg(test)]
pub(crate) fn test_headers(fields: &[(&str, &str)]) -> crate::Headers {
    let mut h = crate::Headers::new();
    for (n, v) in fields {
        h.append(n, v).unwrap();
    }
    h
}
