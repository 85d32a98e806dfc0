//! A throwaway PKI, generated fresh by every test run.
//!
//! TLS tests need certificates that a client trusts, and ones that it must reject for each of the
//! reasons that matter (wrong name, expired, unknown issuer). Checked-in certificates expire and
//! checked-in keys leak into every fork, so everything here is made with rcgen at test time: a CA,
//! and one leaf per [`Leaf`] kind.
//!
//! All rustls configurations built here name the ring provider explicitly instead of installing a
//! process-wide default, so that tests running in parallel in one process never race over which
//! provider is installed, and so that wayfarer's own code is free to make its own choice.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The common name of the trusted test CA, so that error messages and dumps are recognisable.
pub const CA_NAME: &str = "wayfarer test CA";

/// The only DNS name that [`Leaf::WrongHost`] is valid for.
pub const WRONG_HOST: &str = "wrong.example";

/// The ALPN protocol every configuration here offers: wayfarer speaks HTTP/1.1 only.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Which leaf certificate a test server presents.
///
/// Each variant is a leaf that a client trusting only [`TestPki::ca_der`] must treat in one
/// specific way, so a test can pick the failure it wants to provoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// Signed by the CA, valid now, for DNS `localhost` and IP `127.0.0.1`: must be accepted.
    Valid,
    /// Signed by the CA and valid now, but only for `wrong.example`: must be rejected as not valid
    /// for the name when the client connects to `localhost` or `127.0.0.1`.
    WrongHost,
    /// Signed by the CA for `localhost` and `127.0.0.1`, but its validity ended a year ago: must be
    /// rejected as expired.
    Expired,
    /// Valid now for `localhost` and `127.0.0.1`, but signed by a different CA that the client does
    /// not trust: must be rejected as having an unknown issuer.
    UntrustedIssuer,
}

impl Leaf {
    /// Every leaf kind, for tests that go through all of them.
    pub const ALL: [Leaf; 4] = [
        Leaf::Valid,
        Leaf::WrongHost,
        Leaf::Expired,
        Leaf::UntrustedIssuer,
    ];

    fn index(self) -> usize {
        match self {
            Leaf::Valid => 0,
            Leaf::WrongHost => 1,
            Leaf::Expired => 2,
            Leaf::UntrustedIssuer => 3,
        }
    }
}

/// One issued leaf: its certificate and its private key, in the encodings callers need.
#[derive(Clone)]
struct IssuedLeaf {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_pkcs8_der: Vec<u8>,
    key_pem: String,
    /// `sha256/<base64>` of the key's SubjectPublicKeyInfo, as rcgen encodes it.
    pin: String,
}

