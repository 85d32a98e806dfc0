//! The one rustls client configuration the benchmark hands to every rustls-based client that
//! accepts one, so they all negotiate alike: ring, the default safe protocol versions (TLS 1.3
//! with nginx), the test CA as the only root, ALPN `http/1.1`, and session resumption on or off.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::pki_types::CertificateDer;

use crate::client::Trust;

/// The provider named in the clients table for everything built here.
pub const RUSTLS_RING: &str = "rustls 0.23 + ring";

/// A client configuration trusting only `trust`'s CA.
pub fn client_config(trust: &Trust, resumption: bool) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(trust.ca_der.clone()))
        .map_err(|e| format!("cannot trust the test CA: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if !resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(config)
}
