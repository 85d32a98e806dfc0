//! The bridge link (OkHttp's `BridgeInterceptor`): from the application's request to the
//! request as it goes on the wire, and from the network's response back to the application's.
//!
//! Going down, it adds what HTTP needs and the caller did not set (the caller's own fields
//! always win):
//! - `Host`, with the port only when it is not the scheme's default;
//! - the body's framing: `Content-Length` for a known length, else `Transfer-Encoding:
//!   chunked` (these two always follow the body, so the head can never disagree with the bytes
//!   that follow), and `Content-Type` from the body;
//! - `Connection: Keep-Alive`;
//! - `Accept-Encoding: gzip`, only when the caller set neither `Accept-Encoding` nor `Range`:
//!   then the bridge owns the decoding, and does it transparently;
//! - `Cookie` from the cookie jar, if one is configured: by default only when the caller set
//!   none, as in OkHttp; [`JarCookiesWithOwn`] can merge the jar's with the caller's instead;
//! - `User-Agent`.
//!
//! The client's default headers ([`ClientBuilder::default_header`](crate::ClientBuilder::default_header))
//! are already in the application's request, added when the call started, so here they count
//! as the caller's own fields.
//!
//! Coming back up, it saves the response's cookies through the jar (trailers are ignored),
//! decodes a gzip body it asked for as a stream (removing `Content-Encoding` and
//! `Content-Length`, which described the encoded bytes), and gives the response the
//! application's request.

pub(crate) mod gzip;

use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use url::Url;

use crate::cookies::{JarCookiesWithOwn, cookie_header, parse_all};
use crate::http1::encode::itoa_buf;
use crate::{Config, Headers, Now, Request, Response};

/// The link's state for one exchange.
#[derive(Debug, Default)]
///
/// It keeps no count of the application's request: the chain above it holds that request (the
/// call, or the follow-up link for a later hop) and hands it back for
/// [`on_response`](Self::on_response) (a count taken and dropped is two atomic operations on
/// every call).
pub(crate) struct Bridge {
    /// The bridge added `Accept-Encoding: gzip`, so it decodes gzip bodies.
    transparent_gzip: bool,
}

/// The request as the bridge sends it: the application's request plus the fields the bridge
/// adds, kept apart so the encoder writes both without copying the application's fields.
///
/// Copying the request's URL and fields into a new request for every call would cost a handful
/// of allocations on the hot path; this costs none. A full [`Request`] is built from it only
/// when something must see the request as sent (a network interceptor, an event listener, the
/// cache): [`Bridged::to_request`].
#[derive(Debug, Clone)]
pub(crate) struct Bridged {
    /// The application's request.
    pub(crate) user: Arc<Request>,
    /// Write `Host` from the URL (the caller set none).
    host: bool,
    /// Write `Content-Type` from the body's media type (the caller set none). Read from the
    /// body when written rather than kept here: the request as sent travels with every
    /// response head, and a response head is moved many times on its way to the caller.
    content_type: bool,
    /// `Some(Some(n))`: `Content-Length: n`; `Some(None)`: chunked; `None`: no framing field.
    framing: Option<Option<u64>>,
    connection: bool,
    accept_encoding: bool,
    /// The jar's cookies for the request (boxed bytes, not `Bytes`: smaller, see
    /// `content_type`), or with [`CookieSlot::JoinedToOwn`] the value of the caller's first
    /// `Cookie` field with them first.
    cookie: Option<Box<[u8]>>,
    /// Where `cookie` goes.
    cookie_slot: CookieSlot,
    user_agent: Option<Bytes>,
}

/// Where the jar's cookies go in the request as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CookieSlot {
    /// In a `Cookie` field among the bridge's (the caller set none).
    Bridge,
    /// In a `Cookie` field of their own, just before the caller's first
    /// ([`JarCookiesWithOwn::OwnFieldFirst`]).
    BeforeOwn,
    /// First in the caller's first `Cookie` field, whose value they replace
    /// ([`JarCookiesWithOwn::JoinedFirst`]).
    JoinedToOwn,
}

