//! The response: status, reason, version, headers, the request that produced it, when it was
//! sent and received, and a body whose type belongs to the runtime.
//!
//! Each runtime names its own `Response` as `wayfarer_core::Response<its Body>`. The body type
//! implements [`CollectBody`], which gives every runtime `response.bytes()` and
//! `response.text()` with that runtime's own return type: a `Result` for the blocking client, a
//! future for the async ones.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use bytes::Bytes;
use http::{StatusCode, Version};

use crate::exchange::Outgoing;
use crate::{Handshake, Headers, Request};

/// An HTTP response with a body of type `B` (`()` for a response head alone).
pub struct Response<B = ()> {
    head: Head,
    body: B,
}

/// Everything but the body.
#[derive(Clone)]
struct Head {
    status: StatusCode,
    /// The reason phrase: the standard one for the status is a static string, not a copy.
    reason: Cow<'static, str>,
    version: Version,
    headers: Headers,
    request: Arc<Request>,
    sent_at: SystemTime,
    received_at: SystemTime,
    handshake: Option<Arc<Handshake>>,
    prior: Option<Box<Response<()>>>,
    network: Network,
    cache: Option<Box<Response<()>>>,
}

/// The response as it came from the network.
///
/// Most responses reach the caller as the network sent them, so copying the head for
/// `network_response()` on every call would cost allocations for an accessor few call. Until
/// the head changes, the network response is only *noted* (with the request as sent); it is
/// built when asked for, or just before this head is changed.
#[derive(Default)]
enum Network {
    #[default]
    None,
    /// This head, as it is now, with the request as sent.
    SameHead {
        request: Outgoing,
        built: OnceLock<Box<Response<()>>>,
    },
    /// A head of its own.
    Own(Box<Response<()>>),
}

impl Clone for Network {
    fn clone(&self) -> Network {
        match self {
            Network::None => Network::None,
            Network::SameHead { request, built } => Network::SameHead {
                request: request.clone(),
                built: built.clone(),
            },
            Network::Own(r) => Network::Own(r.clone()),
        }
    }
}

/// The fields of a response head, as the decoder produced them.
#[derive(Debug)]
pub(crate) struct ResponseParts {
    pub status: StatusCode,
    pub reason: Cow<'static, str>,
    pub version: Version,
    pub headers: Headers,
}

impl Response<()> {
    pub(crate) fn from_parts(
        parts: ResponseParts,
        request: Arc<Request>,
        sent_at: SystemTime,
        received_at: SystemTime,
    ) -> Response<()> {
        Response {
            head: Head {
                status: parts.status,
                reason: parts.reason,
                version: parts.version,
                headers: parts.headers,
                request,
                sent_at,
                received_at,
                handshake: None,
                prior: None,
                network: Network::None,
                cache: None,
            },
            body: (),
        }
    }

    /// A response made up by an interceptor (or a cache) rather than read from a server: status
    /// `status` to `request`, with the standard reason phrase, HTTP/1.1 and no headers. Add
    /// headers with [`headers_mut`](Response::headers_mut).
    ///
    /// ```
    /// use wayfarer_core::{Request, Response, StatusCode};
    ///
    /// let request = Request::get("https://example.com/").build()?;
    /// let mut response = Response::new(StatusCode::NO_CONTENT, request);
    /// response.headers_mut().append("X-Served-By", "interceptor")?;
    /// assert_eq!(response.status(), StatusCode::NO_CONTENT);
    /// assert_eq!(response.reason(), "No Content");
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn new(status: StatusCode, request: Request) -> Response<()> {
        Response::from_parts(
            ResponseParts {
                status,
                reason: Cow::Borrowed(status.canonical_reason().unwrap_or_default()),
                version: Version::HTTP_11,
                headers: Headers::new(),
            },
            Arc::new(request),
            SystemTime::UNIX_EPOCH,
            SystemTime::UNIX_EPOCH,
        )
    }
}

