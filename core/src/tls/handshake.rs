//! What a TLS handshake settled on (OkHttp's `Handshake`), as a response reports it.

use std::fmt;

use rustls::CipherSuite;

use super::{Certificate, TlsVersion};

/// The TLS version, cipher suite and certificates of the connection a response came over:
/// [`Response::handshake`](crate::Response::handshake) (`None` for plain `http`).
///
/// ```
/// use wayfarer_core::{CipherSuite, Handshake, TlsVersion};
///
/// let handshake = Handshake::new(
///     TlsVersion::Tls1_3,
///     CipherSuite::TLS13_AES_128_GCM_SHA256,
///     Vec::new(),
///     Vec::new(),
/// );
/// assert_eq!(handshake.tls_version().as_str(), "TLSv1.3");
/// assert!(handshake.local_certificates().is_empty());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Handshake {
    tls_version: TlsVersion,
    cipher_suite: CipherSuite,
    peer_certificates: Vec<Certificate>,
    local_certificates: Vec<Certificate>,
}

impl Handshake {
    /// A handshake with these parameters (the core makes them from its connections; a cache or
    /// an interceptor may rebuild one).
    pub fn new(
        tls_version: TlsVersion,
        cipher_suite: CipherSuite,
        peer_certificates: Vec<Certificate>,
        local_certificates: Vec<Certificate>,
    ) -> Handshake {
        Handshake {
            tls_version,
            cipher_suite,
            peer_certificates,
            local_certificates,
        }
    }

    /// The negotiated TLS version.
    pub fn tls_version(&self) -> TlsVersion {
        self.tls_version
    }

    /// The negotiated cipher suite.
    pub fn cipher_suite(&self) -> CipherSuite {
        self.cipher_suite
    }

    /// The certificates the server presented, its own first, as it sent them (the chain
    /// verification built may be shorter, or end in a root the server did not send).
    pub fn peer_certificates(&self) -> &[Certificate] {
        &self.peer_certificates
    }

    /// The client certificate chain this client sent, its own first; empty when the server
    /// asked for none (or none was configured).
    pub fn local_certificates(&self) -> &[Certificate] {
        &self.local_certificates
    }
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("tls_version", &self.tls_version)
            .field("cipher_suite", &self.cipher_suite)
            .field("peer_certificates", &self.peer_certificates.len())
            .field("local_certificates", &self.local_certificates.len())
            .finish()
    }
}

/// The cache keeps the TLS facts of a stored `https` response under the names rustls gives
/// them (`TLSv1_3`, `TLS13_AES_128_GCM_SHA256`) and the peer's chain.
impl From<&Handshake> for crate::cache::Handshake {
    fn from(h: &Handshake) -> crate::cache::Handshake {
        let version = match h.tls_version {
            TlsVersion::Tls1_2 => rustls::ProtocolVersion::TLSv1_2,
            TlsVersion::Tls1_3 => rustls::ProtocolVersion::TLSv1_3,
        };
        crate::cache::Handshake {
            tls_version: format!("{version:?}"),
            cipher_suite: format!("{:?}", h.cipher_suite),
            peer_certificates: h
                .peer_certificates
                .iter()
                .map(|c| c.der().to_vec())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_gets_rustls_names_and_the_peer_chain() {
        let h = Handshake::new(
            TlsVersion::Tls1_2,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            vec![
                Certificate::from_der(vec![1, 2]),
                Certificate::from_der(vec![3]),
            ],
            vec![Certificate::from_der(vec![9])],
        );
        let cached = crate::cache::Handshake::from(&h);
        assert_eq!(cached.tls_version, "TLSv1_2");
        assert_eq!(cached.cipher_suite, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(cached.peer_certificates, [vec![1, 2], vec![3]]);
        assert_eq!(
            format!("{h:?}"),
            "Handshake { tls_version: Tls1_2, cipher_suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
             peer_certificates: 2, local_certificates: 1 }"
        );
    }
}