impl Bridged {
    /// The fields in the order they go on the wire: `Host` first, the application's fields
    /// (without its own framing fields), then the bridge's.
    pub(crate) fn for_each_field(&self, mut field: impl FnMut(&[u8], FieldValue<'_>)) {
        if self.host {
            field(b"Host", FieldValue::Host(self.user.url()));
        }
        // The jar's cookies that go with the caller's first `Cookie` field, until it is met.
        let mut with_own = self
            .cookie
            .as_deref()
            .filter(|_| self.cookie_slot != CookieSlot::Bridge);
        for (name, value) in self.user.headers().fields() {
            if is_framing(name) {
                continue;
            }
            match with_own {
                Some(cookie) if name.eq_ignore_ascii_case(b"cookie") => {
                    with_own = None;
                    if self.cookie_slot == CookieSlot::JoinedToOwn {
                        field(name, FieldValue::Bytes(cookie));
                        continue;
                    }
                    field(b"Cookie", FieldValue::Bytes(cookie));
                }
                _ => {}
            }
            field(name, FieldValue::Bytes(value));
        }
        if self.content_type {
            if let Some(media_type) = self.user.body().content_type_bytes() {
                field(b"Content-Type", FieldValue::Bytes(media_type));
            }
        }
        match self.framing {
            Some(Some(n)) => field(b"Content-Length", FieldValue::Number(n)),
            Some(None) => field(b"Transfer-Encoding", FieldValue::Static(b"chunked")),
            None => {}
        }
        if self.connection {
            field(b"Connection", FieldValue::Static(b"Keep-Alive"));
        }
        if self.accept_encoding {
            field(b"Accept-Encoding", FieldValue::Static(b"gzip"));
        }
        if let Some(cookie) = self.cookie.as_deref() {
            if self.cookie_slot == CookieSlot::Bridge {
                field(b"Cookie", FieldValue::Bytes(cookie));
            }
        }
        if let Some(agent) = &self.user_agent {
            field(b"User-Agent", FieldValue::Bytes(agent));
        }
    }

    /// How the body is framed: the length, chunked, or none.
    pub(crate) fn framing(&self) -> Option<Option<u64>> {
        self.framing
    }

    /// The request as sent, as a full [`Request`] (its body shares the application's).
    pub(crate) fn to_request(&self) -> Request {
        let mut request = (*self.user).clone();
        let mut headers = Headers::with_capacity(self.user.headers().len() + 7);
        self.for_each_field(|name, value| {
            headers.push_unchecked(Bytes::copy_from_slice(name), value.to_bytes());
        });
        *request.headers_mut() = headers;
        request
    }
}

/// A field value as the bridge has it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldValue<'a> {
    Bytes(&'a [u8]),
    Static(&'static [u8]),
    Number(u64),
    /// The URL's host, with the port only when it is not the scheme's default.
    Host(&'a Url),
}

impl FieldValue<'_> {
    /// Appends the value to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Bytes(b) => out.extend_from_slice(b),
            FieldValue::Static(b) => out.extend_from_slice(b),
            FieldValue::Number(n) => out.extend_from_slice(itoa_buf(*n).as_bytes()),
            FieldValue::Host(url) => {
                out.extend_from_slice(url.host_str().unwrap_or_default().as_bytes());
                // `port()` is None for the scheme's default port, which Host omits.
                if let Some(port) = url.port() {
                    out.push(b':');
                    out.extend_from_slice(itoa_buf(u64::from(port)).as_bytes());
                }
            }
        }
    }

    fn to_bytes(self) -> Bytes {
        match self {
            FieldValue::Bytes(b) => Bytes::copy_from_slice(b),
            FieldValue::Static(b) => Bytes::from_static(b),
            other => {
                let mut out = Vec::new();
                other.write(&mut out);
                Bytes::from(out)
            }
        }
    }
}

fn is_framing(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"transfer-encoding")
}

