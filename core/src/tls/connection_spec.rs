//! Connection specs (OkHttp's `ConnectionSpec`): the TLS versions and cipher suites a client
//! offers for `https`, and whether it speaks plaintext `http` at all.
//!
//! A client has a list of specs, [`MODERN_TLS`](ConnectionSpec::MODERN_TLS) and
//! [`CLEARTEXT`](ConnectionSpec::CLEARTEXT) by default, as OkHttp. Without a TLS spec in the list
//! it refuses `https` URLs; without `CLEARTEXT` it refuses `http` URLs. Both refusals happen
//! before anything is sent, also for a redirect's target.
//!
//! OkHttp tries its TLS specs one after another, falling back to the next after a failed
//! handshake. rustls negotiates the version and suite from everything a ClientHello offers, so
//! here the client offers the union of its TLS specs' versions and suites at once (in the order
//! the specs list them) and the server picks among them: the same set of acceptable outcomes,
//! in one handshake.
//!
//! rustls implements no CBC or RSA key-exchange suites and no TLS 1.0 or 1.1, so what OkHttp's
//! `MODERN_TLS` and `COMPATIBLE_TLS` add beyond the AEAD suites cannot be offered; the suites of
//! a spec that rustls does not implement are left out, as OkHttp leaves out those its platform
//! lacks.

use std::borrow::Cow;
use std::fmt;

use rustls::CipherSuite;

/// A TLS protocol version.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls1_2,
    /// TLS 1.3 (RFC 8446).
    Tls1_3,
}

impl TlsVersion {
    /// The name Java and OkHttp give it: `TLSv1.2`, `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls1_2 => "TLSv1.2",
            TlsVersion::Tls1_3 => "TLSv1.3",
        }
    }

    pub(crate) fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls1_2 => &rustls::version::TLS12,
            TlsVersion::Tls1_3 => &rustls::version::TLS13,
        }
    }

    pub(crate) fn from_rustls(version: rustls::ProtocolVersion) -> Option<TlsVersion> {
        match version {
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls1_2),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls1_3),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The AEAD suites with forward secrecy, TLS 1.3's first: OkHttp's approved suites, which are
/// exactly the ones rustls implements.
const MODERN_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

const TLS_1_3_AND_1_2: &[TlsVersion] = &[TlsVersion::Tls1_3, TlsVersion::Tls1_2];

/// Which connections a client may make: plaintext, or TLS with these versions and cipher suites.
///
/// ```
/// use wayfarer_core::{CipherSuite, Config, ConnectionSpec, TlsVersion};
///
/// // TLS 1.3 only, and no plaintext http at all.
/// let spec = ConnectionSpec::MODERN_TLS.with_tls_versions([TlsVersion::Tls1_3]);
/// let config = Config::builder().connection_specs([spec.clone()]).build()?;
/// assert_eq!(config.connection_specs(), [spec]);
///
/// let narrow = ConnectionSpec::MODERN_TLS
///     .with_cipher_suites([CipherSuite::TLS13_AES_256_GCM_SHA384]);
/// assert_eq!(narrow.cipher_suites(), Some(&[CipherSuite::TLS13_AES_256_GCM_SHA384][..]));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionSpec {
    tls: bool,
    /// `None`: every version the TLS library implements.
    tls_versions: Option<Cow<'static, [TlsVersion]>>,
    /// `None`: every suite the crypto provider implements.
    cipher_suites: Option<Cow<'static, [CipherSuite]>>,
}

impl ConnectionSpec {
    /// TLS 1.3 and 1.2 with the modern suites (AEAD ciphers with forward secrecy), as OkHttp's
    /// `MODERN_TLS`. The default TLS spec.
    pub const MODERN_TLS: ConnectionSpec = ConnectionSpec {
        tls: true,
        tls_versions: Some(Cow::Borrowed(TLS_1_3_AND_1_2)),
        cipher_suites: Some(Cow::Borrowed(MODERN_SUITES)),
    };

    /// TLS 1.3 and 1.2 with every suite the crypto provider implements, for servers that need
    /// older TLS 1.2 suites (OkHttp's `COMPATIBLE_TLS`). With the ring provider this is the same
    /// set as [`MODERN_TLS`](Self::MODERN_TLS): rustls implements no suite older than those.
    pub const COMPATIBLE_TLS: ConnectionSpec = ConnectionSpec {
        tls: true,
        tls_versions: Some(Cow::Borrowed(TLS_1_3_AND_1_2)),
        cipher_suites: None,
    };

