//! Proxies: which one a call goes through, and how a proxy is written down.
//!
//! A [`Proxy`] is one way to reach an origin: directly, through an HTTP proxy (plain requests
//! for `http:` URLs, a `CONNECT` tunnel for `https:` ones) or through a SOCKS5 proxy. A
//! [`ProxySelector`] picks the proxies to try for a URL, in order, as OkHttp's does; the route
//! selector then resolves each one into routes.
//!
//! Everything here is pure: the environment-style selector ([`EnvProxySelector`]) is built from
//! values the runtime reads (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`), never from
//! the environment itself.

mod no_proxy;
pub(crate) mod routing;
mod selector;
pub(crate) mod socks5;
pub(crate) mod tunnel;

use std::fmt;
use std::str::FromStr;

use core::net::IpAddr;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::Error;

pub use no_proxy::NoProxy;
pub(crate) use routing::Routing;
pub use selector::{EnvProxySelector, FixedProxySelector, ProxyEnv, ProxySelector};

/// curl's default proxy port, used when a proxy string names none (`-x proxy.example`).
const DEFAULT_PROXY_PORT: u16 = 1080;

/// How a connection reaches its origin.
///
/// Part of a connection's [`Address`](crate::Address): a connection made through one proxy is
/// never reused for a call that should go through another (or none).
///
/// ```
/// use wayfarer_core::Proxy;
///
/// let proxy: Proxy = "http://alice:s3cret@proxy.example:3128".parse()?;
/// assert_eq!(proxy.host(), Some("proxy.example"));
/// assert_eq!(proxy.port(), Some(3128));
/// assert_eq!(proxy.credentials().map(|c| c.username()), Some("alice"));
/// // Credentials never reach `Display` or `Debug`.
/// assert_eq!(proxy.to_string(), "http://proxy.example:3128");
///
/// // socks5h: the proxy resolves the origin's name; socks5: we resolve it ourselves.
/// let socks = Proxy::parse("socks5h://127.0.0.1")?;
/// assert_eq!(socks, Proxy::socks5("127.0.0.1", 1080).with_remote_dns(true));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Proxy {
    /// No proxy: connect to the origin itself.
    Direct,
    /// An HTTP proxy: `http:` requests are sent to it in absolute form, `https:` ones go through
    /// a `CONNECT` tunnel.
    Http(ProxyServer),
    /// A SOCKS5 proxy (RFC 1928).
    Socks5 {
        /// Where the proxy listens.
        server: ProxyServer,
        /// True (`socks5h://`): the proxy resolves the origin's host name. False (`socks5://`):
        /// the origin's name is resolved locally and the proxy is given an IP address.
        remote_dns: bool,
    },
}

/// Where a proxy listens, and the credentials it wants.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProxyServer {
    /// Lowercase host name, or an IP literal without brackets.
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

impl ProxyServer {
    /// The proxy's host name or IP literal (without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The IP address when the host is an IP literal: no name resolution needed.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The credentials to present, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// A user name and password for a proxy. `Debug` shows the user name only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Proxy {
    /// An HTTP proxy at `host:port`. An IPv6 host is written without brackets.
    pub fn http(host: impl AsRef<str>, port: u16) -> Proxy {
        Proxy::Http(ProxyServer::new(host.as_ref(), port))
    }

    /// A SOCKS5 proxy at `host:port` that is given IP addresses (`socks5://`); see
    /// [`with_remote_dns`](Proxy::with_remote_dns).
    pub fn socks5(host: impl AsRef<str>, port: u16) -> Proxy {
        Proxy::Socks5 {
            server: ProxyServer::new(host.as_ref(), port),
            remote_dns: false,
        }
    }

