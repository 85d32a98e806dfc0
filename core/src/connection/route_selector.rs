//! Route selection: address → proxies → resolved addresses → routes, with no I/O.

use std::fmt;
use std::io;
use std::sync::Arc;

use core::net::{IpAddr, SocketAddr};

use smallvec::{SmallVec, smallvec};

use crate::Error;
use crate::connection::address::DIRECT;
use crate::connection::{Address, Route, RouteDatabase};
use crate::dns::DnsOverrides;
use crate::proxy::Proxy;

/// What the route selector needs, or has, next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteStep {
    /// Resolve `host` (with the driver's [`Dns`](crate::Dns)) and answer with
    /// [`RouteSelector::handle_lookup`]. `port` is the port the addresses will be used with,
    /// for drivers whose resolver wants one.
    Lookup {
        /// The host name to resolve: the origin's, or an HTTP or SOCKS5 proxy's.
        host: String,
        /// The port the answer will be used with.
        port: u16,
    },
    /// Routes to try, in order (one proxy's worth, or every postponed route at the end).
    Routes(Vec<Route>),
    /// Every route has been handed out.
    Exhausted,
}

/// Selects the routes to an [`Address`]: for each proxy in order, the addresses it resolves
/// to, with the routes that failed recently ([`RouteDatabase`]) held back until everything
/// else has been tried (OkHttp's `RouteSelector`).
///
/// ```text
///  next() ──▶ proxy i ──name?──▶ Lookup { host } ──handle_lookup()──▶ Routes(for proxy i)
///               │  (IP literal or DnsOverrides: no lookup)                 │ all postponed?
///               │                                                          ▼
///               └──────────────── proxies left ◀──────────────── next proxy
///  no proxies left ──▶ Routes(postponed) ──▶ Exhausted
/// ```
///
/// OkHttp's `RouteSelector` calls the DNS resolver itself; here the selector asks for a lookup
/// as a value and is told the answer, so it can run inside the sans-IO core.
///
/// Which host is resolved depends on the proxy:
/// - direct: the origin's host;
/// - HTTP proxy: the proxy's host (the proxy resolves the origin's);
/// - SOCKS5 with remote DNS (`socks5h`): the proxy's host only; the origin's name goes to the
///   proxy unresolved;
/// - SOCKS5 with local DNS (`socks5`): the proxy's host, then the origin's.
///
/// IP literals and [`DnsOverrides`] entries need no lookup. A failed lookup makes
/// [`handle_lookup`](Self::handle_lookup) return the error and moves on to the next proxy;
/// whether to keep going is the caller's choice (OkHttp retries while
/// [`has_next`](Self::has_next)).
///
/// ```
/// use std::io;
/// use wayfarer_core::{Address, Proxy, RouteDatabase, RouteSelector, RouteStep, Url};
///
/// let url = Url::parse("https://example.com/").unwrap();
/// let proxies = vec![Proxy::http("proxy.test", 3128), Proxy::Direct];
/// let mut selector = RouteSelector::new(Address::from_url(&url), proxies);
/// let db = RouteDatabase::new();
///
/// // The HTTP proxy comes first: its host is resolved, not the origin's.
/// assert_eq!(
///     selector.next(&db),
///     RouteStep::Lookup { host: "proxy.test".into(), port: 3128 }
/// );
/// selector.handle_lookup(Ok(vec!["10.0.0.1".parse().unwrap()]))?;
/// let RouteStep::Routes(routes) = selector.next(&db) else { panic!() };
/// assert_eq!(routes[0].socket_addr(), "10.0.0.1:3128".parse().unwrap());
///
/// // Connecting through the proxy failed: on to the direct routes.
/// assert!(selector.has_next());
/// assert_eq!(
///     selector.next(&db),
///     RouteStep::Lookup { host: "example.com".into(), port: 443 }
/// );
/// let err = io::Error::new(io::ErrorKind::NotFound, "no such host");
/// assert!(selector.handle_lookup(Err(err)).is_err());
/// assert_eq!(selector.next(&db), RouteStep::Exhausted);
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub struct RouteSelector {
    address: Address,
    proxies: Vec<Proxy>,
    next_proxy: usize,
    pending: Option<Pending>,
    postponed: Vec<Route>,
    overrides: Option<Arc<DnsOverrides>>,
}

