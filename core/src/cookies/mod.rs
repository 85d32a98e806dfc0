//! HTTP cookies (RFC 6265): parsing `Set-Cookie`, storing cookies, choosing which to send.
//!
//! Like the rest of the core this is pure: no clock (every method takes `now`, the wall time),
//! no files (cookie files are read and written as strings by [`netscape`]). The pieces, each in
//! its own small module:
//!
//! - [`Cookie`]: one cookie, and [`Cookie::parse`], the `Set-Cookie` algorithm of RFC 6265
//!   section 5.2 with the URL checks of section 5.3 (`parse.rs`);
//! - [`parse_date`]: the cookie date algorithm of section 5.1.1 (`date.rs`);
//! - domain and path matching, the default path and public suffixes (`domain.rs`, with the
//!   Public Suffix List compiled in through the `psl` crate);
//! - [`CookieJar`]: what the bridge link of the interceptor chain calls, once to build a
//!   request's `Cookie` header and once to store a response's `Set-Cookie` fields (OkHttp's
//!   `CookieJar`); implement it to keep cookies in your own storage;
//! - [`MemoryCookieJar`]: the jar in memory, with RFC 6265's replacement, expiry, ordering and
//!   [`CookieLimits`] (`jar.rs`);
//! - [`netscape`]: the cookie file format of curl's `-b`/`-c` and browsers' exports.
//!
//! Decisions where RFC 6265 leaves room (each documented where it is made): a `Secure` cookie
//! from a URL that is not secure is refused, and may not replace a `Secure` one (RFC 6265bis,
//! as browsers do); loopback hosts (`localhost`, `127.0.0.1`, `[::1]`) count as secure, as in
//! browsers and curl; cookies with control characters are ignored (RFC 6265bis); the name
//! prefixes of RFC 6265bis are enforced, as browsers do: a `__Secure-` cookie must be `Secure`,
//! a `__Host-` one `Secure`, host-only and `Path=/`; an IP address only ever domain-matches
//! itself.
//!
//! # Example: the jar as a pure component
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use wayfarer_core::{Headers, Url};
//! use wayfarer_core::cookies::{self, CookieJar, MemoryCookieJar};
//!
//! let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
//! let jar = MemoryCookieJar::new();
//!
//! // A response from https://shop.example.com/cart/view sets three cookies.
//! let url = Url::parse("https://shop.example.com/cart/view")?;
//! let mut response_headers = Headers::new();
//! response_headers.append("Set-Cookie", "session=s1; Secure; HttpOnly")?;
//! response_headers.append("Set-Cookie", "theme=dark; Domain=example.com; Path=/; Expires=Fri, 01 Jan 2027 00:00:00 GMT")?;
//! response_headers.append("Set-Cookie", "tracker=x; Domain=com")?; // a public suffix: ignored
//! jar.save_from_response(t0, &url, cookies::parse_all(t0, &url, &response_headers));
//!
//! // Which cookies go with the next requests? The session cookie is host-only, Secure, and
//! // has the default path /cart.
//! let send = |url: &str, now| -> Result<String, Box<dyn std::error::Error>> {
//!     Ok(cookies::cookie_header(&jar.load_for_request(now, &Url::parse(url)?)))
//! };
//! assert_eq!(send("https://shop.example.com/cart/pay", t0)?, "session=s1; theme=dark");
//! assert_eq!(send("http://shop.example.com/cart/pay", t0)?, "theme=dark");
//! assert_eq!(send("https://www.example.com/", t0)?, "theme=dark");
//! assert_eq!(send("https://example.org/", t0)?, "");
//!
//! // A year later the theme cookie has expired.
//! let later = t0 + Duration::from_secs(366 * 86_400);
//! assert_eq!(send("https://www.example.com/", later)?, "");
//! assert_eq!(jar.all(later).len(), 1); // the session cookie lives until the jar is cleared
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cookie;
mod date;
mod domain;
pub(crate) mod fuzzing;
mod jar;
pub mod netscape;
mod parse;

