//! A client's routing settings: which proxies a call goes through, how names resolve, and the
//! memory of failed routes, with the [`ClientBuilder`] methods that set them.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use core::net::IpAddr;

use url::Url;

use super::{FixedProxySelector, Proxy, ProxySelector};
use crate::Instant;
use crate::connection::RouteDatabase;
use crate::dns::DnsOverrides;
use crate::dns_cache::DnsCache;
use crate::{Authenticator, BasicAuthenticator, ClientBuilder};

/// Everything about how a client's calls reach their origins (OkHttp's proxy, proxy selector,
/// proxy authenticator, DNS and route database settings).
#[derive(Clone)]
pub(crate) struct Routing {
    /// `None`: every call connects directly, and the hot path asks nothing.
    pub(crate) proxy_selector: Option<Arc<dyn ProxySelector>>,
    pub(crate) proxy_authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) dns_overrides: Option<Arc<DnsOverrides>>,
    /// Shared by every call of the client (and of clients derived from it): routes that
    /// failed are tried last.
    pub(crate) route_database: Arc<Mutex<RouteDatabase>>,
    /// RFC 8305 ordering (IPv6 and IPv4 interleaved) and a 250 ms attempt delay; off: the
    /// resolver's order, one attempt at a time.
    pub(crate) sequential: bool,
    /// How long the system resolver's answers are reused (zero: never).
    pub(crate) dns_cache_ttl: Duration,
    /// The answers, shared like the route database; `None` when nothing is cached (a zero
    /// TTL, or a resolver of the application's own).
    pub(crate) dns_cache: Option<Arc<Mutex<DnsCache>>>,
    /// Which name resolution the client's connections were made under, when it is not the
    /// system resolver's: part of the pool key, so clients sharing a pool with different
    /// resolvers or overrides never share a connection (OkHttp's `Address` compares `dns`
    /// too). A new value whenever a builder changes the resolver or the overrides.
    pub(crate) dns_identity: Option<u64>,
}

impl Default for Routing {
    fn default() -> Routing {
        Routing {
            proxy_selector: None,
            proxy_authenticator: None,
            dns_overrides: None,
            route_database: Arc::default(),
            sequential: false,
            dns_cache_ttl: DEFAULT_DNS_CACHE_TTL,
            dns_cache: None,
            dns_identity: None,
        }
    }
}

/// How long the system resolver's answers are reused by default: the JVM's 30 s, which is
/// what OkHttp gets.
pub(crate) const DEFAULT_DNS_CACHE_TTL: Duration = Duration::from_secs(30);

impl fmt::Debug for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routing")
            .field("proxy_selector", &self.proxy_selector)
            .field("proxy_authenticator", &self.proxy_authenticator.is_some())
            .field("dns_overrides", &self.dns_overrides.is_some())
            .field("fast_fallback", &!self.sequential)
            .finish_non_exhaustive()
    }
}

impl Routing {
    /// The proxies to try for `url`, in order; empty means direct.
    pub(crate) fn proxies_for(&self, url: &Url) -> Vec<Proxy> {
        match &self.proxy_selector {
            Some(selector) => selector.select(url),
            None => Vec::new(),
        }
    }

    /// The authenticator that answers a `407` from `proxy`: the client's own, else Basic with
    /// the credentials written in the proxy's URL, else none.
    pub(crate) fn proxy_authenticator_for(&self, proxy: &Proxy) -> Option<Arc<dyn Authenticator>> {
        if let Some(auth) = &self.proxy_authenticator {
            return Some(auth.clone());
        }
        let credentials = proxy.credentials()?;
        Some(Arc::new(BasicAuthenticator::for_proxy(
            credentials.username(),
            credentials.password(),
        )))
    }

    /// Records the outcome of connecting over `route`.
    pub(crate) fn route_failed(&self, route: &crate::Route) {
        if let Ok(mut db) = self.route_database.lock() {
            db.failed(route);
        }
    }

    /// The system resolver's answer for `host`, if one is cached and still fresh at `now`.
    pub(crate) fn cached_lookup(&self, host: &str, now: Instant) -> Option<Vec<IpAddr>> {
        let mut cache = self.dns_cache.as_ref()?.lock().ok()?;
        cache.lookup(host, now)
    }

    /// Keeps the resolver's answer for `host` (when answers are cached).
    pub(crate) fn remember_lookup(&self, host: &str, addrs: &[IpAddr], now: Instant) {
        if let Some(Ok(mut cache)) = self.dns_cache.as_ref().map(|c| c.lock()) {
            cache.remember(host, addrs, now);
        }
    }

    /// Drops the cached answer for `host` (no address it gave connected).
    pub(crate) fn forget_lookup(&self, host: &str) {
        if let Some(Ok(mut cache)) = self.dns_cache.as_ref().map(|c| c.lock()) {
            cache.forget(host);
        }
    }

    /// Makes the cache match the settings of the client being built: none for a resolver of
    /// the application's own or a zero TTL; the shared one when a derived client keeps the
    /// same TTL; a new one otherwise.
    pub(crate) fn settle_dns_cache(&mut self, system_resolver: bool) {
        if !system_resolver || self.dns_cache_ttl.is_zero() {
            self.dns_cache = None;
            return;
        }
        let same = self
            .dns_cache
            .as_ref()
            .and_then(|c| c.lock().ok().map(|c| c.ttl() == self.dns_cache_ttl))
            .unwrap_or(false);
        if !same {
            self.dns_cache = Some(Arc::new(Mutex::new(DnsCache::new(self.dns_cache_ttl))));
        }
    }