/// The proxy whose routes are being resolved.
struct Pending {
    /// The origin address reached through this proxy.
    address: Address,
    /// Where TCP connects when it is a proxy (`None`: the origin, `address`'s host). Only a
    /// proxy's host is copied: a direct connection allocates nothing for it.
    proxy_host: Option<String>,
    socket_port: u16,
    socket_ips: Option<Ips>,
    /// Origin IPs, for SOCKS5 (the literal, or resolved with local DNS); `None` when not
    /// (yet) known.
    origin_ips: Option<Ips>,
    /// SOCKS5 with local DNS for a named origin: the origin must be resolved too.
    resolve_origin: bool,
    awaiting: Option<Lookup>,
}

/// A host's addresses: most often one (an IP literal, a name with one address), kept inline.
type Ips = SmallVec<[IpAddr; 1]>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Socket,
    Origin,
}

impl fmt::Debug for RouteSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteSelector")
            .field("address", &self.address)
            .field("proxies", &self.proxies)
            .field("next_proxy", &self.next_proxy)
            .field("postponed", &self.postponed)
            .finish_non_exhaustive()
    }
}

impl RouteSelector {
    /// Routes to `address` through `proxies`, in order (from a
    /// [`ProxySelector`](crate::ProxySelector), or one explicit proxy). An empty list means
    /// [`Proxy::Direct`]. The address's own proxy is replaced by each proxy in turn.
    pub fn new(address: Address, proxies: Vec<Proxy>) -> RouteSelector {
        RouteSelector {
            address,
            proxies,
            next_proxy: 0,
            pending: None,
            postponed: Vec::new(),
            overrides: None,
        }
    }

    /// Answers host:port pairs from `overrides` instead of asking for a lookup.
    #[must_use]
    pub fn with_dns_overrides(mut self, overrides: Arc<DnsOverrides>) -> RouteSelector {
        self.overrides = Some(overrides);
        self
    }

    /// Whether [`next`](Self::next) can still yield routes (OkHttp's `hasNext`).
    pub fn has_next(&self) -> bool {
        self.pending.is_some()
            || self.proxy(self.next_proxy).is_some()
            || !self.postponed.is_empty()
    }

    /// The `i`th proxy to try; an empty list is [`Proxy::Direct`] (without a list allocated
    /// for it: most calls go direct).
    fn proxy(&self, i: usize) -> Option<&Proxy> {
        if self.proxies.is_empty() {
            (i == 0).then_some(&DIRECT)
        } else {
            self.proxies.get(i)
        }
    }

    /// The next step: a lookup to perform, the next routes to try, or the end.
    ///
    /// Routes in `db` are held back and returned, all together, after every proxy's other
    /// routes. Calling `next` again while a lookup is unanswered repeats the lookup.
    pub fn next(&mut self, db: &RouteDatabase) -> RouteStep {
        loop {
            if let Some(pending) = &mut self.pending {
                if pending.socket_ips.is_none() {
                    let known =
                        known_ips(&self.overrides, pending.socket_host(), pending.socket_port);
                    match known {
                        Some(ips) => pending.socket_ips = Some(ips),
                        None => {
                            pending.awaiting = Some(Lookup::Socket);
                            return RouteStep::Lookup {
                                host: pending.socket_host().to_owned(),
                                port: pending.socket_port,
                            };
                        }
                    }
                }
                if pending.resolve_origin && pending.origin_ips.is_none() {
                    let (host, port) = (pending.address.host(), pending.address.port());
                    match known_ips(&self.overrides, host, port) {
                        Some(ips) => pending.origin_ips = Some(ips),
                        None => {
                            pending.awaiting = Some(Lookup::Origin);
                            return RouteStep::Lookup {
                                host: host.to_owned(),
                                port,
                            };
                        }
                    }
                }
                let routes = self.pending.take().map(Pending::routes).unwrap_or_default();
                // Most often no route failed lately: the routes go out as they are.
                if !routes.is_empty() && !routes.iter().any(|r| db.should_postpone(r)) {
                    return RouteStep::Routes(routes);
                }
                let (postponed, good): (Vec<Route>, Vec<Route>) =
                    routes.into_iter().partition(|r| db.should_postpone(r));
                self.postponed.extend(postponed);
                if !good.is_empty() {
                    return RouteStep::Routes(good);
                }
                continue;
            }
            if let Some(proxy) = self.proxy(self.next_proxy) {
                let pending = Pending::new(&self.address, proxy);
                self.next_proxy += 1;
                self.pending = Some(pending);
                continue;
            }
            if !self.postponed.is_empty() {
                return RouteStep::Routes(std::mem::take(&mut self.postponed));
            }
            return RouteStep::Exhausted;
        }
    }