impl Bridge {
    /// The request as it goes on the wire, for `user` (the application's request), at `now`
    /// (cookies expire by it).
    pub(crate) fn on_request(&mut self, now: Now, user: Arc<Request>, config: &Config) -> Bridged {
        let given = user.headers();
        let set = if given.is_empty() {
            CallerSet::default()
        } else {
            CallerSet::of(given)
        };
        let body = user.body();
        let content_type = body.content_type_bytes().is_some() && !set.content_type;
        self.transparent_gzip = config.transparent_gzip && !set.accept_encoding && !set.range;
        let user_agent = config
            .user_agent
            .as_ref()
            .filter(|_| !set.user_agent)
            .cloned();
        let (cookie, cookie_slot) = match config.cookie_jar {
            None => (None, CookieSlot::Bridge),
            Some(_) => jar_cookies(now, &user, config),
        };
        Bridged {
            host: !set.host,
            content_type,
            framing: framing_length(user.method_ref(), given, body),
            connection: !set.connection,
            accept_encoding: self.transparent_gzip,
            cookie,
            cookie_slot,
            user_agent,
            user,
        }
    }

    /// Turns the network's response (head) into the application's: its cookies go to the jar
    /// (the head's only: cookies in trailers are ignored). Returns true when the body must be
    /// gzip-decoded on its way to the caller. `user` is the application's request, the one
    /// [`on_request`](Self::on_request) was given.
    pub(crate) fn on_response(
        &mut self,
        now: Now,
        response: &mut Response<()>,
        has_body: bool,
        config: &Config,
        user: &Arc<Request>,
    ) -> bool {
        if let Some(jar) = &config.cookie_jar {
            let cookies = parse_all(now.wall, user.url(), response.headers());
            if !cookies.is_empty() {
                jar.save_from_response(now.wall, user.url(), cookies);
            }
        }
        // The exchange names the application's request already unless a link below the
        // bridge rewrote it: no count is taken (an atomic operation) to set it again.
        if !response.names_request(user) {
            response.set_request(user.clone());
        }
        // Only a body coded with gzip and nothing else is decoded. Several field lines are
        // one list (RFC 9110 section 5.3): `gzip` on two lines is gzip applied twice, and is
        // left alone like `gzip, gzip` on one line.
        let gzip = self.transparent_gzip && has_body && {
            let mut codings = response.headers().get_all("content-encoding");
            let only = codings.next();
            codings.next().is_none()
                && only.is_some_and(|v| crate::headers::trim_ows(v).eq_ignore_ascii_case(b"gzip"))
        };
        if gzip {
            let headers = response.headers_mut();
            headers.remove("Content-Encoding");
            headers.remove("Content-Length");
        }
        gzip
    }
}

/// Which of the fields the bridge may add the caller set already.
#[derive(Debug, Default, Clone, Copy)]
struct CallerSet {
    host: bool,
    connection: bool,
    accept_encoding: bool,
    range: bool,
    user_agent: bool,
    content_type: bool,
}

impl CallerSet {
    /// One pass over the caller's fields. Out of line, and skipped when there are none (the
    /// usual request): six look-ups inlined into [`Bridge::on_request`] put the code of six
    /// scans on every request's path, fetched again for each request even when the scans
    /// found nothing to do.
    #[inline(never)]
    fn of(given: &Headers) -> CallerSet {
        let mut set = CallerSet::default();
        for (name, _) in given.fields() {
            let flag = match name.len() {
                4 if name.eq_ignore_ascii_case(b"host") => &mut set.host,
                5 if name.eq_ignore_ascii_case(b"range") => &mut set.range,
                10 if name.eq_ignore_ascii_case(b"connection") => &mut set.connection,
                10 if name.eq_ignore_ascii_case(b"user-agent") => &mut set.user_agent,
                12 if name.eq_ignore_ascii_case(b"content-type") => &mut set.content_type,
                15 if name.eq_ignore_ascii_case(b"accept-encoding") => &mut set.accept_encoding,
                _ => continue,
            };
            *flag = true;
        }
        set
    }
}

