//! How old a stored response is and how long it stays fresh (RFC 9111 section 4.2).
//!
//! - **Age** (section 4.2.3): from the `Age` header, the `Date` header, when the request was
//!   sent and the response received, and `now`:
//!
//!   ```text
//!   apparent_age          = max(0, received_at - Date)
//!   corrected_age_value   = Age + (received_at - sent_at)
//!   corrected_initial_age = max(apparent_age, corrected_age_value)
//!   current_age           = corrected_initial_age + max(0, now - received_at)
//!   ```
//!
//!   A server clock ahead of ours (Date after `received_at`) gives an apparent age of zero, and
//!   a `now` before `received_at` a resident time of zero: clock skew never makes an age
//!   negative. (OkHttp adds the response delay to the larger of the apparent age and `Age`;
//!   the RFC adds it to `Age` only, which is what we do.)
//! - **Freshness lifetime** (section 4.2.1): the response's `max-age`; else `Expires` minus
//!   `Date` (or minus `received_at` without a `Date`); else, heuristically (section 4.2.2), a
//!   tenth of the time from `Last-Modified` to `Date` (or to `sent_at`) — only for URLs without
//!   a query, as OkHttp; else zero. An `Expires` that is not a valid date means "already
//!   expired" (section 5.3).
//!
//! Numbers saturate instead of overflowing; every input, however odd, gives an answer.

use std::time::{Duration, SystemTime};

use url::Url;

use crate::Headers;
use crate::headers::trim_ows;

use super::control::{CacheControl, delta_seconds};
use super::entry::Entry;

/// The age and freshness of a stored response at some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// The response's current age.
    pub age: Duration,
    /// How long the response is fresh from its origin, before any request directive.
    pub lifetime: Duration,
    /// True when the lifetime is a heuristic: the response has neither `max-age` nor `Expires`
    /// (OkHttp's `isFreshnessLifetimeHeuristic`).
    pub heuristic: bool,
    /// The response said `immutable` (RFC 8246).
    pub immutable: bool,
}

impl Freshness {
    /// The freshness of `entry` at `now`.
    pub fn of(entry: &Entry, now: SystemTime) -> Freshness {
        let cc = entry.cache_control();
        let (lifetime, heuristic) = freshness_lifetime(
            &cc,
            &entry.headers,
            &entry.url,
            entry.sent_at,
            entry.received_at,
        );
        Freshness {
            age: current_age(&entry.headers, entry.sent_at, entry.received_at, now),
            lifetime,
            heuristic,
            immutable: cc.is_immutable(),
        }
    }

    /// True while the age is below the lifetime.
    pub fn is_fresh(&self) -> bool {
        self.age < self.lifetime
    }
}

/// The current age of a response with `headers`, sent at `sent_at`, received at
/// `received_at`, at `now` (RFC 9111 section 4.2.3).
pub fn current_age(
    headers: &Headers,
    sent_at: SystemTime,
    received_at: SystemTime,
    now: SystemTime,
) -> Duration {
    let since = |later: SystemTime, earlier: SystemTime| {
        later.duration_since(earlier).unwrap_or(Duration::ZERO)
    };
    let apparent_age =
        header_date(headers, "date").map_or(Duration::ZERO, |date| since(received_at, date));
    let response_delay = since(received_at, sent_at);
    let corrected_age_value = age_value(headers).saturating_add(response_delay);
    let corrected_initial_age = apparent_age.max(corrected_age_value);
    let resident_time = since(now, received_at);
    corrected_initial_age.saturating_add(resident_time)
}

