//! Client configuration and its builder, with OkHttp's defaults.
//!
//! | setting | default |
//! |---|---|
//! | connect / read / write timeout | 10 s each |
//! | call timeout | none |
//! | wait for `100 Continue` before sending the body anyway | 1 s |
//! | idle connections kept | 5, for 5 minutes |
//! | [`max_response_head_bytes`](ClientBuilder::max_response_head_bytes): size of a response's heads, interim (1xx) ones included | 256 KiB |
//! | [`max_response_headers`](ClientBuilder::max_response_headers): fields in one head or trailer section | no limit of its own (the head's size bounds it) |
//! | [`max_interim_responses`](ClientBuilder::max_interim_responses): interim (1xx) responses before the final one | 16 |
//! | [`max_chunk_extension_bytes`](ClientBuilder::max_chunk_extension_bytes): one chunk-size line of a chunked body | 4 KiB |
//! | [`max_trailer_bytes`](ClientBuilder::max_trailer_bytes): a chunked body's trailer section | 256 KiB |
//! | `User-Agent` | `wayfarer/<version>` |
//! | trusted roots | the Mozilla set (webpki-roots) plus any added |
//!
//! A response over a limit fails the call with an [`ErrorKind::Protocol`](crate::ErrorKind)
//! error whose [`limit()`](Error::limit) names the [`Limit`] and whose message names the setting
//! to raise.
//!
//! Each runtime's `Client::builder()` returns a [`ClientBuilder`] for its own client type, so
//! every setting is written once, here, and reads the same in every runtime:
//!
//! ```
//! use std::time::Duration;
//! use wayfarer_core::Config;
//!
//! let config = Config::builder()
//!     .connect_timeout(Duration::from_secs(3))
//!     .read_timeout(None)                  // wait forever between reads
//!     .user_agent("my-app/1.0")
//!     .build()?;
//! assert_eq!(config.connect_timeout(), Some(Duration::from_secs(3)));
//! # Ok::<(), wayfarer_core::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::connection::InputClock;
use crate::{Error, EventListener};

/// Bounds on what a server may make the client read and keep, so that no response can make a
/// call buffer without bound or run forever. Set them with the [`ClientBuilder`]'s `max_*`
/// methods, whose docs give the defaults. A response over a limit fails with an error whose
/// [`Error::limit`] names it ([`Limit`](crate::Limit)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head in bytes: the status line and fields with their line ends, any
    /// empty lines before the status line, and every interim (1xx) head that came before the
    /// final one (`Limit::HeadBytes`). OkHttp counts the same way, with the same 256 KiB.
    pub max_head_bytes: usize,
    /// Most header fields in one response head or trailer section, if limited
    /// (`Limit::HeaderFields`). By default only the head's size limits them.
    pub max_headers: Option<usize>,
    /// Most interim (1xx) responses before the final one (`Limit::InterimResponses`).
    pub max_interim_responses: usize,
    /// Longest chunk-size line of a chunked body, without its line end: the size's hex digits
    /// and any chunk extensions (`Limit::ChunkExtension`). Extensions are skipped, never kept;
    /// the bound stops a server from stalling a body with an endless size line.
    pub max_chunk_extension_bytes: usize,
    /// Largest trailer section of a chunked body, in bytes (`Limit::TrailerBytes`).
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 256 * 1024,
            max_headers: None,
            max_interim_responses: 16,
            max_chunk_extension_bytes: 4 * 1024,
            max_trailer_bytes: 256 * 1024,
        }
    }
}

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
    pub(crate) user_agent: Option<Bytes>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) clock: InputClock,
    pub(crate) listener: Option<Arc<dyn EventListener>>,
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

    /// The event listener, if any; drivers hand it every [`Output::Event`](crate::Output::Event).
    pub fn event_listener(&self) -> Option<&Arc<dyn EventListener>> {
        self.listener.as_ref()
    }

    /// The rustls configuration used for HTTPS.
    pub fn tls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.tls
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
            .field("event_listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// A certificate to trust as a root, in addition to (or instead of) the built-in set.
#[derive(Clone, Debug)]
pub struct Certificate(CertificateDer<'static>);

impl Certificate {
    /// A DER-encoded certificate.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Certificate {
        Certificate(CertificateDer::from(der.into()))
    }

    /// Every certificate in a PEM file (a CA bundle may hold many).
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .map(|c| c.map(Certificate))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid_input(format!("invalid PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(Error::invalid_input("no certificate found in PEM input"));
        }
        Ok(certs)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0
    }
}

/// Builds a client of type `C` (a runtime's `Client`, or a bare [`Config`]).
pub struct ClientBuilder<C> {
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    expect_continue_timeout: Duration,
    limits: Limits,
    max_idle_connections: usize,
    keep_alive: Duration,
    user_agent: Option<Bytes>,
    roots: Vec<Certificate>,
    built_in_roots: bool,
    tls: Option<Arc<rustls::ClientConfig>>,
    listener: Option<Arc<dyn EventListener>>,
    error: Option<Error>,
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
            user_agent: Some(Bytes::from_static(
                concat!("wayfarer/", env!("CARGO_PKG_VERSION")).as_bytes(),
            )),
            roots: Vec::new(),
            built_in_roots: true,
            tls: None,
            listener: None,
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
    /// connecting and reading the body); `None` (the default) for no limit.
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

    /// The `User-Agent` sent when a request has none; an empty string sends none.
    pub fn user_agent(mut self, agent: &str) -> Self {
        if let Err(e) = crate::headers::validate_value("User-Agent", agent.as_bytes()) {
            self.error.get_or_insert(e);
        }
        self.user_agent = (!agent.is_empty()).then(|| Bytes::copy_from_slice(agent.as_bytes()));
        self
    }

    /// Trusts `certificate` as a root for HTTPS, in addition to the built-in roots.
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.roots.push(certificate);
        self
    }

    /// Whether to trust the built-in (Mozilla) roots; on by default.
    pub fn tls_built_in_roots(mut self, enabled: bool) -> Self {
        self.built_in_roots = enabled;
        self
    }

    /// Uses this rustls configuration for HTTPS instead of building one. Certificate validity is
    /// then checked against that configuration's own time provider, and the root settings above
    /// are ignored.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Receives every call's events.
    pub fn event_listener(mut self, listener: impl EventListener + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
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
        let clock = InputClock::default();
        let tls = match self.tls {
            Some(tls) => tls,
            None => build_tls(&self.roots, self.built_in_roots, &clock)?,
        };
        Ok(C::from(Config {
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            call_timeout: self.call_timeout,
            expect_continue_timeout: self.expect_continue_timeout,
            limits: self.limits,
            max_idle_connections: self.max_idle_connections,
            keep_alive: self.keep_alive,
            user_agent: self.user_agent,
            tls,
            clock,
            listener: self.listener,
        }))
    }
}

