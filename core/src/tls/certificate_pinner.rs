//! Certificate pinning (OkHttp's `CertificatePinner`): for chosen hosts, the server's verified
//! certificate chain must contain one of the pinned public keys.
//!
//! A pin is the SHA-256 hash of a certificate's `SubjectPublicKeyInfo`, written
//! `sha256/<base64>`. A host pattern is an exact host name, `*.example.com` (exactly one label
//! before `example.com`), or `**.example.com` (`example.com` itself and any depth of labels
//! before it); wayfarer adds `**` alone for every host. A host matched by no pattern is not
//! pinned. When several patterns match, their pins are pooled: any one of them is enough.
//!
//! Pins are checked against the chain that certificate verification built, from the server's
//! certificate to a trusted root, never against the certificates the server sent: a server
//! may send any certificate alongside its own, and a pin matched by an unverified extra one
//! would prove nothing (CVE-2016-2402). See `pinning_verifier.rs` for how the verified chain is
//! obtained.
//!
//! Pinning limits whom a client trusts, on top of the usual verification; it never widens it.
//! Pin at least one backup key (the next certificate's key, or the issuing CA's): a server that
//! rotates to an unpinned key locks every pinned client out.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// One pin: a host pattern and the SHA-256 hash of a public key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pin {
    pattern: Pattern,
    hash: [u8; 32],
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Pattern {
    /// Exactly this host.
    Exact(String),
    /// One label before this suffix (`*.example.com`, stored as `.example.com`).
    OneLabel(String),
    /// This host and any depth of labels before it (`**.example.com`, stored as `example.com`).
    AnyDepth(String),
    /// Every host (`**`).
    Every,
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, Error> {
        let bad =
            |why: &str| Error::invalid_input(format!("invalid pin pattern {pattern:?}: {why}"));
        if pattern == "**" {
            return Ok(Pattern::Every);
        }
        let (kind, host) = if let Some(host) = pattern.strip_prefix("**.") {
            (2, host)
        } else if let Some(host) = pattern.strip_prefix("*.") {
            (1, host)
        } else {
            (0, pattern)
        };
        if host.contains('*') {
            return Err(bad("a wildcard may only start the pattern, as *. or **."));
        }
        // The host as URLs carry it: lowercase ASCII (IDNA), IP literals without brackets.
        // url wants brackets around an IPv6 literal; an Address holds it without.
        let bracketed = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let host = match url::Host::parse(&bracketed) {
            Ok(url::Host::Domain(d)) => d,
            Ok(url::Host::Ipv4(ip)) if kind == 0 => ip.to_string(),
            Ok(url::Host::Ipv6(ip)) if kind == 0 => ip.to_string(),
            Ok(_) => return Err(bad("an IP address cannot take a wildcard")),
            Err(e) => return Err(bad(&e.to_string())),
        };
        Ok(match kind {
            0 => Pattern::Exact(host),
            1 => Pattern::OneLabel(format!(".{host}")),
            _ => Pattern::AnyDepth(host),
        })
    }

    /// Whether `host` (lowercase, as an [`Address`](crate::Address) holds it) matches.
    fn matches(&self, host: &str) -> bool {
        match self {
            Pattern::Exact(h) => host == h,
            Pattern::OneLabel(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
            Pattern::AnyDepth(base) => {
                host == base
                    || host
                        .strip_suffix(base.as_str())
                        .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
            }
            Pattern::Every => true,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(h) => f.write_str(h),
            Pattern::OneLabel(suffix) => write!(f, "*{suffix}"),
            Pattern::AnyDepth(base) => write!(f, "**.{base}"),
            Pattern::Every => f.write_str("**"),
        }
    }
}

impl Pin {
    /// The host pattern, as given (normalized to lowercase ASCII).
    pub fn pattern(&self) -> String {
        self.pattern.to_string()
    }

    /// The SHA-256 hash of the pinned public key.
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// Whether the pin applies to `host`.
    pub fn matches_host(&self, host: &str) -> bool {
        self.pattern.matches(&host.to_ascii_lowercase())
    }
}

/// `sha256/<base64>`, as pins are written.
impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256/{}", STANDARD.encode(self.hash))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {self}", self.pattern)
    }
}

