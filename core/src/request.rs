//! The request ([`Request`]) and its builder.

use std::fmt;
use std::time::Duration;

use http::Method;
use url::Url;

use crate::body::Body;
use crate::{CacheControl, Error, Headers};

/// An HTTP request.
///
/// Cloning a request clones its body as [`Body`]'s `Clone` says: a one-shot body is shared by
/// the clones and sent at most once, as in OkHttp.
///
/// `ws:` and `wss:` URLs are rewritten to `http:` and `https:` (a WebSocket handshake starts as an
/// HTTP request); any other scheme than those four is refused. Everything is validated when the
/// request is built, so a bad header never reaches a socket.
///
/// ```
/// use wayfarer_core::{Method, Request};
///
/// let request = Request::post("https://example.com/form?x=1")
///     .header("Content-Type", "application/x-www-form-urlencoded")
///     .body("a=1&b=2")
///     .build()?;
/// assert_eq!(request.method(), Method::POST);
/// assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
///
/// let ws = Request::get("wss://example.com/chat").build()?;
/// assert_eq!(ws.url().scheme(), "https");
///
/// let bad = Request::get("http://example.com/").header("X-Evil", "a\r\nInjected: 1").build();
/// assert_eq!(bad.unwrap_err().kind(), wayfarer_core::ErrorKind::InvalidInput);
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
///
/// Credentials in the URL are sent as Basic authentication, as curl and browsers do: they are
/// percent-decoded into an `Authorization` header and removed from the URL, so they never show in
/// the request line, `Host`, errors, events or logs. An `Authorization` header the caller sets
/// wins over them.
///
/// ```
/// use wayfarer_core::Request;
///
/// let request = Request::get("https://alice:s%40fe@example.com/private").build()?;
/// assert_eq!(request.url().as_str(), "https://example.com/private");
/// assert_eq!(request.header("authorization"), Some("Basic YWxpY2U6c0BmZQ==")); // alice:s@fe
///
/// let request = Request::get("https://alice:pw@example.com/")
///     .header("Authorization", "Bearer token")
///     .build()?;
/// assert_eq!(request.headers().get_all("authorization").count(), 1);
/// assert_eq!(request.header("authorization"), Some("Bearer token"));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: Url,
    headers: Headers,
    body: Body,
    /// The caller's word that sending this request twice is harmless (see
    /// [`RequestBuilder::idempotent`]); `None` follows the method.
    idempotent: Option<bool>,
    /// The `Authorization` header came from the URL's userinfo, so a caller's own replaces it.
    url_authorization: bool,
    /// The call timeout for this request (see [`RequestBuilder::timeout`]); `None` keeps the
    /// client's, zero means none.
    timeout: Option<Duration>,
}

impl Request {
    /// A request with no body. The URL must be `http`, `https`, `ws` or `wss` and have a host.
    /// Its userinfo, if any, becomes an `Authorization: Basic` header (see the module docs);
    /// otherwise the request has no headers.
    pub fn new(method: Method, url: impl IntoUrl) -> Result<Request, Error> {
        let mut url = url.into_url()?;
        let mut headers = Headers::new();
        let authorization = crate::credentials::take_from_url(&mut url);
        if let Some(value) = &authorization {
            headers.append("Authorization", value)?;
        }
        Ok(Request {
            method,
            url,
            headers,
            body: Body::empty(),
            idempotent: None,
            url_authorization: authorization.is_some(),
            timeout: None,
        })
    }

    /// Starts a request with any method.
    pub fn builder(method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder {
            inner: Request::new(method, url),
        }
    }

