//! Where a call connects: scheme, host and port. Connections are pooled by address.

use std::fmt;

use core::net::IpAddr;
use url::{Host, Url};

/// The origin a connection serves: calls to equal addresses may share pooled connections.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Address {
    tls: bool,
    /// Lowercase host name, or an IP literal without brackets.
    host: String,
    ip: Option<IpAddr>,
    port: u16,
}

impl Address {
    /// The address of a request URL (`http` or `https`, checked when the request was built).
    pub fn from_url(url: &Url) -> Address {
        let tls = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let (host, ip) = match url.host() {
            Some(Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            Some(Host::Domain(d)) => (d.to_ascii_lowercase(), None),
            None => (String::new(), None),
        };
        Address {
            tls,
            host,
            ip,
            port,
        }
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
        self.ip
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        match self.ip {
            Some(IpAddr::V6(_)) => write!(f, "{scheme}://[{}]:{}", self.host, self.port),
            _ => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
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
}
