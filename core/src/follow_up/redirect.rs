//! Building the request a redirect asks for (RFC 9110 section 15.4, OkHttp's
//! `buildRedirectRequest`).
//!
//! | status | method and body |
//! |---|---|
//! | 303 | any method but HEAD becomes GET, without a body |
//! | 301, 302 | a POST becomes GET without a body (RFC 9110 15.4.2 allows it and every browser does it); other methods are kept, with their body |
//! | 300 | as 301 |
//! | 307, 308 | method and body kept |
//!
//! A kept body must be repeatable: a one-shot body already went out, so the redirect is
//! returned to the caller instead of followed. When the method becomes GET, the fields that
//! describe the body go with it (RFC 9110 section 15.4's list: `Content-Type`,
//! `Content-Length`, `Content-Encoding`, `Content-Language`, `Content-Location`, `Digest`,
//! `Last-Modified`, and `Transfer-Encoding`).
//!
//! The target is `Location` resolved against the request URL; a target that does not parse or
//! is not `http`/`https` is not followed, nor is a change between `https` and `http` when
//! `follow_ssl_redirects` is off. When the origin (scheme, host or port) changes, the
//! credentials the caller attached for the first origin stay behind: `Authorization` and
//! `Cookie` are removed (cookies for the new origin come from the jar; curl's
//! CVE-2018-1000007 and CVE-2022-27776 are this class of leak), and so is a caller's own
//! `Host`, which named the first origin (curl does the same). `Proxy-Authorization` is meant
//! for the proxy, not the origin: it stays when both requests go in plain `http` through the
//! same HTTP proxy (as OkHttp and curl keep it), and is removed when the next one goes
//! elsewhere (direct, another proxy, or a tunnel, whose `CONNECT` the proxy authenticator
//! answers).
//!
//! Credentials written into the `Location` URL (`http://user:pass@host/`) are treated as in a
//! URL the caller gives: they leave the URL and become the next request's `Authorization`.

use http::Method;
use url::Url;

use crate::body::Body;
use crate::{Config, Request, Response};

/// Why a redirect was not followed (for the caller's logs; the redirect itself is returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFollowed {
    /// Redirects are turned off.
    Disabled,
    /// No `Location` field.
    NoLocation,
    /// `Location` is not a URL, or not an `http`/`https` one.
    BadLocation,
    /// `https` to `http` (or back) with `follow_ssl_redirects` off.
    SchemeChange,
    /// The body would have to be sent again but can be sent only once.
    OneShotBody,
}

/// The request `response` (a 3xx to `response.request()`) redirects to.
pub(crate) fn redirect(response: &Response<()>, config: &Config) -> Result<Request, NotFollowed> {
    if !config.follow_redirects {
        return Err(NotFollowed::Disabled);
    }
    let previous = response.request();
    let location = response
        .headers()
        .get_bytes("location")
        .ok_or(NotFollowed::NoLocation)?;
    let location = std::str::from_utf8(location).map_err(|_| NotFollowed::BadLocation)?;
    let target = resolve(previous.url(), location).ok_or(NotFollowed::BadLocation)?;
    if target.scheme() != previous.url().scheme() && !config.follow_ssl_redirects {
        return Err(NotFollowed::SchemeChange);
    }

    let mut next = previous.clone();
    let status = response.status().as_u16();
    let method = previous.method_ref();
    let to_get = match status {
        // A GET that carried a body loses it too: the answer is fetched with a plain GET.
        303 => *method != Method::HEAD && !(*method == Method::GET && next.body().is_empty()),
        300..=302 => *method == Method::POST,
        _ => false,
    };
    if to_get {
        next.set_method(Method::GET);
        next.set_body(Body::empty());
        for name in BODY_FIELDS {
            next.headers_mut().remove(name);
        }
    } else if next.body().is_one_shot() {
        return Err(NotFollowed::OneShotBody);
    }
    if !same_origin(previous.url(), &target) {
        // A caller's own Host named the first origin (a virtual host behind it): the next
        // origin gets its own, from the URL, as curl does.
        for name in ["Authorization", "Cookie", "Host"] {
            next.headers_mut().remove(name);
        }
        if !same_plain_proxy(config, previous.url(), &target) {
            next.headers_mut().remove("Proxy-Authorization");
        }
    }
    let mut target = target;
    if let Some(authorization) = crate::credentials::take_from_url(&mut target) {
        // A base64 value is always a valid field value.
        let _ = next.headers_mut().set("Authorization", &authorization);
    }
    next.replace_url(target);
    Ok(next)
}

/// The fields that describe a request's body, removed with it (RFC 9110 section 15.4).
const BODY_FIELDS: [&str; 8] = [
    "Transfer-Encoding",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Digest",
    "Last-Modified",
];

/// `location` resolved against `base`, if it is an `http` or `https` URL with a host.
pub(crate) fn resolve(base: &Url, location: &str) -> Option<Url> {
    let mut target = base.join(location.trim()).ok()?;
    if !matches!(target.scheme(), "http" | "https") || target.host_str().is_none_or(str::is_empty) {
        return None;
    }
    // RFC 9110 section 10.2.2: a Location without a fragment inherits the request's.
    if target.fragment().is_none() {
        if let Some(fragment) = base.fragment() {
            target.set_fragment(Some(fragment));
        }
    }
    Some(target)
}