    /// Answers the last [`RouteStep::Lookup`] with the driver's result. A failure, or an empty
    /// answer, abandons the current proxy and comes back as a [DNS error](crate::ErrorKind::Dns);
    /// [`next`](Self::next) then moves on to the next proxy. An answer when no lookup is
    /// outstanding is ignored.
    pub fn handle_lookup(&mut self, result: io::Result<Vec<IpAddr>>) -> Result<(), Error> {
        let Some(pending) = &mut self.pending else {
            return Ok(());
        };
        let Some(which) = pending.awaiting.take() else {
            return Ok(());
        };
        let host = match which {
            Lookup::Socket => pending.socket_host().to_owned(),
            Lookup::Origin => pending.address.host().to_owned(),
        };
        match result {
            Ok(ips) if !ips.is_empty() => {
                match which {
                    Lookup::Socket => pending.socket_ips = Some(Ips::from_vec(ips)),
                    Lookup::Origin => pending.origin_ips = Some(Ips::from_vec(ips)),
                }
                Ok(())
            }
            Ok(_) => {
                self.pending = None;
                Err(Error::dns(&host, None))
            }
            Err(e) => {
                self.pending = None;
                Err(Error::dns(&host, Some(e)))
            }
        }
    }
}

/// Addresses known without a lookup: an IP literal, or an override.
fn known_ips(overrides: &Option<Arc<DnsOverrides>>, host: &str, port: u16) -> Option<Ips> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(smallvec![ip]);
    }
    overrides
        .as_ref()
        .and_then(|o| o.lookup(host, port))
        .filter(|ips| !ips.is_empty())
        .map(Ips::from_slice)
}

impl Pending {
    fn new(origin: &Address, proxy: &Proxy) -> Pending {
        let address = origin.clone().with_proxy(proxy.clone());
        let (proxy_host, socket_port) = match proxy.server() {
            Some(server) => (Some(server.host().to_owned()), server.port()),
            None => (None, origin.port()),
        };
        let (origin_ips, resolve_origin) = match proxy {
            Proxy::Socks5 { remote_dns, .. } => match origin.ip() {
                Some(ip) => (Some(smallvec![ip]), false),
                None => (None, !remote_dns),
            },
            _ => (None, false),
        };
        Pending {
            address,
            proxy_host,
            socket_port,
            socket_ips: None,
            origin_ips,
            resolve_origin,
            awaiting: None,
        }
    }

    /// Where TCP connects: the proxy, or the origin.
    fn socket_host(&self) -> &str {
        self.proxy_host.as_deref().unwrap_or(self.address.host())
    }

    fn routes(self) -> Vec<Route> {
        let socket_ips = self.socket_ips.unwrap_or_default();
        let per_ip = self.origin_ips.as_ref().map_or(1, SmallVec::len);
        let mut routes = Vec::with_capacity(socket_ips.len() * per_ip);
        for ip in socket_ips {
            let route = Route::new(self.address.clone(), SocketAddr::new(ip, self.socket_port));
            match &self.origin_ips {
                Some(origin_ips) => {
                    routes.extend(origin_ips.iter().map(|&o| route.clone().with_origin_ip(o)));
                }
                None => routes.push(route),
            }
        }
        routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn origin() -> Address {
        Address::from_url(&url::Url::parse("https://hosta:1003/").unwrap())
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn lookup(host: &str, port: u16) -> RouteStep {
        RouteStep::Lookup {
            host: host.into(),
            port,
        }
    }

    fn routes(step: RouteStep) -> Vec<String> {
        match step {
            RouteStep::Routes(r) => r.iter().map(|r| r.to_string()).collect(),
            other => panic!("expected routes, got {other:?}"),
        }
    }

    fn take(step: RouteStep) -> Vec<Route> {
        match step {
            RouteStep::Routes(r) => r,
            other => panic!("expected routes, got {other:?}"),
        }
    }

    #[test]
    fn single_route() {
        let db = RouteDatabase::new();
        let mut s = RouteSelector::new(origin(), vec![]);
        assert!(s.has_next());
        assert_eq!(s.next(&db), lookup("hosta", 1003));
        assert_eq!(
            s.next(&db),
            lookup("hosta", 1003),
            "repeats while unanswered"
        );
        s.handle_lookup(Ok(ips(&["192.0.2.1"]))).unwrap();
        let r = take(s.next(&db));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].socket_addr(), "192.0.2.1:1003".parse().unwrap());
        assert_eq!(r[0].proxy(), &Proxy::Direct);
        assert_eq!(r[0].origin_ip(), Some("192.0.2.1".parse().unwrap()));
        assert!(!s.has_next());
        assert_eq!(s.next(&db), RouteStep::Exhausted);
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let db = RouteDatabase::new();
        let address = Address::from_url(&url::Url::parse("http://[::1]:8080/").unwrap());
        let mut s = RouteSelector::new(address, vec![Proxy::http("10.0.0.9", 3128), Proxy::Direct]);
        assert_eq!(
            routes(s.next(&db)),
            ["10.0.0.9:3128 for http://[::1]:8080 via http://10.0.0.9:3128"]
        );
        assert_eq!(routes(s.next(&db)), ["[::1]:8080 for http://[::1]:8080"]);
        assert_eq!(s.next(&db), RouteStep::Exhausted);
    }