impl<B> Response<B> {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.head.status
    }

    /// Replaces the status code (for interceptors that rewrite responses).
    pub fn set_status(&mut self, status: StatusCode) {
        self.keep_network_head();
        self.head.status = status;
    }

    /// The reason phrase as the server sent it (may be empty).
    pub fn reason(&self) -> &str {
        &self.head.reason
    }

    /// Replaces the reason phrase.
    pub fn set_reason(&mut self, reason: impl Into<String>) {
        self.keep_network_head();
        self.head.reason = Cow::Owned(reason.into());
    }

    /// The HTTP version of the response.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The header fields, in the order the server sent them.
    pub fn headers(&self) -> &Headers {
        &self.head.headers
    }

    /// The header fields, for interceptors that rewrite responses.
    pub fn headers_mut(&mut self) -> &mut Headers {
        self.keep_network_head();
        &mut self.head.headers
    }

    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name)
    }

    /// The request that produced this response (without its body): after redirects, the last
    /// one; as the application (not the network) saw it.
    pub fn request(&self) -> &Request {
        &self.head.request
    }

    /// Whether the response names `request` itself (the same allocation).
    pub(crate) fn names_request(&self, request: &Arc<Request>) -> bool {
        Arc::ptr_eq(&self.head.request, request)
    }

    pub(crate) fn set_request(&mut self, request: Arc<Request>) {
        self.head.request = request;
    }

    /// Wall-clock time when the request head was written.
    pub fn sent_at(&self) -> SystemTime {
        self.head.sent_at
    }

    /// Wall-clock time when the response head was received.
    pub fn received_at(&self) -> SystemTime {
        self.head.received_at
    }

    pub(crate) fn set_times(&mut self, sent_at: SystemTime, received_at: SystemTime) {
        self.head.sent_at = sent_at;
        self.head.received_at = received_at;
    }

    /// The TLS handshake of the connection this response came over: TLS version, cipher suite,
    /// the server's certificates and the client certificate sent, if any. `None` for plain
    /// `http`, and for a response made up rather than received.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.head.handshake.as_deref()
    }

    pub(crate) fn set_handshake(&mut self, handshake: Option<Arc<Handshake>>) {
        self.head.handshake = handshake;
    }

    /// The response that led to this one (a redirect or an authentication challenge), without
    /// its body; it carries its own prior response, back to the first.
    pub fn prior_response(&self) -> Option<&Response<()>> {
        self.head.prior.as_deref()
    }

    pub(crate) fn set_prior_response(&mut self, prior: Option<Box<Response<()>>>) {
        self.head.prior = prior;
    }

    /// The response as it came from the network (with the headers the server sent, before
    /// transparent decompression, and the request as sent), without its body; `None` when no
    /// network request was made (served from the cache, or made up by an interceptor).
    pub fn network_response(&self) -> Option<&Response<()>> {
        match &self.head.network {
            Network::None => None,
            Network::Own(r) => Some(r),
            Network::SameHead { request, built } => {
                Some(built.get_or_init(|| Box::new(self.network_copy(request))))
            }
        }
    }

    /// Notes that this head is, as it stands, the network's response to `request`.
    pub(crate) fn set_network_origin(&mut self, request: Outgoing) {
        self.head.network = Network::SameHead {
            request,
            built: OnceLock::new(),
        };
    }

    /// Sets the network response outright (the cache's: a 304 that revalidated a stored
    /// response, whose head is the stored one's, merged).
    pub(crate) fn set_network_response(&mut self, network: Option<Response<()>>) {
        self.head.network = network.map_or(Network::None, |r| Network::Own(Box::new(r)));
    }

    /// This head as the network response to `request`.
    fn network_copy(&self, request: &Outgoing) -> Response<()> {
        let mut head = self.head.clone();
        head.network = Network::None;
        head.prior = None;
        head.cache = None;
        head.request = request.to_arc();
        Response { head, body: () }
    }

    /// Before this head changes, the network response it stands for gets a copy of its own.
    fn keep_network_head(&mut self) {
        if let Network::SameHead { request, built } = &mut self.head.network {
            let copy = match built.take() {
                Some(copy) => copy,
                None => {
                    let request = request.clone();
                    Box::new(self.network_copy(&request))
                }
            };
            self.head.network = Network::Own(copy);
        }
    }

    /// The stored response the cache used, without its body; `None` when the cache was not
    /// used. With [`network_response`](Self::network_response) it tells how a response came
    /// to be, as in OkHttp:
    ///
    /// | `cache_response` | `network_response` | the response is |
    /// |---|---|---|
    /// | some | none | served from the cache (fresh) |
    /// | some | some, 304 | the stored one, revalidated: its body, headers merged with the 304's |
    /// | some | some, other | the network's: the stored one was stale and replaced |
    /// | none | some | the network's (nothing usable was stored) |
    /// | none | none | made up (an interceptor's, or the 504 of an `only-if-cached` request the cache could not answer) |
    pub fn cache_response(&self) -> Option<&Response<()>> {
        self.head.cache.as_deref()
    }

    pub(crate) fn set_cache_response(&mut self, cache: Option<Response<()>>) {
        self.head.cache = cache.map(Box::new);
    }

    /// How many responses led to this one (redirects and authentication challenges followed).
    pub fn prior_count(&self) -> usize {
        let mut n = 0;
        let mut prior = self.prior_response();
        while let Some(p) = prior {
            n += 1;
            prior = p.prior_response();
        }
        n
    }

    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        self.head.status.is_success()
    }

    /// True for a redirect the chain can follow (300, 301, 302, 303, 307, 308).
    pub fn is_redirect(&self) -> bool {
        matches!(self.head.status.as_u16(), 300..=303 | 307 | 308)
    }

    /// The response if its status is not an error, else an [`ErrorKind::Status`] error naming
    /// the status and the request (reqwest's `error_for_status`): for a 4xx or 5xx status the
    /// response, and its body, are dropped, which releases or closes its connection.
    /// [`error_for_status_ref`](Self::error_for_status_ref) keeps the response to read an
    /// error body.
    ///
    /// [`ErrorKind::Status`]: crate::ErrorKind::Status
    ///
    /// ```
    /// use wayfarer_core::{ErrorKind, Request, Response, StatusCode};
    ///
    /// let request = Request::get("https://example.com/missing?key=secret").build()?;
    /// let e = Response::new(StatusCode::NOT_FOUND, request).error_for_status().unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Status);
    /// assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
    /// assert_eq!(e.to_string(), "HTTP 404 Not Found (GET https://example.com/missing)");
    ///
    /// let request = Request::get("https://example.com/").build()?;
    /// let ok = Response::new(StatusCode::NOT_MODIFIED, request).error_for_status()?;
    /// assert_eq!(ok.status(), StatusCode::NOT_MODIFIED);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn error_for_status(self) -> Result<Response<B>, crate::Error> {
        match self.status_error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// As [`error_for_status`](Self::error_for_status), keeping the response.
    pub fn error_for_status_ref(&self) -> Result<&Response<B>, crate::Error> {
        match self.status_error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    fn status_error(&self) -> Option<crate::Error> {
        let status = self.head.status;
        (status.is_client_error() || status.is_server_error()).then(|| {
            let request = &self.head.request;
            crate::Error::from_status(status, request.method_ref(), request.url())
        })
    }

    /// `Content-Length`, if the server sent a valid one.
    pub fn content_length(&self) -> Option<u64> {
        self.head
            .headers
            .get("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// The `charset` parameter of `Content-Type`, lowercased.
    pub fn charset(&self) -> Option<String> {
        // A head with no `;` anywhere has no parameter in any field: no charset, known without
        // looking `Content-Type` up (the runtimes ask for every response).
        if !self.head.headers.may_hold(b';') {
            return None;
        }
        let raw = self.head.headers.get_bytes("content-type")?;
        // Most media types carry no parameters: then there is nothing to decode or search.
        if !raw.contains(&b';') {
            return None;
        }
        let content_type = std::str::from_utf8(raw).ok()?;
        content_type.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
        })
    }

    /// The body.
    pub fn body(&self) -> &B {
        &self.body
    }

    /// The body, for reading.
    pub fn body_mut(&mut self) -> &mut B {
        &mut self.body
    }

    /// Drops the head and keeps the body.
    pub fn into_body(self) -> B {
        self.body
    }

    /// Splits into the head (with a `()` body) and the body.
    pub fn into_parts(self) -> (Response<()>, B) {
        (
            Response {
                head: self.head,
                body: (),
            },
            self.body,
        )
    }

    /// Replaces the body through `f`.
    pub fn map_body<C>(self, f: impl FnOnce(B) -> C) -> Response<C> {
        Response {
            head: self.head,
            body: f(self.body),
        }
    }

    /// The head alone, as a copy (the body stays here).
    pub fn head(&self) -> Response<()> {
        Response {
            head: self.head.clone(),
            body: (),
        }
    }
}

