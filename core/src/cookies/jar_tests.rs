//! Tests of `MemoryCookieJar`: storage (RFC 6265 section 5.3), retrieval (section 5.4), caps.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600;

fn t(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + seconds)
}

fn url(u: &str) -> Url {
    Url::parse(u).unwrap()
}

fn set(jar: &MemoryCookieJar, at: SystemTime, u: &str, set_cookie: &str) {
    jar.set_cookie(at, &url(u), set_cookie)
        .unwrap_or_else(|e| panic!("{set_cookie:?} from {u}: {e}"));
}

/// The `Cookie` header the jar gives a request to `u` at `at`.
fn header(jar: &MemoryCookieJar, at: SystemTime, u: &str) -> String {
    super::super::cookie_header(&jar.cookies_for(at, &url(u)))
}

#[test]
fn host_only_cookies_go_to_exactly_their_host() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1");
    assert_eq!(header(&jar, t(1), "http://example.com/"), "a=1");
    assert_eq!(header(&jar, t(1), "http://www.example.com/"), "");
    assert_eq!(header(&jar, t(1), "http://other.com/"), "");
}

#[test]
fn domain_cookies_go_to_the_domain_and_its_subdomains() {
    let jar = MemoryCookieJar::new();
    set(
        &jar,
        t(0),
        "http://www.example.com/",
        "a=1; Domain=example.com",
    );
    assert_eq!(header(&jar, t(1), "http://example.com/"), "a=1");
    assert_eq!(header(&jar, t(1), "http://www.example.com/"), "a=1");
    assert_eq!(header(&jar, t(1), "http://a.b.example.com/"), "a=1");
    assert_eq!(header(&jar, t(1), "http://badexample.com/"), "");
    assert_eq!(header(&jar, t(1), "http://example.com.evil/"), "");
}

#[test]
fn cookies_are_not_isolated_by_port_or_scheme() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com:8080/", "a=1");
    assert_eq!(header(&jar, t(1), "http://example.com/"), "a=1");
    assert_eq!(header(&jar, t(1), "https://example.com:9443/"), "a=1");
}

#[test]
fn path_matching() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1; Path=/foo");
    for (path, sent) in [
        ("/foo", true),
        ("/foo/", true),
        ("/foo/bar", true),
        ("/foo?q=1", true),
        ("/foobar", false),
        ("/fo", false),
        ("/", false),
        ("/bar/foo", false),
    ] {
        let got = header(&jar, t(1), &format!("http://example.com{path}"));
        assert_eq!(got == "a=1", sent, "{path}");
    }
}

#[test]
fn a_cookie_with_the_same_name_domain_and_path_replaces_and_keeps_its_creation_time() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1");
    set(&jar, t(5), "http://example.com/", "b=2");
    set(&jar, t(10), "http://example.com/", "a=3");
    let all = jar.all(t(11));
    assert_eq!(all.len(), 2);
    let a = all.iter().find(|c| c.name() == "a").unwrap();
    assert_eq!(a.value(), "3");
    assert_eq!(a.creation_time(), t(0));
    assert_eq!(a.last_access_time(), t(10));
    // Still sent before b, which is younger.
    assert_eq!(header(&jar, t(11), "http://example.com/"), "a=3; b=2");
}

#[test]
fn a_different_path_or_domain_is_a_different_cookie() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://www.example.com/", "a=1");
    set(&jar, t(1), "http://www.example.com/", "a=2; Path=/x");
    set(
        &jar,
        t(2),
        "http://www.example.com/",
        "a=3; Domain=example.com",
    );
    assert_eq!(jar.all(t(3)).len(), 3);
    assert_eq!(
        header(&jar, t(3), "http://www.example.com/x"),
        "a=2; a=1; a=3"
    );
}

#[test]
fn a_host_only_and_a_domain_cookie_for_the_same_name_domain_and_path_replace_each_other() {
    // RFC 6265 compares name, domain and path only.
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1");
    set(&jar, t(1), "http://example.com/", "a=2; Domain=example.com");
    let all = jar.all(t(2));
    assert_eq!(all.len(), 1);
    assert!(!all[0].is_host_only());
    assert_eq!(all[0].creation_time(), t(0));
}

#[test]
fn a_cookie_expiring_in_the_past_deletes_the_stored_one() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1; Max-Age=100");
    set(&jar, t(0), "http://example.com/", "keep=1");
    set(
        &jar,
        t(10),
        "http://example.com/",
        "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    );
    assert_eq!(header(&jar, t(11), "http://example.com/"), "keep=1");
    // Max-Age=0 too, and deleting what is not there stores nothing.
    set(&jar, t(12), "http://example.com/", "keep=; Max-Age=0");
    set(&jar, t(12), "http://example.com/", "never=; Max-Age=-1");
    assert!(jar.all(t(13)).is_empty());
}

#[test]
fn expiry_is_evaluated_at_the_given_time() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1; Max-Age=60");
    set(&jar, t(0), "http://example.com/", "session=1");
    assert_eq!(header(&jar, t(59), "http://example.com/"), "a=1; session=1");
    assert_eq!(header(&jar, t(60), "http://example.com/"), "session=1");
    // Expired cookies are purged, not only hidden: going back in time does not revive them.
    assert_eq!(header(&jar, t(30), "http://example.com/"), "session=1");
    assert_eq!(jar.all(t(30)).len(), 1);
}