    /// The same proxy presenting these credentials (no effect on [`Proxy::Direct`]).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Proxy {
        if let Some(server) = self.server_mut() {
            server.credentials = Some(credentials);
        }
        self
    }

    /// For a SOCKS5 proxy: whether the proxy resolves the origin's name (`socks5h://`). No
    /// effect on other proxies.
    #[must_use]
    pub fn with_remote_dns(mut self, enabled: bool) -> Proxy {
        if let Proxy::Socks5 { remote_dns, .. } = &mut self {
            *remote_dns = enabled;
        }
        self
    }

    /// Parses a proxy the way curl's `-x` and `*_proxy` variables write one:
    /// `[scheme://][user:password@]host[:port]`.
    ///
    /// - Schemes: `http` (the default when none is given), `socks5` (we resolve the origin's
    ///   name), `socks5h` (the proxy resolves it). `https`, `socks4` and `socks4a` proxies are
    ///   refused as unsupported.
    /// - The port defaults to 1080 for every scheme, as in curl.
    /// - User name and password are percent-decoded.
    /// - A path other than `/`, a query or a fragment is refused.
    pub fn parse(input: &str) -> Result<Proxy, Error> {
        let input = input.trim();
        let bad = |why: &str| {
            let shown = without_userinfo(input);
            Error::invalid_input(format!("invalid proxy {shown:?}: {why}"))
        };
        let (scheme, rest) = match input.find("://") {
            Some(i) => (input[..i].to_ascii_lowercase(), &input[i + 3..]),
            None => (String::from("http"), input),
        };
        let remote_dns = match scheme.as_str() {
            "http" => None,
            "socks5" => Some(false),
            "socks5h" => Some(true),
            "https" | "socks4" | "socks4a" => return Err(bad("unsupported proxy scheme")),
            _ => return Err(bad("unknown proxy scheme")),
        };
        // A non-special scheme keeps an explicit port even when it is 80 or 443 (the `http`
        // scheme would drop it as the default), so "proxy:80" stays port 80, not 1080.
        let url =
            Url::parse(&format!("wayfarer-proxy://{rest}")).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a proxy has no path, query or fragment"));
        }
        let host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => {
                // Opaque hosts are left as written; parse again as a special-scheme host to
                // lowercase and IDNA-map names and to read dotted IPv4 forms.
                match Host::parse(&percent_decode_str(d).decode_utf8_lossy())
                    .map_err(|e| bad(&e.to_string()))?
                {
                    Host::Domain(d) => d,
                    Host::Ipv4(ip) => ip.to_string(),
                    Host::Ipv6(ip) => ip.to_string(),
                }
            }
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = match url.port() {
            Some(0) => return Err(bad("port 0")),
            Some(p) => p,
            None => DEFAULT_PROXY_PORT,
        };
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some(Credentials::new(
                decode(user),
                decode(password.unwrap_or("")),
            )),
        };
        let server = ProxyServer {
            host,
            port,
            credentials,
        };
        Ok(match remote_dns {
            None => Proxy::Http(server),
            Some(remote_dns) => Proxy::Socks5 { server, remote_dns },
        })
    }

    /// True for [`Proxy::Direct`].
    pub fn is_direct(&self) -> bool {
        matches!(self, Proxy::Direct)
    }

    /// Where the proxy listens (`None` for [`Proxy::Direct`]).
    pub fn server(&self) -> Option<&ProxyServer> {
        match self {
            Proxy::Direct => None,
            Proxy::Http(server) | Proxy::Socks5 { server, .. } => Some(server),
        }
    }

    /// The proxy's host (`None` for [`Proxy::Direct`]).
    pub fn host(&self) -> Option<&str> {
        self.server().map(ProxyServer::host)
    }

    /// The proxy's port (`None` for [`Proxy::Direct`]).
    pub fn port(&self) -> Option<u16> {
        self.server().map(ProxyServer::port)
    }

    /// The proxy's credentials, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.server().and_then(ProxyServer::credentials)
    }

    fn server_mut(&mut self) -> Option<&mut ProxyServer> {
        match self {
            Proxy::Direct => None,
            Proxy::Http(server) | Proxy::Socks5 { server, .. } => Some(server),
        }
    }
}

impl ProxyServer {
    fn new(host: &str, port: u16) -> ProxyServer {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ProxyServer {
            host: host.to_ascii_lowercase(),
            port,
            credentials: None,
        }
    }
}

impl FromStr for Proxy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Proxy, Error> {
        Proxy::parse(s)
    }
}

