//! TLS policy: whom a client trusts, what it offers, and what it proves about itself.
//!
//! The TLS session itself lives with the connection (`connection/tls.rs`); this module decides
//! how the `rustls::ClientConfig` behind it is built from a [`ClientBuilder`](crate::ClientBuilder)'s
//! settings, each of them one of OkHttp's concepts under its own name:
//!
//! | concept | module | what it decides |
//! |---|---|---|
//! | [`Certificate`] | here | a certificate to trust (a root, or a server's exact certificate) |
//! | [`CertificatePinner`] | `certificate_pinner.rs` | public keys a host's verified chain must contain |
//! | [`ConnectionSpec`], [`TlsVersion`] | `connection_spec.rs` | TLS versions and cipher suites offered; whether `http` is allowed |
//! | [`PrivateKey`] | `client_certificate.rs` | the client certificate sent when a server asks for one |
//! | [`Handshake`] | `handshake.rs` | what a connection's handshake settled on, as `Response::handshake` reports it |
//! | pinning verifier | `pinning_verifier.rs` | checks pins against the chain webpki verified, never the chain as sent |
//! | insecure verifier | `insecure.rs` | `danger_accept_invalid_certs`: no certificate checks at all |
//! | settings | `settings.rs` | the rustls configuration and the pool's [`TlsIdentity`](crate::TlsIdentity) |
//! | session stores | `sessions.rs` | TLS sessions kept for resumption, per port (rustls keys them by name alone) |
//!
//! Everything here is pure: roots arrive as certificates (a runtime loads the platform's roots,
//! since the core reads no files), and certificate time is the driver's, per connection.

mod builder;
pub(crate) mod certificate_pinner;
pub(crate) mod client_certificate;
pub(crate) mod connection_spec;
pub(crate) mod handshake;
mod insecure;
mod pinning_verifier;
pub(crate) mod sessions;
pub(crate) mod settings;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::Error;

pub use certificate_pinner::{CertificatePinner, CertificatePinnerBuilder, Pin, PinningFailure};
pub use client_certificate::PrivateKey;
pub use connection_spec::{ConnectionSpec, TlsVersion};
pub use handshake::Handshake;

/// A certificate to trust: as a root, in addition to (or instead of) the built-in set
/// ([`ClientBuilder::add_root_certificate`](crate::ClientBuilder::add_root_certificate)), or as
/// a server's own certificate
/// ([`ClientBuilder::add_trusted_server_certificate`](crate::ClientBuilder::add_trusted_server_certificate));
/// also one of a client certificate's chain, or of a [`Handshake`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate(pub(crate) CertificateDer<'static>);

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

    /// The roots a runtime loaded from the platform's trust store (`rustls-native-certs` gives
    /// `certificates` and the `errors` met on the way), as roots this client can use.
    ///
    /// The core reads no files, so each runtime loads the store and hands it here; this decides
    /// what to make of it. Certificates webpki cannot use as a trust anchor are skipped, as are
    /// the errors of single unreadable files (a store with one bad file is still a store); an
    /// empty result is an error that says why, since a client that trusts nothing fails every
    /// `https` call.
    ///
    /// ```
    /// use wayfarer_core::Certificate;
    ///
    /// let e = Certificate::platform_roots(Vec::<Vec<u8>>::new(), ["no such file".to_string()])
    ///     .unwrap_err();
    /// assert!(e.to_string().contains("no such file"));
    /// ```
    pub fn platform_roots(
        certificates: impl IntoIterator<Item = impl Into<Vec<u8>>>,
        errors: impl IntoIterator<Item = String>,
    ) -> Result<Vec<Certificate>, Error> {
        let usable: Vec<Certificate> = certificates
            .into_iter()
            .map(Certificate::from_der)
            .filter(|c| webpki::anchor_from_trusted_cert(&c.0).is_ok())
            .collect();
        if usable.is_empty() {
            let errors: Vec<String> = errors.into_iter().collect();
            let why = if errors.is_empty() {
                "none were found".to_string()
            } else {
                errors.join("; ")
            };
            return Err(Error::invalid_input(format!(
                "no usable root certificate in the platform's trust store: {why}"
            )));
        }
        Ok(usable)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_bundles() {
        assert!(Certificate::from_pem_bundle(b"not pem").is_err());
    }

    #[test]
    fn platform_roots_keep_usable_anchors_and_refuse_an_empty_store() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root = params.self_signed(&key).unwrap().der().to_vec();
        let roots = Certificate::platform_roots(
            [root.clone(), b"garbage".to_vec()],
            ["one file was unreadable".to_string()],
        )
        .unwrap();
        assert_eq!(roots, [Certificate::from_der(root)]);
        let e = Certificate::platform_roots([b"garbage".to_vec()], []).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("none were found"), "{e}");
    }
}