    /// Plaintext `http`, no TLS.
    pub const CLEARTEXT: ConnectionSpec = ConnectionSpec {
        tls: false,
        tls_versions: None,
        cipher_suites: None,
    };

    /// True for a TLS spec, false for [`CLEARTEXT`](Self::CLEARTEXT).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The TLS versions offered, most preferred first; `None` for every version rustls
    /// implements (and for `CLEARTEXT`).
    pub fn tls_versions(&self) -> Option<&[TlsVersion]> {
        self.tls_versions.as_deref()
    }

    /// The cipher suites offered, most preferred first; `None` for every suite the crypto
    /// provider implements (and for `CLEARTEXT`).
    pub fn cipher_suites(&self) -> Option<&[CipherSuite]> {
        self.cipher_suites.as_deref()
    }

    /// The same spec offering only these TLS versions. Building a client with a spec that
    /// offers no version, or a cleartext spec with versions, fails.
    #[must_use]
    pub fn with_tls_versions(mut self, versions: impl IntoIterator<Item = TlsVersion>) -> Self {
        self.tls_versions = Some(Cow::Owned(versions.into_iter().collect()));
        self
    }

    /// The same spec offering only these cipher suites (suites the crypto provider does not
    /// implement are left out when the client is built; a spec left with none fails the build).
    #[must_use]
    pub fn with_cipher_suites(mut self, suites: impl IntoIterator<Item = CipherSuite>) -> Self {
        self.cipher_suites = Some(Cow::Owned(suites.into_iter().collect()));
        self
    }

    /// What is wrong with this spec on its own, if anything.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        let versions = self.tls_versions.as_deref();
        let suites = self.cipher_suites.as_deref();
        match (self.tls, versions, suites) {
            (false, None, None) => None,
            (false, _, _) => Some("a cleartext connection spec has no TLS versions or suites"),
            (true, Some([]), _) => Some("a TLS connection spec offers no TLS version"),
            (true, _, Some([])) => Some("a TLS connection spec offers no cipher suite"),
            (true, _, _) => None,
        }
    }
}

impl fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.tls {
            return f.write_str("ConnectionSpec(CLEARTEXT)");
        }
        let mut d = f.debug_struct("ConnectionSpec");
        match &self.tls_versions {
            Some(v) => d.field("tls_versions", v),
            None => d.field("tls_versions", &"all"),
        };
        match &self.cipher_suites {
            Some(s) => d.field(
                "cipher_suites",
                &s.iter().map(|s| Named(*s)).collect::<Vec<_>>(),
            ),
            None => d.field("cipher_suites", &"all"),
        };
        d.finish()
    }
}

/// A suite by its IANA name even when rustls's `Debug` shows only its number (as it does for
/// suites it does not implement).
struct Named(CipherSuite);

impl fmt::Debug for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_str() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// What a client's specs allow, resolved once when it is built.
#[derive(Debug, Clone)]
pub(crate) struct Offer {
    /// `http` URLs are allowed.
    pub cleartext: bool,
    /// The TLS versions offered, most preferred first; empty when no spec is a TLS one.
    pub versions: Vec<TlsVersion>,
    /// The suites offered, from the provider's, in the specs' order of preference.
    pub suites: Vec<rustls::SupportedCipherSuite>,
}

impl Offer {
    /// `https` URLs are allowed.
    pub(crate) fn tls(&self) -> bool {
        !self.versions.is_empty()
    }