/// The jar's cookies for `user`, and where they go. By default the caller's own `Cookie` field
/// wins over the jar, as every field the caller sets does; the client may merge them instead
/// ([`JarCookiesWithOwn`]).
///
/// Out of line: a client without a jar never runs it.
#[inline(never)]
fn jar_cookies(now: Now, user: &Request, config: &Config) -> (Option<Box<[u8]>>, CookieSlot) {
    let Some(jar) = &config.cookie_jar else {
        return (None, CookieSlot::Bridge);
    };
    let own = user.headers().get_all("cookie").next();
    let with_own = config.jar_cookies_with_own;
    if own.is_some() && with_own == JarCookiesWithOwn::Withheld {
        return (None, CookieSlot::Bridge);
    }
    let cookies = jar.load_for_request(now.wall, user.url());
    if cookies.is_empty() {
        return (None, CookieSlot::Bridge);
    }
    let mut from_jar = cookie_header(&cookies).into_bytes();
    let slot = match (own, with_own) {
        (None, _) => CookieSlot::Bridge,
        (Some(own), JarCookiesWithOwn::JoinedFirst) => {
            from_jar.extend_from_slice(b"; ");
            from_jar.extend_from_slice(own);
            CookieSlot::JoinedToOwn
        }
        // `OwnFieldFirst` (`Withheld` sent none, above).
        (Some(_), _) => CookieSlot::BeforeOwn,
    };
    (Some(from_jar.into_boxed_slice()), slot)
}

/// The body framing: `Some(Some(n))` for `Content-Length: n`, `Some(None)` for chunked, `None`
/// for no framing field. A known body length wins; a stream of unknown length uses the
/// caller's valid `Content-Length` if any (the call checks the bytes against it), else chunked.
/// Methods that define a meaning for content get `Content-Length: 0` when they have no body
/// (RFC 9110 section 8.6).
fn framing_length(method: &Method, given: &Headers, body: &crate::Body) -> Option<Option<u64>> {
    if body.is_empty() {
        return matches!(*method, Method::POST | Method::PUT | Method::PATCH).then_some(Some(0));
    }
    if let Some(n) = body.len() {
        return Some(Some(n));
    }
    Some(declared_length(given))
}