/// `sha256/<base64>` of a key's SubjectPublicKeyInfo, computed from rcgen's encoding of the key
/// (not from the certificate), so that tests of pinning do not check the client's extraction of
/// keys from certificates against itself.
pub fn pin_of(key: &impl PublicKeyData) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info());
    format!(
        "sha256/{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// A test CA and one leaf of each [`Leaf`] kind, generated at test time.
///
/// Generating one takes a few milliseconds (six P-256 keys), so tests may simply make their own.
#[derive(Clone)]
pub struct TestPki {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    ca_pin: String,
    untrusted_ca_der: CertificateDer<'static>,
    untrusted_ca_pin: String,
    leaves: [IssuedLeaf; 4],
    client: IssuedLeaf,
}

impl fmt::Debug for TestPki {
    // Four PEM certificates and keys would drown any assertion message that prints a TestPki.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki")
            .field("ca", &CA_NAME)
            .field("leaves", &Leaf::ALL)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Generates the CA and all leaves.
    ///
    /// Validity windows are relative to the current time so the PKI never goes stale: the CA and
    /// the current leaves start one day ago (tolerating clock skew) and the leaves end in 30 days;
    /// the expired leaf covered from two years ago to one year ago.
    ///
    /// # Panics
    ///
    /// If rcgen fails to generate a key or sign a certificate, which only a broken build of rcgen
    /// or ring can cause; there is nothing a test could do about it but fail.
    pub fn generate() -> TestPki {
        let now = now();
        let ca = new_ca(CA_NAME, now);
        let untrusted_ca = new_ca("wayfarer untrusted test CA", now);
        let local = ["localhost", "127.0.0.1"];

        let valid = issue(&ca, &local, now - DAY, now + 30 * DAY);
        let wrong_host = issue(&ca, &[WRONG_HOST], now - DAY, now + 30 * DAY);
        let expired = issue(&ca, &local, now - 730 * DAY, now - 365 * DAY);
        let untrusted = issue(&untrusted_ca, &local, now - DAY, now + 30 * DAY);
        let client = issue_for(
            &ca,
            &[CLIENT_NAME],
            ExtendedKeyUsagePurpose::ClientAuth,
            now - DAY,
            now + 30 * DAY,
        );

        TestPki {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            ca_pin: pin_of(ca.key()),
            untrusted_ca_der: untrusted_ca.der().clone(),
            untrusted_ca_pin: pin_of(untrusted_ca.key()),
            leaves: [valid, wrong_host, expired, untrusted],
            client,
        }
    }

    /// The pin (`sha256/<base64>` of the public key) of the trusted CA.
    pub fn ca_pin(&self) -> String {
        self.ca_pin.clone()
    }

    /// The pin of the given leaf's public key.
    pub fn leaf_pin(&self, leaf: Leaf) -> String {
        self.leaves[leaf.index()].pin.clone()
    }

    /// The certificate of the CA that issued [`Leaf::UntrustedIssuer`], which the client does
    /// not trust: a server may still send it along, as an extra certificate no verified chain
    /// uses.
    pub fn untrusted_ca_der(&self) -> CertificateDer<'static> {
        self.untrusted_ca_der.clone()
    }

    /// The pin of the untrusted CA's public key.
    pub fn untrusted_ca_pin(&self) -> String {
        self.untrusted_ca_pin.clone()
    }

    /// A client certificate issued by the trusted CA (for [`CLIENT_NAME`], client-auth usage)
    /// as `(certificate PEM, PKCS#8 key PEM)`.
    pub fn client_pem(&self) -> (String, String) {
        (self.client.cert_pem.clone(), self.client.key_pem.clone())
    }

    /// The client certificate and its PKCS#8 key in DER.
    pub fn client_der(&self) -> (CertificateDer<'static>, Vec<u8>) {
        (
            self.client.cert_der.clone(),
            self.client.key_pkcs8_der.clone(),
        )
    }

    /// A server presenting `leaf`, configured further before use (see [`ServerTls`]).
    pub fn server(&self, leaf: Leaf) -> ServerTls {
        let issued = &self.leaves[leaf.index()];
        ServerTls {
            chain: vec![issued.cert_der.clone()],
            key_pkcs8_der: issued.key_pkcs8_der.clone(),
            client_ca: None,
            versions: Vec::new(),
            suites: Vec::new(),
            ca_der: self.ca_der.clone(),
        }
    }

    /// The trusted CA certificate in PEM, for clients configured from files or strings.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The trusted CA certificate in DER, for adding to a rustls `RootCertStore`.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// The given leaf as `(certificate chain PEM, PKCS#8 private key PEM)`, for servers such as
    /// nginx that read them from files.
    ///
    /// The chain holds only the leaf: clients are given the CA directly, and sending it again
    /// would only hide bugs in how a client builds chains.
    pub fn leaf_pem(&self, leaf: Leaf) -> (String, String) {
        let issued = &self.leaves[leaf.index()];
        (issued.cert_pem.clone(), issued.key_pem.clone())
    }

    /// The given leaf's certificate in DER.
    pub fn leaf_der(&self, leaf: Leaf) -> CertificateDer<'static> {
        self.leaves[leaf.index()].cert_der.clone()
    }

    /// A rustls server configuration presenting the given leaf, offering ALPN `http/1.1`, for
    /// in-process TLS servers.
    ///
    /// # Panics
    ///
    /// If rustls rejects the generated key or the ring provider's defaults, which would be a bug
    /// in this module rather than in the code under test.
    pub fn server_config(&self, leaf: Leaf) -> Arc<ServerConfig> {
        let issued = &self.leaves[leaf.index()];
        server_config(issued.cert_der.clone(), &issued.key_pkcs8_der)
    }

    /// A rustls client configuration trusting only the test CA and offering ALPN `http/1.1`, for
    /// tests that need a reference client (checking the leaves, or checking a server).
    ///
    /// # Panics
    ///
    /// As [`TestPki::server_config`].
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.ca_der())
            .expect("the generated CA is a well-formed trust anchor");
        let mut config = ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Arc::new(config)
    }
}

