//! From a builder's TLS settings to the rustls configuration and the pool's TLS identity.
//!
//! ```text
//!  TlsSettings ──build──▶ TlsPolicy { rustls::ClientConfig, TlsIdentity, Offer, ... }
//!                             │ for_connection(wall time)
//!                             ▼
//!                         ConnectionTls { a copy with the handshake's clock, its own
//!                                         client-certificate resolver }
//! ```
//!
//! The verifier is layered: the chain verifier (rustls's webpki verifier, exact trust when
//! exact certificates are given, or accept-anything under `danger_accept_invalid_certs`), then,
//! when anything is pinned, the pinning verifier around it.
//!
//! The [`TlsIdentity`] is the exact encoding of everything that decides whom a connection may
//! talk to and as whom: versions, suites, whether certificates are verified, the pins, the
//! client certificate, the roots and exact certificates. Pins are part of it (as they are of
//! OkHttp's `Address`) rather than checked again on reuse: a pooled connection is then only
//! ever handed to a call whose pins were checked when it was made, and no handshake facts need
//! keeping for a second check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::{ClientConfig, RootCertStore};

use super::Certificate;
use super::certificate_pinner::CertificatePinner;
use super::client_certificate::{Identity, PrivateKey};
use super::connection_spec::{ConnectionSpec, Offer};
use super::insecure::AcceptAnyCertificate;
use super::pinning_verifier::PinningVerifier;
use super::sessions::PortSessions;
use crate::Error;
use crate::connection::exact_trust::ExactTrustVerifier;
use crate::connection::{InputClock, TlsIdentity};

/// What a [`ClientBuilder`](crate::ClientBuilder) collects about TLS.
#[derive(Clone, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) roots: Vec<Certificate>,
    pub(crate) exact: Vec<Certificate>,
    pub(crate) built_in_roots: bool,
    pub(crate) pinner: CertificatePinner,
    pub(crate) client: Option<(Vec<Certificate>, PrivateKey)>,
    pub(crate) specs: Vec<ConnectionSpec>,
    pub(crate) accept_invalid_certs: bool,
    /// A caller's own rustls configuration, used as it is.
    pub(crate) custom: Option<Arc<ClientConfig>>,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            roots: Vec::new(),
            exact: Vec::new(),
            built_in_roots: true,
            pinner: CertificatePinner::default(),
            client: None,
            specs: default_specs(),
            accept_invalid_certs: false,
            custom: None,
        }
    }
}

/// OkHttp's default: modern TLS and plaintext.
pub(crate) fn default_specs() -> Vec<ConnectionSpec> {
    vec![ConnectionSpec::MODERN_TLS, ConnectionSpec::CLEARTEXT]
}

/// A client's TLS policy, built once.
#[derive(Clone, Debug)]
pub(crate) struct TlsPolicy {
    pub(crate) config: Arc<ClientConfig>,
    /// The configuration was built here, with the core's input clock: each connection gets a
    /// copy stopped at its handshake's time.
    input_clock: bool,
    pub(crate) identity: TlsIdentity,
    client: Option<Identity>,
    pub(crate) offer: Offer,
    pub(crate) specs: Vec<ConnectionSpec>,
    pub(crate) pinner: CertificatePinner,
    pub(crate) accept_invalid_certs: bool,
    /// Sessions for resumption, kept per port; `None` when resumption is off (a client
    /// certificate) or the configuration is the caller's own.
    sessions: Option<Arc<PortSessions>>,
}

/// The TLS configuration of one connection.
pub(crate) struct ConnectionTls {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) local: Option<LocalCertificate>,
}

/// The client certificate a connection may send, and whether it did.
#[derive(Debug)]
pub(crate) struct LocalCertificate {
    pub(crate) chain: Arc<[Certificate]>,
    pub(crate) sent: Arc<AtomicBool>,
}

impl LocalCertificate {
    pub(crate) fn was_sent(&self) -> bool {
        self.sent.load(Ordering::Relaxed)
    }
}