/// The freshness lifetime of a response to `url` with directives `cc` and `headers`, and
/// whether it is heuristic (RFC 9111 sections 4.2.1 and 4.2.2).
pub fn freshness_lifetime(
    cc: &CacheControl,
    headers: &Headers,
    url: &Url,
    sent_at: SystemTime,
    received_at: SystemTime,
) -> (Duration, bool) {
    if let Some(max_age) = cc.max_age() {
        return (max_age, false);
    }
    let date = header_date(headers, "date");
    if let Some(expires) = headers.get_bytes("expires") {
        let lifetime = match http_date(expires) {
            Some(expires) => expires
                .duration_since(date.unwrap_or(received_at))
                .unwrap_or(Duration::ZERO),
            // Section 5.3: an invalid date, especially "0", is in the past.
            None => Duration::ZERO,
        };
        return (lifetime, false);
    }
    if url.query().is_none() {
        if let Some(last_modified) = header_date(headers, "last-modified") {
            let served = date.unwrap_or(sent_at);
            let age_when_served = served
                .duration_since(last_modified)
                .unwrap_or(Duration::ZERO);
            return (age_when_served / 10, true);
        }
    }
    (Duration::ZERO, true)
}

/// The `Age` header as a duration: the first member of the first field, when it is a
/// non-negative integer (section 5.1); zero when absent or invalid.
fn age_value(headers: &Headers) -> Duration {
    let Some(value) = headers.get_bytes("age") else {
        return Duration::ZERO;
    };
    let first = trim_ows(value.split(|&b| b == b',').next().unwrap_or_default());
    let seconds = std::str::from_utf8(first)
        .ok()
        .and_then(|s| delta_seconds(Some(s)));
    Duration::from_secs(seconds.map_or(0, u64::from))
}

/// The first `name` field as an HTTP date, if it is a valid one.
pub(crate) fn header_date(headers: &Headers, name: &str) -> Option<SystemTime> {
    http_date(headers.get_bytes(name)?)
}