/// Parses `sha256/<base64 of 32 bytes>`.
fn parse_hash(pin: &str) -> Result<[u8; 32], Error> {
    let bad = |why: &str| Error::invalid_input(format!("invalid pin {pin:?}: {why}"));
    let encoded = pin
        .strip_prefix("sha256/")
        .ok_or_else(|| bad("pins are written sha256/<base64>"))?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|e| bad(&format!("not base64 ({e})")))?;
    bytes
        .try_into()
        .map_err(|_| bad("a SHA-256 hash is 32 bytes"))
}

/// The SHA-256 hash of a DER `SubjectPublicKeyInfo`, as a pin of it is written.
pub(crate) fn spki_pin(spki: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki);
    format!("sha256/{}", STANDARD.encode(digest.as_ref()))
}

/// The public keys a client insists on, per host.
///
/// ```
/// use wayfarer_core::{CertificatePinner, Config};
///
/// let pinner = CertificatePinner::builder()
///     .add("example.com", ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
///     .add("**.example.org", [
///         "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=", // the current key
///         "sha256/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=", // a backup
///     ])
///     .build()?;
/// assert_eq!(pinner.pins_for("api.example.org").count(), 2);
/// assert_eq!(pinner.pins_for("example.net").count(), 0);
/// let config = Config::builder().certificate_pinner(pinner).build()?;
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CertificatePinner {
    pins: Vec<Pin>,
}

impl CertificatePinner {
    /// A builder with no pins.
    pub fn builder() -> CertificatePinnerBuilder {
        CertificatePinnerBuilder::default()
    }

    /// True when nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }

    /// Every pin.
    pub fn pins(&self) -> &[Pin] {
        &self.pins
    }

    /// The pins that apply to `host`.
    pub fn pins_for<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a Pin> + 'a {
        let host = host.to_ascii_lowercase();
        self.pins.iter().filter(move |p| p.pattern.matches(&host))
    }

    /// The pin of a DER certificate's public key (`sha256/<base64>`), for writing pins: OkHttp's
    /// `CertificatePinner.pin(certificate)`.
    ///
    /// ```
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let der = rcgen::CertificateParams::new(vec!["example.com".to_string()])?
    /// #     .self_signed(&key)?.der().to_vec();
    /// let pin = wayfarer_core::CertificatePinner::pin(&der)?;
    /// assert!(pin.starts_with("sha256/") && pin.len() == 51);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pin(certificate_der: &[u8]) -> Result<String, Error> {
        let der = rustls::pki_types::CertificateDer::from(certificate_der);
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| Error::invalid_input(format!("not a usable certificate: {e}")))?;
        Ok(spki_pin(&cert.subject_public_key_info()))
    }

    /// Checks a verified chain (leaf first, trust anchor last) for `host`: fine when the host
    /// is not pinned or some certificate's key is pinned for it.
    pub(crate) fn check(&self, host: &str, chain: &[ChainKey]) -> Result<(), PinningFailure> {
        let pins: Vec<&Pin> = self.pins_for(host).collect();
        if pins.is_empty() {
            return Ok(());
        }
        let hashes: Vec<[u8; 32]> = chain
            .iter()
            .map(|key| {
                let digest = ring::digest::digest(&ring::digest::SHA256, &key.spki);
                let mut hash = [0u8; 32];
                hash.copy_from_slice(digest.as_ref());
                hash
            })
            .collect();
        if pins.iter().any(|p| hashes.contains(&p.hash)) {
            return Ok(());
        }
        Err(PinningFailure {
            host: host.to_owned(),
            chain: chain
                .iter()
                .map(|key| (spki_pin(&key.spki), key.subject.clone()))
                .collect(),
            pinned: pins.iter().map(|p| p.to_string()).collect(),
        })
    }

    /// The pins' exact encoding, for the pool's [`TlsIdentity`](crate::TlsIdentity).
    pub(crate) fn identity_part(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for pin in &self.pins {
            out.extend_from_slice(pin.pattern.to_string().as_bytes());
            out.push(0);
            out.extend_from_slice(&pin.hash);
        }
        out
    }
}

