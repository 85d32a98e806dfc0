//! The [`Cookie`] value: one cookie as RFC 6265 section 5.3 stores it.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use super::date::format_date;
use super::domain::{canonical_domain, domain_match, is_secure_url, path_match, request_host};
use crate::Error;

/// The `SameSite` attribute (RFC 6265bis), kept as the server sent it.
///
/// An HTTP client has no notion of a "site" making a request, so wayfarer does not act on it;
/// it is kept so that a cookie file or a browser-like caller can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

impl SameSite {
    /// Reads an attribute value, case-insensitively; `None` (the Rust one) for anything else.
    pub(crate) fn parse(value: &str) -> Option<SameSite> {
        [SameSite::Strict, SameSite::Lax, SameSite::None]
            .into_iter()
            .find(|s| value.eq_ignore_ascii_case(s.as_str()))
    }

    /// `Strict`, `Lax` or `None`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// One HTTP cookie, as a server set it and a jar stores it (RFC 6265 section 5.3).
///
/// Get one from [`Cookie::parse`] (a `Set-Cookie` value for a request URL),
/// [`parse_all`](super::parse_all) (every `Set-Cookie` of a response), a cookie file
/// ([`netscape::parse`](super::netscape::parse)) or [`Cookie::builder`]. Cookies are plain
/// values: every time they carry is absolute wall time, given by the caller.
///
/// `Display` writes the cookie back as a `Set-Cookie` value
/// (`id=42; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; Path=/; Secure`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) host_only: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) creation_time: SystemTime,
    pub(crate) last_access_time: SystemTime,
}

impl Cookie {
    /// Starts building a cookie by hand (for instance to restore one from your own storage).
    pub fn builder(name: impl Into<String>, value: impl Into<String>) -> CookieBuilder {
        CookieBuilder {
            name: name.into(),
            value: value.into(),
            domain: None,
            host_only: false,
            path: "/".into(),
            expires: None,
            secure: false,
            http_only: false,
            same_site: None,
            creation_time: UNIX_EPOCH,
        }
    }

