//! A route: one concrete way to connect to an address.

use std::fmt;

use core::net::{IpAddr, SocketAddr};

use crate::connection::Address;
use crate::proxy::Proxy;

/// One concrete way to reach an [`Address`]: through its proxy, to one socket address.
///
/// OkHttp's `Route` is address + proxy + socket address; here the proxy is part of the
/// address (it is part of the pool key), so a route is the address plus where the TCP
/// connection goes:
///
/// | proxy | [`socket_addr`](Route::socket_addr) | [`origin_ip`](Route::origin_ip) |
/// |---|---|---|
/// | direct | an IP of the origin | the same IP |
/// | HTTP | an IP of the proxy | `None`: the proxy resolves the origin's name |
/// | SOCKS5, remote DNS | an IP of the proxy | `None`: the proxy is given the name (the IP when the origin is an IP literal) |
/// | SOCKS5, local DNS | an IP of the proxy | the origin IP the proxy is asked to reach |
///
/// Routes are values: the [`RouteDatabase`](crate::RouteDatabase) remembers the ones that
/// failed.
///
/// ```
/// use wayfarer_core::{Address, Proxy, Route, Url};
///
/// let address = Address::from_url(&Url::parse("https://example.com/").unwrap());
/// let direct = Route::new(address.clone(), "93.184.215.14:443".parse().unwrap());
/// assert_eq!(direct.origin_ip(), Some("93.184.215.14".parse().unwrap()));
/// assert!(!direct.requires_tunnel());
///
/// let proxied = address.with_proxy(Proxy::http("10.0.0.1", 3128));
/// let route = Route::new(proxied, "10.0.0.1:3128".parse().unwrap());
/// assert_eq!(route.origin_ip(), None);
/// assert!(route.requires_tunnel()); // https through an HTTP proxy: CONNECT first
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Route {
    address: Address,
    socket_addr: SocketAddr,
    origin_ip: Option<IpAddr>,
}

impl Route {
    /// The route to `socket_addr` for `address` (through the address's proxy). For a direct
    /// address the origin IP is the socket address's; otherwise it is unknown until set with
    /// [`with_origin_ip`](Route::with_origin_ip).
    pub fn new(address: Address, socket_addr: SocketAddr) -> Route {
        let origin_ip = address.proxy().is_direct().then(|| socket_addr.ip());
        Route {
            address,
            socket_addr,
            origin_ip,
        }
    }

    /// The same route, asking the (SOCKS5, local DNS) proxy to reach this origin IP.
    #[must_use]
    pub fn with_origin_ip(mut self, ip: IpAddr) -> Route {
        self.origin_ip = Some(ip);
        self
    }

    /// The address this route reaches (the pool key of a connection made over it).
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The proxy this route goes through.
    pub fn proxy(&self) -> &Proxy {
        self.address.proxy()
    }

    /// Where the TCP connection goes: the origin, or the proxy.
    pub fn socket_addr(&self) -> SocketAddr {
        self.socket_addr
    }

    /// The origin's IP, when this side knows it (see the table above).
    pub fn origin_ip(&self) -> Option<IpAddr> {
        self.origin_ip
    }

    /// True when the connection must first open a `CONNECT` tunnel: `https` through an HTTP
    /// proxy (OkHttp's `Route.requiresTunnel`).
    pub fn requires_tunnel(&self) -> bool {
        self.address.is_tls() && matches!(self.proxy(), Proxy::Http(_))
    }
}

/// `socket address for address`, e.g. `10.0.0.1:3128 for https://example.com:443 via http://p:3128`.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for {}", self.socket_addr, self.address)?;
        match (self.proxy(), self.origin_ip) {
            (Proxy::Socks5 { .. }, Some(ip)) => write!(f, " (origin {ip})"),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Route({self})")
    }
}