/// A self-signed server certificate as `openssl req -x509` makes it: its own issuer, marked
/// `CA:TRUE`, for DNS `localhost` and IP `127.0.0.1`, valid from a day ago for 30 days. A client
/// can trust it only as an exact certificate: as a root, webpki refuses a CA presented as a server.
#[derive(Clone)]
pub struct SelfSigned {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_pkcs8_der: Vec<u8>,
}

impl fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfSigned").finish_non_exhaustive()
    }
}

impl SelfSigned {
    /// Generates a new key and certificate.
    ///
    /// # Panics
    ///
    /// As [`TestPki::generate`].
    pub fn generate() -> SelfSigned {
        let now = now();
        let key = KeyPair::generate().expect("rcgen generates a key");
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("valid SANs");
        params.distinguished_name = distinguished_name("localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        set_validity(&mut params, now - DAY, now + 30 * DAY);
        let cert = params.self_signed(&key).expect("rcgen self-signs");
        SelfSigned {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pkcs8_der: key.serialize_der(),
        }
    }

    /// The certificate in DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert_der.clone()
    }

    /// The certificate in PEM, as a `--cacert` file holds it.
    pub fn pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// A rustls server configuration presenting this certificate, offering ALPN `http/1.1`.
    ///
    /// # Panics
    ///
    /// As [`TestPki::server_config`].
    pub fn server_config(&self) -> Arc<ServerConfig> {
        server_config(self.cert_der.clone(), &self.key_pkcs8_der)
    }
}

/// The common name of [`TestPki`]'s client certificate.
pub const CLIENT_NAME: &str = "client.wayfarer.test";

