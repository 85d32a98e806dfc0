//! Where a call connects, and everything that makes two connections interchangeable.
//! Connections are pooled by address.

use std::fmt;
use std::sync::Arc;

use core::net::IpAddr;
use url::{Host, Url};

use crate::connection::TlsIdentity;
use crate::proxy::Proxy;

/// The origin a connection serves and how it reaches it: calls to equal addresses may share
/// pooled connections.
///
/// Two connections are interchangeable only when everything that shaped them is equal, so all
/// of it is part of the address (OkHttp's `Address` equality, minus what wayfarer does not
/// configure per call):
/// - scheme, host and port of the origin;
/// - the [`Proxy`] the connection goes through (a connection through a proxy, or tunnelled
///   through one with some credentials, is never used for a direct call or another proxy);
/// - for `https`, the [`TlsIdentity`] of the TLS settings and client certificate it was made
///   with. Plain `http` addresses carry no TLS identity: TLS settings cannot change a plaintext
///   connection.
///
/// ```
/// use wayfarer_core::{Address, Proxy, TlsIdentity, Url};
///
/// let url = Url::parse("https://example.com/a").unwrap();
/// let direct = Address::from_url(&url);
/// let proxied = direct.clone().with_proxy(Proxy::http("proxy.example", 3128));
/// assert_ne!(direct, proxied);
/// assert_eq!(proxied.to_string(), "https://example.com:443 via http://proxy.example:3128");
///
/// let with_cert = direct.clone().with_tls_identity(TlsIdentity::from_parts(["client-cert"]));
/// assert_ne!(direct, with_cert);
/// # let plain = Address::from_url(&Url::parse("http://example.com/").unwrap());
/// # assert_eq!(plain.clone().with_tls_identity(TlsIdentity::from_parts(["x"])), plain);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Address {
    tls: bool,
    /// Lowercase host name, or an IP literal without brackets (then `ip()` parses it).
    host: HostName,
    port: u16,
    /// `None` for [`Proxy::Direct`], the common case: no allocation.
    proxy: Option<Arc<Proxy>>,
    tls_identity: Option<TlsIdentity>,
    /// The client's name resolution, when not the system resolver's (see
    /// [`with_dns_identity`](Address::with_dns_identity)).
    dns_identity: Option<u64>,
}

/// [`Proxy::Direct`], for what holds no proxy of its own.
pub(crate) static DIRECT: Proxy = Proxy::Direct;

impl Address {
    /// The address of a request URL (`http` or `https`, checked when the request was built).
    pub fn from_url(url: &Url) -> Address {
        let tls = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let host = match url.host() {
            // The URL already holds the address as text, in the same dotted form `Display`
            // writes: copying it is much cheaper than formatting the four numbers again.
            Some(Host::Ipv4(ip)) => match url.host_str() {
                Some(text) if text.len() <= INLINE_HOST => HostName::new(text),
                _ => HostName::display(ip),
            },
            Some(Host::Ipv6(ip)) => HostName::display(ip),
            // The URL parser lowercases ASCII domains already; this keeps the key exact anyway.
            Some(Host::Domain(d)) if d.bytes().any(|b| b.is_ascii_uppercase()) => {
                HostName::new(&d.to_ascii_lowercase())
            }
            Some(Host::Domain(d)) => HostName::new(d),
            None => HostName::new(""),
        };
        Address {
            tls,
            host,
            port,
            proxy: None,
            tls_identity: None,
            dns_identity: None,
        }
    }

    /// The same origin reached through `proxy`.
    #[must_use]
    pub fn with_proxy(mut self, proxy: Proxy) -> Address {
        self.proxy = (!proxy.is_direct()).then(|| Arc::new(proxy));
        self
    }

    /// The same origin with connections made under these TLS settings. Ignored for plain
    /// `http` addresses.
    #[must_use]
    pub fn with_tls_identity(mut self, identity: TlsIdentity) -> Address {
        if self.tls {
            self.tls_identity = Some(identity);
        }
        self
    }

    /// The same origin as named by a particular resolver or set of overrides (`None`: the
    /// system resolver). Clients that share a pool but resolve names differently must not
    /// share connections: one could reach, through the other's connection, a server its own
    /// resolver would never have given it.
    #[must_use]
    pub fn with_dns_identity(mut self, identity: Option<u64>) -> Address {
        self.dns_identity = identity;
        self
    }

    /// How connections reach the origin ([`Proxy::Direct`] unless set).
    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_deref().unwrap_or(&DIRECT)
    }

    /// The identity of the TLS settings, if one was set (`https` only).
    pub fn tls_identity(&self) -> Option<&TlsIdentity> {
        self.tls_identity.as_ref()
    }

    /// True for `https`.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host name (or IP literal, without brackets).
    pub fn host(&self) -> &str {
        self.host.as_str()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The IP address when the host is an IP literal: no name resolution needed.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host().parse().ok()
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        if let Some(identity) = &self.tls_identity {
            write!(f, " {identity:?}")?;
        }
        Ok(())
    }
}

/// `scheme://host:port`, followed by ` via <proxy>` when not direct.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        match self.ip() {
            Some(IpAddr::V6(_)) => write!(f, "{scheme}://[{}]:{}", self.host(), self.port)?,
            _ => write!(f, "{scheme}://{}:{}", self.host(), self.port)?,
        }
        if let Some(proxy) = &self.proxy {
            write!(f, " via {proxy}")?;
        }
        Ok(())
    }
}