/// Both URLs are plain `http` and go through the same HTTP proxy, which reads every request's
/// `Proxy-Authorization` itself.
fn same_plain_proxy(config: &Config, a: &Url, b: &Url) -> bool {
    if a.scheme() != "http" || b.scheme() != "http" {
        return false;
    }
    let first = |url: &Url| config.routing.proxies_for(url).into_iter().next();
    let proxy = first(a);
    matches!(proxy, Some(crate::Proxy::Http(_))) && first(b) == proxy
}

/// Same scheme, host and port: a connection to one could serve the other.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Request, StatusCode};

    fn response(status: u16, request: Request, location: Option<&str>) -> Response<()> {
        let mut r = Response::new(StatusCode::from_u16(status).unwrap(), request);
        if let Some(l) = location {
            r.headers_mut().append("Location", l).unwrap();
        }
        r
    }

    fn post(url: &str) -> Request {
        Request::post(url)
            .header("Content-Type", "text/plain")
            .header("Authorization", "Bearer t")
            .header("Cookie", "a=b")
            .header("X-Keep", "1")
            .body("x=1")
            .build()
            .unwrap()
    }

    #[test]
    fn see_other_and_post_on_301_302_become_get_without_body() {
        let config = Config::default();
        for status in [301, 302, 303] {
            let next = redirect(
                &response(status, post("http://a.test/form"), Some("/done")),
                &config,
            )
            .unwrap();
            assert_eq!(next.method(), Method::GET, "{status}");
            assert_eq!(next.url().as_str(), "http://a.test/done");
            assert!(next.body().is_empty());
            assert_eq!(next.header("content-type"), None);
            assert_eq!(next.header("x-keep"), Some("1"));
            assert_eq!(
                next.header("authorization"),
                Some("Bearer t"),
                "same origin keeps it"
            );
        }
        let put = Request::put("http://a.test/x").body("b").build().unwrap();
        let next = redirect(&response(302, put, Some("/y")), &config).unwrap();
        assert_eq!(next.method(), Method::PUT);
        assert_eq!(next.body().as_bytes(), Some(&b"b"[..]));
        let head = Request::head("http://a.test/x").build().unwrap();
        let next = redirect(&response(303, head, Some("/y")), &config).unwrap();
        assert_eq!(next.method(), Method::HEAD);
    }

    #[test]
    fn temporary_and_permanent_redirects_keep_method_and_repeatable_body() {
        let config = Config::default();
        for status in [307, 308] {
            let next = redirect(
                &response(status, post("http://a.test/f"), Some("g")),
                &config,
            )
            .unwrap();
            assert_eq!(next.method(), Method::POST);
            assert_eq!(next.body().as_bytes(), Some(&b"x=1"[..]));
            assert_eq!(next.url().as_str(), "http://a.test/g");
            let one_shot = Request::post("http://a.test/f")
                .body(Body::from_reader(std::io::empty(), None))
                .build()
                .unwrap();
            assert_eq!(
                redirect(&response(status, one_shot, Some("/g")), &config).unwrap_err(),
                NotFollowed::OneShotBody
            );
        }
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let config = Config::default();
        for target in [
            "http://b.test/x",
            "https://a.test/x",
            "http://a.test:8080/x",
        ] {
            let next = redirect(
                &response(307, post("http://a.test/"), Some(target)),
                &config,
            )
            .unwrap();
            assert_eq!(next.header("authorization"), None, "{target}");
            assert_eq!(next.header("cookie"), None, "{target}");
            assert_eq!(next.header("x-keep"), Some("1"));
        }
    }

    #[test]
    fn unusable_targets_and_switches() {
        let config = Config::default();
        let get = || Request::get("https://a.test/p#frag").build().unwrap();
        assert_eq!(
            redirect(&response(302, get(), None), &config).unwrap_err(),
            NotFollowed::NoLocation
        );
        for bad in ["ftp://a.test/", "mailto:x@y", "http://"] {
            assert_eq!(
                redirect(&response(302, get(), Some(bad)), &config).unwrap_err(),
                NotFollowed::BadLocation,
                "{bad}"
            );
        }
        let next = redirect(&response(302, get(), Some("http://a.test/q")), &config).unwrap();
        assert_eq!(next.url().as_str(), "http://a.test/q#frag");
        let strict = Config::builder()
            .follow_ssl_redirects(false)
            .build()
            .unwrap();
        assert_eq!(
            redirect(&response(302, get(), Some("http://a.test/q")), &strict).unwrap_err(),
            NotFollowed::SchemeChange
        );
        let off = Config::builder().follow_redirects(false).build().unwrap();
        assert_eq!(
            redirect(&response(302, get(), Some("/q")), &off).unwrap_err(),
            NotFollowed::Disabled
        );
    }
}