impl fmt::Debug for CertificatePinner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.pins).finish()
    }
}

/// Collects pins; [`build`](Self::build) reports the first invalid one.
#[derive(Debug, Default)]
pub struct CertificatePinnerBuilder {
    pins: Vec<Pin>,
    error: Option<Error>,
}

impl CertificatePinnerBuilder {
    /// Pins `pins` (each `sha256/<base64>`) for hosts matching `pattern` (`example.com`,
    /// `*.example.com`, `**.example.com`, or `**` for every host).
    pub fn add<I, S>(mut self, pattern: &str, pins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let result = Pattern::parse(pattern).and_then(|pattern| {
            pins.into_iter()
                .map(|pin| {
                    Ok(Pin {
                        pattern: pattern.clone(),
                        hash: parse_hash(pin.as_ref())?,
                    })
                })
                .collect::<Result<Vec<Pin>, Error>>()
        });
        match result {
            Ok(pins) => {
                for pin in pins {
                    if !self.pins.contains(&pin) {
                        self.pins.push(pin);
                    }
                }
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// The pinner, or the first invalid pattern or pin.
    pub fn build(self) -> Result<CertificatePinner, Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(CertificatePinner { pins: self.pins }),
        }
    }
}

/// One certificate of a verified chain, as pinning sees it.
#[derive(Debug, Clone)]
pub(crate) struct ChainKey {
    /// The DER `SubjectPublicKeyInfo`, with its outer `SEQUENCE`.
    pub spki: Vec<u8>,
    /// Its subject's common name, for the failure message.
    pub subject: Option<String>,
}

/// A verified chain matched none of the pins for its host. The handshake fails with it as a
/// TLS error (see [`Error::pinning_failure`](crate::Error::pinning_failure)), and the call is
/// never retried: another connection would be just as pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinningFailure {
    host: String,
    chain: Vec<(String, Option<String>)>,
    pinned: Vec<String>,
}

impl PinningFailure {
    /// The host connected to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The pins of the verified chain's keys (`sha256/<base64>`), leaf first.
    pub fn chain_pins(&self) -> impl Iterator<Item = &str> {
        self.chain.iter().map(|(pin, _)| pin.as_str())
    }

    /// The pins configured for the host.
    pub fn pinned(&self) -> &[String] {
        &self.pinned
    }
}

/// OkHttp's words, on one line: `Certificate pinning failure! Peer certificate chain:
/// sha256/…: CN=leaf, sha256/…: CN=root; Pinned certificates for host: sha256/…`.
impl fmt::Display for PinningFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Certificate pinning failure! Peer certificate chain: ")?;
        for (i, (pin, subject)) in self.chain.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(pin)?;
            if let Some(cn) = subject {
                write!(f, ": CN={cn}")?;
            }
        }
        write!(
            f,
            "; Pinned certificates for {}: {}",
            self.host,
            self.pinned.join(", ")
        )
    }
}

