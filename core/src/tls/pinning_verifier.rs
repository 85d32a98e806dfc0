//! Checking pins against the verified chain.
//!
//! rustls's `WebPkiServerVerifier` builds the path from the server's certificate to a trusted
//! root but keeps it to itself: its `verify_server_cert` answers only yes or no. The
//! certificates the server sent are no substitute: a server (or an attacker holding any
//! certificate a root vouches for) may send a pinned certificate as an extra, unused member of
//! its chain, and checking pins against that list would let it through (CVE-2016-2402, the bug
//! OkHttp fixed by "cleaning" the chain first).
//!
//! So [`PinningVerifier`] first lets the configured verifier decide as usual (rustls's webpki
//! verifier, exact trust, or the insecure one), keeping its errors exactly; then, only for a
//! pinned host, it builds the path again with `rustls-webpki`'s `verify_for_usage`, which
//! returns the [`VerifiedPath`](webpki::VerifiedPath): the end entity, the intermediates that
//! were actually used, and the trust anchor. Those keys, and only those, are checked against
//! the pins. Given the same inputs (roots, the certificates sent, the time, server-auth usage)
//! webpki finds the same path rustls's verifier accepted; the second pass costs a few
//! signature checks, on pinned hosts only.
//!
//! Two cases have no path to build: a certificate trusted exactly, and any certificate under
//! `danger_accept_invalid_certs`. There the chain is the server's own certificate alone: the
//! one certificate whose key the server proved it holds by signing the handshake, which makes
//! pinning it sound even without a chain.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};

use super::certificate_pinner::{CertificatePinner, ChainKey};
use crate::connection::validity::tlv;

/// Wraps the configured verifier and adds the pin check on the verified chain.
pub(crate) struct PinningVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    pinner: CertificatePinner,
    roots: Arc<RootCertStore>,
    /// Certificates trusted as they are (see `exact_trust.rs`): their chain is themselves.
    exact: Vec<CertificateDer<'static>>,
    /// No chain is verified (`danger_accept_invalid_certs`): pins apply to the leaf alone.
    leaf_only: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for PinningVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinningVerifier")
            .field("inner", &self.inner)
            .field("pinner", &self.pinner)
            .field("leaf_only", &self.leaf_only)
            .finish_non_exhaustive()
    }
}