use std::sync::Arc;
use std::time::SystemTime;

use url::Url;

use crate::Headers;

pub use cookie::{Cookie, CookieBuilder, SameSite};
pub use date::parse_date;
pub use jar::{CookieLimits, MemoryCookieJar};
pub use parse::Rejected;

/// Where cookies are kept: what the bridge link of the interceptor chain asks for the cookies
/// of each request and gives the cookies of each response (OkHttp's `CookieJar`).
///
/// [`MemoryCookieJar`] is the usual implementation; implement this trait to keep cookies
/// elsewhere (a database, a browser profile). A jar is shared by concurrent calls, so it takes
/// `&self` and must do its own locking. Time is an argument: a jar never reads a clock.
pub trait CookieJar: Send + Sync {
    /// Stores the cookies a response from `url`, received at `now`, set: already parsed and
    /// checked against the URL by [`Cookie::parse`]. A jar may refuse any of them.
    fn save_from_response(&self, now: SystemTime, url: &Url, cookies: Vec<Cookie>);

    /// The cookies to send with a request to `url` at `now`, in `Cookie` header order
    /// (RFC 6265 section 5.4: longest path first, then oldest first). Render them with
    /// [`cookie_header`].
    fn load_for_request(&self, now: SystemTime, url: &Url) -> Vec<Cookie>;
}

impl<J: CookieJar + ?Sized> CookieJar for Arc<J> {
    fn save_from_response(&self, now: SystemTime, url: &Url, cookies: Vec<Cookie>) {
        (**self).save_from_response(now, url, cookies)
    }

    fn load_for_request(&self, now: SystemTime, url: &Url) -> Vec<Cookie> {
        (**self).load_for_request(now, url)
    }
}

/// What the bridge does with the jar's cookies when the request has a `Cookie` field of its
/// own (set with [`ClientBuilder::jar_cookies_with_own`](crate::ClientBuilder::jar_cookies_with_own)).
///
/// The bridge adds the jar's cookies above the cache, as OkHttp's does, so the cache stores and
/// looks up a response that varies by `Cookie` (`Vary: Cookie`) with the request as it is sent,
/// the jar's cookies included. Adding them lower down, in a network interceptor, would hide
/// them from the cache: it would store responses under the wrong cookies and answer requests
/// whatever the jar holds. Hence this setting, for a client that sends cookies of its own and
/// the jar's together, as curl does with `-b 'own=1'` (or `-H 'Cookie: own=1'`) and a cookie
/// file.
///
/// With no `Cookie` field in the request, the jar's cookies go in one of the bridge's own
/// fields whatever this says; with no cookies in the jar for the URL, nothing is added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JarCookiesWithOwn {
    /// The request's own `Cookie` field is sent alone, none of the jar's cookies with it: the
    /// caller's field wins, as every field the caller sets does (OkHttp's behaviour, and the
    /// default). Responses still go to the jar.
    #[default]
    Withheld,
    /// The jar's cookies go first in the request's first `Cookie` field, joined to its value by
    /// `; ` (`Cookie: jar=1; own=2`): what curl sends for `-b 'own=2'` with a cookie file.
    JoinedFirst,
    /// The jar's cookies go in a `Cookie` field of their own, just before the request's first
    /// one (`Cookie: jar=1`, then `Cookie: own=2`): what curl sends for `-H 'Cookie: own=2'`
    /// with a cookie file. RFC 6265 section 5.4 asks for one `Cookie` field; this sends two,
    /// for a client that must send what curl sends.
    OwnFieldFirst,
}

/// A jar that keeps nothing: no cookie is stored or sent (OkHttp's `CookieJar.NO_COOKIES`, the
/// client's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCookies;

impl CookieJar for NoCookies {
    fn save_from_response(&self, _: SystemTime, _: &Url, _: Vec<Cookie>) {}