    /// Starts a GET request.
    pub fn get(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::GET, url)
    }

    /// Starts a HEAD request.
    pub fn head(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::HEAD, url)
    }

    /// Starts a POST request.
    pub fn post(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::POST, url)
    }

    /// Starts a PUT request.
    pub fn put(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::PUT, url)
    }

    /// Starts a PATCH request.
    pub fn patch(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::PATCH, url)
    }

    /// Starts a DELETE request.
    pub fn delete(url: impl IntoUrl) -> RequestBuilder {
        Request::builder(Method::DELETE, url)
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method.clone()
    }

    /// The method, borrowed.
    pub fn method_ref(&self) -> &Method {
        &self.method
    }

    /// The URL (`ws`/`wss` already rewritten).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as errors and logs show it: without userinfo, query or fragment, so secrets in
    /// them never reach a log line.
    pub fn redacted_url(&self) -> String {
        crate::error::redact(&self.url)
    }

    /// The headers the caller set, and `Authorization` from the URL's userinfo (the call adds
    /// `Host`, `User-Agent` and framing headers when it sends).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, for changes.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Replaces the body.
    pub fn set_body(&mut self, body: impl Into<Body>) {
        self.body = body.into();
    }

    /// Takes the body out, leaving none.
    pub fn take_body(&mut self) -> Body {
        std::mem::take(&mut self.body)
    }

    /// The request's `Cache-Control` directives (with `Pragma: no-cache` read as `no-cache`
    /// when there are none).
    pub fn cache_control(&self) -> CacheControl {
        CacheControl::from_headers(&self.headers)
    }

    /// A copy, if the body can be sent again (see [`Body::try_clone`]).
    pub fn try_clone(&self) -> Option<Request> {
        Some(Request {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: self.body.try_clone()?,
            idempotent: self.idempotent,
            url_authorization: self.url_authorization,
            timeout: self.timeout,
        })
    }

    /// This request's own call timeout, if it has one (see [`RequestBuilder::timeout`]):
    /// `Some(Duration::ZERO)` when the call may take as long as it takes.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets or clears (`None`: the client's applies) this request's own call timeout (see
    /// [`RequestBuilder::timeout`]). It is read when the call starts.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// How long the call of this request may take: its own timeout, else the client's call
    /// timeout; `None` for no limit.
    pub(crate) fn call_timeout(&self, client: Option<Duration>) -> Option<Duration> {
        match self.timeout {
            Some(own) => (!own.is_zero()).then_some(own),
            None => client,
        }
    }

    /// Whether this request may be sent again after a connection failure that may have let it
    /// reach the server: true for the idempotent methods of RFC 9110 section 9.2.2 (GET, HEAD,
    /// OPTIONS, TRACE, PUT, DELETE) unless the caller said otherwise with
    /// [`RequestBuilder::idempotent`].
    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET
                | Method::HEAD
                | Method::OPTIONS
                | Method::TRACE
                | Method::PUT
                | Method::DELETE
        ))
    }

    /// Declares whether sending this request twice is harmless (see
    /// [`RequestBuilder::idempotent`]).
    pub fn set_idempotent(&mut self, idempotent: bool) {
        self.idempotent = Some(idempotent);
    }

    /// Replaces the URL (already checked, e.g. a resolved redirect target).
    pub(crate) fn replace_url(&mut self, url: Url) {
        self.url = url;
    }

    /// Points the request at `url`, checked as [`Request::new`] checks it; on error the
    /// request is left as it was. This is how an interceptor rewrites where a request goes
    /// (OkHttp's `request.newBuilder().url(...)`): a query parameter added to every request, a
    /// host swapped for a test server.
    ///
    /// Credentials in `url` become the `Authorization` header, replacing one made from the
    /// previous URL's. One made from the previous URL's credentials is dropped when `url` goes
    /// to another origin (scheme, host or port), so they never follow the request to a host
    /// they were not written for; an `Authorization` the caller set is left alone.
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let mut request = Request::get("https://alice:pw@example.com/items").build()?;
    /// let mut url = request.url().clone();
    /// url.query_pairs_mut().append_pair("api_key", "k");
    /// request.set_url(url)?;
    /// assert_eq!(request.url().as_str(), "https://example.com/items?api_key=k");
    /// assert_eq!(request.header("authorization"), Some("Basic YWxpY2U6cHc="));
    ///
    /// request.set_url("https://staging.example.com/items")?;
    /// assert_eq!(request.header("authorization"), None, "alice:pw was for example.com");
    /// assert!(request.set_url("ftp://example.com/").is_err());
    /// assert_eq!(request.url().host_str(), Some("staging.example.com"));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn set_url(&mut self, url: impl IntoUrl) -> Result<(), Error> {
        let mut url = url.into_url()?;
        let authorization = crate::credentials::take_from_url(&mut url);
        let other_origin = !crate::follow_up::redirect::same_origin(&self.url, &url);
        if self.url_authorization && (other_origin || authorization.is_some()) {
            self.headers.remove("authorization");
            self.url_authorization = false;
        }
        if let Some(value) = authorization {
            if !self.headers.contains("authorization") {
                // A base64 value is always a valid field value.
                self.headers.append("Authorization", value)?;
                self.url_authorization = true;
            }
        }
        self.url = url;
        Ok(())
    }

    /// Replaces the method (the body and its fields stay as they are).
    ///
    /// ```
    /// use wayfarer_core::{Method, Request};
    ///
    /// let mut request = Request::get("https://example.com/").build()?;
    /// request.set_method(Method::HEAD);
    /// assert_eq!(request.method(), Method::HEAD);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn set_method(&mut self, method: Method) {
        self.method = method;
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &crate::error::redact(&self.url))
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Builds a [`Request`]; the first error is kept and returned by [`build`](Self::build).
#[derive(Debug)]
pub struct RequestBuilder {
    inner: Result<Request, Error>,
}