/// A rustls server configuration with more than the defaults: extra certificates in the chain
/// it sends, a required client certificate, restricted versions or cipher suites.
#[derive(Clone)]
pub struct ServerTls {
    chain: Vec<CertificateDer<'static>>,
    key_pkcs8_der: Vec<u8>,
    client_ca: Option<CertificateDer<'static>>,
    versions: Vec<&'static rustls::SupportedProtocolVersion>,
    suites: Vec<rustls::SupportedCipherSuite>,
    ca_der: CertificateDer<'static>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("chain", &self.chain.len())
            .field("client_auth", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Sends `cert` after the server's own certificate, as a (useless) chain member.
    pub fn extra_certificate(mut self, cert: CertificateDer<'static>) -> ServerTls {
        self.chain.push(cert);
        self
    }

    /// Requires a client certificate issued by the test CA (rustls's `WebPkiClientVerifier`):
    /// a client without one fails the handshake.
    pub fn require_client_certificate(mut self) -> ServerTls {
        self.client_ca = Some(self.ca_der.clone());
        self
    }

    /// Speaks only these TLS versions.
    pub fn versions(mut self, versions: &[&'static rustls::SupportedProtocolVersion]) -> ServerTls {
        self.versions = versions.to_vec();
        self
    }

    /// Accepts only these cipher suites (from the ring provider's).
    pub fn cipher_suites(mut self, suites: &[rustls::CipherSuite]) -> ServerTls {
        self.suites = rustls::crypto::ring::default_provider()
            .cipher_suites
            .into_iter()
            .filter(|s| suites.contains(&s.suite()))
            .collect();
        self
    }

    /// The configuration.
    ///
    /// # Panics
    ///
    /// As [`TestPki::server_config`].
    pub fn config(&self) -> Arc<ServerConfig> {
        let mut provider = rustls::crypto::ring::default_provider();
        if !self.suites.is_empty() {
            provider.cipher_suites = self.suites.clone();
        }
        let provider = Arc::new(provider);
        let versions = if self.versions.is_empty() {
            rustls::DEFAULT_VERSIONS.to_vec()
        } else {
            self.versions.clone()
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .expect("the ring provider supports the requested versions");
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots
                    .add(ca.clone())
                    .expect("the test CA is a trust anchor");
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .expect("a client verifier with one root");
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8_der.clone()));
        let mut config = builder
            .with_single_cert(self.chain.clone(), key)
            .expect("rustls accepts the generated certificate and key");
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Arc::new(config)
    }
}

/// A server configuration presenting `cert` (with its PKCS#8 key) and offering ALPN `http/1.1`.
fn server_config(cert: CertificateDer<'static>, key_pkcs8_der: &[u8]) -> Arc<ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der.to_vec()));
    let mut config = ServerConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("rustls accepts the generated certificate and key");
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Arc::new(config)
}

fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The current time as a duration since the Unix epoch, to the second.
///
/// Times are carried as `std::time::Duration` since the epoch and turned into rcgen's
/// `time::OffsetDateTime` only where a certificate's fields are set (see `set_validity`), which
/// avoids depending on the `time` crate directly just to name that type.
fn now() -> Duration {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Duration::from_secs(since_epoch.as_secs())
}

/// Sets a certificate's validity window, given as durations since the Unix epoch.
fn set_validity(params: &mut CertificateParams, not_before: Duration, not_after: Duration) {
    params.not_before = rcgen::date_time_ymd(1970, 1, 1) + not_before;
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + not_after;
}

/// A self-signed CA certificate, valid from a day ago for ten years.
fn new_ca(common_name: &str, now: Duration) -> CertifiedIssuer<'static, KeyPair> {
    let key = KeyPair::generate().expect("rcgen generates a CA key");
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, now - DAY, now + 3650 * DAY);
    CertifiedIssuer::self_signed(params, key).expect("rcgen self-signs the CA")
}

/// A server leaf for the given names (DNS names or IP literals), signed by `issuer`.
fn issue(
    issuer: &Issuer<'_, KeyPair>,
    names: &[&str],
    not_before: Duration,
    not_after: Duration,
) -> IssuedLeaf {
    issue_for(
        issuer,
        names,
        ExtendedKeyUsagePurpose::ServerAuth,
        not_before,
        not_after,
    )
}

