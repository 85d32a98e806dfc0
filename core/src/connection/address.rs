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
    /// Lowercase host name, or an IP literal without brackets (then `ip()` parses it: an
    /// `Address` stays small, and every [`Connection`](crate::Connection) carries one).
    host: String,
    port: u16,
    /// `None` for [`Proxy::Direct`], the common case: no allocation.
    proxy: Option<Arc<Proxy>>,
    tls_identity: Option<TlsIdentity>,
}

static DIRECT: Proxy = Proxy::Direct;

impl Address {
    /// The address of a request URL (`http` or `https`, checked when the request was built).
    pub fn from_url(url: &Url) -> Address {
        let tls = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let host = match url.host() {
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            Some(Host::Domain(d)) => d.to_ascii_lowercase(),
            None => String::new(),
        };
        Address {
            tls,
            host,
            port,
            proxy: None,
            tls_identity: None,
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
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The IP address when the host is an IP literal: no name resolution needed.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
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
            Some(IpAddr::V6(_)) => write!(f, "{scheme}://[{}]:{}", self.host, self.port)?,
            _ => write!(f, "{scheme}://{}:{}", self.host, self.port)?,
        }
        if let Some(proxy) = &self.proxy {
            write!(f, " via {proxy}")?;
        }
        Ok(())
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
        assert_eq!(one.tls_identity(), Some(&TlsIdentity::from_parts(["one"])));
        assert_eq!(
            socks.to_string(),
            "https://example.com:443 via socks5://p:1"
        );
    }
}
