//! A client's settings ([`Config`]) and their builder ([`ClientBuilder`]), with OkHttp's defaults.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::connection::TlsIdentity;
use crate::cookies::{CookieJar, JarCookiesWithOwn};
use crate::events::SharedListener;
use crate::interceptor::{InterceptorSlot, IntoInterceptor, SlotKind};
use crate::tls::settings::{ConnectionTls, TlsPolicy, TlsSettings};
use crate::tls::{CertificatePinner, ConnectionSpec};
use crate::{Authenticator, Cache, Dns, Error, EventListener, EventListenerFactory, Headers};

/// What a derived client shares with the client it came from (a runtime's pool and
/// dispatcher), carried opaquely from [`ClientBuilder::derive`] to the runtime's client.
pub type SharedState = Arc<dyn Any + Send + Sync>;

mod cookies;
mod default_headers;
mod limits;

pub(crate) use default_headers::apply as apply_default_headers;

pub use limits::Limits;

/// A client's settings, fixed when the client is built.
#[derive(Clone)]
pub struct Config {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) expect_continue_timeout: Duration,
    pub(crate) limits: Limits,
    pub(crate) max_idle_connections: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) max_requests: usize,
    pub(crate) max_requests_per_host: usize,
    pub(crate) dns: Option<Arc<dyn Dns>>,
    pub(crate) user_agent: Option<Bytes>,
    default_headers: Headers,
    pub(crate) tls: TlsPolicy,
    /// What `tls` was built from, so a derived builder starts from it.
    tls_settings: TlsSettings,
    /// The state a derived client shares with its origin, until the runtime takes it.
    base: Option<SharedState>,
    pub(crate) listener: Option<Arc<dyn EventListenerFactory>>,
    pub(crate) follow_redirects: bool,
    pub(crate) follow_ssl_redirects: bool,
    pub(crate) retry_on_connection_failure: bool,
    pub(crate) max_follow_ups: u32,
    pub(crate) transparent_gzip: bool,
    pub(crate) max_decompressed_bytes: Option<u64>,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) cookie_jar: Option<Arc<dyn CookieJar>>,
    pub(crate) jar_cookies_with_own: JarCookiesWithOwn,
    pub(crate) interceptors: Vec<InterceptorSlot>,
    pub(crate) network_interceptors: Vec<InterceptorSlot>,
    pub(crate) cache: Option<Cache>,
    pub(crate) routing: crate::proxy::Routing,
}

impl Config {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder<Config> {
        ClientBuilder::new()
    }

    /// Timeout for establishing a TCP connection (per address tried).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Longest wait for bytes from the server.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// Longest wait for the socket to accept bytes.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    /// Deadline for a whole call, including reading the body.
    pub fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// The response limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Most idle connections kept in the pool.
    pub fn max_idle_connections(&self) -> usize {
        self.max_idle_connections
    }

    /// How long an idle connection is kept.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// Most calls the dispatcher runs at once.
    pub fn max_requests(&self) -> usize {
        self.max_requests
    }

    /// Most calls the dispatcher runs at once to one host.
    pub fn max_requests_per_host(&self) -> usize {
        self.max_requests_per_host
    }

    /// The resolver set with [`ClientBuilder::dns`], if any (else the runtime's system
    /// resolver).
    pub fn dns(&self) -> Option<&Arc<dyn Dns>> {
        self.dns.as_ref()
    }

    /// How long the system resolver's answers are reused; `None` when they are not (a zero
    /// [`dns_cache_ttl`](ClientBuilder::dns_cache_ttl), or a resolver set with
    /// [`dns`](ClientBuilder::dns)).
    pub fn dns_cache_ttl(&self) -> Option<Duration> {
        self.routing
            .dns_cache
            .is_some()
            .then_some(self.routing.dns_cache_ttl)
    }

    /// Takes the state this configuration's client shares with the client it was derived
    /// from ([`ClientBuilder::derive`]); a runtime calls this once, when it builds the client.
    pub fn take_shared_state(&mut self) -> Option<SharedState> {
        self.base.take()
    }

