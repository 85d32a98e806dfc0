//! Client certificates: the chain and private key a client proves itself with when a server
//! asks (mutual TLS).
//!
//! rustls asks a `ResolvesClientCert` during the handshake; it sends the certificate only when
//! the key can sign with a scheme the server accepts. [`Identity::for_connection`] gives each
//! connection its own resolver that records whether it handed the certificate out, so the
//! connection's [`Handshake`](super::Handshake) can say whether it was sent.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::sign::CertifiedKey;

use super::Certificate;
use crate::Error;

/// The private key of a client certificate: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted.
///
/// ```
/// use wayfarer_core::{Certificate, Config, PrivateKey};
///
/// # let key = rcgen::KeyPair::generate()?;
/// # let params = rcgen::CertificateParams::new(vec!["client".to_string()])?;
/// # let (cert_pem, key_pem) = (params.self_signed(&key)?.pem(), key.serialize_pem());
/// // cert_pem and key_pem: the contents of client.crt and client.key
/// let chain = Certificate::from_pem_bundle(cert_pem.as_bytes())?;
/// let key = PrivateKey::from_pem(key_pem.as_bytes())?;
/// let config = Config::builder().client_certificate(chain, key).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PrivateKey(pub(crate) PrivateKeyDer<'static>);

impl PrivateKey {
    /// The first private key in PEM text (`PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`); a file holding the certificate too is fine.
    pub fn from_pem(pem: &[u8]) -> Result<PrivateKey, Error> {
        PrivateKeyDer::from_pem_slice(pem)
            .map(PrivateKey)
            .map_err(|e| Error::invalid_input(format!("no usable private key in PEM input: {e}")))
    }

    /// A DER-encoded private key; the format is recognised from its structure.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Result<PrivateKey, Error> {
        PrivateKeyDer::try_from(der.into())
            .map(PrivateKey)
            .map_err(|e| Error::invalid_input(format!("not a DER private key: {e}")))
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> PrivateKey {
        PrivateKey(self.0.clone_key())
    }
}

/// Never shows the key.
impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0 {
            PrivateKeyDer::Pkcs1(_) => "PKCS#1",
            PrivateKeyDer::Sec1(_) => "SEC1",
            _ => "PKCS#8",
        };
        write!(f, "PrivateKey({kind}, ..)")
    }
}

/// A client certificate chain with its loaded key, checked to belong together.
#[derive(Clone)]
pub(crate) struct Identity {
    key: Arc<CertifiedKey>,
    chain: Vec<Certificate>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Loads `key` with the provider and checks that it is the key of the chain's first
    /// certificate.
    pub(crate) fn new(
        chain: &[Certificate],
        key: &PrivateKey,
        provider: &CryptoProvider,
    ) -> Result<Identity, Error> {
        if chain.is_empty() {
            return Err(Error::invalid_input(
                "a client certificate needs at least one certificate",
            ));
        }
        let ders = chain.iter().map(|c| c.0.clone()).collect();
        let key = CertifiedKey::from_der(ders, key.0.clone_key(), provider)
            .map_err(|e| Error::invalid_input(format!("unusable client certificate: {e}")))?;
        Ok(Identity {
            key: Arc::new(key),
            chain: chain.to_vec(),
        })
    }

    /// The chain, own certificate first.
    pub(crate) fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// A resolver for one connection, and the flag it sets once it hands the certificate out.
    pub(crate) fn for_connection(&self) -> (Arc<dyn ResolvesClientCert>, Arc<AtomicBool>) {
        let sent = Arc::new(AtomicBool::new(false));
        let resolver = Recording {
            key: self.key.clone(),
            sent: sent.clone(),
        };
        (Arc::new(resolver), sent)
    }
}

/// Hands out the one certificate, and records that it did.
#[derive(Debug)]
struct Recording {
    key: Arc<CertifiedKey>,
    sent: Arc<AtomicBool>,
}

impl ResolvesClientCert for Recording {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls sends the certificate exactly when the key can sign with a scheme the server
        // offered (otherwise it sends an empty Certificate message): record that, no more.
        self.key.key.choose_scheme(sigschemes)?;
        self.sent.store(true, Ordering::Relaxed);
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (rcgen::KeyPair, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        (key, pem)
    }

    fn provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    #[test]
    fn pem_and_der_keys_load_the_same() {
        let (key, cert_pem) = self_signed();
        let chain = Certificate::from_pem_bundle(cert_pem.as_bytes()).unwrap();
        let from_pem = PrivateKey::from_pem(key.serialize_pem().as_bytes()).unwrap();
        let from_der = PrivateKey::from_der(key.serialize_der()).unwrap();
        assert_eq!(from_pem.0.secret_der(), from_der.0.secret_der());
        assert_eq!(format!("{from_der:?}"), "PrivateKey(PKCS#8, ..)");
        // A file holding the certificate and the key gives the key.
        let both = format!("{cert_pem}{}", key.serialize_pem());
        assert!(PrivateKey::from_pem(both.as_bytes()).is_ok());
        let identity = Identity::new(&chain, &from_pem, &provider()).unwrap();
        assert_eq!(identity.chain(), chain);
    }

    #[test]
    fn bad_keys_and_mismatched_pairs_are_refused() {
        assert!(PrivateKey::from_pem(b"no key here").is_err());
        assert!(PrivateKey::from_der(vec![1, 2, 3]).is_err());
        let (_, cert_pem) = self_signed();
        let (other_key, _) = self_signed();
        let chain = Certificate::from_pem_bundle(cert_pem.as_bytes()).unwrap();
        let key = PrivateKey::from_der(other_key.serialize_der()).unwrap();
        let e = Identity::new(&chain, &key, &provider()).unwrap_err();
        assert!(e.to_string().contains("unusable client certificate"), "{e}");
        assert!(Identity::new(&[], &key, &provider()).is_err());
    }

    #[test]
    fn the_resolver_records_only_a_certificate_it_can_use() {
        let (key, cert_pem) = self_signed(); // ECDSA P-256
        let chain = Certificate::from_pem_bundle(cert_pem.as_bytes()).unwrap();
        let key = PrivateKey::from_der(key.serialize_der()).unwrap();
        let identity = Identity::new(&chain, &key, &provider()).unwrap();
        let (resolver, sent) = identity.for_connection();
        assert!(resolver.resolve(&[], &[SignatureScheme::ED25519]).is_none());
        assert!(!sent.load(Ordering::Relaxed));
        let resolved = resolver.resolve(&[], &[SignatureScheme::ECDSA_NISTP256_SHA256]);
        assert_eq!(resolved.unwrap().cert[0].as_ref(), chain[0].der());
        assert!(sent.load(Ordering::Relaxed));
        let (_, other) = identity.for_connection();
        assert!(
            !other.load(Ordering::Relaxed),
            "each connection has its own record"
        );
    }
}
