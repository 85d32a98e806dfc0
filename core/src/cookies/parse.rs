//! Parsing one `Set-Cookie` value for a request URL: RFC 6265 section 5.2 (the algorithm, not
//! the server-side grammar of section 4.1, which real servers do not follow), then the checks of
//! section 5.3 that depend only on the URL.
//!
//! What is left of section 5.3 (replacing a stored cookie, deleting by expiry, caps) needs the
//! store, and is done by [`MemoryCookieJar`](super::MemoryCookieJar).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use super::cookie::{Cookie, SameSite, is_forbidden_control};
use super::date::{last_date, parse_date};
use super::domain::{
    canonical_domain, default_path, domain_match, is_public_suffix, is_secure_url, request_host,
};

/// Why a `Set-Cookie` value was ignored, or a jar refused a cookie.
///
/// RFC 6265 says to "ignore" such cookies silently, and a jar does; the reason is kept for
/// callers that want to log it (`wayfarer -v`) and for tests.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejected {
    /// The part before the first `;` has no `=` (RFC 6265 section 5.2 step 2).
    NoEquals,
    /// The name is empty after trimming (section 5.2 step 5).
    EmptyName,
    /// The value has a control character other than tab (RFC 6265bis section 5.6 step 1;
    /// RFC 6265 allowed them, but they cannot be sent back in a header).
    ControlCharacter,
    /// The request URL has no host.
    NoHost,
    /// The `Domain` attribute does not domain-match the request host (section 5.3 step 6):
    /// a server may set cookies for itself and its parent domains only.
    DomainMismatch,
    /// The `Domain` attribute is a public suffix (`com`, `co.uk`, `github.io`) other than the
    /// request host itself (section 5.3 step 5).
    PublicSuffix,
    /// A `Secure` cookie came from a URL that is not secure (RFC 6265bis section 5.7 step 8).
    InsecureUrl,
    /// A cookie from a URL that is not secure would replace or shadow a `Secure` cookie with
    /// the same name (RFC 6265bis "Leave Secure Cookies Alone", section 5.7 step 15).
    ShadowsSecure,
    /// The cookie is larger than the jar's [`max_cookie_size`](super::CookieLimits).
    TooLarge,
    /// The name's prefix asks for attributes the cookie lacks (RFC 6265bis section 5.7 steps
    /// 20 and 21): a `__Secure-` cookie must be `Secure`; a `__Host-` cookie must be `Secure`,
    /// have no `Domain` and have `Path=/`. A page can then trust such a cookie to have been set
    /// by a secure origin (and, for `__Host-`, by this very host).
    Prefix,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejected::NoEquals => "the cookie has no '='",
            Rejected::EmptyName => "the cookie name is empty",
            Rejected::ControlCharacter => "the cookie has a control character",
            Rejected::NoHost => "the URL has no host",
            Rejected::DomainMismatch => "the Domain attribute does not match the host",
            Rejected::PublicSuffix => "the Domain attribute is a public suffix",
            Rejected::InsecureUrl => "a Secure cookie from a URL that is not secure",
            Rejected::ShadowsSecure => "the cookie would replace a Secure cookie",
            Rejected::TooLarge => "the cookie is too large",
            Rejected::Prefix => "the cookie lacks the attributes its name's prefix requires",
        })
    }
}

impl std::error::Error for Rejected {}

/// The attributes of section 5.2.1–5.2.6 as collected: for each, the last valid occurrence.
#[derive(Default)]
struct Attributes<'a> {
    expires: Option<SystemTime>,
    max_age: Option<SystemTime>,
    domain: Option<&'a str>,
    path: Option<&'a str>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

