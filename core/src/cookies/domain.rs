//! Which hosts and paths a cookie belongs to: domain matching, path matching and the default
//! path (RFC 6265 sections 5.1.3 and 5.1.4), public suffixes (section 5.3 step 5), and which
//! URLs count as secure.
//!
//! Hosts are compared in their canonical form, the one the `url` crate gives: lowercase,
//! internationalised names in punycode (`xn--...`), IPv4 addresses in dotted-quad form and IPv6
//! addresses in brackets (`[::1]`).

use url::{Host, Url};

/// The canonical form of a cookie's `Domain` attribute (leading dot already removed), or
/// `None` when it cannot be a host name at all (and so cannot domain-match any request host).
///
/// The `url` crate's host parser does what RFC 6265 section 5.1.2 asks (lowercase, IDNA to
/// punycode) and also canonicalises IP addresses, so that a `Domain` is compared with the request
/// host in the same form.
pub(crate) fn canonical_domain(domain: &str) -> Option<String> {
    let canonical = match Host::parse(domain).ok()? {
        Host::Domain(d) => d,
        ip => ip.to_string(),
    };
    // An empty label (`.example.com` once the one leading dot allowed is gone, `a..b`, or the
    // same spelled with ideographic full stops, which IDNA maps to dots) makes no host name;
    // the url crate would accept it, and a leading dot would then be ambiguous in a `Domain`
    // attribute and in cookie files.
    if canonical.starts_with('.') || canonical.contains("..") {
        return None;
    }
    Some(canonical)
}

/// The canonical host of a request URL, and whether it is an IP address.
pub(crate) fn request_host(url: &Url) -> Option<(&str, bool)> {
    let is_ip = !matches!(url.host()?, Host::Domain(_));
    Some((url.host_str()?, is_ip))
}

/// True for a canonical host that is an IP address (`1.2.3.4` or `[::1]`).
pub(crate) fn is_ip(host: &str) -> bool {
    // The url crate reads any host whose last label is a number as IPv4, so a canonical host
    // name never looks like one; a canonical IPv6 host is the only thing with a bracket.
    host.starts_with('[') || host.parse::<core::net::Ipv4Addr>().is_ok()
}

/// RFC 6265 section 5.1.3: does `host` (canonical; `host_is_ip` says if it is an IP address)
/// domain-match `domain`?
///
/// Either they are identical, or `domain` is a suffix of `host` right after a `.` and `host`
/// is a host name: an IP address never matches anything but itself, so `Domain=3.4` cannot
/// make `1.2.3.4`'s cookies reach `5.6.3.4`.
pub(crate) fn domain_match(host: &str, host_is_ip: bool, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    !host_is_ip
        && !domain.is_empty()
        && host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// True when `domain` (canonical, not an IP address) is a public suffix: a name under which
/// anyone can register, such as `com`, `co.uk` or `github.io`, so that a cookie set for it would
/// reach unrelated sites.
///
/// The list is Mozilla's Public Suffix List, compiled into the `psl` crate (no file to load).
/// Like OkHttp and browsers, we apply the list's default rule `*`: a single label that the list
/// does not know (`localhost`, `test`, `internal`) is a public suffix too.
pub(crate) fn is_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes()).is_some_and(|s| s.as_bytes() == domain.as_bytes())
}

/// The name a cookie's domain is counted under for the per-domain cap: its registrable domain
/// (`a.example.co.uk` and `b.example.co.uk` both count as `example.co.uk`), so a site cannot get
/// around the cap by spreading cookies over subdomains. IP addresses and names that have no
/// registrable domain count as themselves.
pub(crate) fn registrable_domain(domain: &str) -> &str {
    if is_ip(domain) {
        return domain;
    }
    psl::domain(domain.as_bytes())
        .and_then(|d| domain.get(domain.len() - d.as_bytes().len()..))
        .unwrap_or(domain)
}

/// RFC 6265 section 5.1.4: does `request_path` path-match `cookie_path`?
///
/// They are identical; or the cookie path is a prefix of the request path and either ends with
/// `/` or is followed by a `/` in the request path. So `/foo` matches `/foo`, `/foo/` and
/// `/foo/bar` but not `/foobar`.
pub(crate) fn path_match(request_path: &str, cookie_path: &str) -> bool {
    if request_path == cookie_path {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/')
            || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/'))
}

/// RFC 6265 section 5.1.4: the default path of a cookie set by a response to a request for
/// `uri_path` (the URL's path, without query): the "directory" of the path.
///
/// `/` for an empty or relative path or one with a single `/`; otherwise everything before the
/// last `/` (`/a/b/c` gives `/a/b`, `/a/b/` gives `/a/b`).
pub(crate) fn default_path(uri_path: &str) -> &str {
    if !uri_path.starts_with('/') {
        return "/";
    }
    match uri_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &uri_path[..i],
    }
}