    /// The cookie's name (never empty).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value (possibly empty), exactly as the server sent it, quotes included.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The canonical host (lowercase, punycode, IP addresses normalised) the cookie belongs to:
    /// the request host for a host-only cookie, else the `Domain` attribute without its
    /// leading dot.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The path the cookie is sent for (and below): the `Path` attribute, or the default path
    /// of the URL that set it. Always starts with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// When the cookie expires, or `None` for a session cookie (one that lives until the jar
    /// is dropped or cleared). From `Max-Age` (which wins) or `Expires`.
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires
    }

    /// True when the cookie has an expiry time (`Max-Age` or `Expires`), false for a session
    /// cookie.
    pub fn is_persistent(&self) -> bool {
        self.expires.is_some()
    }

    /// True once the expiry time is reached: a cookie expiring at exactly `now` is expired.
    /// Session cookies never expire by time.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }

    /// True for `Secure` cookies, sent only to secure URLs (`https`, and loopback hosts).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// True for `HttpOnly` cookies (which browsers hide from scripts; an HTTP client sends them
    /// like any other).
    pub fn is_http_only(&self) -> bool {
        self.http_only
    }

    /// True when the cookie goes only to exactly [`domain`](Cookie::domain) (it had no
    /// `Domain` attribute), false when it also goes to its subdomains.
    pub fn is_host_only(&self) -> bool {
        self.host_only
    }

    /// The `SameSite` attribute, if the server sent a valid one.
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }

    /// When the cookie was first stored. Replacing a cookie (same name, domain and path) keeps
    /// the old creation time, and jars send cookies of equal path length oldest first.
    pub fn creation_time(&self) -> SystemTime {
        self.creation_time
    }

    /// When a jar last stored or sent the cookie (RFC 6265's last-access-time).
    pub fn last_access_time(&self) -> SystemTime {
        self.last_access_time
    }

    /// The cookie's size for a jar's size cap: the lengths of its name, value, domain and path
    /// added up (its other attributes are flags and a time).
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + self.domain.len() + self.path.len()
    }

    /// True when this cookie is to be sent with a request to `url` (RFC 6265 section 5.4 step
    /// 1): the host is the cookie's domain (or, unless host-only, a subdomain of it), the path
    /// path-matches the cookie's path, and a `Secure` cookie needs a secure URL. Expiry is not
    /// checked here.
    pub fn matches(&self, url: &Url) -> bool {
        self.may_be_set_by(url) && path_match(url.path(), &self.path)
    }

    /// True when a response from `url` may have set this cookie: its domain is the request host
    /// (or, unless host-only, a parent of it) and a `Secure` cookie came from a secure URL.
    pub(crate) fn may_be_set_by(&self, url: &Url) -> bool {
        let Some((host, host_is_ip)) = request_host(url) else {
            return false;
        };
        let domain_ok = if self.host_only {
            host == self.domain
        } else {
            domain_match(host, host_is_ip, &self.domain)
        };
        domain_ok && (!self.secure || is_secure_url(url))
    }

    /// `name=value`, as the cookie appears in a `Cookie` request header.
    pub fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.value)?;
        if let Some(expires) = self.expires {
            write!(f, "; Expires={}", format_date(expires))?;
        }
        if !self.host_only {
            write!(f, "; Domain={}", self.domain)?;
        }
        write!(f, "; Path={}", self.path)?;
        if self.secure {
            f.write_str("; Secure")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if let Some(s) = self.same_site {
            write!(f, "; SameSite={}", s.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("set_cookie", &format_args!("{self}"))
            .field("host_only", &self.host_only)
            .field("creation_time", &self.creation_time)
            .field("last_access_time", &self.last_access_time)
            .finish()
    }
}

/// Builds a [`Cookie`] by hand; see [`Cookie::builder`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use wayfarer_core::cookies::Cookie;
///
/// let cookie = Cookie::builder("id", "42")
///     .domain("Example.com")
///     .path("/app")
///     .expires(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000))
///     .secure(true)
///     .build()?;
/// assert_eq!(cookie.domain(), "example.com");
/// assert!(!cookie.is_host_only());
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CookieBuilder {
    name: String,
    value: String,
    domain: Option<String>,
    host_only: bool,
    path: String,
    expires: Option<SystemTime>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    creation_time: SystemTime,
}

impl CookieBuilder {
    /// The cookie goes to `domain` and its subdomains (like a `Domain` attribute, one leading
    /// dot is dropped). Required, unless [`host_only_domain`](Self::host_only_domain) is used.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        // Like a `Domain` attribute, one leading dot is dropped.
        self.domain = Some(
            domain
                .strip_prefix('.')
                .map(str::to_owned)
                .unwrap_or(domain),
        );
        self.host_only = false;
        self
    }

    /// The cookie goes to exactly `host` (like a cookie set without a `Domain` attribute), taken
    /// as it is.
    pub fn host_only_domain(mut self, host: impl Into<String>) -> Self {
        self.domain = Some(host.into());
        self.host_only = true;
        self
    }

    /// The path (default `/`); must start with `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// When the cookie expires; without it, a session cookie. Times past 9999-12-31 are clamped
    /// to it.
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// `Secure` (default false).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `HttpOnly` (default false).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// `SameSite` (default none).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// The creation time, which orders cookies of equal path length in the `Cookie` header.
    /// Defaults to the Unix epoch; jars break ties by insertion order.
    pub fn creation_time(mut self, at: SystemTime) -> Self {
        self.creation_time = at;
        self
    }

    /// The cookie, or an [`InvalidInput`](crate::ErrorKind::InvalidInput) error when it could
    /// not have come from a `Set-Cookie` header: an empty name, a name with `=`, a `;` or a
    /// control character in the name or value, surrounding spaces, no or an invalid domain, or
    /// a path not starting with `/`.
    pub fn build(self) -> Result<Cookie, Error> {
        let bad = |what: &str| Err(Error::invalid_input(format!("invalid cookie {what}")));
        if self.name.is_empty() || self.name.contains('=') || !is_cookie_text(&self.name) {
            return bad("name");
        }
        if !is_cookie_text(&self.value) {
            return bad("value");
        }
        if !self.path.starts_with('/') || !is_cookie_text(&self.path) {
            return bad("path");
        }
        let Some(domain) = self.domain.as_deref().and_then(canonical_domain) else {
            return bad("domain");
        };
        let expires = self.expires.map(|e| e.min(super::date::last_date()));
        Ok(Cookie {
            name: self.name,
            value: self.value,
            domain,
            path: self.path,
            expires,
            secure: self.secure,
            http_only: self.http_only,
            host_only: self.host_only,
            same_site: self.same_site,
            creation_time: self.creation_time,
            last_access_time: self.creation_time,
        })
    }
}

