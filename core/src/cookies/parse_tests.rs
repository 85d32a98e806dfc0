//! Tests of `Cookie::parse`: RFC 6265 section 5.2 and the URL checks of section 5.3.

use super::*;

/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600;

fn t(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn url(u: &str) -> Url {
    Url::parse(u).unwrap()
}

fn parse(u: &str, set_cookie: &str) -> Result<Cookie, Rejected> {
    Cookie::parse(t(T0), &url(u), set_cookie)
}

fn ok(u: &str, set_cookie: &str) -> Cookie {
    parse(u, set_cookie).unwrap_or_else(|e| panic!("{set_cookie:?} from {u}: {e}"))
}

#[test]
fn name_and_value() {
    let c = ok("http://example.com/", "a=b");
    assert_eq!((c.name(), c.value()), ("a", "b"));
    assert_eq!(c.creation_time(), t(T0));
    assert_eq!(c.last_access_time(), t(T0));
    assert!(!c.is_persistent() && !c.is_secure() && !c.is_http_only());
    assert_eq!(c.same_site(), None);
}

#[test]
fn the_value_is_everything_after_the_first_equals_sign() {
    assert_eq!(ok("http://example.com/", "a=b=c").value(), "b=c");
    assert_eq!(ok("http://example.com/", "a==").value(), "=");
    assert_eq!(ok("http://example.com/", "a=").value(), "");
    assert_eq!(
        ok("http://example.com/", "a=\"quoted\"").value(),
        "\"quoted\""
    );
}

#[test]
fn no_equals_sign_means_the_cookie_is_ignored() {
    // RFC 6265 section 5.2 step 2 (RFC 6265bis would make it a nameless cookie; we follow 6265).
    assert_eq!(parse("http://example.com/", "abc"), Err(Rejected::NoEquals));
    assert_eq!(parse("http://example.com/", ""), Err(Rejected::NoEquals));
    // The '=' must be in the name-value pair, before the first ';'.
    assert_eq!(
        parse("http://example.com/", "abc; Path=/"),
        Err(Rejected::NoEquals)
    );
}

#[test]
fn an_empty_name_means_the_cookie_is_ignored() {
    assert_eq!(parse("http://example.com/", "=b"), Err(Rejected::EmptyName));
    assert_eq!(
        parse("http://example.com/", " \t=b"),
        Err(Rejected::EmptyName)
    );
}

#[test]
fn spaces_and_tabs_around_name_and_value_are_trimmed() {
    let c = ok("http://example.com/", " \ta b \t= \tc d\t ; Path=/");
    assert_eq!((c.name(), c.value()), ("a b", "c d"));
    // Other whitespace is not WSP and stays (here: a no-break space).
    let c = ok("http://example.com/", "\u{a0}a=b");
    assert_eq!(c.name(), "\u{a0}a");
}

#[test]
fn control_characters_mean_the_cookie_is_ignored() {
    for s in ["a=b\0", "a\x01=b", "a=b; Path=/\x7f", "a=b\r\nX: y"] {
        assert_eq!(
            parse("http://example.com/", s),
            Err(Rejected::ControlCharacter),
            "{s:?}"
        );
    }
}

#[test]
fn attribute_names_are_case_insensitive_and_unknown_ones_ignored() {
    let c = ok(
        "https://www.example.com/",
        "a=b; pAtH=/x; DOMAIN=example.com; sEcUrE; httpONLY; SAMESITE=strict; Version=1; Comment",
    );
    assert_eq!(c.path(), "/x");
    assert_eq!(c.domain(), "example.com");
    assert!(c.is_secure() && c.is_http_only());
    assert_eq!(c.same_site(), Some(SameSite::Strict));
}

#[test]
fn attribute_values_are_trimmed_and_flags_ignore_their_value() {
    let c = ok(
        "https://www.example.com/",
        "a=b;  Path =\t/x ;Secure=no;HttpOnly=false ; ; Max-Age = 10",
    );
    assert_eq!(c.path(), "/x");
    assert!(c.is_secure() && c.is_http_only());
    assert_eq!(c.expires(), Some(t(T0 + 10)));
}

#[test]
fn expires_sets_the_expiry() {
    let c = ok(
        "http://example.com/",
        "a=b; Expires=Wed, 09-Jun-2021 10:18:14 GMT",
    );
    assert_eq!(c.expires(), Some(t(1_623_233_894)));
    assert!(c.is_persistent());
}

#[test]
fn an_invalid_expires_is_ignored() {
    let c = ok("http://example.com/", "a=b; Expires=tomorrow");
    assert_eq!(c.expires(), None);
    // ...and does not undo an earlier valid one.
    let c = ok(
        "http://example.com/",
        "a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Expires=never",
    );
    assert_eq!(c.expires(), Some(t(784_111_777)));
    // The last valid one wins.
    let c = ok(
        "http://example.com/",
        "a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
    );
    assert_eq!(c.expires(), Some(t(1_623_233_894)));
}

#[test]
fn max_age_counts_from_now() {
    assert_eq!(
        ok("http://example.com/", "a=b; Max-Age=3600").expires(),
        Some(t(T0 + 3600))
    );
    assert_eq!(
        ok("http://example.com/", "a=b; Max-Age=007").expires(),
        Some(t(T0 + 7))
    );
}

#[test]
fn max_age_takes_precedence_over_expires_in_any_order() {
    let expires = "Expires=Wed, 09 Jun 2021 10:18:14 GMT";
    for s in [
        format!("a=b; Max-Age=60; {expires}"),
        format!("a=b; {expires}; Max-Age=60"),
    ] {
        assert_eq!(
            ok("http://example.com/", &s).expires(),
            Some(t(T0 + 60)),
            "{s}"
        );
    }
    // An invalid Max-Age is ignored, so Expires applies.
    assert_eq!(
        ok(
            "http://example.com/",
            &format!("a=b; Max-Age=soon; {expires}")
        )
        .expires(),
        Some(t(1_623_233_894))
    );
}

#[test]
fn zero_or_negative_max_age_expires_at_once() {
    for v in ["0", "-1", "-0", "000", "-99999999999999999999999"] {
        let c = ok("http://example.com/", &format!("a=b; Max-Age={v}"));
        assert_eq!(c.expires(), Some(UNIX_EPOCH), "{v}");
        assert!(c.is_expired(t(T0)));
    }
}

#[test]
fn invalid_max_age_is_ignored() {
    for v in ["", "-", "+5", "5s", "1.5", " ", "--5", "0x10", "\u{661}"] {
        let c = ok("http://example.com/", &format!("a=b; Max-Age={v}"));
        assert_eq!(c.expires(), None, "{v:?}");
    }
}

#[test]
fn huge_max_age_is_clamped_to_the_last_date() {
    for v in [
        "253402300799",
        "18446744073709551615",
        "99999999999999999999999999",
    ] {
        let c = ok("http://example.com/", &format!("a=b; Max-Age={v}"));
        assert_eq!(c.expires(), Some(last_date()), "{v}");
    }
    let c = ok("http://example.com/", "a=b; Max-Age=100000");
    assert_eq!(c.expires(), Some(t(T0 + 100_000)));
}

#[test]
fn no_domain_attribute_makes_a_host_only_cookie() {
    let c = ok("http://WWW.Example.com/", "a=b");
    assert!(c.is_host_only());
    assert_eq!(c.domain(), "www.example.com");
}

#[test]
fn the_domain_attribute_makes_a_domain_cookie() {
    for d in [
        "example.com",
        ".example.com",
        "EXAMPLE.com",
        " .example.com ",
    ] {
        let c = ok("http://www.example.com/", &format!("a=b; Domain={d}"));
        assert!(!c.is_host_only(), "{d}");
        assert_eq!(c.domain(), "example.com", "{d}");
    }
    // The request host itself is fine, and still a domain cookie.
    let c = ok("http://example.com/", "a=b; Domain=example.com");
    assert!(!c.is_host_only());
}

#[test]
fn the_domain_attribute_must_domain_match_the_host() {
    for d in [
        "other.com",
        "www.example.com.evil",
        "ample.com",
        "sub.www.example.com",
        "..example.com",
    ] {
        assert_eq!(
            parse("http://www.example.com/", &format!("a=b; Domain={d}")),
            Err(Rejected::DomainMismatch),
            "{d}"
        );
    }
    assert_eq!(
        parse("http://www.example.com/", "a=b; Domain=bad host"),
        Err(Rejected::DomainMismatch)
    );
    // A host with an empty label cannot take a domain with one either.
    assert_eq!(
        parse("http://a..example.com/", "a=b; Domain=..example.com"),
        Err(Rejected::DomainMismatch)
    );
}

#[test]
fn an_empty_domain_attribute_is_ignored() {
    // `Domain=` is ignored (5.2.3); `Domain=.` leaves an empty domain, which means host-only.
    let c = ok(
        "http://www.example.com/",
        "a=b; Domain=example.com; Domain=",
    );
    assert!(!c.is_host_only());
    let c = ok(
        "http://www.example.com/",
        "a=b; Domain=example.com; Domain=.",
    );
    assert!(c.is_host_only());
    assert_eq!(c.domain(), "www.example.com");
}

#[test]
fn the_last_domain_attribute_wins() {
    let c = ok(
        "http://a.b.example.com/",
        "a=b; Domain=example.com; Domain=b.example.com",
    );
    assert_eq!(c.domain(), "b.example.com");
}

#[test]
fn international_domains_are_compared_in_punycode() {
    let c = ok("http://www.bücher.de/", "a=b; Domain=BÜCHER.de");
    assert_eq!(c.domain(), "xn--bcher-kva.de");
    let c = ok("http://www.xn--bcher-kva.de/", "a=b; Domain=bücher.de");
    assert_eq!(c.domain(), "xn--bcher-kva.de");
}

#[test]
fn public_suffix_domains_are_rejected() {
    for (u, d) in [
        ("http://example.com/", "com"),
        ("http://www.example.com/", ".com"),
        ("http://example.co.uk/", "co.uk"),
        ("http://example.co.uk/", "uk"),
        ("https://user.github.io/", "github.io"),
        ("http://app.test/", "test"),
    ] {
        assert_eq!(
            parse(u, &format!("a=b; Domain={d}")),
            Err(Rejected::PublicSuffix),
            "{d} from {u}"
        );
    }
    // One level below a public suffix is a registrable domain.
    let c = ok("http://www.example.co.uk/", "a=b; Domain=example.co.uk");
    assert_eq!(c.domain(), "example.co.uk");
    let c = ok("https://a.user.github.io/", "a=b; Domain=user.github.io");
    assert_eq!(c.domain(), "user.github.io");
}

#[test]
fn a_public_suffix_domain_equal_to_the_host_makes_a_host_only_cookie() {
    let c = ok("https://github.io/", "a=b; Domain=github.io");
    assert!(c.is_host_only());
    assert_eq!(c.domain(), "github.io");
    let c = ok("http://localhost:8080/", "a=b; Domain=localhost");
    assert!(c.is_host_only());
}

#[test]
fn ip_hosts_domain_match_only_themselves() {
    let c = ok("http://1.2.3.4/", "a=b");
    assert!(c.is_host_only());
    assert_eq!(c.domain(), "1.2.3.4");
    let c = ok("http://1.2.3.4/", "a=b; Domain=1.2.3.4");
    assert_eq!(c.domain(), "1.2.3.4");
    for d in ["2.3.4", "3.4", "4"] {
        assert_eq!(
            parse("http://1.2.3.4/", &format!("a=b; Domain={d}")),
            Err(Rejected::DomainMismatch),
            "{d}"
        );
    }
    let c = ok("http://[::1]:8080/", "a=b; Domain=[::1]");
    assert_eq!(c.domain(), "[::1]");
    assert!(parse("http://[::1]/", "a=b; Domain=::1").is_err());
}

#[test]
fn default_path_when_path_is_missing_or_relative() {
    assert_eq!(ok("http://example.com/", "a=b").path(), "/");
    assert_eq!(ok("http://example.com/login", "a=b").path(), "/");
    assert_eq!(
        ok("http://example.com/app/login?x=/y/z", "a=b").path(),
        "/app"
    );
    assert_eq!(ok("http://example.com/app/", "a=b").path(), "/app");
    assert_eq!(ok("http://example.com/a/b/c", "a=b; Path=").path(), "/a/b");
    assert_eq!(
        ok("http://example.com/a/b/c", "a=b; Path=x/y").path(),
        "/a/b"
    );
    assert_eq!(
        ok("http://example.com/a/b/c", "a=b; Path=/p; Path=rel").path(),
        "/a/b"
    );
    assert_eq!(ok("http://example.com/a/b/c", "a=b; Path=/").path(), "/");
    assert_eq!(
        ok("http://example.com/a/b/c", "a=b; Path=/other/").path(),
        "/other/"
    );
}

#[test]
fn a_secure_cookie_from_a_url_that_is_not_secure_is_rejected() {
    assert_eq!(
        parse("http://example.com/", "a=b; Secure"),
        Err(Rejected::InsecureUrl)
    );
    assert!(ok("https://example.com/", "a=b; Secure").is_secure());
    // Loopback counts as secure.
    assert!(ok("http://localhost:3000/", "a=b; Secure").is_secure());
    assert!(ok("http://127.0.0.1/", "a=b; Secure").is_secure());
}

#[test]
fn same_site_is_kept_and_invalid_values_ignored() {
    let site = |s: &str| ok("http://example.com/", s).same_site();
    assert_eq!(site("a=b; SameSite=Lax"), Some(SameSite::Lax));
    assert_eq!(site("a=b; SameSite=None"), Some(SameSite::None));
    assert_eq!(
        site("a=b; SameSite=Strict; SameSite=bogus"),
        Some(SameSite::Strict)
    );
    assert_eq!(site("a=b; SameSite"), None);
}

#[test]
fn urls_without_a_host_cannot_set_cookies() {
    assert_eq!(
        Cookie::parse(t(T0), &url("data:text/plain,x"), "a=b"),
        Err(Rejected::NoHost)
    );
}

#[test]
fn display_parses_back_to_the_same_cookie() {
    for s in [
        "a=b",
        "a=b; Max-Age=60; Domain=example.com; Path=/x; Secure; HttpOnly; SameSite=None",
        "a=b=c; Expires=Wed, 09-Jun-2021 10:18:14 GMT",
        "a=; Max-Age=0",
    ] {
        let u = url("https://www.example.com/p/q");
        let c = Cookie::parse(t(T0), &u, s).unwrap();
        assert_eq!(
            Cookie::parse(t(T0), &u, &c.to_string()),
            Ok(c.clone()),
            "{c}"
        );
    }
}

#[test]
fn a_secure_prefix_needs_the_secure_attribute() {
    let https = "https://example.com/app/";
    assert!(ok(https, "__Secure-id=1; Secure").is_secure());
    for refused in ["__Secure-id=1", "__secure-id=1", "__SECURE-id=1; Path=/"] {
        assert_eq!(parse(https, refused), Err(Rejected::Prefix), "{refused}");
    }
    // From a URL that is not secure, Secure itself is refused first.
    assert_eq!(
        parse("http://example.com/", "__Secure-id=1; Secure"),
        Err(Rejected::InsecureUrl)
    );
    // Only a prefix counts: the same text later in the name is an ordinary name.
    assert!(!ok(https, "x__Secure-id=1").is_secure());
}

#[test]
fn a_host_prefix_needs_secure_no_domain_and_the_root_path() {
    let https = "https://www.example.com/app/";
    let c = ok(https, "__Host-id=1; Secure; Path=/");
    assert!(c.is_secure() && c.is_host_only());
    assert_eq!((c.domain(), c.path()), ("www.example.com", "/"));
    assert!(ok(https, "__host-id=1; Path=/; Secure").is_secure());
    for refused in [
        "__Host-id=1; Path=/",
        "__Host-id=1; Secure",
        "__Host-id=1; Secure; Path=/app",
        "__Host-id=1; Secure; Path=/; Domain=example.com",
        "__Host-id=1; Secure; Path=/; Domain=www.example.com",
        "__HOST-id=1; Secure",
    ] {
        assert_eq!(parse(https, refused), Err(Rejected::Prefix), "{refused}");
    }
}