    #[test]
    fn explicit_http_proxy_resolves_only_the_proxy() {
        let db = RouteDatabase::new();
        let proxy = Proxy::http("proxya", 5);
        let mut s = RouteSelector::new(origin(), vec![proxy.clone()]);
        assert_eq!(s.next(&db), lookup("proxya", 5));
        s.handle_lookup(Ok(ips(&["10.0.0.1", "10.0.0.2"]))).unwrap();
        let r = take(s.next(&db));
        assert_eq!(
            r.iter().map(Route::socket_addr).collect::<Vec<_>>(),
            ["10.0.0.1:5".parse().unwrap(), "10.0.0.2:5".parse().unwrap()]
        );
        assert!(
            r.iter()
                .all(|r| r.proxy() == &proxy && r.origin_ip().is_none())
        );
        assert!(r[0].requires_tunnel());
        assert_eq!(r[0].address(), &origin().with_proxy(proxy));
        assert!(!s.has_next());
    }

    #[test]
    fn multiple_proxies_are_tried_in_order() {
        let db = RouteDatabase::new();
        let mut s = RouteSelector::new(
            origin(),
            vec![
                Proxy::http("proxya", 1),
                Proxy::http("proxyb", 2),
                Proxy::Direct,
            ],
        );
        assert_eq!(s.next(&db), lookup("proxya", 1));
        s.handle_lookup(Ok(ips(&["10.0.0.1", "10.0.0.2"]))).unwrap();
        assert_eq!(take(s.next(&db)).len(), 2);
        assert_eq!(s.next(&db), lookup("proxyb", 2));
        s.handle_lookup(Ok(ips(&["10.0.1.1"]))).unwrap();
        assert_eq!(
            routes(s.next(&db)),
            ["10.0.1.1:2 for https://hosta:1003 via http://proxyb:2"]
        );
        assert_eq!(s.next(&db), lookup("hosta", 1003));
        s.handle_lookup(Ok(ips(&["192.0.2.1"]))).unwrap();
        assert_eq!(
            routes(s.next(&db)),
            ["192.0.2.1:1003 for https://hosta:1003"]
        );
        assert!(!s.has_next());
    }