    /// The event listener factory, if any: drivers make each call's listener with it and hand
    /// that listener every [`Output::Event`](crate::Output::Event).
    pub fn event_listener_factory(&self) -> Option<&Arc<dyn EventListenerFactory>> {
        self.listener.as_ref()
    }

    /// Whether redirects are followed.
    pub fn follow_redirects(&self) -> bool {
        self.follow_redirects
    }

    /// Whether redirects between `https` and `http` are followed.
    pub fn follow_ssl_redirects(&self) -> bool {
        self.follow_ssl_redirects
    }

    /// Whether a request is sent again after a connection failure (when that is safe).
    pub fn retry_on_connection_failure(&self) -> bool {
        self.retry_on_connection_failure
    }

    /// Most follow-ups per call.
    pub fn max_follow_ups(&self) -> u32 {
        self.max_follow_ups
    }

    /// Whether gzip bodies are asked for and decoded transparently.
    pub fn gzip(&self) -> bool {
        self.transparent_gzip
    }

    /// How many application (or, with `network`, network) interceptors there are.
    pub fn interceptor_count(&self, network: bool) -> usize {
        if network {
            self.network_interceptors.len()
        } else {
            self.interceptors.len()
        }
    }

    /// The runtime interceptor at `index` among the application (or network, with `network`)
    /// interceptors, if it is a runtime's own (see [`InterceptorSlot::external`]).
    pub fn external_interceptor(
        &self,
        network: bool,
        index: usize,
    ) -> Option<&Arc<dyn std::any::Any + Send + Sync>> {
        let list = if network {
            &self.network_interceptors
        } else {
            &self.interceptors
        };
        match &list.get(index)?.0 {
            SlotKind::External(x) => Some(x),
            SlotKind::Core(_) => None,
        }
    }

    /// The rustls configuration for a connection whose handshake starts at `wall` (see
    /// `TlsPolicy::for_connection`).
    pub(crate) fn tls_for_connection(
        &self,
        wall: std::time::SystemTime,
        port: u16,
    ) -> ConnectionTls {
        self.tls.for_connection(wall, port)
    }

    /// The rustls configuration used for HTTPS.
    pub fn tls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.tls.config
    }

    /// The identity of the TLS settings, which every `https` [`Address`](crate::Address) of
    /// this client carries: pooled connections are only shared between clients whose TLS
    /// settings are the same.
    pub fn tls_identity(&self) -> &TlsIdentity {
        &self.tls.identity
    }

    /// The connection specs: which TLS versions and suites are offered, and whether `http`
    /// and `https` are allowed at all.
    pub fn connection_specs(&self) -> &[ConnectionSpec] {
        &self.tls.specs
    }

    /// The certificate pins.
    pub fn certificate_pinner(&self) -> &CertificatePinner {
        &self.tls.pinner
    }

    /// Whether server certificates go unverified
    /// ([`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs)).
    pub fn accepts_invalid_certs(&self) -> bool {
        self.tls.accept_invalid_certs
    }

    /// Whether the connection specs allow this URL scheme: `https` needs a TLS spec, `http`
    /// the cleartext one.
    pub(crate) fn allows_scheme(&self, tls: bool) -> bool {
        if tls {
            self.tls.offer.tls()
        } else {
            self.tls.offer.cleartext
        }
    }

    /// The HTTP cache, if the client has one.
    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }
}