    /// Resolves `specs` against the suites `provided` by the crypto provider: the union of the
    /// TLS specs' versions and suites, in the order the specs list them.
    pub(crate) fn resolve(
        specs: &[ConnectionSpec],
        provided: &[rustls::SupportedCipherSuite],
    ) -> Result<Offer, String> {
        if specs.is_empty() {
            return Err("no connection spec: a client needs CLEARTEXT, a TLS spec, or both".into());
        }
        if let Some(problem) = specs.iter().find_map(ConnectionSpec::problem) {
            return Err(problem.into());
        }
        let mut offer = Offer {
            cleartext: specs.iter().any(|s| !s.tls),
            versions: Vec::new(),
            suites: Vec::new(),
        };
        for spec in specs.iter().filter(|s| s.tls) {
            let versions = spec
                .tls_versions()
                .unwrap_or(&[TlsVersion::Tls1_3, TlsVersion::Tls1_2]);
            for v in versions {
                if !offer.versions.contains(v) {
                    offer.versions.push(*v);
                }
            }
            let wanted: Vec<rustls::SupportedCipherSuite> = match spec.cipher_suites() {
                Some(names) => names
                    .iter()
                    .filter_map(|name| provided.iter().find(|s| s.suite() == *name).copied())
                    .collect(),
                None => provided.to_vec(),
            };
            if wanted.is_empty() {
                return Err(format!(
                    "none of the cipher suites of {spec:?} is implemented by the TLS library"
                ));
            }
            for suite in wanted {
                if !offer.suites.iter().any(|s| s.suite() == suite.suite()) {
                    offer.suites.push(suite);
                }
            }
        }
        Ok(offer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provided() -> Vec<rustls::SupportedCipherSuite> {
        rustls::crypto::ring::default_provider().cipher_suites
    }

    fn names(offer: &Offer) -> Vec<CipherSuite> {
        offer.suites.iter().map(|s| s.suite()).collect()
    }

    #[test]
    fn the_default_offers_modern_tls_and_cleartext() {
        let offer = Offer::resolve(
            &[ConnectionSpec::MODERN_TLS, ConnectionSpec::CLEARTEXT],
            &provided(),
        )
        .unwrap();
        assert!(offer.cleartext && offer.tls());
        assert_eq!(offer.versions, [TlsVersion::Tls1_3, TlsVersion::Tls1_2]);
        assert_eq!(names(&offer), MODERN_SUITES);
    }

    #[test]
    fn cleartext_only_and_tls_only() {
        let offer = Offer::resolve(&[ConnectionSpec::CLEARTEXT], &provided()).unwrap();
        assert!(offer.cleartext && !offer.tls());
        let offer = Offer::resolve(&[ConnectionSpec::COMPATIBLE_TLS], &provided()).unwrap();
        assert!(!offer.cleartext && offer.tls());
        assert_eq!(offer.suites.len(), provided().len());
    }

    #[test]
    fn specs_are_united_in_order_and_unknown_suites_left_out() {
        let first = ConnectionSpec::MODERN_TLS
            .with_tls_versions([TlsVersion::Tls1_2])
            .with_cipher_suites([
                CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA, // not implemented by rustls
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            ]);
        let second = ConnectionSpec::MODERN_TLS.with_cipher_suites([
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ]);
        let offer = Offer::resolve(&[first, second], &provided()).unwrap();
        assert_eq!(offer.versions, [TlsVersion::Tls1_2, TlsVersion::Tls1_3]);
        assert_eq!(
            names(&offer),
            [
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            ]
        );
        assert!(!offer.cleartext);
    }

    #[test]
    fn empty_and_unusable_specs_are_refused() {
        let p = provided();
        assert!(Offer::resolve(&[], &p).is_err());
        let no_versions = ConnectionSpec::MODERN_TLS.with_tls_versions([]);
        assert!(Offer::resolve(&[no_versions], &p).is_err());
        let no_suites = ConnectionSpec::MODERN_TLS.with_cipher_suites([]);
        assert!(Offer::resolve(&[no_suites], &p).is_err());
        let only_cbc = ConnectionSpec::MODERN_TLS
            .with_cipher_suites([CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA]);
        let e = Offer::resolve(&[only_cbc], &p).unwrap_err();
        assert!(e.contains("TLS_RSA_WITH_AES_128_CBC_SHA"), "{e}");
        let odd_cleartext = ConnectionSpec::CLEARTEXT.with_tls_versions([TlsVersion::Tls1_3]);
        assert!(Offer::resolve(&[odd_cleartext], &p).is_err());
    }

    #[test]
    fn versions_have_javas_names() {
        assert_eq!(TlsVersion::Tls1_3.to_string(), "TLSv1.3");
        assert_eq!(
            TlsVersion::from_rustls(rustls::ProtocolVersion::TLSv1_2),
            Some(TlsVersion::Tls1_2)
        );
        assert_eq!(
            TlsVersion::from_rustls(rustls::ProtocolVersion::TLSv1_0),
            None
        );
        assert_eq!(
            format!("{:?}", ConnectionSpec::CLEARTEXT),
            "ConnectionSpec(CLEARTEXT)"
        );
    }
}