impl RequestBuilder {
    /// Appends a header. An `Authorization` header replaces the one made from the URL's
    /// userinfo.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            if r.url_authorization && name.eq_ignore_ascii_case("authorization") {
                r.headers.remove("authorization");
                r.url_authorization = false;
            }
            if let Err(e) = r.headers.append(name, value) {
                self.inner = Err(e);
            }
        }
        self
    }

    /// Appends `name=value` pairs to the URL's query, form-urlencoded (a space becomes `+`,
    /// `&`, `=`, `#` and non-ASCII are percent-encoded), after any query the URL already has.
    /// reqwest's `query`, OkHttp's `HttpUrl.Builder.addQueryParameter`.
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::get("https://example.com/search?lang=en")
    ///     .query([("q", "rust & http"), ("page", "2")])
    ///     .build()?;
    /// assert_eq!(request.url().as_str(), "https://example.com/search?lang=en&q=rust+%26+http&page=2");
    /// assert_eq!(request.url().query_pairs().count(), 3);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn query<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> RequestBuilder
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        if let Ok(r) = &mut self.inner {
            let mut pairs = pairs.into_iter().peekable();
            // Without pairs the URL stays as it was (no dangling `?`).
            if pairs.peek().is_some() {
                let mut query = r.url.query_pairs_mut();
                for (name, value) in pairs {
                    query.append_pair(name.as_ref(), value.as_ref());
                }
            }
        }
        self
    }

    /// Sets `Authorization: Basic base64(username:password)` (RFC 7617, the name and password
    /// taken as UTF-8), replacing any `Authorization` the request has, credentials from its
    /// URL included. The credentials go with this request only; the client's
    /// [`authenticator`](crate::ClientBuilder::authenticator) answers challenges instead.
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::get("https://example.com/").basic_auth("alice", "s@fe").build()?;
    /// assert_eq!(request.header("authorization"), Some("Basic YWxpY2U6c0BmZQ=="));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn basic_auth(self, username: &str, password: &str) -> RequestBuilder {
        self.authorization(&crate::basic_credentials(username, password))
    }

    /// Sets `Authorization: Bearer <token>` (RFC 6750), replacing any `Authorization` the
    /// request has. A token that is not a valid field value (a line break, say) fails
    /// [`build`](Self::build) with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::get("https://example.com/").bearer_auth("t0ken").build()?;
    /// assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
    /// assert!(Request::get("https://example.com/").bearer_auth("a\nb").build().is_err());
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn bearer_auth(self, token: &str) -> RequestBuilder {
        self.authorization(&format!("Bearer {token}"))
    }

    fn authorization(mut self, value: &str) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            r.url_authorization = false;
            if let Err(e) = r.headers.set("Authorization", value) {
                self.inner = Err(e);
            }
        }
        self
    }

    /// Sets the request's `Cache-Control` directives, replacing any `Cache-Control` header
    /// (OkHttp's `Request.Builder.cacheControl`); empty directives remove it. With a cache
    /// configured, [`CacheControl::FORCE_NETWORK`] skips the stored response (the new one is
    /// still stored) and [`CacheControl::FORCE_CACHE`] never uses the network.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_core::{CacheControl, Request};
    ///
    /// let request = Request::get("https://example.com/news")
    ///     .cache_control(CacheControl::builder().max_stale(Duration::from_secs(3600)).build())
    ///     .build()?;
    /// assert_eq!(request.header("cache-control"), Some("max-stale=3600"));
    /// assert_eq!(request.cache_control().max_stale(), Some(Duration::from_secs(3600)));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn cache_control(mut self, cache_control: CacheControl) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            if let Err(e) = cache_control.set_on(&mut r.headers) {
                self.inner = Err(e);
            }
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            r.body = body.into();
        }
        self
    }

    /// Sets the body to `pairs` as an HTML form (`application/x-www-form-urlencoded`, unless a
    /// `Content-Type` header was set): each name and value percent-encoded, a space as `+`,
    /// joined with `&`, in the order given.
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::post("https://example.com/login")
    ///     .form([("user", "ann"), ("note", "tea & cake")])
    ///     .build()?;
    /// let body = request.body();
    /// assert_eq!(body.content_type(), Some("application/x-www-form-urlencoded"));
    /// assert_eq!(body.as_bytes(), Some(&b"user=ann&note=tea+%26+cake"[..]));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn form<K, V>(self, pairs: impl IntoIterator<Item = (K, V)>) -> RequestBuilder
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        if self.inner.is_err() {
            return self;
        }
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.typed_body(Body::from(form), "application/x-www-form-urlencoded")
    }

    /// Sets the body to `value` as JSON, sent with `Content-Type: application/json` (unless a
    /// `Content-Type` header was set). A value that cannot be written as JSON (a map whose
    /// keys are not strings, say) makes [`build`](Self::build) fail with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use wayfarer_core::Request;
    ///
    /// let order = BTreeMap::from([("item", "tea"), ("size", "large")]);
    /// let request = Request::post("https://example.com/orders").json(&order).build()?;
    /// assert_eq!(request.body().content_type(), Some("application/json"));
    /// assert_eq!(request.body().len(), Some(r#"{"item":"tea","size":"large"}"#.len() as u64));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> RequestBuilder {
        if self.inner.is_err() {
            return self;
        }
        match serde_json::to_vec(value) {
            Ok(json) => self.typed_body(Body::from(json), "application/json"),
            Err(e) => {
                let why = format!("the request body cannot be written as JSON: {e}");
                self.inner = Err(Error::invalid_input(why));
                self
            }
        }
    }

    /// Sets the body with its media type (what `form` and `json` make), or keeps the error a
    /// media type that is not a valid field value gives.
    fn typed_body(mut self, body: Body, media_type: &str) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            match body.with_content_type(media_type) {
                Ok(body) => r.body = body,
                Err(e) => self.inner = Err(e),
            }
        }
        self
    }

    /// Declares that sending this request twice is harmless (or, with `false`, that it is not).
    ///
    /// After a connection failure that may have let the request reach the server (the server
    /// closed a pooled connection after reading it, say), only idempotent requests are sent
    /// again, so a POST is never silently duplicated (RFC 9110 section 9.2.2). A POST that
    /// carries an idempotency key can opt in:
    ///
    /// ```
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::post("https://example.com/pay")
    ///     .header("Idempotency-Key", "8e03978e")
    ///     .idempotent(true)
    ///     .body("amount=10")
    ///     .build()?;
    /// assert!(request.is_idempotent());
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn idempotent(mut self, idempotent: bool) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            r.idempotent = Some(idempotent);
        }
        self
    }

    /// How long the call of this request may take, from its start until the response body is
    /// read to its end, through redirects, retries and authentication; it replaces the client's
    /// [`call_timeout`](crate::ClientBuilder::call_timeout) for this request alone (as
    /// reqwest's `RequestBuilder::timeout` and OkHttp's `call.timeout()` do), longer or
    /// shorter. `Duration::ZERO` lifts the client's limit for this request. The connect, read
    /// and write timeouts still apply to each operation.
    ///
    /// When it passes, the call fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout),
    /// wherever it is, and its connection is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_core::Request;
    ///
    /// let request = Request::get("https://example.com/report")
    ///     .timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert_eq!(request.timeout(), Some(Duration::from_secs(30)));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> RequestBuilder {
        if let Ok(r) = &mut self.inner {
            r.timeout = Some(timeout);
        }
        self
    }

    /// The request, or the first error met while building it.
    pub fn build(self) -> Result<Request, Error> {
        self.inner
    }
}