    /// Forgets an earlier failure of `route`: it connected.
    pub(crate) fn route_connected(&self, route: &crate::Route) {
        if let Ok(mut db) = self.route_database.lock() {
            if !db.is_empty() {
                db.connected(route);
            }
        }
    }
}

impl<C> ClientBuilder<C> {
    /// Sends every call through `proxy` (OkHttp's `proxy`): an HTTP proxy gets plain requests
    /// in absolute form and a `CONNECT` tunnel for `https`; a SOCKS5 proxy gets a tunnel for
    /// everything. Credentials in the proxy ([`Proxy::with_credentials`], or `user:pass@` in
    /// [`Proxy::parse`]) answer the proxy's `407` challenges with Basic authentication unless
    /// a [`proxy_authenticator`](Self::proxy_authenticator) is set. They never reach the
    /// origin.
    ///
    /// ```
    /// use wayfarer_core::{Config, Proxy};
    ///
    /// let config = Config::builder()
    ///     .proxy(Proxy::parse("http://alice:secret@proxy.example:3128")?)
    ///     .build()?;
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn proxy(self, proxy: Proxy) -> Self {
        self.proxy_selector(FixedProxySelector::new(proxy))
    }

    /// Picks the proxies for each call's URL (OkHttp's `proxySelector`), for example an
    /// [`EnvProxySelector`](crate::EnvProxySelector) built from `http_proxy`, `https_proxy`,
    /// `all_proxy` and `no_proxy` values the application read. Reading the environment is
    /// opt-in: without a selector every call connects directly.
    pub fn proxy_selector(mut self, selector: impl ProxySelector + 'static) -> Self {
        self.routing.proxy_selector = Some(Arc::new(selector));
        self
    }

    /// Answers `407 Proxy Authentication Required`, from a `CONNECT` tunnel or from an HTTP
    /// proxy forwarding a plain request: the request it returns must carry
    /// `Proxy-Authorization`. [`BasicAuthenticator::for_proxy`] is the built-in one.
    pub fn proxy_authenticator(mut self, authenticator: impl Authenticator + 'static) -> Self {
        self.routing.proxy_authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Answers name lookups from `overrides` before asking any resolver (curl's `--resolve`).
    pub fn dns_overrides(mut self, overrides: DnsOverrides) -> Self {
        self.routing.dns_overrides = (!overrides.is_empty()).then(|| Arc::new(overrides));
        self.routing.dns_identity = None;
        self
    }

    /// Adds one curl-style `host:port:addr[,addr]...` override (see
    /// [`DnsOverrides::add_resolve`]).
    ///
    /// ```
    /// use wayfarer_core::Config;
    ///
    /// let config = Config::builder().resolve("example.com:443:127.0.0.1").build()?;
    /// assert!(Config::builder().resolve("no-port").build().is_err());
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn resolve(mut self, spec: &str) -> Self {
        let mut overrides = self
            .routing
            .dns_overrides
            .as_deref()
            .cloned()
            .unwrap_or_default();
        match overrides.add_resolve(spec) {
            Ok(()) => {
                self.routing.dns_overrides = Some(Arc::new(overrides));
                self.routing.dns_identity = None;
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// How long an answer of the system resolver is reused for new connections (30 s by
    /// default, the JVM's cache under OkHttp; curl keeps its answers 60 s). `Duration::ZERO`
    /// asks the resolver for every new connection. A resolver set with
    /// [`dns`](Self::dns) is never cached: it is asked every time, as OkHttp asks its `Dns`.
    /// Failed lookups are not kept, and a call that could connect to none of a name's
    /// addresses drops its answer, so the next call asks again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_core::Config;
    ///
    /// let config = Config::builder().dns_cache_ttl(Duration::from_secs(5)).build()?;
    /// assert_eq!(config.dns_cache_ttl(), Some(Duration::from_secs(5)));
    /// let uncached = Config::builder().dns_cache_ttl(Duration::ZERO).build()?;
    /// assert_eq!(uncached.dns_cache_ttl(), None);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn dns_cache_ttl(mut self, ttl: Duration) -> Self {
        self.routing.dns_cache_ttl = ttl;
        self
    }

    /// RFC 8305 fast fallback (on by default): addresses are tried with IPv6 and IPv4
    /// interleaved, and a new attempt starts when the previous one has not connected within
    /// 250 ms. Off: the resolver's order, one attempt at a time.
    pub fn fast_fallback(mut self, enabled: bool) -> Self {
        self.routing.sequential = !enabled;
        self
    }
}

/// Builds the routing settings: a fresh route database and DNS cache for each built client.
pub(crate) fn build(routing: Routing) -> Routing {
    let mut routing = Routing {
        route_database: Arc::new(Mutex::new(RouteDatabase::new())),
        dns_cache: None,
        ..routing
    };
    routing.settle_dns_cache(true);
    routing
}

/// A fresh [`Routing::dns_identity`] value.
pub(crate) fn next_dns_identity() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