fn non_zero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

/// The default TLS setup: the ring provider (aws-lc-rs needs cmake to build), safe protocol
/// versions, the requested roots, ALPN offering http/1.1, and certificate time from the core's
/// input clock.
fn build_tls(
    extra: &[Certificate],
    built_in: bool,
    clock: &InputClock,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    if built_in {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for cert in extra {
        roots
            .add(cert.0.clone())
            .map_err(|e| Error::invalid_input(format!("invalid root certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_details(provider, Arc::new(clock.clone()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid_input(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_okhttp() {
        let c = Config::default();
        assert_eq!(c.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(c.read_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(c.write_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(c.call_timeout(), None);
        assert_eq!(c.max_idle_connections(), 5);
        assert_eq!(c.keep_alive(), Duration::from_secs(300));
        assert_eq!(c.tls_config().alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(c.user_agent.as_deref().unwrap().starts_with(b"wayfarer/"));
    }

    #[test]
    fn zero_timeouts_mean_none_and_bad_agents_fail() {
        let c = Config::builder()
            .read_timeout(Duration::ZERO)
            .build()
            .unwrap();
        assert_eq!(c.read_timeout(), None);
        assert!(Config::builder().user_agent("a\nb").build().is_err());
    }

    #[test]
    fn limits_default_to_real_server_sizes_and_are_kept_as_set() {
        let l = Config::default().limits();
        assert_eq!(l.max_head_bytes, 256 * 1024);
        assert_eq!(l.max_headers, None);
        assert_eq!(l.max_interim_responses, 16);
        assert_eq!(l.max_chunk_extension_bytes, 4096);
        assert_eq!(l.max_trailer_bytes, 256 * 1024);
        let l = Config::builder()
            .max_response_head_bytes(1 << 20)
            .max_response_headers(100_000)
            .max_interim_responses(0)
            .max_chunk_extension_bytes(10)
            .max_trailer_bytes(20)
            .build()
            .unwrap()
            .limits();
        assert_eq!(l.max_head_bytes, 1 << 20);
        assert_eq!(l.max_headers, Some(100_000), "no silent clamp");
        assert_eq!(l.max_interim_responses, 0);
        assert_eq!(l.max_chunk_extension_bytes, 10);
        assert_eq!(l.max_trailer_bytes, 20);
        let l = Config::builder()
            .max_response_headers(5)
            .max_response_headers(None)
            .build()
            .unwrap()
            .limits();
        assert_eq!(l.max_headers, None);
    }

    #[test]
    fn pem_bundles() {
        assert!(Certificate::from_pem_bundle(b"not pem").is_err());
    }
}