/// An HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms, RFC 9110 section
/// 5.6.7), parsed by the `httpdate` crate.
pub(crate) fn http_date(value: &[u8]) -> Option<SystemTime> {
    let text = std::str::from_utf8(trim_ows(value)).ok()?;
    httpdate::parse_http_date(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::test_headers as headers;

    /// 2026-01-01T00:00:00Z.
    const T0: u64 = 1_767_225_600;

    fn t(secs: i64) -> SystemTime {
        if secs >= 0 {
            SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs as u64)
        } else {
            SystemTime::UNIX_EPOCH + Duration::from_secs(T0 - secs.unsigned_abs())
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parses_the_three_date_forms_and_refuses_others() {
        for form in [
            "Thu, 01 Jan 2026 00:00:00 GMT",
            "Thursday, 01-Jan-26 00:00:00 GMT",
            "Thu Jan  1 00:00:00 2026",
        ] {
            assert_eq!(http_date(form.as_bytes()), Some(t(0)), "{form}");
        }
        for bad in ["0", "-1", "", "yesterday", "Thu, 32 Jan 2026 00:00:00 GMT"] {
            assert_eq!(http_date(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn age_without_date_or_age_is_delay_plus_residence() {
        let h = Headers::new();
        assert_eq!(current_age(&h, t(0), t(2), t(10)), secs(10));
    }

    #[test]
    fn age_takes_the_larger_of_apparent_age_and_corrected_age_header() {
        // Date 60 s before receipt: apparent age 60; Age 30 + delay 2 = 32.
        let h = headers(&[("Date", "Wed, 31 Dec 2025 23:59:02 GMT"), ("Age", "30")]);
        assert_eq!(current_age(&h, t(0), t(2), t(12)), secs(60 + 10));
        // Age 100 + delay 2 beats the apparent age of 60.
        let h = headers(&[("Date", "Wed, 31 Dec 2025 23:59:02 GMT"), ("Age", "100")]);
        assert_eq!(current_age(&h, t(0), t(2), t(12)), secs(102 + 10));
    }

    #[test]
    fn clock_skew_never_makes_an_age_negative() {
        // The server's clock is an hour ahead: apparent age is zero, not negative.
        let h = headers(&[("Date", "Thu, 01 Jan 2026 01:00:00 GMT")]);
        assert_eq!(current_age(&h, t(0), t(0), t(5)), secs(5));
        // Our clock went back after receipt: no resident time.
        assert_eq!(
            current_age(&Headers::new(), t(0), t(0), t(-50)),
            Duration::ZERO
        );
        // Received before sent (a clock step): no response delay.
        assert_eq!(
            current_age(&Headers::new(), t(10), t(0), t(0)),
            Duration::ZERO
        );
    }

    #[test]
    fn age_header_uses_the_first_valid_member_and_saturates() {
        let age = |v: &str| current_age(&headers(&[("Age", v)]), t(0), t(0), t(0));
        assert_eq!(age("7, 100"), secs(7));
        assert_eq!(age(" 9 "), secs(9));
        assert_eq!(age("-5"), Duration::ZERO);
        assert_eq!(age("abc"), Duration::ZERO);
        assert_eq!(age("1e3"), Duration::ZERO);
        assert_eq!(age("99999999999999999999999"), secs(1 << 31));
    }

    #[test]
    fn lifetime_prefers_max_age_then_expires_then_heuristic() {
        let url = Url::parse("http://h.test/a").unwrap();
        let life = |fields: &[(&str, &str)]| {
            let h = headers(fields);
            freshness_lifetime(&CacheControl::from_headers(&h), &h, &url, t(-1), t(0))
        };
        let date = ("Date", "Thu, 01 Jan 2026 00:00:00 GMT");
        let expires = ("Expires", "Thu, 01 Jan 2026 01:00:00 GMT");
        let modified = ("Last-Modified", "Fri, 21 Nov 2025 00:00:00 GMT"); // 41 days before
        assert_eq!(
            life(&[("Cache-Control", "max-age=60"), date, expires, modified]),
            (secs(60), false)
        );
        assert_eq!(life(&[date, expires, modified]), (secs(3600), false));
        // Expires without Date counts from receipt.
        assert_eq!(
            life(&[("Expires", "Thu, 01 Jan 2026 00:10:00 GMT")]),
            (secs(600), false)
        );
        // Expires before Date, or invalid: already expired, and no heuristic.
        assert_eq!(
            life(&[("Date", "Thu, 01 Jan 2026 02:00:00 GMT"), expires]),
            (Duration::ZERO, false)
        );
        assert_eq!(life(&[("Expires", "0"), modified]), (Duration::ZERO, false));
        assert_eq!(life(&[date, modified]), (secs(41 * 86400 / 10), true));
        assert_eq!(life(&[date]), (Duration::ZERO, true));
        // Invalid max-age is stale, even with a later Expires.
        assert_eq!(
            life(&[("Cache-Control", "max-age=soon"), expires]),
            (Duration::ZERO, false)
        );
    }

    #[test]
    fn heuristic_needs_a_url_without_query_and_counts_from_sent_without_date() {
        let h = headers(&[("Last-Modified", "Wed, 31 Dec 2025 23:00:00 GMT")]);
        let cc = CacheControl::from_headers(&h);
        let plain = Url::parse("http://h.test/a").unwrap();
        let query = Url::parse("http://h.test/a?x=1").unwrap();
        let empty_query = Url::parse("http://h.test/a?").unwrap();
        // Last-Modified 1 h before sent_at (t(0)); received later does not matter.
        assert_eq!(
            freshness_lifetime(&cc, &h, &plain, t(0), t(30)),
            (secs(360), true)
        );
        assert_eq!(
            freshness_lifetime(&cc, &h, &query, t(0), t(30)),
            (Duration::ZERO, true)
        );
        assert_eq!(
            freshness_lifetime(&cc, &h, &empty_query, t(0), t(30)),
            (Duration::ZERO, true)
        );
        // Modified after it was served: zero, not negative.
        let h = headers(&[("Last-Modified", "Thu, 01 Jan 2026 01:00:00 GMT")]);
        assert_eq!(
            freshness_lifetime(&cc, &h, &plain, t(0), t(0)),
            (Duration::ZERO, true)
        );
    }
}