impl Default for Config {
    fn default() -> Config {
        // The defaults use no caller input, so building them cannot fail.
        Config::builder()
            .build()
            .unwrap_or_else(|e| panic!("default configuration is invalid: {e}"))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("expect_continue_timeout", &self.expect_continue_timeout)
            .field("limits", &self.limits)
            .field("max_idle_connections", &self.max_idle_connections)
            .field("keep_alive", &self.keep_alive)
            .field("default_headers", &self.default_headers)
            .field("event_listener", &self.listener.is_some())
            .field("follow_redirects", &self.follow_redirects)
            .field("follow_ssl_redirects", &self.follow_ssl_redirects)
            .field(
                "retry_on_connection_failure",
                &self.retry_on_connection_failure,
            )
            .field("max_follow_ups", &self.max_follow_ups)
            .field("gzip", &self.transparent_gzip)
            .field("jar_cookies_with_own", &self.jar_cookies_with_own)
            .field("interceptors", &self.interceptors)
            .field("network_interceptors", &self.network_interceptors)
            .field("cache", &self.cache)
            .field("routing", &self.routing)
            .finish_non_exhaustive()
    }
}

/// Builds a client of type `C` (a runtime's `Client`, or a bare [`Config`]).
///
/// # Defaults (OkHttp's)
///
/// | setting | default |
/// |---|---|
/// | connect / read / write timeout | 10 s each |
/// | call timeout | none |
/// | wait for `100 Continue` before sending the body anyway | 1 s |
/// | idle connections kept | 5, for 5 minutes |
/// | calls run at once by the dispatcher ([`max_requests`](ClientBuilder::max_requests)) | 64, at most 5 per host |
/// | name resolution ([`dns`](ClientBuilder::dns)) | the system resolver |
/// | [`dns_cache_ttl`](ClientBuilder::dns_cache_ttl): how long the system resolver's answers are reused | 30 s |
/// | [`max_response_head_bytes`](ClientBuilder::max_response_head_bytes): size of a response's heads, interim (1xx) ones included | 256 KiB |
/// | [`max_response_headers`](ClientBuilder::max_response_headers): fields in one head or trailer section | no limit of its own (the head's size bounds it) |
/// | [`max_interim_responses`](ClientBuilder::max_interim_responses): interim (1xx) responses before the final one | 16 |
/// | [`max_chunk_extension_bytes`](ClientBuilder::max_chunk_extension_bytes): one chunk-size line of a chunked body | 4 KiB |
/// | [`max_trailer_bytes`](ClientBuilder::max_trailer_bytes): a chunked body's trailer section | 256 KiB |
/// | `User-Agent` | `wayfarer/<version>` |
/// | [`default_header`](ClientBuilder::default_header)s sent with every request | none |
/// | trusted roots | the Mozilla set (webpki-roots) plus any added |
/// | [`connection_specs`](ClientBuilder::connection_specs) | TLS 1.3 and 1.2 with modern suites, and plaintext `http` |
/// | [`certificate_pinner`](ClientBuilder::certificate_pinner), [`client_certificate`](ClientBuilder::client_certificate) | none |
/// | [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs) | no: certificates are verified |
/// | server certificates trusted as they are | none |
/// | follow redirects, also between `https` and `http` | yes, both |
/// | follow-ups (redirects, challenges, 408/503 retries) per call | at most 20 |
/// | retry on connection failure | yes (idempotent requests, see [`RequestBuilder::idempotent`](crate::RequestBuilder::idempotent)) |
/// | transparent gzip | yes, decoded to at most 1 GiB per body |
/// | authenticator, cookie jar, interceptors | none (no cookies are kept or sent without a jar) |
/// | [`jar_cookies_with_own`](ClientBuilder::jar_cookies_with_own): the jar's cookies with a request's own `Cookie` field | withheld: the request's field goes alone |
/// | [HTTP cache](ClientBuilder::cache) | none |
///
/// A response over a limit fails the call with an [`ErrorKind::Protocol`](crate::ErrorKind)
/// error whose [`limit()`](Error::limit) names the [`Limit`](crate::Limit) and whose message names the setting
/// to raise.
///
/// Each runtime's `Client::builder()` returns a [`ClientBuilder`] for its own client type, so
/// every setting is written once, here, and reads the same in every runtime:
///
/// ```
/// use std::time::Duration;
/// use wayfarer_core::Config;
///
/// let config = Config::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .read_timeout(None)                  // wait forever between reads
///     .user_agent("my-app/1.0")
///     .build()?;
/// assert_eq!(config.connect_timeout(), Some(Duration::from_secs(3)));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub struct ClientBuilder<C> {
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    expect_continue_timeout: Duration,
    limits: Limits,
    max_idle_connections: usize,
    keep_alive: Duration,
    max_requests: usize,
    max_requests_per_host: usize,
    dns: Option<Arc<dyn Dns>>,
    user_agent: Option<Bytes>,
    default_headers: Headers,
    pub(crate) tls: TlsSettings,
    listener: Option<Arc<dyn EventListenerFactory>>,
    follow_redirects: bool,
    follow_ssl_redirects: bool,
    retry_on_connection_failure: bool,
    max_follow_ups: u32,
    transparent_gzip: bool,
    max_decompressed_bytes: Option<u64>,
    authenticator: Option<Arc<dyn Authenticator>>,
    cookie_jar: Option<Arc<dyn CookieJar>>,
    jar_cookies_with_own: JarCookiesWithOwn,
    interceptors: Vec<InterceptorSlot>,
    network_interceptors: Vec<InterceptorSlot>,
    base: Option<SharedState>,
    cache: Option<Cache>,
    pub(crate) routing: crate::proxy::Routing,
    pub(crate) error: Option<Error>,
    target: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder").finish_non_exhaustive()
    }
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> ClientBuilder<C> {
    /// A builder with the defaults.
    pub fn new() -> ClientBuilder<C> {
        ClientBuilder {
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(10)),
            write_timeout: Some(Duration::from_secs(10)),
            call_timeout: None,
            expect_continue_timeout: Duration::from_secs(1),
            limits: Limits::default(),
            max_idle_connections: 5,
            keep_alive: Duration::from_secs(300),
            max_requests: 64,
            max_requests_per_host: 5,
            dns: None,
            user_agent: Some(Bytes::from_static(
                concat!("wayfarer/", env!("CARGO_PKG_VERSION")).as_bytes(),
            )),
            default_headers: Headers::new(),
            tls: TlsSettings::default(),
            listener: None,
            follow_redirects: true,
            follow_ssl_redirects: true,
            retry_on_connection_failure: true,
            max_follow_ups: 20,
            transparent_gzip: true,
            max_decompressed_bytes: Some(1 << 30),
            authenticator: None,
            cookie_jar: None,
            jar_cookies_with_own: JarCookiesWithOwn::Withheld,
            interceptors: Vec::new(),
            network_interceptors: Vec::new(),
            base: None,
            cache: None,
            routing: crate::proxy::Routing::default(),
            error: None,
            target: PhantomData,
        }
    }

    /// A builder pre-filled with `config` whose client shares `state` with the client
    /// `config` came from: what each runtime's `Client::new_builder()` returns (OkHttp's
    /// `newBuilder()`), so the derived client keeps the original's connection pool and
    /// dispatcher. Changing the pool settings ([`max_idle_connections`](Self::max_idle_connections),
    /// [`keep_alive`](Self::keep_alive)) or the dispatcher limits ([`max_requests`](Self::max_requests),
    /// [`max_requests_per_host`](Self::max_requests_per_host)) gives the derived client a pool
    /// or dispatcher of its own instead, as passing OkHttp's builder a new one does.
    pub fn derive(config: &Config, state: SharedState) -> ClientBuilder<C> {
        let config = config.clone();
        ClientBuilder {
            connect_timeout: config.connect_timeout,
            read_timeout: config.read_timeout,
            write_timeout: config.write_timeout,
            call_timeout: config.call_timeout,
            expect_continue_timeout: config.expect_continue_timeout,
            limits: config.limits,
            max_idle_connections: config.max_idle_connections,
            keep_alive: config.keep_alive,
            max_requests: config.max_requests,
            max_requests_per_host: config.max_requests_per_host,
            dns: config.dns,
            user_agent: config.user_agent,
            default_headers: config.default_headers,
            tls: config.tls_settings,
            listener: config.listener,
            follow_redirects: config.follow_redirects,
            follow_ssl_redirects: config.follow_ssl_redirects,
            retry_on_connection_failure: config.retry_on_connection_failure,
            max_follow_ups: config.max_follow_ups,
            transparent_gzip: config.transparent_gzip,
            max_decompressed_bytes: config.max_decompressed_bytes,
            authenticator: config.authenticator,
            cookie_jar: config.cookie_jar,
            jar_cookies_with_own: config.jar_cookies_with_own,
            interceptors: config.interceptors,
            network_interceptors: config.network_interceptors,
            base: Some(state),
            cache: config.cache,
            routing: config.routing,
            error: None,
            target: PhantomData,
        }
    }

    /// Timeout for each TCP connect attempt; `None` waits as long as the OS does.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = non_zero(timeout.into());
        self
    }

    /// Longest wait for bytes from the server; `None` waits forever.
    ///
    /// The wait starts when a read finds nothing to return and ends when bytes arrive. On the
    /// async runtimes a read the caller gives up on (its future dropped, say by a `select!`
    /// that took another branch) does not end it: a later read still counts from that first
    /// wait, so a server silent for longer than the timeout fails the next read at once, and a
    /// loop that keeps making new read futures cannot keep a silent server alive for ever.
    pub fn read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = non_zero(timeout.into());
        self
    }

    /// Longest wait for the socket to accept bytes; `None` waits forever.
    pub fn write_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.write_timeout = non_zero(timeout.into());
        self
    }

    /// Deadline for each whole call, from start to the end of the response body (including
    /// connecting and reading the body); `None` (the default) for no limit. A request can
    /// replace it for its own call with [`RequestBuilder::timeout`](crate::RequestBuilder::timeout).
    pub fn call_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.call_timeout = non_zero(timeout.into());
        self
    }

    /// With `Expect: 100-continue`, how long to wait for the server's `100 Continue` before
    /// sending the body anyway (servers that ignore the header would otherwise hang the call).
    pub fn expect_continue_timeout(mut self, timeout: Duration) -> Self {
        self.expect_continue_timeout = timeout;
        self
    }

    /// Largest response head accepted, in bytes, counting every interim (1xx) head before the
    /// final one. Default 256 KiB.
    pub fn max_response_head_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_head_bytes = bytes;
        self
    }

    /// Most header fields accepted in one response head or trailer section; `None` (the
    /// default) leaves them bounded only by the head's size.
    pub fn max_response_headers(mut self, count: impl Into<Option<usize>>) -> Self {
        self.limits.max_headers = count.into();
        self
    }

    /// Most interim (1xx) responses skipped before the final one. Default 16.
    pub fn max_interim_responses(mut self, count: usize) -> Self {
        self.limits.max_interim_responses = count;
        self
    }

    /// Longest chunk-size line (size and chunk extensions) accepted in a chunked response body,
    /// in bytes. Default 4 KiB.
    pub fn max_chunk_extension_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_chunk_extension_bytes = bytes;
        self
    }

    /// Largest trailer section accepted after a chunked response body, in bytes. Default
    /// 256 KiB.
    pub fn max_trailer_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_trailer_bytes = bytes;
        self
    }

    /// Most idle connections kept in the pool (0 disables reuse).
    pub fn max_idle_connections(mut self, count: usize) -> Self {
        self.max_idle_connections = count;
        self
    }

    /// How long an idle connection is kept in the pool.
    pub fn keep_alive(mut self, duration: Duration) -> Self {
        self.keep_alive = duration;
        self
    }

    /// Most calls the dispatcher runs at once (OkHttp's `maxRequests`, default 64; at least 1).
    /// Calls run with `execute` count as running but are never held back.
    pub fn max_requests(mut self, max: usize) -> Self {
        if max < 1 {
            self.error = Some(Error::invalid_input(format!("max requests < 1: {max}")));
        }
        self.max_requests = max;
        self
    }

    /// Most calls the dispatcher runs at once to one host name (OkHttp's
    /// `maxRequestsPerHost`, default 5; at least 1).
    pub fn max_requests_per_host(mut self, max: usize) -> Self {
        if max < 1 {
            self.error = Some(Error::invalid_input(format!(
                "max requests per host < 1: {max}"
            )));
        }
        self.max_requests_per_host = max;
        self
    }

    /// Resolves host names with `dns` instead of the system resolver (OkHttp's `dns`). The
    /// runtimes call it off the call's own thread or task (a worker thread, a blocking-task
    /// pool), so a slow lookup can be canceled.
    pub fn dns(mut self, dns: impl Dns + 'static) -> Self {
        self.dns = Some(Arc::new(dns));
        self.routing.dns_identity = None;
        self
    }

    /// The `User-Agent` sent when a request has none; an empty string sends none.
    pub fn user_agent(mut self, agent: &str) -> Self {
        if let Err(e) = crate::headers::validate_value("User-Agent", agent.as_bytes()) {
            self.error.get_or_insert(e);
        }
        self.user_agent = (!agent.is_empty()).then(|| Bytes::copy_from_slice(agent.as_bytes()));
        self
    }

    /// Receives every call's events (one listener shared by all calls).
    pub fn event_listener(mut self, listener: impl EventListener + 'static) -> Self {
        self.listener = Some(Arc::new(SharedListener(Arc::new(listener))));
        self
    }

    /// Makes a listener for each call (for listeners with per-call state).
    pub fn event_listener_factory(mut self, factory: impl EventListenerFactory + 'static) -> Self {
        self.listener = Some(Arc::new(factory));
        self
    }

    /// Whether to follow redirects (on by default, as in OkHttp). Off, a 3xx is returned as it
    /// is.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// Whether to follow redirects from `https` to `http` and back (on by default, as in
    /// OkHttp).
    pub fn follow_ssl_redirects(mut self, follow: bool) -> Self {
        self.follow_ssl_redirects = follow;
        self
    }

    /// Whether to send a request again after a connection failure when that is safe (on by
    /// default): a pooled connection the server closed while idle, a 408. Never for a request
    /// that may have reached the server unless it is idempotent.
    pub fn retry_on_connection_failure(mut self, retry: bool) -> Self {
        self.retry_on_connection_failure = retry;
        self
    }

    /// Most follow-up requests (redirects, answered challenges, 408/503 retries) per call; 20
    /// by default, as in OkHttp. One more fails the call with
    /// [`ErrorKind::TooManyFollowUps`](crate::ErrorKind::TooManyFollowUps).
    pub fn max_follow_ups(mut self, max: u32) -> Self {
        self.max_follow_ups = max;
        self
    }

    /// Whether to ask for gzip and decode it transparently when the request sets neither
    /// `Accept-Encoding` nor `Range` (on by default, as in OkHttp).
    pub fn gzip(mut self, enabled: bool) -> Self {
        self.transparent_gzip = enabled;
        self
    }

    /// Most bytes a transparently decoded gzip body may decode to (1 GiB by default; `None`
    /// for no limit). Decoding streams with bounded memory whatever the ratio; this turns a
    /// decompression bomb into an error instead of an endless body.
    pub fn max_decompressed_bytes(mut self, max: impl Into<Option<u64>>) -> Self {
        self.max_decompressed_bytes = max.into();
        self
    }

    /// Answers `401 Unauthorized` challenges (none by default: a 401 is returned as it is).
    pub fn authenticator(mut self, authenticator: impl Authenticator + 'static) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Adds an application interceptor: it sees the caller's request and the final response
    /// (see [`Interceptor`](crate::Interceptor)). Interceptors run in the order added.
    pub fn interceptor(mut self, interceptor: impl IntoInterceptor<C>) -> Self {
        self.interceptors.push(interceptor.into_slot());
        self
    }

    /// Adds a network interceptor: it sees each request as sent on the wire and each network
    /// response (see [`Interceptor`](crate::Interceptor)).
    pub fn network_interceptor(mut self, interceptor: impl IntoInterceptor<C>) -> Self {
        self.network_interceptors.push(interceptor.into_slot());
        self
    }

    /// Caches responses in `cache`, as OkHttp's cache does (RFC 9111): a fresh stored response
    /// answers a request without the network, a stale one is revalidated with the origin
    /// (`If-None-Match`, `If-Modified-Since`), and a response that may be stored is written to
    /// the cache as the caller reads its body (kept only if the body is read to its end).
    /// Unsafe methods (POST, PUT, DELETE, ...) invalidate what is stored for their URL. Off by
    /// default.
    ///
    /// Keep a clone of the handle to read its statistics or manage it. Each runtime opens a
    /// disk cache with `Cache::new(directory, max_size)`: when that fails (the directory cannot
    /// be created, read or written), it says so in its error; report it and build the client
    /// without a cache, which then makes every request over the network:
    ///
    /// ```
    /// use wayfarer_core::{Cache, CacheControl, Config, Request};
    ///
    /// // A runtime's `Cache::new(dir, max)` gives a disk cache; this one lives in memory.
    /// let opened: Result<Cache, wayfarer_core::Error> = Ok(Cache::in_memory(50 << 20));
    /// let builder = Config::builder();
    /// let builder = match opened {
    ///     Ok(cache) => builder.cache(cache),
    ///     Err(e) => {
    ///         eprintln!("no HTTP cache: {e}");
    ///         builder
    ///     }
    /// };
    /// let config = builder.build()?;
    /// assert!(config.cache().is_some());
    ///
    /// // A request can still insist on the network, or on the cache alone.
    /// let fresh = Request::get("https://example.com/")
    ///     .cache_control(CacheControl::FORCE_NETWORK)
    ///     .build()?;
    /// assert_eq!(fresh.header("cache-control"), Some("no-cache"));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn cache(mut self, cache: impl Into<Cache>) -> Self {
        self.cache = Some(cache.into());
        self
    }

    /// Validates the settings and builds the client.
    pub fn build(self) -> Result<C, Error>
    where
        C: From<Config>,
    {
        if let Some(e) = self.error {
            return Err(e);
        }
        let tls = self.tls.build()?;
        // A derived client keeps the route database it shares with the client it came from.
        let mut routing = if self.base.is_some() {
            self.routing
        } else {
            crate::proxy::routing::build(self.routing)
        };
        routing.settle_dns_cache(self.dns.is_none());
        if self.dns.is_none() && routing.dns_overrides.is_none() {
            routing.dns_identity = None;
        } else if routing.dns_identity.is_none() {
            routing.dns_identity = Some(crate::proxy::routing::next_dns_identity());
        }
        Ok(C::from(Config {
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            call_timeout: self.call_timeout,
            expect_continue_timeout: self.expect_continue_timeout,
            limits: self.limits,
            max_idle_connections: self.max_idle_connections,
            keep_alive: self.keep_alive,
            max_requests: self.max_requests,
            max_requests_per_host: self.max_requests_per_host,
            dns: self.dns,
            user_agent: self.user_agent,
            default_headers: self.default_headers,
            tls,
            tls_settings: self.tls,
            base: self.base,
            listener: self.listener,
            follow_redirects: self.follow_redirects,
            follow_ssl_redirects: self.follow_ssl_redirects,
            retry_on_connection_failure: self.retry_on_connection_failure,
            max_follow_ups: self.max_follow_ups,
            transparent_gzip: self.transparent_gzip,
            max_decompressed_bytes: self.max_decompressed_bytes,
            authenticator: self.authenticator,
            cookie_jar: self.cookie_jar,
            jar_cookies_with_own: self.jar_cookies_with_own,
            interceptors: self.interceptors,
            network_interceptors: self.network_interceptors,
            cache: self.cache,
            routing,
        }))
    }
}

fn non_zero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