impl PinningVerifier {
    pub(crate) fn new(
        inner: Arc<dyn ServerCertVerifier>,
        pinner: CertificatePinner,
        roots: Arc<RootCertStore>,
        exact: Vec<CertificateDer<'static>>,
        leaf_only: bool,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> PinningVerifier {
        PinningVerifier {
            inner,
            pinner,
            roots,
            exact,
            leaf_only,
            algorithms,
        }
    }

    /// The chain the verifier accepted, leaf first, trust anchor last.
    fn verified_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Vec<ChainKey>, rustls::Error> {
        let leaf = webpki::EndEntityCert::try_from(end_entity).map_err(webpki_error)?;
        let leaf_key = ChainKey {
            spki: leaf.subject_public_key_info().to_vec(),
            subject: common_name(leaf.subject()),
        };
        if self.leaf_only || self.exact.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            return Ok(vec![leaf_key]);
        }
        let path = leaf
            .verify_for_usage(
                self.algorithms.all,
                &self.roots.roots,
                intermediates,
                now,
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(webpki_error)?;
        let mut chain = vec![leaf_key];
        for cert in path.intermediate_certificates() {
            chain.push(ChainKey {
                spki: cert.subject_public_key_info().to_vec(),
                subject: common_name(cert.subject()),
            });
        }
        let anchor = path.anchor();
        chain.push(ChainKey {
            spki: der_sequence(&anchor.subject_public_key_info),
            subject: common_name(&anchor.subject),
        });
        Ok(chain)
    }
}

fn webpki_error(e: webpki::Error) -> rustls::Error {
    CertificateError::Other(OtherError(Arc::new(e))).into()
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let host = server_name.to_str();
        if self.pinner.pins_for(&host).next().is_none() {
            return Ok(verified);
        }
        let chain = self.verified_chain(end_entity, intermediates, now)?;
        self.pinner
            .check(&host, &chain)
            .map_err(|failure| CertificateError::Other(OtherError(Arc::new(failure))))?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `contents` as a DER `SEQUENCE`. A trust anchor keeps its `SubjectPublicKeyInfo` without the
/// outer tag and length, and a pin hashes the whole structure (webpki 0.103.17 added
/// `spki_for_anchor` for this; the version the workspace builds lacks it).
fn der_sequence(contents: &[u8]) -> Vec<u8> {
    let len = contents.len();
    let mut out = vec![0x30];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

/// The first common name (OID 2.5.4.3) of a DER `Name`'s contents (the RDN sequence without
/// its outer tag, as webpki hands subjects out), for messages only; `None` when there is none
/// or the encoding is not the plain one. Walked by hand for the same reason `validity.rs` is:
/// one field does not justify an X.509 parsing stack in the core.
fn common_name(name: &[u8]) -> Option<String> {
    const SET: u8 = 0x31;
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    let mut rdns = name;
    while !rdns.is_empty() {
        let (tag, set, rest) = tlv(rdns)?;
        rdns = rest;
        if tag != SET {
            return None;
        }
        let mut attributes = set;
        while !attributes.is_empty() {
            let (tag, attribute, rest) = tlv(attributes)?;
            attributes = rest;
            if tag != SEQUENCE {
                return None;
            }
            let (tag, oid, value) = tlv(attribute)?;
            if tag == OID && oid == CN {
                let (tag, text, _) = tlv(value)?;
                return Some(match tag {
                    // BMPString: UTF-16, big-endian.
                    0x1e => String::from_utf16_lossy(
                        &text
                            .chunks(2)
                            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                            .collect::<Vec<u16>>(),
                    ),
                    _ => String::from_utf8_lossy(text).into_owned(),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose, PublicKeyData,
    };
    use rustls::client::WebPkiServerVerifier;

    use super::*;
    use crate::tls::certificate_pinner::spki_pin;

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>) -> (CertificateDer<'static>, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["h.test".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "h.test");
        let cert = params.signed_by(&key, issuer).unwrap();
        (cert.der().clone(), spki_pin(&key.subject_public_key_info()))
    }

    fn pin_of(issuer: &CertifiedIssuer<'static, KeyPair>) -> String {
        spki_pin(&issuer.key().subject_public_key_info())
    }

    fn verifier(roots: &[&CertifiedIssuer<'static, KeyPair>], pins: &[&str]) -> PinningVerifier {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut store = RootCertStore::empty();
        for root in roots {
            store.add(root.der().clone()).unwrap();
        }
        let store = Arc::new(store);
        let inner = WebPkiServerVerifier::builder_with_provider(store.clone(), provider.clone())
            .build()
            .unwrap();
        let pinner = CertificatePinner::builder()
            .add("h.test", pins)
            .build()
            .unwrap();
        PinningVerifier::new(
            inner,
            pinner,
            store,
            Vec::new(),
            false,
            provider.signature_verification_algorithms,
        )
    }

    fn verify(
        v: &PinningVerifier,
        host: &str,
        chain: &[CertificateDer<'static>],
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(host.to_string()).unwrap();
        // rcgen's certificates start now and last a year; a minute later is inside them.
        let now = UnixTime::since_unix_epoch(
            std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap_or(Duration::ZERO)
                + Duration::from_secs(60),
        );
        v.verify_server_cert(&chain[0], &chain[1..], &name, &[], now)
            .map(|_| ())
    }

    fn pinning_failure(result: Result<(), rustls::Error>) -> super::super::PinningFailure {
        match result {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => other
                .0
                .downcast_ref::<super::super::PinningFailure>()
                .expect("a pinning failure")
                .clone(),
            other => panic!("expected a pinning failure, got {other:?}"),
        }
    }

    #[test]
    fn the_leaf_or_the_root_of_the_verified_chain_satisfies_a_pin() {
        let root = ca("root");
        let (cert, leaf_pin) = leaf(&root);
        assert_eq!(
            verify(
                &verifier(&[&root], &[&leaf_pin]),
                "h.test",
                std::slice::from_ref(&cert)
            ),
            Ok(())
        );
        assert_eq!(
            verify(&verifier(&[&root], &[&pin_of(&root)]), "h.test", &[cert]),
            Ok(())
        );
    }

    #[test]
    fn an_intermediate_of_the_verified_chain_satisfies_a_pin() {
        let root = ca("root");
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "intermediate");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let intermediate =
            CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), &root).unwrap();
        let (cert, _) = leaf(&intermediate);
        let chain = [cert, intermediate.der().clone()];
        let v = verifier(&[&root], &[&pin_of(&intermediate)]);
        assert_eq!(verify(&v, "h.test", &chain), Ok(()));
        // A wrong pin names every key of the verified path, leaf to root, with their names.
        let failure = pinning_failure(verify(
            &verifier(&[&root], &[&pin_of(&ca("x"))]),
            "h.test",
            &chain,
        ));
        let message = failure.to_string();
        assert_eq!(failure.chain_pins().count(), 3, "{message}");
        for name in ["CN=h.test", "CN=intermediate", "CN=root"] {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn a_pinned_certificate_sent_outside_the_verified_chain_does_not_count() {
        let root = ca("root");
        let (cert, _) = leaf(&root);
        let stranger = ca("stranger");
        // The server sends the pinned stranger as an extra chain member: unused by the path.
        let chain = [cert, stranger.der().clone()];
        let v = verifier(&[&root], &[&pin_of(&stranger)]);
        let failure = pinning_failure(verify(&v, "h.test", &chain));
        assert_eq!(
            failure.chain_pins().collect::<Vec<_>>().len(),
            2,
            "leaf and root only: {failure}"
        );
        assert!(!failure.to_string().contains("stranger"), "{failure}");
    }

    #[test]
    fn unpinned_hosts_and_verification_errors_pass_through() {
        let root = ca("root");
        let (cert, _) = leaf(&root);
        let v = verifier(&[&root], &[&pin_of(&ca("x"))]);
        // Another host: the name check fails as usual, not the pin.
        assert!(matches!(
            verify(&v, "other.test", std::slice::from_ref(&cert)),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ));
        // An untrusted issuer is refused before pins are looked at.
        let v = verifier(&[&ca("unrelated")], &[&pin_of(&root)]);
        assert_eq!(
            verify(&v, "h.test", &[cert]),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        );
    }

    #[test]
    fn sequences_use_short_and_long_lengths() {
        assert_eq!(der_sequence(&[1, 2]), [0x30, 2, 1, 2]);
        let long = der_sequence(&[7; 300]);
        assert_eq!(long[..4], [0x30, 0x82, 0x01, 0x2c]);
        assert_eq!(long.len(), 304);
        let root = ca("root");
        let anchor = webpki::anchor_from_trusted_cert(root.der()).unwrap();
        assert_eq!(
            der_sequence(&anchor.subject_public_key_info),
            root.key().subject_public_key_info()
        );
    }

    #[test]
    fn common_names_are_read_from_names() {
        let mut name = rcgen::DistinguishedName::new();
        name.push(DnType::OrganizationName, "org");
        name.push(DnType::CommonName, "the cn");
        let mut params = CertificateParams::default();
        params.distinguished_name = name;
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        let der = cert.der().clone();
        let parsed = webpki::EndEntityCert::try_from(&der).unwrap();
        assert_eq!(common_name(parsed.subject()).as_deref(), Some("the cn"));
        assert_eq!(common_name(&[]), None);
        assert_eq!(common_name(&[0x31, 0x05, 0x00]), None);
    }
}