    fn load_for_request(&self, _: SystemTime, _: &Url) -> Vec<Cookie> {
        Vec::new()
    }
}

/// Every cookie the `Set-Cookie` fields of a response from `url`, received at `now`, set, in
/// the order of the fields. Fields that are ignored (see [`Cookie::parse`]) or not UTF-8 are
/// skipped.
pub fn parse_all(now: SystemTime, url: &Url, headers: &Headers) -> Vec<Cookie> {
    headers
        .get_all("set-cookie")
        .filter_map(|v| std::str::from_utf8(v).ok())
        .filter_map(|v| Cookie::parse(now, url, v).ok())
        .collect()
}

/// The `Cookie` request header value for `cookies` (`a=b; c=d`), in the given order; empty when
/// there are none, and then the header is not sent.
///
/// Every cookie made by this module renders to a valid header value (no control characters,
/// no line breaks).
pub fn cookie_header(cookies: &[Cookie]) -> String {
    let mut header = String::new();
    for (i, c) in cookies.iter().enumerate() {
        if i > 0 {
            header.push_str("; ");
        }
        header.push_str(&c.name);
        header.push('=');
        header.push_str(&c.value);
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn parse_all_reads_every_set_cookie_field_in_order_and_skips_bad_ones() {
        let url = Url::parse("https://example.com/").unwrap();
        let mut h = Headers::new();
        h.append("Set-Cookie", "a=1").unwrap();
        h.append("Content-Type", "text/plain").unwrap();
        h.append("set-cookie", "no-equals-sign").unwrap();
        h.append("SET-COOKIE", "b=2; Path=/x").unwrap();
        h.append("Set-Cookie", b"c=\xff".as_slice()).unwrap();
        h.append("Set-Cookie", "d=4; Domain=other.com").unwrap();
        let cookies = parse_all(t(100), &url, &h);
        let pairs: Vec<String> = cookies.iter().map(Cookie::pair).collect();
        assert_eq!(pairs, ["a=1", "b=2"]);
        assert_eq!(cookies[1].path(), "/x");
        assert_eq!(cookies[0].creation_time(), t(100));
    }

    #[test]
    fn cookie_header_joins_pairs() {
        let url = Url::parse("http://example.com/").unwrap();
        let a = Cookie::parse(t(0), &url, "a=b").unwrap();
        let c = Cookie::parse(t(0), &url, "c=d=e").unwrap();
        let empty = Cookie::parse(t(0), &url, "e=").unwrap();
        assert_eq!(cookie_header(&[]), "");
        assert_eq!(cookie_header(std::slice::from_ref(&a)), "a=b");
        assert_eq!(cookie_header(&[a, c, empty]), "a=b; c=d=e; e=");
    }

    #[test]
    fn the_header_of_any_parsed_cookie_is_a_valid_header_value() {
        let url = Url::parse("http://example.com/").unwrap();
        let c = Cookie::parse(t(0), &url, "n\tx = v\tw\u{e9} ; Path=/").unwrap();
        let mut h = Headers::new();
        h.append("Cookie", cookie_header(&[c])).unwrap();
        assert_eq!(h.get("cookie"), Some("n\tx=v\tw\u{e9}"));
    }

    #[test]
    fn no_cookies_keeps_nothing_and_arc_delegates() {
        let url = Url::parse("http://example.com/").unwrap();
        let c = Cookie::parse(t(0), &url, "a=b").unwrap();
        NoCookies.save_from_response(t(0), &url, vec![c.clone()]);
        assert!(NoCookies.load_for_request(t(0), &url).is_empty());

        let jar: Arc<dyn CookieJar> = Arc::new(MemoryCookieJar::new());
        jar.save_from_response(t(0), &url, vec![c.clone()]);
        let loaded = jar.load_for_request(t(1), &url);
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].pair(), "a=b");
        assert_eq!(loaded[0].last_access_time(), t(1));
    }
}