impl Response<()> {
    /// Attaches a body to a response head.
    pub fn with_body<B>(self, body: B) -> Response<B> {
        Response {
            head: self.head,
            body,
        }
    }
}

impl Clone for Response<()> {
    fn clone(&self) -> Response<()> {
        self.head()
    }
}

/// Reading a whole body into memory, implemented by each runtime's body type.
///
/// The associated types are what `bytes()` and `text()` return: the blocking runtime returns
/// `Result`s, the async runtimes futures. Only these two methods buffer a whole body; everything
/// else streams.
pub trait CollectBody: Sized {
    /// What [`Response::bytes`] returns.
    type Bytes;
    /// What [`Response::text`] returns.
    type Text;
    /// Reads the rest of the body into memory.
    fn collect_bytes(self) -> Self::Bytes;
    /// Reads the rest of the body and decodes it with `charset` (from `Content-Type`; UTF-8 when
    /// absent), see [`decode_text`].
    fn collect_text(self, charset: Option<String>) -> Self::Text;
    /// What [`Response::json`] returns.
    type Json<T: serde::de::DeserializeOwned + Send + 'static>;
    /// Reads the rest of the body and parses it as JSON into a `T` (see [`decode_json`]).
    fn collect_json<T: serde::de::DeserializeOwned + Send + 'static>(self) -> Self::Json<T>;
}