/// Something that can be turned into a request URL: `&str`, `String`, or a parsed [`Url`].
///
/// Text is parsed by the `url` crate, which is one of the largest single costs of a keep-alive
/// call: about a fifth of the client's instructions for a small GET over a pooled connection
/// (`bench/FINDINGS.md` has the counts). Each thread remembers the last text it parsed, so
/// request after request built from the same text is answered with a copy of the same `Url`
/// (parsing is a pure function of the text: the result is identical). A loop that alternates
/// between URLs can parse each once and pass `&Url`, which is only copied:
///
/// ```
/// use wayfarer_core::{Request, Url};
///
/// let url = Url::parse("https://api.example.com/v1/status")?;
/// for _ in 0..3 {
///     let request = Request::get(&url).build()?;
///     assert_eq!(request.url(), &url);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IntoUrl: sealed::Sealed {
    /// Parses (if needed) and checks the URL, rewriting `ws`/`wss` to `http`/`https`.
    fn into_url(self) -> Result<Url, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for url::Url {}
    impl Sealed for &url::Url {}
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, Error> {
        crate::url_memo::parse_then(self, |parsed| {
            let url = parsed.map_err(|e| {
                let shown = crate::error::redact_unparsed(self);
                Error::invalid_input(format!("invalid URL {shown:?}: {e}"))
            })?;
            check_url(url)
        })
    }
}
impl IntoUrl for String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
}
impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, Error> {
        self.as_str().into_url()
    }
}
impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, Error> {
        check_url(self)
    }
}
impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, Error> {
        check_url(self.clone())
    }
}