#[test]
fn ordering_longest_path_first_then_earliest_creation() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "root_old=1; Path=/");
    set(&jar, t(1), "http://example.com/", "deep=1; Path=/a/b");
    set(&jar, t(2), "http://example.com/", "mid=1; Path=/a");
    set(&jar, t(3), "http://example.com/", "root_new=1; Path=/");
    set(&jar, t(4), "http://example.com/", "mid_slash=1; Path=/a/");
    assert_eq!(
        header(&jar, t(5), "http://example.com/a/b/c"),
        "deep=1; mid_slash=1; mid=1; root_old=1; root_new=1"
    );
}

#[test]
fn equal_creation_times_are_sent_in_insertion_order() {
    let jar = MemoryCookieJar::new();
    for name in ["z", "a", "m"] {
        set(&jar, t(0), "http://example.com/", &format!("{name}=1"));
    }
    assert_eq!(header(&jar, t(0), "http://example.com/"), "z=1; a=1; m=1");
}

#[test]
fn secure_cookies_go_only_to_secure_urls() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "https://example.com/", "s=1; Secure");
    set(&jar, t(0), "https://example.com/", "p=1");
    assert_eq!(header(&jar, t(1), "https://example.com/"), "s=1; p=1");
    assert_eq!(header(&jar, t(1), "http://example.com/"), "p=1");
    assert_eq!(header(&jar, t(1), "wss://example.com/"), "s=1; p=1");
}

#[test]
fn loopback_counts_as_secure() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://localhost:8080/", "s=1; Secure");
    assert_eq!(header(&jar, t(1), "http://localhost:9090/"), "s=1");
    set(&jar, t(0), "http://127.0.0.1/", "s=2; Secure");
    assert_eq!(header(&jar, t(1), "http://127.0.0.1/"), "s=2");
}

#[test]
fn a_secure_cookie_from_http_is_rejected() {
    let jar = MemoryCookieJar::new();
    assert_eq!(
        jar.set_cookie(t(0), &url("http://example.com/"), "s=1; Secure"),
        Err(Rejected::InsecureUrl)
    );
    // Also when built by hand and handed to the jar.
    let c = Cookie::builder("s", "1")
        .host_only_domain("example.com")
        .secure(true)
        .build()
        .unwrap();
    assert_eq!(
        jar.save(t(0), &url("http://example.com/"), c),
        Err(Rejected::InsecureUrl)
    );
    assert!(jar.all(t(1)).is_empty());
}

#[test]
fn http_cannot_replace_or_shadow_a_secure_cookie() {
    let jar = MemoryCookieJar::new();
    set(
        &jar,
        t(0),
        "https://www.example.com/",
        "s=secret; Secure; Domain=example.com; Path=/",
    );
    for attempt in [
        "s=evil",
        "s=evil; Path=/deeper",
        "s=evil; Domain=example.com",
    ] {
        assert_eq!(
            jar.set_cookie(t(1), &url("http://www.example.com/"), attempt),
            Err(Rejected::ShadowsSecure),
            "{attempt}"
        );
    }
    // A different name, or a path the secure cookie does not cover, is fine.
    set(&jar, t(1), "http://www.example.com/", "t=1");
    set(
        &jar,
        t(1),
        "https://www.example.com/",
        "u=1; Secure; Path=/only",
    );
    set(&jar, t(1), "http://www.example.com/", "u=2; Path=/");
    // Over https the secure cookie can be replaced.
    set(
        &jar,
        t(2),
        "https://www.example.com/",
        "s=new; Domain=example.com; Path=/",
    );
    let s: Vec<String> = jar
        .all(t(3))
        .iter()
        .filter(|c| c.name() == "s")
        .map(Cookie::pair)
        .collect();
    assert_eq!(s, ["s=new"]);
}

#[test]
fn an_expired_secure_cookie_does_not_block_one_from_http() {
    let jar = MemoryCookieJar::new();
    set(
        &jar,
        t(0),
        "https://example.com/",
        "s=secret; Secure; Max-Age=10",
    );
    // Ten seconds later the Secure cookie is gone, and nothing is left for http to shadow.
    set(&jar, t(100), "http://example.com/", "s=plain");
    assert_eq!(header(&jar, t(101), "http://example.com/"), "s=plain");
}

#[test]
fn save_checks_the_cookie_against_the_url() {
    let jar = MemoryCookieJar::new();
    let c = Cookie::builder("a", "1")
        .domain("other.com")
        .build()
        .unwrap();
    assert_eq!(
        jar.save(t(0), &url("http://example.com/"), c.clone()),
        Err(Rejected::DomainMismatch)
    );
    let host_only = Cookie::builder("a", "1")
        .host_only_domain("example.com")
        .build()
        .unwrap();
    assert_eq!(
        jar.save(t(0), &url("http://www.example.com/"), host_only),
        Err(Rejected::DomainMismatch)
    );
    // insert takes cookies without a URL (a cookie file).
    jar.insert(t(0), c).unwrap();
    assert_eq!(header(&jar, t(1), "http://www.other.com/"), "a=1");
}