/// True for text that survives a `Set-Cookie` round trip: no `;` (which would end it), no
/// control character but tab (RFC 6265bis section 5.6 ignores cookies with one), and no space
/// or tab at either end (which parsing trims).
pub(crate) fn is_cookie_text(s: &str) -> bool {
    !s.bytes().any(|b| b == b';' || is_forbidden_control(b))
        && s.trim_matches([' ', '\t']).len() == s.len()
}

/// `%x00-08 / %x0A-1F / %x7F`: the control characters RFC 6265bis forbids in a cookie.
pub(crate) fn is_forbidden_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn builder_validates_like_a_set_cookie_would() {
        let ok = |b: CookieBuilder| b.build().is_ok();
        let base = || Cookie::builder("a", "b").domain("example.com");
        assert!(ok(base()));
        assert!(ok(Cookie::builder("a", "").domain("example.com")));
        assert!(!ok(Cookie::builder("", "b").domain("example.com")));
        assert!(!ok(Cookie::builder("a=b", "c").domain("example.com")));
        assert!(!ok(Cookie::builder("a", "b;c").domain("example.com")));
        assert!(!ok(Cookie::builder("a", "b\r\n").domain("example.com")));
        assert!(!ok(Cookie::builder(" a", "b").domain("example.com")));
        assert!(!ok(Cookie::builder("a", "b")));
        assert!(!ok(Cookie::builder("a", "b").domain("bad host")));
        assert!(!ok(base().path("relative")));
        assert!(ok(Cookie::builder("a", "b=c d").domain("example.com")));
    }

    #[test]
    fn builder_canonicalises_the_domain_and_clamps_expiry() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        let c = Cookie::builder("a", "b")
            .domain(".Example.COM")
            .expires(far)
            .build()
            .unwrap();
        assert_eq!(c.domain(), "example.com");
        assert_eq!(c.expires(), Some(super::super::date::last_date()));
        assert!(c.is_persistent());
    }

    #[test]
    fn display_writes_a_set_cookie_value() {
        let c = Cookie::builder("id", "42")
            .domain("example.com")
            .path("/app")
            .expires(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Lax)
            .build()
            .unwrap();
        assert_eq!(
            c.to_string(),
            "id=42; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Lax"
        );
        let c = Cookie::builder("s", "")
            .host_only_domain("example.com")
            .build()
            .unwrap();
        assert_eq!(c.to_string(), "s=; Path=/");
        assert_eq!(c.pair(), "s=");
    }

    #[test]
    fn expiry_is_evaluated_against_the_given_time() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let c = Cookie::builder("a", "b")
            .domain("example.com")
            .expires(t)
            .build()
            .unwrap();
        assert!(!c.is_expired(t - Duration::from_secs(1)));
        assert!(c.is_expired(t));
        assert!(c.is_expired(t + Duration::from_secs(1)));
        let session = Cookie::builder("a", "b")
            .domain("example.com")
            .build()
            .unwrap();
        assert!(!session.is_expired(t + Duration::from_secs(1_000_000_000)));
    }

    #[test]
    fn same_site_values() {
        assert_eq!(SameSite::parse("strict"), Some(SameSite::Strict));
        assert_eq!(SameSite::parse("LAX"), Some(SameSite::Lax));
        assert_eq!(SameSite::parse("None"), Some(SameSite::None));
        assert_eq!(SameSite::parse("relaxed"), None);
        assert_eq!(SameSite::parse(""), None);
    }
}
