//! The TLS half of a pool key: which TLS settings and client certificate made a connection.

use std::fmt;
use std::sync::Arc;

/// An opaque identity of the TLS settings a connection was made with: the trusted roots,
/// protocol versions and cipher suites, certificate pinning, the client certificate, and
/// anything else that decides whom a TLS connection may talk to and as whom.
///
/// The client computes it once from its TLS configuration and puts it in every `https`
/// [`Address`](crate::Address) it makes ([`Address::with_tls_identity`](crate::Address::with_tls_identity)).
/// Pooled connections are matched on the whole address, so a connection made with one
/// identity is only ever handed to calls with the very same identity. In particular a
/// connection made with weaker TLS settings (say, a root a call does not trust, or an older
/// protocol version) or with another client certificate is never handed to a call that asked
/// for stronger settings or a different certificate. Identities are compared exactly, not
/// ranked: a "stronger" connection is not reused for a "weaker" call either.
///
/// The identity is the exact byte encoding of the parts it was built from (each part
/// length-prefixed, so `["ab", "c"]` and `["a", "bc"]` differ), not a hash: two identities are
/// equal only if their parts are, with no chance of a collision.
///
/// ```
/// use wayfarer_core::TlsIdentity;
///
/// let roots_der: &[u8] = b"...DER of every trusted root...";
/// let plain = TlsIdentity::from_parts([b"roots".as_slice(), roots_der, b"tls1.2+"]);
/// let with_cert =
///     TlsIdentity::from_parts([b"roots".as_slice(), roots_der, b"tls1.2+", b"client-cert-der"]);
/// assert_ne!(plain, with_cert);
/// assert_eq!(plain, TlsIdentity::from_parts([b"roots".as_slice(), roots_der, b"tls1.2+"]));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TlsIdentity(Arc<Box<[u8]>>); // a thin pointer keeps every `Address` small

impl TlsIdentity {
    /// The identity of these parts, in order.
    pub fn from_parts<I, P>(parts: I) -> TlsIdentity
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut bytes = Vec::new();
        for part in parts {
            let part = part.as_ref();
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part);
        }
        TlsIdentity(Arc::new(bytes.into_boxed_slice()))
    }

    /// The encoded parts.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A short fingerprint for logs (FNV-1a of the encoding; for display only, never compared).
    fn fingerprint(&self) -> u64 {
        self.0.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsIdentity({:016x})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_length_prefixed() {
        let a = TlsIdentity::from_parts(["ab", "c"]);
        let b = TlsIdentity::from_parts(["a", "bc"]);
        assert_ne!(a, b);
        assert_ne!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(
            a,
            TlsIdentity::from_parts(vec![b"ab".to_vec(), b"c".to_vec()])
        );
        assert_ne!(
            TlsIdentity::from_parts([""; 0]),
            TlsIdentity::from_parts([""])
        );
    }
}