impl Cookie {
    /// Parses one `Set-Cookie` header value received at `now` in a response to `url`
    /// (RFC 6265 sections 5.2 and 5.3).
    ///
    /// Returns the cookie to store, or why it must be ignored. Everything that depends on the
    /// URL alone is checked here (the `Domain` attribute must domain-match the host and not be
    /// a public suffix; a `Secure` cookie must come from a secure URL); replacement, deletion
    /// by expiry and caps are the jar's business. An expired cookie is returned like any other:
    /// storing it deletes the one it replaces.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use wayfarer_core::{Url, cookies::Cookie};
    ///
    /// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let url = Url::parse("https://www.example.com/app/login")?;
    /// let c = Cookie::parse(now, &url, "sid=abc; Max-Age=60; Domain=.Example.com; Secure")?;
    /// assert_eq!((c.name(), c.value()), ("sid", "abc"));
    /// assert_eq!(c.domain(), "example.com");
    /// assert_eq!(c.path(), "/app"); // the default path: the URL's "directory"
    /// assert_eq!(c.expires(), Some(now + Duration::from_secs(60)));
    /// assert!(Cookie::parse(now, &url, "a=b; Domain=com").is_err()); // a public suffix
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(now: SystemTime, url: &Url, set_cookie: &str) -> Result<Cookie, Rejected> {
        // RFC 6265bis: a control character anywhere means the whole string is ignored.
        if set_cookie.bytes().any(is_forbidden_control) {
            return Err(Rejected::ControlCharacter);
        }
        let (host, host_is_ip) = request_host(url).ok_or(Rejected::NoHost)?;

        // 5.2 steps 1-6: the name-value pair is everything before the first ';'.
        let (pair, unparsed_attributes) = match set_cookie.find(';') {
            Some(i) => set_cookie.split_at(i),
            None => (set_cookie, ""),
        };
        let (name, value) = pair.split_once('=').ok_or(Rejected::NoEquals)?;
        let (name, value) = (trim_wsp(name), trim_wsp(value));
        if name.is_empty() {
            return Err(Rejected::EmptyName);
        }

        let attributes = parse_attributes(now, unparsed_attributes);

        // 5.3 step 3: Max-Age wins over Expires, wherever each appears.
        let expires = attributes.max_age.or(attributes.expires);

        // 5.3 steps 4-6: the domain.
        let mut domain = match attributes.domain {
            // An empty last Domain attribute (`Domain=.`) is the same as none.
            Some("") | None => None,
            Some(d) => Some(canonical_domain(d).ok_or(Rejected::DomainMismatch)?),
        };
        if let Some(d) = &domain {
            if !host_is_ip && is_public_suffix(d) {
                if d == host {
                    domain = None;
                } else {
                    return Err(Rejected::PublicSuffix);
                }
            }
        }
        let (domain, host_only) = match domain {
            Some(d) if domain_match(host, host_is_ip, &d) => (d, false),
            Some(_) => return Err(Rejected::DomainMismatch),
            None => (host.to_owned(), true),
        };

        // 5.3 step 8, with RFC 6265bis: only a secure URL may set a Secure cookie.
        if attributes.secure && !is_secure_url(url) {
            return Err(Rejected::InsecureUrl);
        }

        // RFC 6265bis 5.7 steps 20-21: the name prefixes (matched case-insensitively).
        let prefixed = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        if prefixed("__Secure-") && !attributes.secure {
            return Err(Rejected::Prefix);
        }
        if prefixed("__Host-") && !(attributes.secure && host_only && attributes.path == Some("/"))
        {
            return Err(Rejected::Prefix);
        }

        // 5.2.4 and 5.3 step 7: a Path that is missing, empty or does not start with '/' means
        // the default path.
        let path = match attributes.path {
            Some(p) if p.starts_with('/') => p,
            _ => default_path(url.path()),
        };

        Ok(Cookie {
            name: name.to_owned(),
            value: value.to_owned(),
            domain,
            path: path.to_owned(),
            expires,
            secure: attributes.secure,
            http_only: attributes.http_only,
            host_only,
            same_site: attributes.same_site,
            creation_time: now,
            last_access_time: now,
        })
    }
}

/// 5.2 steps 1-6 for the attributes: `unparsed` is empty or starts with the first `;`.
fn parse_attributes(now: SystemTime, unparsed: &str) -> Attributes<'_> {
    let mut a = Attributes::default();
    for cookie_av in unparsed.split(';').skip(1) {
        let (name, value) = cookie_av.split_once('=').unwrap_or((cookie_av, ""));
        let (name, value) = (trim_wsp(name), trim_wsp(value));
        if name.eq_ignore_ascii_case("expires") {
            // 5.2.1: an invalid date means the attribute is ignored.
            if let Some(t) = parse_date(value) {
                a.expires = Some(t);
            }
        } else if name.eq_ignore_ascii_case("max-age") {
            if let Some(t) = max_age(now, value) {
                a.max_age = Some(t);
            }
        } else if name.eq_ignore_ascii_case("domain") {
            // 5.2.3: an empty value is ignored; one leading dot is dropped. (Lowercasing
            // happens when the domain is canonicalised.)
            if !value.is_empty() {
                a.domain = Some(value.strip_prefix('.').unwrap_or(value));
            }
        } else if name.eq_ignore_ascii_case("path") {
            // 5.2.4: kept as is; a value not starting with '/' becomes the default path.
            a.path = Some(value);
        } else if name.eq_ignore_ascii_case("secure") {
            a.secure = true;
        } else if name.eq_ignore_ascii_case("httponly") {
            a.http_only = true;
        } else if name.eq_ignore_ascii_case("samesite") {
            if let Some(s) = SameSite::parse(value) {
                a.same_site = Some(s);
            }
        }
        // Any other attribute is ignored.
    }
    a
}

/// 5.2.2: `Max-Age` is an optional `-` and digits; anything else is ignored. Zero or less
/// expires the cookie at once (the earliest time we represent: the Unix epoch, or `now` if that
/// is earlier); a positive value counts from `now`, and is clamped at 9999-12-31 however large
/// it is (as OkHttp does).
fn max_age(now: SystemTime, value: &str) -> Option<SystemTime> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let zero = digits.bytes().all(|b| b == b'0');
    if negative || zero {
        return Some(now.min(UNIX_EPOCH));
    }
    // Too many digits for u64 is still a valid, very large delta: clamp.
    let seconds = digits.parse::<u64>().unwrap_or(u64::MAX);
    Some(
        now.checked_add(Duration::from_secs(seconds))
            .map_or(last_date(), |t| t.min(last_date())),
    )
}

/// Removes leading and trailing WSP (space and horizontal tab), as RFC 6265 section 5.2 does.
fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