impl<B: CollectBody> Response<B> {
    /// Reads the whole body into memory.
    pub fn bytes(self) -> B::Bytes {
        self.body.collect_bytes()
    }

    /// Reads the whole body and parses it as JSON into a `T`. A body that is not that JSON
    /// fails with [`ErrorKind::Decode`](crate::ErrorKind::Decode); the `Content-Type` is not
    /// checked (servers often get it wrong).
    pub fn json<T: serde::de::DeserializeOwned + Send + 'static>(self) -> B::Json<T> {
        self.body.collect_json()
    }

    /// Reads the whole body and decodes it as text, using the `Content-Type` charset.
    pub fn text(self) -> B::Text {
        let charset = self.charset();
        self.body.collect_text(charset)
    }
}

/// Decodes a body as text: UTF-8 by default (a leading BOM is dropped, invalid sequences become
/// U+FFFD), ISO-8859-1 and US-ASCII byte for byte. Other charsets are decoded as UTF-8 lossily.
pub fn decode_text(bytes: &[u8], charset: Option<&str>) -> String {
    if byte_per_char(charset) {
        return bytes.iter().map(|&b| b as char).collect();
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// The charsets decoded byte for byte (each byte its own code point).
fn byte_per_char(charset: Option<&str>) -> bool {
    matches!(
        charset,
        Some("iso-8859-1" | "latin1" | "latin-1" | "us-ascii" | "ascii")
    )
}

/// Parses a whole body as JSON into a `T`, as every runtime's `json()` does: a body that is not
/// that JSON is an error of kind [`Decode`](crate::ErrorKind::Decode).
///
/// ```
/// use std::collections::BTreeMap;
/// use wayfarer_core::{ErrorKind, decode_json};
///
/// let scores: BTreeMap<String, u32> = decode_json(br#"{"ann": 3, "bob": 5}"#)?;
/// assert_eq!(scores["bob"], 5);
/// let wrong = decode_json::<BTreeMap<String, u32>>(br#"{"ann": "three"}"#).unwrap_err();
/// assert_eq!(wrong.kind(), ErrorKind::Decode);
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, crate::Error> {
    serde_json::from_slice(body).map_err(|e| {
        crate::Error::decode(format!("the response body is not the JSON expected: {e}"))
    })
}

/// [`decode_text`] for a body the caller owns: a UTF-8 body without a BOM becomes the string
/// in place, without a copy (what `text()` returns for nearly every response).
///
/// ```
/// use wayfarer_core::decode_text_owned;
///
/// assert_eq!(decode_text_owned("naïve".into(), None), "naïve");
/// assert_eq!(decode_text_owned(b"caf\xe9"[..].into(), Some("latin1")), "café");
/// assert_eq!(decode_text_owned(b"bad \xff"[..].into(), None), "bad \u{fffd}");
/// ```
pub fn decode_text_owned(bytes: Bytes, charset: Option<&str>) -> String {
    if byte_per_char(charset) || bytes.starts_with(b"\xEF\xBB\xBF") {
        return decode_text(&bytes, charset);
    }
    match String::from_utf8(Vec::from(bytes)) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl<B> fmt::Debug for Response<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.head.status)
            .field("reason", &self.head.reason)
            .field("version", &self.head.version)
            .field("headers", &self.head.headers)
            .field("url", &crate::error::redact(self.head.request.url()))
            .finish_non_exhaustive()
    }
}

