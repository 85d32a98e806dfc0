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
//! - `Cookie` from the cookie jar, if one is configured;
//! - `User-Agent`.
//!
//! Coming back up, it saves the response's cookies through the jar (trailers are ignored),
//! decodes a gzip body it asked for as a stream (removing `Content-Encoding` and
//! `Content-Length`, which described the encoded bytes), and gives the response the
//! application's request.

pub(crate) mod gzip;

use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use crate::http1::encode::itoa_buf;
use crate::{Config, Headers, Request, Response};

/// The link's state for one exchange.
#[derive(Debug, Default)]
pub(crate) struct Bridge {
    /// The application's request (the one above the bridge).
    user: Option<Arc<Request>>,
    /// The bridge added `Accept-Encoding: gzip`, so it decodes gzip bodies.
    transparent_gzip: bool,
}

impl Bridge {
    /// The request as it goes on the wire, for `user` (the application's request).
    pub(crate) fn on_request(&mut self, user: Arc<Request>, config: &Config) -> Request {
        let mut network = (*user).clone();
        let given = user.headers();
        let headers = network.headers_mut();
        let mut out = Headers::with_capacity(given.len() + 7);

        if !given.contains("host") {
            out.push_unchecked(Bytes::from_static(b"Host"), host_value(user.url()));
        }
        for (name, value) in given.entries() {
            if !name.eq_ignore_ascii_case(b"content-length")
                && !name.eq_ignore_ascii_case(b"transfer-encoding")
            {
                out.push_unchecked(name.clone(), value.clone());
            }
        }
        let body = user.body();
        if let Some(media_type) = body.content_type_bytes() {
            if !given.contains("content-type") {
                out.push_unchecked(Bytes::from_static(b"Content-Type"), media_type.clone());
            }
        }
        match framing_length(user.method_ref(), given, body) {
            Some(Some(n)) => out.push_unchecked(
                Bytes::from_static(b"Content-Length"),
                Bytes::copy_from_slice(itoa_buf(n).as_bytes()),
            ),
            Some(None) => out.push_unchecked(
                Bytes::from_static(b"Transfer-Encoding"),
                Bytes::from_static(b"chunked"),
            ),
            None => {}
        }
        if !given.contains("connection") {
            out.push_unchecked(
                Bytes::from_static(b"Connection"),
                Bytes::from_static(b"Keep-Alive"),
            );
        }
        self.transparent_gzip = config.transparent_gzip
            && !given.contains("accept-encoding")
            && !given.contains("range");
        if self.transparent_gzip {
            out.push_unchecked(
                Bytes::from_static(b"Accept-Encoding"),
                Bytes::from_static(b"gzip"),
            );
        }
        if let Some(agent) = &config.user_agent {
            if !given.contains("user-agent") {
                out.push_unchecked(Bytes::from_static(b"User-Agent"), agent.clone());
            }
        }
        *headers = out;
        self.user = Some(user);
        network
    }

    /// Turns the network's response (head) into the application's. Returns true when the body
    /// must be gzip-decoded on its way to the caller.
    pub(crate) fn on_response(&mut self, response: &mut Response<()>, has_body: bool) -> bool {
        if let Some(user) = &self.user {
            response.set_request(user.clone());
        }
        let gzip = self.transparent_gzip
            && has_body
            && response
                .header("content-encoding")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        if gzip {
            let headers = response.headers_mut();
            headers.remove("Content-Encoding");
            headers.remove("Content-Length");
        }
        gzip
    }
}

/// `Host`: the host, with the port only when it is not the scheme's default (IPv6 literals in
/// brackets, as the URL writes them).
fn host_value(url: &url::Url) -> Bytes {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        // `port()` is None for the scheme's default port, which Host omits.
        Some(port) => Bytes::from(format!("{host}:{port}")),
        None => Bytes::copy_from_slice(host.as_bytes()),
    }
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
    let declared = given
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    Some(declared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, StatusCode};

    fn wire(request: Request, config: &Config) -> (Bridge, Request) {
        let mut bridge = Bridge::default();
        let network = bridge.on_request(Arc::new(request), config);
        (bridge, network)
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
    fn gzip_is_decoded_only_when_the_bridge_asked_for_it() {
        let config = Config::default();
        let (mut bridge, network) = wire(Request::get("http://a.test/").build().unwrap(), &config);
        let mut response = Response::new(StatusCode::OK, network);
        response
            .headers_mut()
            .append("Content-Encoding", "gzip")
            .unwrap();
        response
            .headers_mut()
            .append("Content-Length", "20")
            .unwrap();
        assert!(bridge.on_response(&mut response, true));
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
        assert!(!bridge.on_response(&mut head, false));
        assert_eq!(head.header("content-encoding"), Some("gzip"));
    }
}
