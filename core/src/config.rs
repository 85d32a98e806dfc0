//! Client configuration and its builder, with OkHttp's defaults.
//!
//! | setting | default |
//! |---|---|
//! | connect / read / write timeout | 10 s each |
//! | call timeout | none |
//! | wait for `100 Continue` before sending the body anyway | 1 s |
//! | idle connections kept | 5, for 5 minutes |
//! | response head limit | 64 KiB, 128 fields, 16 interim responses |
//! | `User-Agent` | `wayfarer/<version>` |
//! | trusted roots | the Mozilla set (webpki-roots) plus any added |
//! | server certificates trusted as they are | none |
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
use crate::connection::exact_trust::ExactTrustVerifier;
use crate::http1::Limits;
use crate::{Error, EventListener};

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

/// A certificate to trust: as a root, in addition to (or instead of) the built-in set
/// ([`ClientBuilder::add_root_certificate`]), or as a server's own certificate
/// ([`ClientBuilder::add_trusted_server_certificate`]).
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
    exact: Vec<Certificate>,
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
            exact: Vec::new(),
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

    /// Largest response head accepted, in bytes.
    pub fn max_response_head_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_head_bytes = bytes.max(16);
        self
    }

    /// Most header fields accepted in a response head (at most 1024).
    pub fn max_response_headers(mut self, count: usize) -> Self {
        self.limits.max_headers = count.clamp(1, crate::http1::head::MAX_HEADERS_CAP);
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

    /// Trusts a server that presents exactly this certificate, with no chain to a root: the
    /// usual self-signed certificate (which `openssl req -x509` marks as a CA, so it cannot be a
    /// root for itself), or a leaf the server's operator handed out. The certificate must still
    /// name the host and be within its validity dates (checked against the time the driver gives
    /// the core). Other certificates are checked against the roots as usual.
    ///
    /// ```
    /// use wayfarer_core::{Certificate, Config};
    ///
    /// # // A stand-in for a file made by `openssl req -x509 -subj /CN=localhost ...`.
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    /// # let pem = params.self_signed(&key)?.pem().into_bytes();
    /// // pem: the server's own certificate
    /// let mut builder = Config::builder().tls_built_in_roots(false);
    /// for cert in Certificate::from_pem_bundle(&pem)? {
    ///     builder = builder.add_trusted_server_certificate(cert);
    /// }
    /// let config = builder.build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_trusted_server_certificate(mut self, certificate: Certificate) -> Self {
        self.exact.push(certificate);
        self
    }

    /// Whether to trust the built-in (Mozilla) roots; on by default.
    pub fn tls_built_in_roots(mut self, enabled: bool) -> Self {
        self.built_in_roots = enabled;
        self
    }

    /// Uses this rustls configuration for HTTPS instead of building one. Certificate validity is
    /// then checked against that configuration's own time provider, and the root and trusted
    /// certificate settings above are ignored.
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
            None => build_tls(&self.roots, &self.exact, self.built_in_roots, &clock)?,
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
/// versions, the requested roots (and exactly trusted certificates), ALPN offering http/1.1, and
/// certificate time from the core's input clock.
fn build_tls(
    extra: &[Certificate],
    exact: &[Certificate],
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
    let builder =
        rustls::ClientConfig::builder_with_details(provider.clone(), Arc::new(clock.clone()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::invalid_input(format!("TLS configuration: {e}")))?;
    let builder = if exact.is_empty() {
        builder.with_root_certificates(roots)
    } else {
        let exact = exact.iter().map(|c| c.0.clone()).collect();
        let verifier = ExactTrustVerifier::new(roots, exact, &provider)
            .map_err(|e| Error::invalid_input(format!("TLS configuration: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    };
    let mut config = builder.with_no_client_auth();
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
    fn pem_bundles() {
        assert!(Certificate::from_pem_bundle(b"not pem").is_err());
    }
}