/// The caller's valid `Content-Length`, for a body of unknown length (out of line: most bodies
/// are empty or know their length).
#[inline(never)]
fn declared_length(given: &Headers) -> Option<u64> {
    given
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, StatusCode};

    fn now() -> Now {
        Now::new(
            crate::Instant::ZERO,
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600),
        )
    }

    fn wire(request: Request, config: &Config) -> (Bridge, Request) {
        let (bridge, network, _) = wire_user(request, config);
        (bridge, network)
    }

    /// [`wire`], with the application's request as the follow-up link above would keep it.
    fn wire_user(request: Request, config: &Config) -> (Bridge, Request, Arc<Request>) {
        let mut bridge = Bridge::default();
        let user = Arc::new(request);
        let network = bridge.on_request(now(), user.clone(), config).to_request();
        (bridge, network, user)
    }

    fn names(r: &Request) -> Vec<String> {
        r.headers().iter().map(|(n, _)| n.to_owned()).collect()
    }

    #[test]
    fn adds_the_default_headers_in_order() {
        let config = Config::builder().user_agent("ua/1").build().unwrap();
        let (_, r) = wire(
            Request::get("http://example.com:8080/x")
                .header("Accept", "*/*")
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(
            names(&r),
            [
                "Host",
                "Accept",
                "Connection",
                "Accept-Encoding",
                "User-Agent"
            ]
        );
        assert_eq!(r.header("host"), Some("example.com:8080"));
        assert_eq!(r.header("connection"), Some("Keep-Alive"));
        assert_eq!(r.header("accept-encoding"), Some("gzip"));
        let (_, r) = wire(Request::get("https://[::1]:443/").build().unwrap(), &config);
        assert_eq!(r.header("host"), Some("[::1]"));
    }

    #[test]
    fn the_callers_headers_win() {
        let config = Config::default();
        let (bridge, r) = wire(
            Request::get("http://a.test/")
                .header("Host", "other.test")
                .header("Connection", "close")
                .header("User-Agent", "mine")
                .header("Accept-Encoding", "br")
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(r.header("host"), Some("other.test"));
        assert_eq!(r.header("connection"), Some("close"));
        assert_eq!(r.header("user-agent"), Some("mine"));
        assert_eq!(r.headers().get_all("accept-encoding").count(), 1);
        assert!(!bridge.transparent_gzip);
        let (bridge, _) = wire(
            Request::get("http://a.test/")
                .header("Range", "bytes=0-1")
                .build()
                .unwrap(),
            &config,
        );
        assert!(!bridge.transparent_gzip);
    }

    #[test]
    fn the_callers_headers_win_whatever_their_case_and_only_by_their_exact_name() {
        let config = Config::default();
        let body = Body::from("x").with_content_type("text/plain").unwrap();
        let (bridge, r) = wire(
            Request::post("http://a.test/")
                .body(body)
                .header("X-Host", "no")
                .header("Hosts", "no")
                .header("Ranges", "no")
                .header("HOST", "other.test")
                .header("CONNECTION", "close")
                .header("user-AGENT", "mine")
                .header("Content-TYPE", "text/mine")
                .header("RANGE", "bytes=0-1")
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(
            r.headers().get_all("host").collect::<Vec<_>>(),
            [b"other.test"]
        );
        assert_eq!(r.headers().get_all("connection").count(), 1);
        assert_eq!(
            r.headers().get_all("user-agent").collect::<Vec<_>>(),
            [b"mine"]
        );
        assert_eq!(
            r.headers().get_all("content-type").collect::<Vec<_>>(),
            [b"text/mine"]
        );
        assert!(!bridge.transparent_gzip);
        assert!(r.headers().get_all("accept-encoding").next().is_none());
        // Look-alike names are the caller's own fields and leave the bridge's in place.
        let (bridge, r) = wire(
            Request::get("http://a.test/")
                .header("X-Host", "no")
                .header("Ranges", "no")
                .header("Connections", "no")
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(r.header("host"), Some("a.test"));
        assert_eq!(r.header("connection"), Some("Keep-Alive"));
        assert!(bridge.transparent_gzip);
    }

    #[test]
    fn framing_follows_the_body() {
        let config = Config::default();
        let (_, r) = wire(
            Request::post("http://a.test/")
                .header("Content-Length", "999")
                .header("Transfer-Encoding", "gzip")
                .body(Body::from("abc").with_content_type("text/plain").unwrap())
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(r.header("content-length"), Some("3"));
        assert_eq!(r.header("transfer-encoding"), None);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        let (_, r) = wire(
            Request::post("http://a.test/")
                .body(Body::from_reader(std::io::empty(), None))
                .build()
                .unwrap(),
            &config,
        );
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        let (_, r) = wire(Request::post("http://a.test/").build().unwrap(), &config);
        assert_eq!(r.header("content-length"), Some("0"));
        let (_, r) = wire(Request::get("http://a.test/").build().unwrap(), &config);
        assert_eq!(r.header("content-length"), None);
    }

    #[test]
    fn the_encoder_writes_what_the_materialized_request_holds() {
        let config = Config::builder().user_agent("ua/1").build().unwrap();
        for request in [
            Request::get("http://example.com:8080/x?y")
                .header("Accept", "*/*")
                .build()
                .unwrap(),
            Request::post("https://[::1]/up")
                .header("Transfer-Encoding", "gzip")
                .body(Body::from("abc").with_content_type("text/plain").unwrap())
                .build()
                .unwrap(),
            Request::put("http://a.test/")
                .body(Body::from_reader(std::io::empty(), None))
                .build()
                .unwrap(),
        ] {
            let bridged = Bridge::default().on_request(now(), Arc::new(request), &config);
            assert_encoded_alike(&bridged);
        }
        // With the jar's cookies merged into the caller's own field, or before it.
        for with_own in [
            JarCookiesWithOwn::JoinedFirst,
            JarCookiesWithOwn::OwnFieldFirst,
        ] {
            let request = with_own_cookies("http://a.test/", &[("Cookie", "x=1")]);
            let bridged =
                Bridge::default().on_request(now(), Arc::new(request), &merging(with_own));
            assert_encoded_alike(&bridged);
        }
    }

    fn assert_encoded_alike(bridged: &Bridged) {
        let mut direct = Vec::new();
        crate::http1::encode::encode_bridged(&mut direct, bridged, false);
        let mut via = Vec::new();
        crate::http1::encode::encode_head(&mut via, &bridged.to_request(), false);
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(via).unwrap()
        );
    }

    #[test]
    fn cookies_come_from_the_jar_and_go_back_to_it() {
        let jar = Arc::new(crate::cookies::MemoryCookieJar::new());
        let config = Config::builder().cookie_jar(jar.clone()).build().unwrap();
        let mut bridge = Bridge::default();
        let user = Arc::new(Request::get("http://a.test/x").build().unwrap());
        let first = bridge.on_request(now(), user.clone(), &config).to_request();
        assert_eq!(first.header("cookie"), None, "an empty jar sends nothing");
        let mut response = Response::new(StatusCode::OK, first);
        response
            .headers_mut()
            .append("Set-Cookie", "a=1; Path=/")
            .unwrap();
        response
            .headers_mut()
            .append("Set-Cookie", "b=2; Max-Age=60")
            .unwrap();
        bridge.on_response(now(), &mut response, false, &config, &user);
        let next = Request::get("http://a.test/y").build().unwrap();
        let sent = bridge
            .on_request(now(), Arc::new(next), &config)
            .to_request();
        assert_eq!(sent.header("cookie"), Some("a=1; b=2"));
        // Expired by the time of the next request (time is an input).
        let later = Now::new(
            crate::Instant::ZERO,
            now().wall + std::time::Duration::from_secs(61),
        );
        let next = Request::get("http://a.test/y").build().unwrap();
        let sent = bridge
            .on_request(later, Arc::new(next), &config)
            .to_request();
        assert_eq!(sent.header("cookie"), Some("a=1"));
        // The caller's own Cookie wins over the jar.
        let own = Request::get("http://a.test/")
            .header("Cookie", "mine=1")
            .build()
            .unwrap();
        let sent = bridge
            .on_request(now(), Arc::new(own), &config)
            .to_request();
        assert_eq!(sent.headers().get_all("cookie").count(), 1);
        assert_eq!(sent.header("cookie"), Some("mine=1"));
    }

    /// Each field of `r` as `Name: value`, in order.
    fn fields(r: &Request) -> Vec<String> {
        r.headers()
            .iter()
            .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
            .collect()
    }

    /// A client whose jar holds `j=1` and `k=2` for a.test, merging them as `with_own` says.
    fn merging(with_own: JarCookiesWithOwn) -> Config {
        let jar = Arc::new(crate::cookies::MemoryCookieJar::new());
        let url = Url::parse("http://a.test/").unwrap();
        for cookie in ["j=1", "k=2"] {
            jar.set_cookie(now().wall, &url, cookie).unwrap();
        }
        Config::builder()
            .cookie_jar(jar)
            .jar_cookies_with_own(with_own)
            .user_agent("ua/1")
            .build()
            .unwrap()
    }

    /// A request to `url` with the fields `X-A: 1`, then `own` (each a `Cookie` field, named
    /// as given), then `X-B: 2`.
    fn with_own_cookies(url: &str, own: &[(&str, &str)]) -> Request {
        let mut builder = Request::get(url).header("X-A", "1");
        for (name, value) in own {
            builder = builder.header(name, value);
        }
        builder.header("X-B", "2").build().unwrap()
    }

    #[test]
    fn the_jars_cookies_can_go_first_in_the_callers_own_cookie_field() {
        let config = merging(JarCookiesWithOwn::JoinedFirst);
        let own = [("cookie", "x=1"), ("Cookie", "z=3")];
        let (_, r) = wire(with_own_cookies("http://a.test/", &own), &config);
        assert_eq!(
            fields(&r),
            [
                "Host: a.test",
                "X-A: 1",
                "cookie: j=1; k=2; x=1",
                "Cookie: z=3",
                "X-B: 2",
                "Connection: Keep-Alive",
                "Accept-Encoding: gzip",
                "User-Agent: ua/1"
            ]
        );
        // The application's request keeps its own fields as they were.
        let user = with_own_cookies("http://a.test/", &own);
        let bridged = Bridge::default().on_request(now(), Arc::new(user), &config);
        let kept: Vec<_> = bridged.user.headers().get_all("cookie").collect();
        assert_eq!(kept, [b"x=1".as_slice(), b"z=3"]);
    }

    #[test]
    fn the_jars_cookies_can_go_in_a_field_of_their_own_before_the_callers() {
        let config = merging(JarCookiesWithOwn::OwnFieldFirst);
        let own = [("cookie", "x=1"), ("Cookie", "z=3")];
        let (_, r) = wire(with_own_cookies("http://a.test/", &own), &config);
        assert_eq!(
            fields(&r),
            [
                "Host: a.test",
                "X-A: 1",
                "Cookie: j=1; k=2",
                "cookie: x=1",
                "Cookie: z=3",
                "X-B: 2",
                "Connection: Keep-Alive",
                "Accept-Encoding: gzip",
                "User-Agent: ua/1"
            ]
        );
    }

    #[test]
    fn merging_changes_nothing_without_a_callers_field_or_jar_cookies() {
        for with_own in [
            JarCookiesWithOwn::JoinedFirst,
            JarCookiesWithOwn::OwnFieldFirst,
        ] {
            let config = merging(with_own);
            // No Cookie field of the caller's: the jar's go where the bridge puts them.
            let (_, r) = wire(with_own_cookies("http://a.test/", &[]), &config);
            let (_, plain) = wire(
                with_own_cookies("http://a.test/", &[]),
                &merging(JarCookiesWithOwn::Withheld),
            );
            assert_eq!(fields(&r), fields(&plain), "{with_own:?}");
            assert_eq!(r.headers().get_all("cookie").count(), 1);
            assert_eq!(r.header("cookie"), Some("j=1; k=2"));
            // Nothing in the jar for the URL: the caller's field goes alone.
            let own = [("Cookie", "x=1")];
            let (_, r) = wire(with_own_cookies("http://b.test/", &own), &config);
            let cookies: Vec<_> = r.headers().get_all("cookie").collect();
            assert_eq!(cookies, [b"x=1".as_slice()], "{with_own:?}");
        }
        // The default is OkHttp's: the caller's field alone, whatever the jar holds.
        assert_eq!(
            Config::default().jar_cookies_with_own(),
            JarCookiesWithOwn::Withheld
        );
        let own = [("Cookie", "x=1")];
        let config = merging(JarCookiesWithOwn::Withheld);
        let (_, r) = wire(with_own_cookies("http://a.test/", &own), &config);
        let cookies: Vec<_> = r.headers().get_all("cookie").collect();
        assert_eq!(cookies, [b"x=1".as_slice()]);
    }

    #[test]
    fn gzip_is_decoded_only_when_the_bridge_asked_for_it() {
        let config = Config::default();
        let (mut bridge, network, user) =
            wire_user(Request::get("http://a.test/").build().unwrap(), &config);
        let mut response = Response::new(StatusCode::OK, network);
        response
            .headers_mut()
            .append("Content-Encoding", "gzip")
            .unwrap();
        response
            .headers_mut()
            .append("Content-Length", "20")
            .unwrap();
        assert!(bridge.on_response(now(), &mut response, true, &config, &user));
        assert_eq!(response.header("content-encoding"), None);
        assert_eq!(response.header("content-length"), None);
        assert_eq!(
            response.request().header("accept-encoding"),
            None,
            "the user's request"
        );
        let mut head = Response::new(
            StatusCode::OK,
            Request::get("http://a.test/").build().unwrap(),
        );
        head.headers_mut()
            .append("Content-Encoding", "gzip")
            .unwrap();
        assert!(!bridge.on_response(now(), &mut head, false, &config, &user));
        assert_eq!(head.header("content-encoding"), Some("gzip"));
    }
}
