//! What a network response does to the store: refresh an entry after a 304, store a new one,
//! or invalidate entries after an unsafe method (OkHttp's `CacheInterceptor.combine`,
//! `Cache.update`, `Cache.put` and `Cache.remove`; RFC 9111 sections 3, 4.3.4 and 4.4).

use std::time::SystemTime;

use http::{Method, StatusCode};
use url::Url;

use crate::{Headers, Response};

use super::entry::{Entry, Handshake, without_fragment};
use super::strategy::is_storable;
use super::vary;

/// The headers of a stored response refreshed by a 304 (RFC 9111 section 4.3.4), exactly as
/// OkHttp's `combine`:
///
/// - a stored field is kept when it is content-specific (`Content-Length`, `Content-Encoding`,
///   `Content-Type`: the 304 has no content, so its values for these describe nothing), or
///   hop-by-hop, or absent from the 304; stored `Warning`s with a 1xx code are dropped (they
///   were about staleness, which the 304 just ended);
/// - then every end-to-end, non-content field of the 304 is added.
///
/// So the 304's fields replace the stored ones of the same name.
pub fn combine_headers(stored: &Headers, not_modified: &Headers) -> Headers {
    let mut out = Headers::new();
    for (name, value) in stored.iter() {
        if name.eq_ignore_ascii_case("warning") && value.first() == Some(&b'1') {
            continue;
        }
        if is_content_specific(name) || !is_end_to_end(name) || !not_modified.contains(name) {
            // From a valid `Headers`, so valid again.
            let _ = out.append(name, value);
        }
    }
    for (name, value) in not_modified.iter() {
        if !is_content_specific(name) && is_end_to_end(name) {
            let _ = out.append(name, value);
        }
    }
    out
}