    #[test]
    fn dns_failure_continues_to_the_next_proxy() {
        let db = RouteDatabase::new();
        let a = Proxy::http("proxya", 1);
        let mut s = RouteSelector::new(origin(), vec![a.clone(), Proxy::http("proxyb", 2), a]);
        assert_eq!(s.next(&db), lookup("proxya", 1));
        s.handle_lookup(Ok(ips(&["10.0.0.1"]))).unwrap();
        assert_eq!(take(s.next(&db)).len(), 1);
        assert_eq!(s.next(&db), lookup("proxyb", 2));
        let e = s
            .handle_lookup(Err(io::Error::new(io::ErrorKind::NotFound, "nxdomain")))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Dns);
        assert!(s.has_next());
        assert_eq!(s.next(&db), lookup("proxya", 1));
        let e = s.handle_lookup(Ok(vec![])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Dns);
        assert!(!s.has_next());
        assert_eq!(s.next(&db), RouteStep::Exhausted);
        // A stray answer changes nothing.
        assert!(s.handle_lookup(Ok(ips(&["10.0.0.1"]))).is_ok());
    }

    #[test]
    fn failed_routes_are_postponed_with_a_single_proxy() {
        let mut db = RouteDatabase::new();
        let mut s = RouteSelector::new(origin(), vec![]);
        assert_eq!(s.next(&db), lookup("hosta", 1003));
        s.handle_lookup(Ok(ips(&["192.0.2.1", "192.0.2.2"])))
            .unwrap();
        let regular = take(s.next(&db));
        assert_eq!(regular.len(), 2);
        // The first route fails to connect; the selector yields the next, in order.
        db.failed(&regular[0]);

        let mut s = RouteSelector::new(origin(), vec![]);
        assert!(matches!(s.next(&db), RouteStep::Lookup { .. }));
        s.handle_lookup(Ok(ips(&["192.0.2.1", "192.0.2.2"])))
            .unwrap();
        assert_eq!(take(s.next(&db)), [regular[1].clone()]);
        assert!(s.has_next());
        assert_eq!(take(s.next(&db)), [regular[0].clone()]);
        assert!(!s.has_next());
        assert_eq!(s.next(&db), RouteStep::Exhausted);
    }

    #[test]
    fn failed_routes_are_postponed_across_proxies() {
        let mut db = RouteDatabase::new();
        let proxies = vec![Proxy::http("10.0.0.1", 1), Proxy::http("10.0.0.2", 2)];
        let mut s = RouteSelector::new(origin(), proxies.clone());
        let via_a = take(s.next(&db));
        db.failed(&via_a[0]);

        let mut s = RouteSelector::new(origin(), proxies);
        // Proxy A's only route is postponed, so the first selection is proxy B's.
        let via_b = take(s.next(&db));
        assert_eq!(via_b[0].proxy(), &Proxy::http("10.0.0.2", 2));
        assert_eq!(take(s.next(&db)), via_a);
        assert_eq!(s.next(&db), RouteStep::Exhausted);
        // Once a connection over it succeeds, it is no longer held back.
        db.connected(&via_a[0]);
        let mut s = RouteSelector::new(origin(), vec![Proxy::http("10.0.0.1", 1)]);
        assert_eq!(take(s.next(&db)), via_a);
    }

    #[test]
    fn socks5_remote_dns_resolves_only_the_proxy() {
        let db = RouteDatabase::new();
        let proxy = Proxy::socks5("socks", 1080).with_remote_dns(true);
        let mut s = RouteSelector::new(origin(), vec![proxy]);
        assert_eq!(s.next(&db), lookup("socks", 1080));
        s.handle_lookup(Ok(ips(&["10.9.9.9"]))).unwrap();
        let r = take(s.next(&db));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].socket_addr(), "10.9.9.9:1080".parse().unwrap());
        assert_eq!(r[0].origin_ip(), None);
        assert!(!r[0].requires_tunnel());
        assert_eq!(s.next(&db), RouteStep::Exhausted);
    }

    #[test]
    fn socks5_local_dns_resolves_the_proxy_then_the_origin() {
        let db = RouteDatabase::new();
        let mut s = RouteSelector::new(origin(), vec![Proxy::socks5("socks", 1080)]);
        assert_eq!(s.next(&db), lookup("socks", 1080));
        s.handle_lookup(Ok(ips(&["10.9.9.9"]))).unwrap();
        assert_eq!(s.next(&db), lookup("hosta", 1003));
        s.handle_lookup(Ok(ips(&["192.0.2.1", "2001:db8::1"])))
            .unwrap();
        let r = take(s.next(&db));
        assert_eq!(
            r.iter()
                .map(|r| (r.socket_addr(), r.origin_ip()))
                .collect::<Vec<_>>(),
            [
                (
                    "10.9.9.9:1080".parse().unwrap(),
                    Some("192.0.2.1".parse().unwrap())
                ),
                (
                    "10.9.9.9:1080".parse().unwrap(),
                    Some("2001:db8::1".parse().unwrap())
                ),
            ]
        );
        assert_eq!(
            r[0].to_string(),
            "10.9.9.9:1080 for https://hosta:1003 via socks5://socks:1080 (origin 192.0.2.1)"
        );
    }

    #[test]
    fn dns_overrides_answer_without_a_lookup() {
        let db = RouteDatabase::new();
        let mut overrides = DnsOverrides::new();
        overrides.add_resolve("hosta:1003:192.0.2.50").unwrap();
        overrides.add_resolve("proxya:1:10.0.0.50").unwrap();
        let overrides = Arc::new(overrides);
        let mut s = RouteSelector::new(origin(), vec![Proxy::http("proxya", 1), Proxy::Direct])
            .with_dns_overrides(overrides.clone());
        assert_eq!(
            take(s.next(&db))[0].socket_addr(),
            "10.0.0.50:1".parse().unwrap()
        );
        assert_eq!(
            routes(s.next(&db)),
            ["192.0.2.50:1003 for https://hosta:1003"]
        );
        // Overrides are per port: another port resolves normally.
        let other = Address::from_url(&url::Url::parse("https://hosta:1004/").unwrap());
        let mut s = RouteSelector::new(other, vec![]).with_dns_overrides(overrides);
        assert_eq!(s.next(&db), lookup("hosta", 1004));
    }
}