/// Distinguishes callers' own rustls configurations in TLS identities: nothing about them can
/// be compared, so each is its own identity.
static NEXT_CUSTOM: AtomicU64 = AtomicU64::new(0);

impl TlsSettings {
    pub(crate) fn build(&self) -> Result<TlsPolicy, Error> {
        let config_error =
            |e: &dyn std::fmt::Display| Error::invalid_input(format!("TLS configuration: {e}"));
        let mut provider = rustls::crypto::ring::default_provider();
        let offer = Offer::resolve(&self.specs, &provider.cipher_suites)
            .map_err(|e| Error::invalid_input(format!("connection specs: {e}")))?;
        if let Some(custom) = &self.custom {
            return self.with_custom(custom, offer);
        }
        if offer.tls() {
            provider.cipher_suites = offer.suites.clone();
        }
        let provider = Arc::new(provider);
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = if offer.tls() {
            offer.versions.iter().map(|v| v.rustls()).collect()
        } else {
            // https is refused before any handshake; the configuration is never used.
            rustls::DEFAULT_VERSIONS.to_vec()
        };
        let builder =
            ClientConfig::builder_with_details(provider.clone(), Arc::new(InputClock::default()))
                .with_protocol_versions(&versions)
                .map_err(|e| config_error(&e))?;

        let mut roots = RootCertStore::empty();
        if self.built_in_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.roots {
            roots
                .add(cert.0.clone())
                .map_err(|e| Error::invalid_input(format!("invalid root certificate: {e}")))?;
        }
        let roots = Arc::new(roots);
        let exact: Vec<_> = self.exact.iter().map(|c| c.0.clone()).collect();
        let algorithms = provider.signature_verification_algorithms;
        let mut verifier: Arc<dyn ServerCertVerifier> = if self.accept_invalid_certs {
            Arc::new(AcceptAnyCertificate::new(algorithms))
        } else if exact.is_empty() && !roots.is_empty() {
            WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .map_err(|e| config_error(&e))?
        } else {
            // Exact certificates, or nothing trusted at all (then every certificate is refused
            // as having an unknown issuer).
            Arc::new(
                ExactTrustVerifier::new(roots.clone(), exact.clone(), &provider)
                    .map_err(|e| config_error(&e))?,
            )
        };
        if !self.pinner.is_empty() {
            verifier = Arc::new(PinningVerifier::new(
                verifier,
                self.pinner.clone(),
                roots,
                exact,
                self.accept_invalid_certs,
                algorithms,
            ));
        }
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let client = match &self.client {
            Some((chain, key)) => Some(Identity::new(chain, key, &provider)?),
            None => None,
        };
        let mut config = match &client {
            Some(identity) => builder.with_client_cert_resolver(identity.for_connection().0),
            None => builder.with_no_client_auth(),
        };
        if client.is_some() {
            // A resumed session skips client authentication, and rustls does not say whether
            // the session it resumes sent the certificate: without resumption every handshake
            // reports truthfully whether it sent the certificate.
            config.resumption = Resumption::disabled();
        }
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsPolicy {
            config: Arc::new(config),
            input_clock: true,
            identity: self.identity(&offer, client.as_ref()),
            sessions: client.is_none().then(Arc::default),
            client,
            offer,
            specs: self.specs.clone(),
            pinner: self.pinner.clone(),
            accept_invalid_certs: self.accept_invalid_certs,
        })
    }

    /// A caller's own rustls configuration: used as it is, so settings that would change it
    /// are refused rather than silently left out.
    fn with_custom(&self, custom: &Arc<ClientConfig>, offer: Offer) -> Result<TlsPolicy, Error> {
        let conflict = if !self.pinner.is_empty() {
            Some("certificate pins")
        } else if self.client.is_some() {
            Some("a client certificate")
        } else if self.accept_invalid_certs {
            Some("danger_accept_invalid_certs")
        } else if self
            .specs
            .iter()
            .any(|s| s.is_tls() && *s != ConnectionSpec::MODERN_TLS)
        {
            Some("TLS versions and cipher suites from connection specs")
        } else {
            None
        };
        if let Some(what) = conflict {
            return Err(Error::invalid_input(format!(
                "{what} cannot be combined with tls_config: set them in the rustls configuration"
            )));
        }
        let n = NEXT_CUSTOM.fetch_add(1, Ordering::Relaxed);
        Ok(TlsPolicy {
            config: custom.clone(),
            input_clock: false,
            identity: TlsIdentity::from_parts([
                b"custom rustls configuration".as_slice(),
                &n.to_be_bytes(),
            ]),
            client: None,
            offer,
            specs: self.specs.clone(),
            pinner: CertificatePinner::default(),
            accept_invalid_certs: false,
            sessions: None,
        })
    }

    /// The identity of these settings (see the module docs). Each list is preceded by its
    /// length, so the encoding is unambiguous; the shortest and most distinctive parts come
    /// first, so identities that differ usually differ early.
    fn identity(&self, offer: &Offer, client: Option<&Identity>) -> TlsIdentity {
        let versions: Vec<u8> = offer.versions.iter().map(|v| *v as u8).collect();
        let suites: Vec<u8> = offer
            .suites
            .iter()
            .flat_map(|s| u16::from(s.suite()).to_be_bytes())
            .collect();
        let verify: &[u8] = if self.accept_invalid_certs {
            b"accept invalid certificates"
        } else {
            b"verify"
        };
        let built_in: &[u8] = if self.built_in_roots {
            b"webpki-roots"
        } else {
            b""
        };
        let chain = client.map(Identity::chain).unwrap_or_default();
        let count = |n: usize| (n as u64).to_be_bytes().to_vec();
        let mut parts: Vec<Vec<u8>> = vec![
            versions,
            suites,
            verify.to_vec(),
            self.pinner.identity_part(),
            count(chain.len()),
        ];
        parts.extend(chain.iter().map(|c| c.der().to_vec()));
        parts.push(built_in.to_vec());
        parts.push(count(self.roots.len()));
        parts.extend(self.roots.iter().map(|c| c.der().to_vec()));
        parts.push(count(self.exact.len()));
        parts.extend(self.exact.iter().map(|c| c.der().to_vec()));
        TlsIdentity::from_parts(parts)
    }
}