/// The status, version and header fields, and the body. The URL the response answers (the
/// last hop's, after redirects), which `http::Response` has no field for, goes into its
/// extensions as a [`Url`](crate::Url), so it is not lost on the way:
///
/// ```
/// use wayfarer_core::{Request, Response, StatusCode, Url};
///
/// let request = Request::get("https://example.com/after-redirects").build()?;
/// let response = Response::new(StatusCode::OK, request).with_body("hi");
/// let converted: http::Response<&str> = response.into();
/// let url = converted.extensions().get::<Url>().map(Url::as_str);
/// assert_eq!(url, Some("https://example.com/after-redirects"));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
impl<B> From<Response<B>> for http::Response<B> {
    fn from(r: Response<B>) -> http::Response<B> {
        let (head, body) = r.into_parts();
        let mut out = http::Response::new(body);
        *out.status_mut() = head.status();
        *out.version_mut() = head.version();
        *out.headers_mut() = http::HeaderMap::from(head.headers());
        out.extensions_mut().insert(head.request().url().clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content_type: &str) -> Response<()> {
        let mut headers = Headers::new();
        headers.append("Content-Type", content_type).unwrap();
        headers.append("Content-Length", "12").unwrap();
        with_headers(headers)
    }

    /// A 200 to a GET, with these fields.
    fn with_headers(headers: Headers) -> Response<()> {
        Response::from_parts(
            ResponseParts {
                status: StatusCode::OK,
                reason: "OK".into(),
                version: Version::HTTP_11,
                headers,
            },
            Arc::new(Request::get("http://h.test/").build().unwrap()),
            SystemTime::UNIX_EPOCH,
            SystemTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn charset_comes_from_content_type() {
        assert_eq!(
            response("text/html; charset=\"ISO-8859-1\"")
                .charset()
                .as_deref(),
            Some("iso-8859-1")
        );
        assert_eq!(response("text/html").charset(), None);
        assert_eq!(response("text/html").content_length(), Some(12));
    }

    /// A received head: the one-allocation form, which answers "no `;` anywhere" at once.
    fn received(fields: &str) -> Response<()> {
        let block = format!("{fields}\r\n");
        let headers =
            crate::http1::head::parse_trailers(block.as_bytes(), &crate::Limits::default())
                .unwrap();
        with_headers(headers)
    }

    #[test]
    fn charset_of_a_received_head_with_and_without_semicolons() {
        let plain = received("Content-Type: text/plain\r\nETag: \"x\"\r\n");
        assert!(!plain.head.headers.may_hold(b';'));
        assert_eq!(plain.charset(), None);
        let with = received("Server: s\r\nContent-Type: text/plain;charset=UTF-8\r\n");
        assert!(with.head.headers.may_hold(b';'));
        assert_eq!(with.charset().as_deref(), Some("utf-8"));
        // A `;` elsewhere: the field is looked up, and has none.
        let elsewhere = received("Set-Cookie: a=b; Path=/\r\nContent-Type: text/html\r\n");
        assert_eq!(elsewhere.charset(), None);
        let folded = received("Content-Type: text/html;\r\n charset=latin1\r\n");
        assert_eq!(folded.charset().as_deref(), Some("latin1"));
    }

    #[test]
    fn decodes_text_by_charset() {
        assert_eq!(decode_text(b"caf\xe9", Some("iso-8859-1")), "café");
        assert_eq!(decode_text("café".as_bytes(), None), "café");
        assert_eq!(decode_text(b"\xEF\xBB\xBFhi", Some("utf-8")), "hi");
        assert_eq!(decode_text(b"a\xffb", None), "a\u{fffd}b");
    }

    #[test]
    fn error_statuses_become_errors() {
        let request = || Request::get("http://h.test/x?q=1").build().unwrap();
        let r = Response::new(StatusCode::from_u16(599).unwrap(), request()).with_body(7u8);
        let e = r.error_for_status_ref().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Status);
        assert_eq!(e.to_string(), "HTTP 599 (GET http://h.test/x)");
        assert_eq!(*r.body(), 7, "the _ref form keeps the response");
        let e = Response::new(StatusCode::BAD_GATEWAY, request())
            .error_for_status()
            .unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
        for ok in [200, 204, 302, 304] {
            let r = Response::new(StatusCode::from_u16(ok).unwrap(), request());
            assert!(r.error_for_status_ref().is_ok(), "{ok}");
            assert!(r.error_for_status().is_ok(), "{ok}");
        }
        assert_eq!(crate::Error::canceled().status(), None);
    }

    #[test]
    fn maps_bodies_and_converts_to_http() {
        let r = response("text/plain").with_body(vec![1u8, 2]);
        let r = r.map_body(|b| b.len());
        assert_eq!(*r.body(), 2);
        let h: http::Response<usize> = r.into();
        assert_eq!(h.status(), StatusCode::OK);
        assert_eq!(h.headers()["content-type"], "text/plain");
        assert_eq!(
            h.extensions().get::<crate::Url>().map(crate::Url::as_str),
            Some("http://h.test/")
        );
    }
}