impl std::error::Error for PinningFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const B: &str = "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

    fn matches(pattern: &str, host: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(host)
    }

    #[test]
    fn exact_hosts_match_only_themselves() {
        assert!(matches("example.com", "example.com"));
        assert!(matches("EXAMPLE.com", "example.com"));
        assert!(!matches("example.com", "www.example.com"));
        assert!(!matches("example.com", "xexample.com"));
        assert!(matches("127.0.0.1", "127.0.0.1"));
        assert!(matches("[::1]", "::1"));
    }

    #[test]
    fn one_star_is_exactly_one_label() {
        assert!(matches("*.example.com", "www.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(!matches("*.example.com", "a.b.example.com"));
        assert!(!matches("*.example.com", "wwwexample.com"));
        assert!(!matches("*.example.com", ".example.com"));
    }

    #[test]
    fn two_stars_are_any_depth_including_none() {
        assert!(matches("**.example.com", "example.com"));
        assert!(matches("**.example.com", "www.example.com"));
        assert!(matches("**.example.com", "a.b.example.com"));
        assert!(!matches("**.example.com", "badexample.com"));
        assert!(!matches("**.example.com", "example.com.evil"));
        assert!(matches("**", "anything.at.all"));
    }

    #[test]
    fn patterns_are_normalized_like_urls() {
        let pinner = CertificatePinner::builder()
            .add("*.BÜCHER.example", [A])
            .build()
            .unwrap();
        assert_eq!(pinner.pins()[0].pattern(), "*.xn--bcher-kva.example");
        assert_eq!(pinner.pins_for("www.xn--bcher-kva.example").count(), 1);
    }

    #[test]
    fn bad_patterns_and_pins_fail_the_build() {
        for pattern in ["a.*.com", "*", "***.a.com", "*.127.0.0.1", "exa mple.com"] {
            let e = CertificatePinner::builder().add(pattern, [A]).build();
            assert!(e.is_err(), "{pattern}");
        }
        for pin in [
            "sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha256/not base64!",
            "sha256/AAAA",
        ] {
            let e = CertificatePinner::builder().add("a.com", [pin]).build();
            let e = e.unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{pin}");
            assert!(e.to_string().contains("invalid pin"), "{e}");
        }
    }

    #[test]
    fn pins_of_all_matching_patterns_apply() {
        let pinner = CertificatePinner::builder()
            .add("www.example.com", [A])
            .add("*.example.com", [B])
            .add("*.example.com", [B])
            .build()
            .unwrap();
        assert_eq!(pinner.pins().len(), 2, "duplicates are dropped");
        let pins: Vec<String> = pinner
            .pins_for("WWW.example.com")
            .map(|p| p.to_string())
            .collect();
        assert_eq!(pins, [A, B]);
        assert_eq!(pinner.pins_for("api.example.com").count(), 1);
    }

    fn key(spki: &[u8], cn: &str) -> ChainKey {
        ChainKey {
            spki: spki.to_vec(),
            subject: Some(cn.to_owned()),
        }
    }

    #[test]
    fn any_key_of_the_chain_satisfies_the_pins() {
        let chain = [key(b"leaf key", "leaf"), key(b"root key", "root")];
        let root_pin = spki_pin(b"root key");
        let pinner = CertificatePinner::builder()
            .add("h.test", [A, root_pin.as_str()])
            .build()
            .unwrap();
        assert_eq!(pinner.check("h.test", &chain), Ok(()));
        assert_eq!(
            pinner.check("other.test", &chain[..1]),
            Ok(()),
            "not pinned"
        );
        let failure = pinner.check("h.test", &chain[..1]).unwrap_err();
        assert_eq!(failure.host(), "h.test");
        assert_eq!(
            failure.chain_pins().collect::<Vec<_>>(),
            [spki_pin(b"leaf key")]
        );
        assert_eq!(failure.pinned(), [A.to_string(), root_pin.clone()]);
        assert_eq!(
            failure.to_string(),
            format!(
                "Certificate pinning failure! Peer certificate chain: {}: CN=leaf; \
                 Pinned certificates for h.test: {A}, {root_pin}",
                spki_pin(b"leaf key")
            )
        );
    }

    #[test]
    fn the_identity_part_follows_the_pins() {
        let one = CertificatePinner::builder()
            .add("a.com", [A])
            .build()
            .unwrap();
        let two = CertificatePinner::builder()
            .add("a.com", [B])
            .build()
            .unwrap();
        let other_host = CertificatePinner::builder()
            .add("b.com", [A])
            .build()
            .unwrap();
        assert_ne!(one.identity_part(), two.identity_part());
        assert_ne!(one.identity_part(), other_host.identity_part());
        assert!(CertificatePinner::default().identity_part().is_empty());
    }
}
