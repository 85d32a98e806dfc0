//! A client's routing settings: which proxies a call goes through, how names resolve, and the
//! memory of failed routes, with the [`ClientBuilder`] methods that set them.

use std::fmt;
use std::sync::{Arc, Mutex};

use url::Url;

use super::{FixedProxySelector, Proxy, ProxySelector};
use crate::connection::RouteDatabase;
use crate::dns::DnsOverrides;
use crate::{Authenticator, BasicAuthenticator, ClientBuilder};

/// Everything about how a client's calls reach their origins (OkHttp's proxy, proxy selector,
/// proxy authenticator, DNS and route database settings).
#[derive(Clone, Default)]
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
}

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
            Ok(()) => self.routing.dns_overrides = Some(Arc::new(overrides)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
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

/// Builds the routing settings (a fresh route database for each built client).
pub(crate) fn build(routing: Routing) -> Routing {
    Routing {
        route_database: Arc::new(Mutex::new(RouteDatabase::new())),
        ..routing
    }
}