/// Bytes of a host name kept inside the [`Address`] itself.
const INLINE_HOST: usize = 46;

/// A host name that costs no allocation when short: every call builds an `Address` for the
/// pool lookup and the pool clones it, so a `String` here was two or three allocations per
/// request. Names up to [`INLINE_HOST`] bytes (every IP literal, most host names) live inline;
/// longer ones are shared, so a clone never allocates. Hand-rolled rather than a small-string
/// crate: it is these few lines, and only `as_str` is ever asked of it.
#[derive(Clone)]
enum HostName {
    Inline { len: u8, bytes: [u8; INLINE_HOST] },
    Shared(Arc<str>),
}

impl HostName {
    fn new(name: &str) -> HostName {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_HOST => {
                let mut bytes = [0u8; INLINE_HOST];
                bytes[..name.len()].copy_from_slice(name.as_bytes());
                HostName::Inline { len, bytes }
            }
            _ => HostName::Shared(Arc::from(name)),
        }
    }

    /// An IP address's text, formatted in place (the longest, an IPv6 address with an embedded
    /// IPv4 one, is 45 bytes).
    fn display(ip: impl fmt::Display) -> HostName {
        struct Inline {
            bytes: [u8; INLINE_HOST],
            len: usize,
        }
        impl fmt::Write for Inline {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.len + s.len();
                let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
                slot.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
        }
        let mut out = Inline {
            bytes: [0; INLINE_HOST],
            len: 0,
        };
        match (
            fmt::write(&mut out, format_args!("{ip}")),
            u8::try_from(out.len),
        ) {
            (Ok(()), Ok(len)) => HostName::Inline {
                len,
                bytes: out.bytes,
            },
            _ => HostName::new(&ip.to_string()),
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The name's bytes, for comparing and hashing without checking them as UTF-8 again
    /// (the pool compares addresses on every acquire).
    fn as_bytes(&self) -> &[u8] {
        match self {
            HostName::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            HostName::Shared(name) => name.as_bytes(),
        }
    }
}

impl PartialEq for HostName {
    fn eq(&self, other: &HostName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for HostName {}

impl std::hash::Hash for HostName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_urls() {
        let a = Address::from_url(&Url::parse("https://Example.COM/x").unwrap());
        assert_eq!(
            (a.is_tls(), a.host(), a.port(), a.ip()),
            (true, "example.com", 443, None)
        );
        let b = Address::from_url(&Url::parse("http://[::1]:8080/").unwrap());
        assert_eq!(b.host(), "::1");
        assert_eq!(b.ip(), Some("::1".parse().unwrap()));
        assert_eq!(b.to_string(), "http://[::1]:8080");
        // Any IPv4 spelling the URL parser accepts becomes the dotted address.
        for spelling in ["127.0.0.1", "0x7f.1", "2130706433", "127.000.0.01"] {
            let v4 = Address::from_url(&Url::parse(&format!("http://{spelling}:81/")).unwrap());
            assert_eq!((v4.host(), v4.port()), ("127.0.0.1", 81), "{spelling}");
            assert_eq!(v4.ip(), Some("127.0.0.1".parse().unwrap()));
        }
        let longest = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]";
        let c = Address::from_url(&Url::parse(&format!("http://{longest}/")).unwrap());
        assert_eq!(
            c.ip(),
            Some(longest.trim_matches(['[', ']']).parse().unwrap())
        );
        let name = format!("{}.example", "a".repeat(60));
        let d = Address::from_url(&Url::parse(&format!("https://{name}/")).unwrap());
        assert_eq!(d.host(), name);
        assert_eq!(d.clone(), d);
        assert_ne!(d, a);
        assert_ne!(
            a,
            Address::from_url(&Url::parse("http://example.com:443/").unwrap())
        );
    }

    #[test]
    fn proxy_and_tls_identity_are_part_of_the_key() {
        let a = Address::from_url(&Url::parse("https://example.com/").unwrap());
        assert_eq!(a.proxy(), &Proxy::Direct);
        assert_eq!(a.tls_identity(), None);
        let http = a.clone().with_proxy(Proxy::http("p", 1));
        let socks = a.clone().with_proxy(Proxy::socks5("p", 1));
        assert_ne!(a, http);
        assert_ne!(http, socks);
        assert_eq!(http, a.clone().with_proxy(Proxy::http("P", 1)));
        let one = a
            .clone()
            .with_tls_identity(TlsIdentity::from_parts(["one"]));
        let two = a
            .clone()
            .with_tls_identity(TlsIdentity::from_parts(["two"]));
        assert_ne!(one, two);
        assert_ne!(one, a);
        assert_ne!(a, one);
        assert_eq!(one, one.clone());
        let resolved = a.clone().with_dns_identity(Some(7));
        assert_ne!(resolved, a);
        assert_ne!(resolved, a.clone().with_dns_identity(Some(8)));
        assert_eq!(resolved, a.clone().with_dns_identity(Some(7)));
        assert_eq!(one.tls_identity(), Some(&TlsIdentity::from_parts(["one"])));
        assert_eq!(
            socks.to_string(),
            "https://example.com:443 via socks5://p:1"
        );
    }
}
