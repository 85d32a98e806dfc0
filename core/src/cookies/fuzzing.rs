//! Fuzz entry points for the cookie parsers, re-exported from [`crate::fuzzing`]. Each checks
//! properties that must hold for every input, beyond not panicking.

use std::time::{Duration, SystemTime};

use url::Url;

use super::date::{format_date, from_unix_seconds, parse_date};
use super::domain::path_match;
use super::{Cookie, CookieJar, CookieLimits, MemoryCookieJar, cookie_header, netscape};
use crate::Headers;

/// The request URLs a `set_cookie` input can pick with its first byte: secure and not, host
/// names at several depths, a public-suffix host, IP addresses, loopback, and a host with empty
/// labels that the url crate accepts.
const URLS: [&str; 9] = [
    "http://example.com/",
    "https://www.example.com/a/b/c",
    "http://a.b.example.co.uk/path/",
    "https://github.io/x",
    "http://127.0.0.1:8080/p/q",
    "http://[::1]/",
    "https://10.0.0.1/deep/er/path;x",
    "http://localhost/a",
    "http://.a..example.com./odd",
];

/// 2026-01-01T00:00:00Z: a whole second, so that a cookie's expiry survives a round trip
/// through `Expires`.
fn now() -> SystemTime {
    from_unix_seconds(1_767_225_600)
}

/// Fuzz target: one or more `Set-Cookie` values (one per line) for the URL the first byte
/// picks. Every cookie parsed must be one the URL may set, render to a valid `Cookie` header,
/// write back to a `Set-Cookie` that parses to the same cookie, and a small jar fed all of them
/// must keep its caps and give cookies in RFC 6265 order.
pub fn set_cookie(input: &[u8]) {
    let Some((&pick, rest)) = input.split_first() else {
        return;
    };
    let Ok(url) = Url::parse(URLS[usize::from(pick) % URLS.len()]) else {
        return;
    };
    let now = now();
    let limits = CookieLimits {
        max_cookie_size: 64,
        max_per_domain: 3,
        max_total: 5,
    };
    let jar = MemoryCookieJar::with_limits(limits);
    for line in rest.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let Ok(cookie) = Cookie::parse(now, &url, line) else {
            continue;
        };
        assert!(!cookie.name().is_empty());
        assert!(cookie.path().starts_with('/'));
        assert!(cookie.may_be_set_by(&url), "{cookie:?} from {url}");
        let mut headers = Headers::new();
        if let Err(e) = headers.append("Cookie", cookie_header(std::slice::from_ref(&cookie))) {
            panic!("{cookie:?} renders an invalid header: {e}");
        }
        // The path of a default path may hold a ';' (from the URL), which cannot be written
        // back into an attribute.
        if !cookie.path().contains(';') {
            let again = Cookie::parse(now, &url, &cookie.to_string());
            assert_eq!(again.as_ref(), Ok(&cookie), "{cookie}");
        }
        let _ = jar.set_cookie(now, &url, line);
    }
    let all = jar.all(now);
    assert!(all.len() <= limits.max_total);
    assert!(all.iter().all(|c| c.size() <= limits.max_cookie_size));
    let sent = jar.load_for_request(now, &url);
    for pair in sent.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a.path().len() > b.path().len()
                || (a.path().len() == b.path().len() && a.creation_time() <= b.creation_time()),
            "out of order: {a:?} before {b:?}"
        );
    }
    for c in &sent {
        assert!(c.matches(&url) && path_match(url.path(), c.path()));
        assert!(!c.is_expired(now));
    }
}

/// Fuzz target: a cookie date. A date that parses is within 1601..=9999 and whole seconds, and
/// written as an IMF-fixdate it parses back to itself.
pub fn cookie_date(input: &[u8]) {
    let Some(t) = parse_date(input) else {
        return;
    };
    assert!(t >= from_unix_seconds(-11_644_473_600), "before 1601");
    assert!(t <= super::date::last_date(), "after 9999");
    let written = format_date(t);
    assert_eq!(parse_date(&written), Some(t), "{written}");
    // Whole seconds: writing drops nothing.
    assert_eq!(
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
        0
    );
}

/// Fuzz target: a cookie file. What parses writes to a file that parses back to the same
/// cookies (less those the format cannot hold), and writing that again gives the same text.
pub fn netscape_file(input: &[u8]) {
    let now = now();
    let cookies = netscape::parse(now, input);
    let written = netscape::write(&cookies);
    let back = netscape::parse(now, written.as_bytes());
    assert!(back.len() <= cookies.len());
    assert_eq!(netscape::write(&back), written);
    let kept: Vec<&Cookie> = cookies
        .iter()
        .filter(|c| {
            ![c.name(), c.value(), c.path()]
                .iter()
                .any(|s| s.contains('\t'))
        })
        .filter(|c| !(c.is_host_only() && c.domain().starts_with('.')))
        .filter(|c| {
            c.expires()
                .is_none_or(|e| e >= SystemTime::UNIX_EPOCH + Duration::from_secs(1))
        })
        .collect();
    assert_eq!(back.iter().collect::<Vec<_>>(), kept);
    // A jar takes every cookie of a file without panicking.
    let jar = MemoryCookieJar::new();
    for c in back {
        let _ = jar.insert(now, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_typical_inputs() {
        set_cookie(
            b"\x01a=b; Domain=example.com; Path=/; Max-Age=60\nc=d; Secure\nx=y; Domain=com",
        );
        set_cookie(b"\x06a=b; Path=/deep");
        cookie_date(b"Wed, 09-Jun-2021 10:18:14 GMT");
        netscape_file(
            b".example.com\tTRUE\t/\tFALSE\t0\ta\tb\n#HttpOnly_x.y\tFALSE\t/\tTRUE\t1\tc\td\n",
        );
    }
}