fn check_url(mut url: Url) -> Result<Url, Error> {
    let rewrite = match url.scheme() {
        "http" | "https" => None,
        "ws" => Some("http"),
        "wss" => Some("https"),
        other => {
            return Err(Error::invalid_input(format!(
                "unsupported URL scheme {other:?}"
            )));
        }
    };
    if let Some(scheme) = rewrite {
        // ws/wss and http/https are all "special" schemes with the same default ports, so the
        // url crate allows the switch.
        url.set_scheme(scheme)
            .map_err(|()| Error::invalid_input("cannot rewrite WebSocket URL scheme"))?;
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(format!(
            "URL has no host: {}",
            crate::error::redact(&url)
        )));
    }
    encode_path_extras(&mut url);
    Ok(url)
}

/// Percent-encodes `^` and `|` in the path, as OkHttp does in path segments: the url crate
/// follows the WHATWG URL standard, which leaves them as they are, but RFC 3986 allows neither
/// in a path and strict servers refuse a request line that has them raw. The query is left
/// alone (OkHttp leaves these two there as well).
fn encode_path_extras(url: &mut Url) {
    let path = url.path();
    if !path.bytes().any(|b| b == b'^' || b == b'|') {
        return;
    }
    let encoded = path.replace('^', "%5E").replace('|', "%7C");
    url.set_path(&encoded);
}

impl<B: Into<Body>> TryFrom<http::Request<B>> for Request {
    type Error = Error;
    fn try_from(req: http::Request<B>) -> Result<Request, Error> {
        let (parts, body) = req.into_parts();
        let mut request = Request::new(parts.method, parts.uri.to_string())?;
        let headers = Headers::try_from(&parts.headers)?;
        // The URL's credentials stay unless the caller's headers carry their own.
        if !request.url_authorization || headers.contains("authorization") {
            request.headers = headers;
            request.url_authorization = false;
        } else {
            for (name, value) in headers.iter() {
                request.headers.append(name, value)?;
            }
        }
        request.body = body.into();
        Ok(request)
    }
}

impl From<Request> for http::Request<Body> {
    fn from(req: Request) -> http::Request<Body> {
        let mut out = http::Request::new(req.body);
        *out.method_mut() = req.method;
        // A url::Url that passed check_url is always a valid URI.
        if let Ok(uri) = req.url.as_str().parse() {
            *out.uri_mut() = uri;
        }
        *out.headers_mut() = http::HeaderMap::from(&req.headers);
        out
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