/// True when cookies marked `Secure` may be set by and sent to `url`: `https` (and `wss`)
/// URLs, and, as in browsers and curl, plain-text URLs whose host is the loopback interface
/// (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`), since that traffic never leaves the
/// machine. (OkHttp sends Secure cookies over `https` only; the loopback exception lets local
/// development servers use Secure cookies, and cannot leak a cookie to the network.)
pub(crate) fn is_secure_url(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
        || match url.host() {
            Some(Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_match_rules() {
        assert!(domain_match("example.com", false, "example.com"));
        assert!(domain_match("www.example.com", false, "example.com"));
        assert!(domain_match("a.b.example.com", false, "example.com"));
        assert!(!domain_match("badexample.com", false, "example.com"));
        assert!(!domain_match("example.com", false, "www.example.com"));
        assert!(!domain_match("example.com", false, ""));
        // An IP host matches only itself.
        assert!(domain_match("1.2.3.4", true, "1.2.3.4"));
        assert!(!domain_match("1.2.3.4", true, "3.4"));
        assert!(!domain_match("1.2.3.4", true, "2.3.4"));
    }

    #[test]
    fn path_match_rules() {
        assert!(path_match("/foo", "/foo"));
        assert!(path_match("/foo/", "/foo"));
        assert!(path_match("/foo/bar", "/foo"));
        assert!(!path_match("/foobar", "/foo"));
        assert!(!path_match("/fo", "/foo"));
        assert!(path_match("/foo/bar", "/foo/"));
        assert!(!path_match("/foo", "/foo/"));
        assert!(path_match("/anything", "/"));
        assert!(path_match("/", "/"));
        assert!(!path_match("/FOO", "/foo"), "paths are case-sensitive");
    }

    #[test]
    fn default_path_rules() {
        assert_eq!(default_path(""), "/");
        assert_eq!(default_path("relative/x"), "/");
        assert_eq!(default_path("/"), "/");
        assert_eq!(default_path("/file"), "/");
        assert_eq!(default_path("/a/b"), "/a");
        assert_eq!(default_path("/a/b/"), "/a/b");
        assert_eq!(default_path("/a/b/c.html"), "/a/b");
        assert_eq!(default_path("//"), "/");
    }

    #[test]
    fn public_suffixes() {
        for s in [
            "com",
            "co.uk",
            "uk",
            "github.io",
            "localhost",
            "test",
            "xn--p1ai",
        ] {
            assert!(is_public_suffix(s), "{s}");
        }
        for s in ["example.com", "example.co.uk", "user.github.io", "a.test"] {
            assert!(!is_public_suffix(s), "{s}");
        }
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("example.com"), "example.com");
        assert_eq!(registrable_domain("user.github.io"), "user.github.io");
        assert_eq!(registrable_domain("com"), "com");
        assert_eq!(registrable_domain("10.0.0.1"), "10.0.0.1");
        assert_eq!(registrable_domain("[::1]"), "[::1]");
    }

    #[test]
    fn canonical_domains() {
        assert_eq!(
            canonical_domain("Example.COM").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            canonical_domain("bücher.de").as_deref(),
            Some("xn--bcher-kva.de")
        );
        assert_eq!(canonical_domain("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(canonical_domain("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(canonical_domain("a b"), None);
        assert_eq!(canonical_domain(".example.com"), None);
        assert_eq!(canonical_domain("a..example.com"), None);
        assert_eq!(canonical_domain("\u{3002}example.com"), None);
        assert_eq!(
            canonical_domain("a\u{3002}example.com").as_deref(),
            Some("a.example.com")
        );
        assert_eq!(
            canonical_domain("example.com.").as_deref(),
            Some("example.com.")
        );
        assert_eq!(canonical_domain(""), None);
    }

    #[test]
    fn secure_urls() {
        let secure = |u: &str| is_secure_url(&Url::parse(u).unwrap());
        assert!(secure("https://example.com/"));
        assert!(secure("wss://example.com/"));
        assert!(!secure("http://example.com/"));
        assert!(!secure("ws://example.com/"));
        assert!(secure("http://localhost:8080/"));
        assert!(secure("http://app.localhost/"));
        assert!(secure("http://127.0.0.1/"));
        assert!(secure("http://127.1.2.3/"));
        assert!(secure("http://[::1]/"));
        assert!(!secure("http://10.0.0.1/"));
        assert!(!secure("http://localhost.example.com/"));
    }

    #[test]
    fn ip_hosts() {
        assert!(is_ip("1.2.3.4"));
        assert!(is_ip("[::1]"));
        assert!(!is_ip("example.com"));
        let url = Url::parse("http://1.2.3.4/").unwrap();
        assert_eq!(request_host(&url), Some(("1.2.3.4", true)));
        let url = Url::parse("http://Example.com/").unwrap();
        assert_eq!(request_host(&url), Some(("example.com", false)));
    }
}
