//! Trusting an exact server certificate, as curl does with `--cacert server.pem`.
//!
//! The usual self-signed certificate (`openssl req -x509 ...`) says `CA:TRUE`, and webpki
//! refuses a CA certificate as a server's own even when it is a trusted root; a leaf passed on its
//! own is no root at all. Yet a user who hands us the very certificate the server presents has
//! told us exactly whom to trust. [`ExactTrustVerifier`] wraps the usual webpki verifier: when the
//! presented certificate is byte-for-byte one the caller trusts, it is accepted without a chain,
//! with its host name and validity dates still checked; any other certificate goes through the
//! chain verifier as before.
//!
//! The dates are checked against the `now` rustls passes in, which comes from the configuration's
//! time provider: the core's [`InputClock`](super::InputClock), never the system clock.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::validity::Validity;

/// A server certificate verifier that accepts exact certificates as well as chains to roots.
pub(crate) struct ExactTrustVerifier {
    /// The certificates accepted as they are, in DER.
    exact: Vec<CertificateDer<'static>>,
    /// The chain verifier; `None` when there are no roots, so only exact certificates pass.
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for ExactTrustVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExactTrustVerifier")
            .field("exact", &self.exact.len())
            .field("chain", &self.chain.is_some())
            .finish()
    }
}

impl ExactTrustVerifier {
    /// Trusts `exact` certificates as they are, and chains to `roots` (if any).
    pub(crate) fn new(
        roots: Arc<RootCertStore>,
        exact: Vec<CertificateDer<'static>>,
        provider: &Arc<CryptoProvider>,
    ) -> Result<ExactTrustVerifier, rustls::client::VerifierBuilderError> {
        let chain = if roots.is_empty() {
            None
        } else {
            Some(WebPkiServerVerifier::builder_with_provider(roots, provider.clone()).build()?)
        };
        Ok(ExactTrustVerifier {
            exact,
            chain,
            algorithms: provider.signature_verification_algorithms,
        })
    }

    /// The checks that remain for a certificate trusted as it is: it must parse, name the host,
    /// and be within its dates.
    fn check_exact(
        cert: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let parsed = ParsedCertificate::try_from(cert)?;
        verify_server_name(&parsed, server_name)?;
        let validity = Validity::of(cert).ok_or(CertificateError::BadEncoding)?;
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        match () {
            () if validity.contains(now) => Ok(()),
            () if now < validity.not_before => Err(CertificateError::NotValidYet.into()),
            () => Err(CertificateError::Expired.into()),
        }
    }
}

impl ServerCertVerifier for ExactTrustVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.exact.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Self::check_exact(end_entity, server_name, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chain {
            Some(chain) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(CertificateError::UnknownIssuer.into()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    use super::*;

    const DAY: u64 = 86_400;
    /// 2026-01-01T00:00:00Z, the test's "now"; certificates are dated around it.
    const NOW: u64 = 1_767_225_600;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    /// A self-signed certificate for `names`, valid for the given Unix seconds, with CA:TRUE
    /// as `openssl req -x509` makes it.
    fn self_signed_ca(names: &[&str], from: u64, to: u64) -> CertificateDer<'static> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_before = epoch + Duration::from_secs(from);
        params.not_after = epoch + Duration::from_secs(to);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn verifier(exact: Vec<CertificateDer<'static>>) -> ExactTrustVerifier {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        ExactTrustVerifier::new(Arc::new(RootCertStore::empty()), exact, &provider).unwrap()
    }

    fn verify(
        v: &ExactTrustVerifier,
        cert: &CertificateDer<'_>,
        host: &str,
        now: u64,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(host.to_string()).unwrap();
        v.verify_server_cert(cert, &[], &name, &[], at(now))
            .map(|_| ())
    }

    fn cert_error(e: CertificateError) -> Result<(), rustls::Error> {
        Err(rustls::Error::InvalidCertificate(e))
    }

    #[test]
    fn an_exact_ca_certificate_is_accepted_for_its_names_within_its_dates() {
        let cert = self_signed_ca(&["localhost", "127.0.0.1"], NOW - DAY, NOW + 30 * DAY);
        let v = verifier(vec![cert.clone()]);
        assert_eq!(verify(&v, &cert, "localhost", NOW), Ok(()));
        assert_eq!(verify(&v, &cert, "127.0.0.1", NOW), Ok(()));
        // Both ends of the validity period are inside it.
        assert_eq!(verify(&v, &cert, "localhost", NOW - DAY), Ok(()));
        assert_eq!(verify(&v, &cert, "localhost", NOW + 30 * DAY), Ok(()));
    }

    #[test]
    fn an_exact_certificate_still_needs_the_right_name_and_dates() {
        let cert = self_signed_ca(&["localhost"], NOW - DAY, NOW + DAY);
        let v = verifier(vec![cert.clone()]);
        assert!(matches!(
            verify(&v, &cert, "other.example", NOW),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ));
        assert_eq!(
            verify(&v, &cert, "localhost", NOW + DAY + 1),
            cert_error(CertificateError::Expired)
        );
        assert_eq!(
            verify(&v, &cert, "localhost", NOW - DAY - 1),
            cert_error(CertificateError::NotValidYet)
        );
    }

    #[test]
    fn other_certificates_are_unknown_without_roots() {
        let trusted = self_signed_ca(&["localhost"], NOW - DAY, NOW + DAY);
        let other = self_signed_ca(&["localhost"], NOW - DAY, NOW + DAY);
        let v = verifier(vec![trusted]);
        assert_eq!(
            verify(&v, &other, "localhost", NOW),
            cert_error(CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn other_certificates_go_through_the_chain_verifier() {
        let root = self_signed_ca(&["localhost"], NOW - DAY, NOW + DAY);
        let mut roots = RootCertStore::empty();
        roots.add(root.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let v = ExactTrustVerifier::new(Arc::new(roots), Vec::new(), &provider).unwrap();
        // The root itself, presented as the server's certificate, is refused by webpki as a
        // CA used as an end entity: only exact trust accepts it.
        let e = verify(&v, &root, "localhost", NOW).unwrap_err();
        assert!(format!("{e:?}").contains("CaUsedAsEndEntity"), "{e:?}");
    }
}