/// A leaf for the given names and usage, signed by `issuer`.
fn issue_for(
    issuer: &Issuer<'_, KeyPair>,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    not_before: Duration,
    not_after: Duration,
) -> IssuedLeaf {
    let key = KeyPair::generate().expect("rcgen generates a leaf key");
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("the leaf names are valid SANs");
    params.distinguished_name = distinguished_name(&names[0]);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, not_before, not_after);
    let cert = params
        .signed_by(&key, issuer)
        .expect("rcgen signs the leaf");
    IssuedLeaf {
        cert_der: cert.der().clone(),
        cert_pem: cert.pem(),
        key_pkcs8_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
        pin: pin_of(&key),
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "wayfarer tests");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls::pki_types::ServerName;
    use rustls::pki_types::pem::PemObject;
    use rustls::{CertificateError, ClientConnection, Connection, Error, ServerConnection};

    /// Runs a TLS handshake entirely in memory between a client trusting only the test CA and a
    /// server presenting `leaf`, returning the finished client connection or the client's error.
    fn handshake(pki: &TestPki, leaf: Leaf, server_name: &str) -> Result<Connection, Error> {
        let name = ServerName::try_from(server_name.to_owned()).expect("a valid server name");
        let mut client = Connection::from(
            ClientConnection::new(pki.client_config(), name).expect("client connection"),
        );
        let mut server = Connection::from(
            ServerConnection::new(pki.server_config(leaf)).expect("server connection"),
        );
        // A TLS 1.3 handshake needs two round trips; allow a generous number before calling it
        // stuck, so a pump bug fails instead of looping forever.
        for _ in 0..16 {
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(client);
            }
            transfer(&mut client, &mut server)
                .unwrap_or_else(|error| panic!("server failed before the client did: {error}"));
            transfer(&mut server, &mut client)?;
        }
        panic!("handshake with {leaf:?} for {server_name} did not finish");
    }

    /// Moves everything `from` has to send into `to`, letting `to` process it.
    fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), Error> {
        let mut wire = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut wire)
                .expect("writing to a Vec cannot fail");
        }
        let mut rest = &wire[..];
        while !rest.is_empty() {
            to.read_tls(&mut rest)
                .expect("reading from a slice cannot fail");
            to.process_new_packets()?;
        }
        to.process_new_packets()?;
        Ok(())
    }

    fn certificate_error(result: Result<Connection, Error>) -> CertificateError {
        match result {
            Err(Error::InvalidCertificate(error)) => error,
            Err(other) => panic!("expected a certificate error, got {other:?}"),
            Ok(_) => panic!("expected a certificate error, but the handshake succeeded"),
        }
    }

    #[test]
    fn valid_leaf_is_accepted_for_localhost_and_loopback_ip() {
        let pki = TestPki::generate();
        for name in ["localhost", "127.0.0.1"] {
            let client = handshake(&pki, Leaf::Valid, name)
                .unwrap_or_else(|error| panic!("handshake for {name} failed: {error}"));
            assert_eq!(client.alpn_protocol(), Some(ALPN_HTTP11), "ALPN for {name}");
            let presented = client
                .peer_certificates()
                .expect("server presented certificates");
            assert_eq!(
                presented,
                [pki.leaf_der(Leaf::Valid)],
                "chain is the leaf alone"
            );
        }
    }

    #[test]
    fn wrong_host_leaf_is_rejected_as_not_valid_for_name() {
        let pki = TestPki::generate();
        for name in ["localhost", "127.0.0.1"] {
            let error = certificate_error(handshake(&pki, Leaf::WrongHost, name));
            assert!(
                matches!(
                    error,
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                ),
                "for {name}: {error:?}"
            );
        }
        // The same leaf is fine for the name it was issued for: the failure above is about the
        // name alone, not about the chain.
        handshake(&pki, Leaf::WrongHost, WRONG_HOST).expect("valid for its own name");
    }

    #[test]
    fn expired_leaf_is_rejected_as_expired() {
        let pki = TestPki::generate();
        let error = certificate_error(handshake(&pki, Leaf::Expired, "localhost"));
        assert!(
            matches!(
                error,
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn leaf_from_untrusted_ca_is_rejected_as_unknown_issuer() {
        let pki = TestPki::generate();
        let error = certificate_error(handshake(&pki, Leaf::UntrustedIssuer, "localhost"));
        assert_eq!(error, CertificateError::UnknownIssuer);
    }

    #[test]
    fn pem_encodings_match_der_and_keys_are_pkcs8() {
        let pki = TestPki::generate();
        let ca = CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).expect("CA PEM parses");
        assert_eq!(ca, pki.ca_der());
        for leaf in Leaf::ALL {
            let (chain_pem, key_pem) = pki.leaf_pem(leaf);
            let chain: Vec<_> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("chain PEM parses");
            assert_eq!(chain, [pki.leaf_der(leaf)], "{leaf:?}");
            assert!(
                key_pem.starts_with("-----BEGIN PRIVATE KEY-----"),
                "{leaf:?}"
            );
            PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).expect("PKCS#8 key parses");
        }
    }

    #[test]
    fn every_generation_is_a_fresh_pki() {
        let (first, second) = (TestPki::generate(), TestPki::generate());
        assert_ne!(first.ca_der(), second.ca_der());
        assert_ne!(
            first.leaf_pem(Leaf::Valid).1,
            second.leaf_pem(Leaf::Valid).1
        );
    }
}