/// `direct`, or the proxy as a URL without its credentials (`socks5h://[::1]:1080`).
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, server) = match self {
            Proxy::Direct => return f.write_str("direct"),
            Proxy::Http(server) => ("http", server),
            Proxy::Socks5 {
                server,
                remote_dns: false,
            } => ("socks5", server),
            Proxy::Socks5 {
                server,
                remote_dns: true,
            } => ("socks5h", server),
        };
        if server.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", server.host, server.port)
        } else {
            write!(f, "{scheme}://{}:{}", server.host, server.port)
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        if self.credentials().is_some() {
            f.write_str(" (with credentials)")?;
        }
        Ok(())
    }
}

/// A proxy as written, for an error message: without the user name and password, which
/// never appear in errors (everything up to the last `@` after the scheme is cut).
fn without_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_the_proxy_credentials() {
        for (bad, shown) in [
            (
                "http://alice:pw-s3cr3t@proxy.example:99999",
                "\"http://proxy.example:99999\"",
            ),
            (
                "http://alice:pw-s3cr3t@proxy.example/path",
                "\"http://proxy.example/path\"",
            ),
            (
                "https://alice:pw-s3cr3t@proxy.example:443",
                "\"https://proxy.example:443\"",
            ),
            ("alice:pw-s3cr3t@proxy.example:0", "\"proxy.example:0\""),
            (
                "a@b:pw-s3cr3t@proxy.example:99999",
                "\"proxy.example:99999\"",
            ),
        ] {
            let e = Proxy::parse(bad).unwrap_err();
            let text = format!("{e} / {e:?}");
            assert!(
                !text.contains("s3cr3t") && !text.contains("alice"),
                "{text}"
            );
            assert!(text.contains(shown), "{text}");
        }
    }

    #[test]
    fn parses_curl_style_proxy_strings() {
        let p = Proxy::parse("proxy.example").unwrap();
        assert_eq!(p, Proxy::http("proxy.example", 1080));
        let p = Proxy::parse("HTTP://Proxy.Example:80/").unwrap();
        assert_eq!(p, Proxy::http("proxy.example", 80));
        let p = Proxy::parse("socks5://10.0.0.1:9050").unwrap();
        assert_eq!(p, Proxy::socks5("10.0.0.1", 9050));
        let p = Proxy::parse("socks5h://[::1]").unwrap();
        assert_eq!(p, Proxy::socks5("::1", 1080).with_remote_dns(true));
        assert_eq!(p.to_string(), "socks5h://[::1]:1080");
        let p = Proxy::parse("http://us%40r:p%3Ass@h:8080").unwrap();
        let c = p.credentials().unwrap();
        assert_eq!((c.username(), c.password()), ("us@r", "p:ss"));
        assert_eq!(p.to_string(), "http://h:8080");
        assert!(!format!("{c:?}").contains("p:ss"));
        let p = Proxy::parse("http://user@h:1").unwrap();
        assert_eq!(p.credentials().map(|c| c.password()), Some(""));
    }

    #[test]
    fn refuses_unsupported_and_malformed_proxies() {
        for bad in [
            "https://proxy:443",
            "socks4://proxy",
            "socks4a://proxy",
            "ftp://proxy",
            "http://proxy:0",
            "http://proxy:99999",
            "http://proxy/path",
            "http://proxy?q",
            "http://",
            "",
        ] {
            let e = Proxy::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn equality_includes_kind_and_credentials() {
        let plain = Proxy::http("p", 8080);
        let authed = plain.clone().with_credentials(Credentials::new("a", "b"));
        assert_ne!(plain, authed);
        assert_ne!(plain, Proxy::socks5("p", 8080));
        assert_ne!(
            Proxy::socks5("p", 1),
            Proxy::socks5("p", 1).with_remote_dns(true)
        );
        assert_eq!(Proxy::Direct.with_remote_dns(true), Proxy::Direct);
        assert_eq!(Proxy::http("[::1]", 1).host(), Some("::1"));
        assert_eq!(
            Proxy::http("::1", 1).server().and_then(|s| s.ip()),
            Some("::1".parse().unwrap())
        );
    }
}
