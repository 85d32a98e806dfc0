//! The [`ClientBuilder`]'s TLS settings: trust, pins, client certificates, connection specs.

use std::sync::Arc;

use super::{Certificate, CertificatePinner, ConnectionSpec, PrivateKey};
use crate::ClientBuilder;

impl<C> ClientBuilder<C> {
    /// Trusts `certificate` as a root for HTTPS, in addition to the built-in roots.
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.tls.roots.push(certificate);
        self
    }

    /// Trusts each of `certificates` as a root, in addition to the built-in roots. With
    /// [`tls_built_in_roots(false)`](Self::tls_built_in_roots), this is how a client trusts the
    /// platform's roots instead of the Mozilla set: each runtime has a
    /// `platform_root_certificates()` that loads them (the core reads no files).
    pub fn add_root_certificates(
        mut self,
        certificates: impl IntoIterator<Item = Certificate>,
    ) -> Self {
        self.tls.roots.extend(certificates);
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
        self.tls.exact.push(certificate);
        self
    }

    /// Whether to trust the built-in (Mozilla) roots; on by default.
    pub fn tls_built_in_roots(mut self, enabled: bool) -> Self {
        self.tls.built_in_roots = enabled;
        self
    }

    /// Requires the verified certificate chain of pinned hosts to contain a pinned public key
    /// (see [`CertificatePinner`]). A pin failure fails the call with an
    /// [`ErrorKind::Tls`](crate::ErrorKind::Tls) error whose
    /// [`pinning_failure`](crate::Error::pinning_failure) lists the chain's keys and the pins;
    /// it is never retried. Replaces any pinner set before.
    pub fn certificate_pinner(mut self, pinner: CertificatePinner) -> Self {
        self.tls.pinner = pinner;
        self
    }

    /// Proves the client's identity with this certificate chain (its own certificate first)
    /// and private key when a server asks for a client certificate (mutual TLS). Building the
    /// client fails if the key is not the certificate's. A
    /// [`Handshake`](crate::Handshake)'s `local_certificates` say whether a server asked and
    /// the chain was sent. TLS session resumption is off for such a client, so that every
    /// handshake says so truthfully.
    pub fn client_certificate(mut self, chain: Vec<Certificate>, key: PrivateKey) -> Self {
        self.tls.client = Some((chain, key));
        self
    }

    /// Which connections the client may make (see [`ConnectionSpec`]): by default
    /// [`MODERN_TLS`](ConnectionSpec::MODERN_TLS) and
    /// [`CLEARTEXT`](ConnectionSpec::CLEARTEXT), as OkHttp. Without a TLS spec `https` URLs
    /// fail, without `CLEARTEXT` `http` URLs fail, before anything is sent (an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error).
    ///
    /// ```
    /// use wayfarer_core::{Config, ConnectionSpec};
    ///
    /// // HTTPS only, and older TLS 1.2 suites allowed.
    /// let config = Config::builder()
    ///     .connection_specs([ConnectionSpec::COMPATIBLE_TLS])
    ///     .build()?;
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn connection_specs(mut self, specs: impl IntoIterator<Item = ConnectionSpec>) -> Self {
        self.tls.specs = specs.into_iter().collect();
        self
    }

    /// **Dangerous**: accepts any server certificate, for any host, expired or not, from any
    /// issuer, with `true`. Anyone on the network path can then impersonate any server, read
    /// and change everything: the connection is encrypted, but to an unknown party. This is
    /// `curl -k`, for looking at a server whose certificate is broken; never use it in
    /// production. Certificate pins still apply, to the server's own certificate (whose key the
    /// server proves it holds). Off by default.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// Uses this rustls configuration for HTTPS instead of building one. Certificate validity is
    /// then checked against that configuration's own time provider, and the root and trusted
    /// certificate settings above are ignored; pins, a client certificate, accepting invalid
    /// certificates and TLS versions or suites from connection specs cannot be combined with
    /// it (set them in the configuration), and building fails if they are.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.custom = Some(config);
        self
    }
}