fn is_content_specific(name: &str) -> bool {
    ["content-length", "content-encoding", "content-type"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

/// Not one of the hop-by-hop fields of RFC 2616 section 13.5.1.
fn is_end_to_end(name: &str) -> bool {
    ![
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

impl Entry {
    /// This entry refreshed by a 304 answer to the conditional request: headers combined by
    /// [`combine_headers`], the varying request headers taken again from the conditional
    /// request's `network_request_headers`, and the new exchange's times (so the age starts
    /// again). Status, reason, version and handshake stay the stored response's.
    #[must_use]
    pub fn refreshed(
        &self,
        not_modified: &Headers,
        network_request_headers: &Headers,
        sent_at: SystemTime,
        received_at: SystemTime,
    ) -> Entry {
        let headers = combine_headers(&self.headers, not_modified);
        Entry {
            vary_headers: vary::vary_headers(network_request_headers, &headers),
            headers,
            sent_at,
            received_at,
            ..self.clone()
        }
    }
}

/// True for methods after which the target's stored response must be invalidated: every
/// method but the safe ones of RFC 9110 section 9.2.1 (GET, HEAD, OPTIONS, TRACE). This covers
/// OkHttp's POST, PUT, PATCH, DELETE and MOVE, and, as RFC 9111 section 4.4 asks, methods
/// whose safety is unknown.
pub fn invalidates_cache(method: &Method) -> bool {
    ![Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(method)
}

/// The URLs whose stored responses a response to `method` on `url` invalidates (RFC 9111
/// section 4.4): none unless the method [`invalidates_cache`] and the status is a non-error
/// final one (2xx or 3xx); then `url` itself, and the `Location` and `Content-Location` targets
/// (resolved against `url`) that have the same origin as `url`. Fragments are dropped; each
/// URL appears once.
pub fn invalidated_urls(
    method: &Method,
    url: &Url,
    status: StatusCode,
    response_headers: &Headers,
) -> Vec<Url> {
    if !invalidates_cache(method) || !(200..400).contains(&status.as_u16()) {
        return Vec::new();
    }
    let target = without_fragment(url);
    let mut urls = vec![target.clone()];
    for name in ["location", "content-location"] {
        let Some(value) = response_headers.get(name) else {
            continue;
        };
        let Ok(other) = target.join(value.trim()) else {
            continue;
        };
        let other = without_fragment(&other);
        if other.origin() == target.origin() && !urls.contains(&other) {
            urls.push(other);
        }
    }
    urls
}

/// What to do to the store once a network response head has arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUpdate {
    /// A 304 answered the conditional request: serve the stored body with this entry's head,
    /// and write this entry's metadata over the stored one.
    Refresh(Entry),
    /// Store this entry with the response body as it streams, replacing any entry for the URL.
    Store(Entry),
    /// Remove the entries of these URLs (see [`invalidated_urls`]).
    Invalidate(Vec<Url>),
    /// Leave the store alone.
    Keep,
}

impl CacheUpdate {
    /// Decides what `response` (from the network) does to the store.
    ///
    /// `network_request_headers` are the headers the request went out with;
    /// `validated` is the entry a [`CacheStrategy::Conditional`](super::CacheStrategy)
    /// decision validated (`None` for any other decision); `handshake` is the TLS session of
    /// an HTTPS response. A non-304 response replaces the entry when it is storable; a 304
    /// refreshes `validated`; an unsafe method invalidates.
    pub fn compute<B>(
        network_request_headers: &Headers,
        validated: Option<&Entry>,
        response: &Response<B>,
        handshake: Option<Handshake>,
    ) -> CacheUpdate {
        let request = response.request();
        if let (Some(entry), StatusCode::NOT_MODIFIED) = (validated, response.status()) {
            return CacheUpdate::Refresh(entry.refreshed(
                response.headers(),
                network_request_headers,
                response.sent_at(),
                response.received_at(),
            ));
        }
        if is_storable(
            request.method_ref(),
            network_request_headers,
            response.status(),
            response.headers(),
        ) {
            return CacheUpdate::Store(Entry::from_response(
                response,
                network_request_headers,
                handshake,
            ));
        }
        let urls = invalidated_urls(
            request.method_ref(),
            request.url(),
            response.status(),
            response.headers(),
        );
        if urls.is_empty() {
            CacheUpdate::Keep
        } else {
            CacheUpdate::Invalidate(urls)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use http::Version;

    use super::*;
    use crate::Request;
    use crate::cache::test_headers as headers;
    use crate::response::ResponseParts;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs)
    }

    fn response(method: Method, status: u16, fields: &[(&str, &str)]) -> Response<()> {
        let request = Request::builder(method, "http://h.test/a").build().unwrap();
        Response::from_parts(
            ResponseParts {
                status: StatusCode::from_u16(status).unwrap(),
                reason: "".into(),
                version: Version::HTTP_11,
                headers: headers(fields),
            },
            Arc::new(request),
            at(10),
            at(11),
        )
    }

    fn stored() -> Entry {
        Entry::new(
            Url::parse("http://h.test/a").unwrap(),
            StatusCode::OK,
            headers(&[("ETag", "\"v1\""), ("Content-Type", "text/plain")]),
            at(0),
            at(1),
        )
    }

    #[test]
    fn a_304_to_the_conditional_request_refreshes_the_validated_entry() {
        let sent = headers(&[("If-None-Match", "\"v1\"")]);
        let not_modified = response(Method::GET, 304, &[("Cache-Control", "max-age=60")]);
        let update = CacheUpdate::compute(&sent, Some(&stored()), &not_modified, None);
        let CacheUpdate::Refresh(entry) = update else {
            panic!("expected a refresh, got {update:?}");
        };
        assert_eq!(entry.status, StatusCode::OK);
        assert_eq!(entry.headers.get("cache-control"), Some("max-age=60"));
        assert_eq!(entry.headers.get("content-type"), Some("text/plain"));
        assert_eq!((entry.sent_at, entry.received_at), (at(10), at(11)));
        // A 304 to a request that validated on its own is not ours to store.
        assert_eq!(
            CacheUpdate::compute(&sent, None, &not_modified, None),
            CacheUpdate::Keep
        );
    }

    #[test]
    fn a_storable_response_replaces_the_entry() {
        let sent = headers(&[("Accept-Language", "fr"), ("If-None-Match", "\"v1\"")]);
        let fresh = response(
            Method::GET,
            200,
            &[("ETag", "\"v2\""), ("Vary", "Accept-Language")],
        );
        let update = CacheUpdate::compute(&sent, Some(&stored()), &fresh, None);
        let CacheUpdate::Store(entry) = update else {
            panic!("expected a store, got {update:?}");
        };
        assert_eq!(entry.headers.get("etag"), Some("\"v2\""));
        assert_eq!(entry.vary_headers, headers(&[("Accept-Language", "fr")]));
        assert_eq!(entry.url.as_str(), "http://h.test/a");
        // Not storable: left alone.
        let no_store = response(Method::GET, 200, &[("Cache-Control", "no-store")]);
        assert_eq!(
            CacheUpdate::compute(&sent, Some(&stored()), &no_store, None),
            CacheUpdate::Keep
        );
    }

    #[test]
    fn unsafe_methods_invalidate_unless_they_failed() {
        let created = response(Method::POST, 201, &[("Location", "/a/1")]);
        assert_eq!(
            CacheUpdate::compute(&Headers::new(), None, &created, None),
            CacheUpdate::Invalidate(vec![
                Url::parse("http://h.test/a").unwrap(),
                Url::parse("http://h.test/a/1").unwrap(),
            ])
        );
        let failed = response(Method::DELETE, 500, &[]);
        assert_eq!(
            CacheUpdate::compute(&Headers::new(), None, &failed, None),
            CacheUpdate::Keep
        );
    }
}