#[test]
fn ip_hosts() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://10.0.0.1/", "a=1");
    set(&jar, t(0), "http://10.0.0.1/", "b=1; Domain=10.0.0.1");
    assert_eq!(header(&jar, t(1), "http://10.0.0.1:8080/"), "a=1; b=1");
    assert_eq!(header(&jar, t(1), "http://10.0.0.2/"), "");
    assert_eq!(header(&jar, t(1), "http://110.0.0.1/"), "");
    set(&jar, t(0), "http://[2001:db8::1]/", "v6=1");
    assert_eq!(header(&jar, t(1), "http://[2001:db8:0::1]/"), "v6=1");
}

#[test]
fn retrieval_updates_last_access_time() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "a=1");
    set(&jar, t(0), "http://example.com/x", "b=1; Path=/x");
    let sent = jar.cookies_for(t(7), &url("http://example.com/"));
    assert_eq!(sent[0].last_access_time(), t(7));
    let all = jar.all(t(8));
    let time = |n: &str| {
        all.iter()
            .find(|c| c.name() == n)
            .unwrap()
            .last_access_time()
    };
    assert_eq!((time("a"), time("b")), (t(7), t(0)));
}

#[test]
fn oversized_cookies_are_refused() {
    let jar = MemoryCookieJar::with_limits(CookieLimits {
        max_cookie_size: 20,
        ..CookieLimits::default()
    });
    // size = name + value + domain + path: 1 + 6 + 11 + 1 = 19 ("example.com", "/").
    set(&jar, t(0), "http://example.com/", "a=123456");
    assert_eq!(
        jar.set_cookie(t(0), &url("http://example.com/"), "a=1234567890"),
        Err(Rejected::TooLarge)
    );
    assert_eq!(header(&jar, t(1), "http://example.com/"), "a=123456");
    assert_eq!(CookieLimits::default().max_cookie_size, 4096);
}

#[test]
fn per_domain_cap_evicts_the_least_recently_used() {
    let jar = MemoryCookieJar::with_limits(CookieLimits {
        max_per_domain: 3,
        ..CookieLimits::default()
    });
    set(&jar, t(0), "http://a.example.com/", "c1=1");
    set(&jar, t(1), "http://b.example.com/", "c2=1");
    set(&jar, t(2), "http://example.com/", "c3=1");
    set(&jar, t(2), "http://other.com/", "o=1");
    // Using c1 makes c2 the least recently used cookie of example.com.
    assert_eq!(header(&jar, t(3), "http://a.example.com/"), "c1=1");
    set(&jar, t(4), "http://example.com/", "c4=1");
    let names: Vec<String> = jar.all(t(5)).iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["c1", "c3", "o", "c4"]);
    assert_eq!(CookieLimits::default().max_per_domain, 50);
}

#[test]
fn total_cap_evicts_the_least_recently_used() {
    let jar = MemoryCookieJar::with_limits(CookieLimits {
        max_total: 3,
        ..CookieLimits::default()
    });
    set(&jar, t(0), "http://a.com/", "a=1");
    set(&jar, t(1), "http://b.com/", "b=1");
    set(&jar, t(2), "http://c.com/", "c=1");
    header(&jar, t(3), "http://a.com/");
    set(&jar, t(4), "http://d.com/", "d=1");
    let names: Vec<String> = jar.all(t(5)).iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["a", "c", "d"]);
    assert_eq!(CookieLimits::default().max_total, 3000);
}

#[test]
fn expired_cookies_go_before_any_eviction() {
    let jar = MemoryCookieJar::with_limits(CookieLimits {
        max_total: 2,
        ..CookieLimits::default()
    });
    set(&jar, t(0), "http://a.com/", "old=1");
    set(&jar, t(1), "http://b.com/", "short=1; Max-Age=5");
    set(&jar, t(10), "http://c.com/", "new=1");
    let names: Vec<String> = jar.all(t(11)).iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["old", "new"]);
}

#[test]
fn clear_and_clear_session_cookies() {
    let jar = MemoryCookieJar::new();
    set(&jar, t(0), "http://example.com/", "session=1");
    set(
        &jar,
        t(0),
        "http://example.com/",
        "persistent=1; Max-Age=100",
    );
    jar.clear_session_cookies();
    assert_eq!(header(&jar, t(1), "http://example.com/"), "persistent=1");
    jar.clear();
    assert!(jar.all(t(1)).is_empty());
}

#[test]
fn save_from_response_ignores_refused_cookies() {
    let jar = MemoryCookieJar::new();
    let u = url("http://example.com/");
    let good = Cookie::parse(t(0), &u, "a=1").unwrap();
    let foreign = Cookie::builder("b", "1")
        .domain("other.com")
        .build()
        .unwrap();
    jar.save_from_response(t(0), &u, vec![foreign, good]);
    assert_eq!(
        super::super::cookie_header(&jar.load_for_request(t(1), &u)),
        "a=1"
    );
}