impl TlsPolicy {
    /// The rustls configuration for a connection whose handshake starts at `wall`: when the
    /// configuration was built here, a copy whose clock is stopped at that time (certificate
    /// validity is checked against the driver's time, per connection), with a client
    /// certificate resolver of its own; a caller's own configuration is used as it is.
    pub(crate) fn for_connection(&self, wall: SystemTime, port: u16) -> ConnectionTls {
        if !self.input_clock {
            return ConnectionTls {
                config: self.config.clone(),
                local: None,
            };
        }
        let mut config = (*self.config).clone();
        config.time_provider = Arc::new(InputClock::at(wall));
        if let Some(sessions) = &self.sessions {
            config.resumption = Resumption::store(sessions.for_port(port));
        }
        let local = self.client.as_ref().map(|identity| {
            let (resolver, sent) = identity.for_connection();
            config.client_auth_cert_resolver = resolver;
            LocalCertificate {
                chain: identity.chain().into(),
                sent,
            }
        });
        ConnectionTls {
            config: Arc::new(config),
            local,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::TlsVersion;

    fn identity(settings: &TlsSettings) -> TlsIdentity {
        settings.build().unwrap().identity
    }

    fn cert() -> (Certificate, PrivateKey) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        (
            Certificate::from_der(der),
            PrivateKey::from_der(key.serialize_der()).unwrap(),
        )
    }

    #[test]
    fn equal_settings_have_equal_identities_and_each_setting_changes_it() {
        let base = TlsSettings::default();
        assert_eq!(identity(&base), identity(&base.clone()));
        let (client_cert, key) = cert();
        let pinner = CertificatePinner::builder()
            .add(
                "a.test",
                ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
            )
            .build()
            .unwrap();
        let variants = [
            TlsSettings {
                accept_invalid_certs: true,
                ..base.clone()
            },
            TlsSettings {
                pinner,
                ..base.clone()
            },
            TlsSettings {
                client: Some((vec![client_cert.clone()], key.clone())),
                ..base.clone()
            },
            TlsSettings {
                specs: vec![ConnectionSpec::MODERN_TLS.with_tls_versions([TlsVersion::Tls1_3])],
                ..base.clone()
            },
            TlsSettings {
                built_in_roots: false,
                ..base.clone()
            },
            TlsSettings {
                roots: vec![client_cert.clone()],
                ..base.clone()
            },
            TlsSettings {
                exact: vec![client_cert.clone()],
                ..base.clone()
            },
        ];
        let mut seen = vec![identity(&base)];
        for v in &variants {
            let id = identity(v);
            assert!(!seen.contains(&id), "{v:?}");
            seen.push(id);
        }
        // Plaintext is not part of it: it changes no TLS connection.
        let with_cleartext_only_change = TlsSettings {
            specs: vec![ConnectionSpec::MODERN_TLS],
            ..base.clone()
        };
        assert_eq!(identity(&with_cleartext_only_change), identity(&base));
    }

    #[test]
    fn custom_configurations_are_each_their_own_identity_and_refuse_other_settings() {
        let custom = TlsSettings::default().build().unwrap().config;
        let settings = TlsSettings {
            custom: Some(custom),
            ..TlsSettings::default()
        };
        assert_ne!(identity(&settings), identity(&settings));
        let pinned = TlsSettings {
            pinner: CertificatePinner::builder()
                .add(
                    "a.test",
                    ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
                )
                .build()
                .unwrap(),
            ..settings.clone()
        };
        let e = pinned.build().unwrap_err();
        assert!(
            e.to_string()
                .contains("certificate pins cannot be combined"),
            "{e}"
        );
        let insecure = TlsSettings {
            accept_invalid_certs: true,
            ..settings
        };
        assert!(insecure.build().is_err());
    }

    #[test]
    fn versions_and_suites_reach_rustls() {
        let settings = TlsSettings {
            specs: vec![
                ConnectionSpec::MODERN_TLS
                    .with_tls_versions([TlsVersion::Tls1_2])
                    .with_cipher_suites([
                        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                    ]),
            ],
            ..TlsSettings::default()
        };
        let policy = settings.build().unwrap();
        assert_eq!(policy.offer.versions, [TlsVersion::Tls1_2]);
        let suites: Vec<_> = policy
            .config
            .crypto_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        assert_eq!(
            suites,
            [rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]
        );
        assert!(!policy.offer.cleartext);
        // TLS 1.3 alone with only a TLS 1.2 suite cannot work.
        let impossible = TlsSettings {
            specs: vec![
                ConnectionSpec::MODERN_TLS
                    .with_tls_versions([TlsVersion::Tls1_3])
                    .with_cipher_suites([
                        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                    ]),
            ],
            ..TlsSettings::default()
        };
        assert!(impossible.build().is_err());
    }

    #[test]
    fn each_connection_gets_its_own_client_certificate_record() {
        let (client_cert, key) = cert();
        let policy = TlsSettings {
            client: Some((vec![client_cert.clone()], key)),
            ..TlsSettings::default()
        }
        .build()
        .unwrap();
        let one = policy.for_connection(SystemTime::UNIX_EPOCH, 443);
        let two = policy.for_connection(SystemTime::UNIX_EPOCH, 443);
        let (one, two) = (one.local.unwrap(), two.local.unwrap());
        assert_eq!(&one.chain[..], [client_cert]);
        assert!(!Arc::ptr_eq(&one.sent, &two.sent));
        assert!(!one.was_sent());
        assert!(
            TlsSettings::default()
                .build()
                .unwrap()
                .for_connection(SystemTime::UNIX_EPOCH, 443)
                .local
                .is_none()
        );
    }
}
