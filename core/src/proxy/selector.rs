//! Proxy selectors: which proxies to try for a URL, in order.

use std::fmt;

use url::Url;

use super::{NoProxy, Proxy};
use crate::Error;

/// Picks the proxies to try for a URL, in order (OkHttp's `ProxySelector`).
///
/// The route selector tries each returned proxy's routes in turn until one connects. An empty
/// list means [`Proxy::Direct`]. Implementations must be pure and quick: the core calls them
/// while planning a call, never across I/O.
///
/// ```
/// use wayfarer_core::{Proxy, ProxySelector, Url};
///
/// /// Sends everything under `*.corp.example` through the corporate proxy.
/// #[derive(Debug)]
/// struct Corp;
///
/// impl ProxySelector for Corp {
///     fn select(&self, url: &Url) -> Vec<Proxy> {
///         match url.host_str() {
///             Some(h) if h.ends_with(".corp.example") => vec![Proxy::http("proxy.corp.example", 3128)],
///             _ => vec![Proxy::Direct],
///         }
///     }
/// }
///
/// let url = Url::parse("https://wiki.corp.example/").unwrap();
/// assert_eq!(Corp.select(&url), [Proxy::http("proxy.corp.example", 3128)]);
/// ```
pub trait ProxySelector: Send + Sync + fmt::Debug {
    /// The proxies to try for `url`, best first; [`Proxy::Direct`] may be among them.
    fn select(&self, url: &Url) -> Vec<Proxy>;
}

/// Always the same proxy, except for the hosts its `no_proxy` list exempts (curl's `-x` with
/// `--noproxy`).
///
/// ```
/// use wayfarer_core::{FixedProxySelector, NoProxy, Proxy, ProxySelector, Url};
///
/// let selector = FixedProxySelector::new(Proxy::http("proxy.example", 8080))
///     .with_no_proxy(NoProxy::parse("localhost"));
/// let via = |u: &str| selector.select(&Url::parse(u).unwrap());
/// assert_eq!(via("http://example.com/"), [Proxy::http("proxy.example", 8080)]);
/// assert_eq!(via("http://localhost:3000/"), [Proxy::Direct]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedProxySelector {
    proxy: Proxy,
    no_proxy: NoProxy,
}

impl FixedProxySelector {
    /// Selects `proxy` for every URL.
    pub fn new(proxy: Proxy) -> FixedProxySelector {
        FixedProxySelector {
            proxy,
            no_proxy: NoProxy::default(),
        }
    }

    /// Connects directly to the hosts `no_proxy` matches.
    #[must_use]
    pub fn with_no_proxy(mut self, no_proxy: NoProxy) -> FixedProxySelector {
        self.no_proxy = no_proxy;
        self
    }
}

impl ProxySelector for FixedProxySelector {
    fn select(&self, url: &Url) -> Vec<Proxy> {
        if self.no_proxy.matches_url(url) {
            vec![Proxy::Direct]
        } else {
            vec![self.proxy.clone()]
        }
    }
}

/// The proxy variables as the runtime read them; `None` or an empty string means unset.
///
/// Use [`ProxyEnv::from_lookup`] to read them with curl's precedence, or fill the fields
/// directly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// `http_proxy`: the proxy for `http:` URLs.
    pub http_proxy: Option<String>,
    /// `https_proxy`: the proxy for `https:` URLs.
    pub https_proxy: Option<String>,
    /// `all_proxy`: the proxy for URLs whose scheme has none of its own.
    pub all_proxy: Option<String>,
    /// `no_proxy`: the hosts that bypass the proxy ([`NoProxy`]).
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    /// Reads the variables through `var` (the runtime passes `|name| std::env::var(name).ok()`),
    /// as curl does: the lowercase name first, then the uppercase one, except that
    /// `http_proxy` is read in lowercase only. (An uppercase `HTTP_PROXY` can be set by a CGI
    /// request's `Proxy:` header, the "httpoxy" attack; curl ignores it for that reason.) A
    /// lowercase variable that is set, even to an empty string, hides its uppercase twin, as in
    /// curl.
    ///
    /// ```
    /// use wayfarer_core::ProxyEnv;
    ///
    /// let vars = [("HTTP_PROXY", "evil:1"), ("HTTPS_PROXY", "secure:3128"), ("no_proxy", "localhost")];
    /// let env = ProxyEnv::from_lookup(|name| {
    ///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    /// });
    /// assert_eq!(env.http_proxy, None);
    /// assert_eq!(env.https_proxy.as_deref(), Some("secure:3128"));
    /// assert_eq!(env.no_proxy.as_deref(), Some("localhost"));
    /// ```
    pub fn from_lookup(mut var: impl FnMut(&str) -> Option<String>) -> ProxyEnv {
        let mut either = |lower: &str, upper: &str| var(lower).or_else(|| var(upper));
        ProxyEnv {
            https_proxy: either("https_proxy", "HTTPS_PROXY"),
            all_proxy: either("all_proxy", "ALL_PROXY"),
            no_proxy: either("no_proxy", "NO_PROXY"),
            http_proxy: var("http_proxy"),
        }
    }
}

/// Chooses proxies from environment-style settings, with curl's rules: the URL's scheme picks
/// `http_proxy` or `https_proxy`, falling back to `all_proxy`; hosts matched by `no_proxy` go
/// direct.
///
/// ```
/// use wayfarer_core::{EnvProxySelector, Proxy, ProxyEnv, ProxySelector, Url};
///
/// let selector = EnvProxySelector::new(&ProxyEnv {
///     https_proxy: Some("http://secure.example:3128".into()),
///     all_proxy: Some("socks5h://socks.example".into()),
///     no_proxy: Some("localhost,.internal".into()),
///     ..ProxyEnv::default()
/// })?;
/// let via = |u: &str| selector.select(&Url::parse(u).unwrap());
/// assert_eq!(via("https://example.com/"), [Proxy::http("secure.example", 3128)]);
/// assert_eq!(
///     via("http://example.com/"),
///     [Proxy::socks5("socks.example", 1080).with_remote_dns(true)]
/// );
/// assert_eq!(via("https://db.internal/"), [Proxy::Direct]);
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvProxySelector {
    http: Option<Proxy>,
    https: Option<Proxy>,
    all: Option<Proxy>,
    no_proxy: NoProxy,
}

impl EnvProxySelector {
    /// Parses the settings. A proxy value that [`Proxy::parse`] refuses is an error naming the
    /// variable (curl fails the transfer in that case too).
    pub fn new(env: &ProxyEnv) -> Result<EnvProxySelector, Error> {
        let parse = |name: &str, value: &Option<String>| -> Result<Option<Proxy>, Error> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => Proxy::parse(v)
                    .map(Some)
                    .map_err(|e| Error::invalid_input(format!("{name}: {}", e.message()))),
            }
        };
        Ok(EnvProxySelector {
            http: parse("http_proxy", &env.http_proxy)?,
            https: parse("https_proxy", &env.https_proxy)?,
            all: parse("all_proxy", &env.all_proxy)?,
            no_proxy: NoProxy::parse(env.no_proxy.as_deref().unwrap_or("")),
        })
    }
}

impl ProxySelector for EnvProxySelector {
    fn select(&self, url: &Url) -> Vec<Proxy> {
        if self.no_proxy.matches_url(url) {
            return vec![Proxy::Direct];
        }
        let own = match url.scheme() {
            "http" | "ws" => self.http.as_ref(),
            "https" | "wss" => self.https.as_ref(),
            _ => None,
        };
        vec![own.or(self.all.as_ref()).cloned().unwrap_or(Proxy::Direct)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn scheme_specific_proxy_wins_over_all_proxy() {
        let s = EnvProxySelector::new(&ProxyEnv {
            http_proxy: Some("plain:8080".into()),
            all_proxy: Some("socks5://fallback:1".into()),
            ..ProxyEnv::default()
        })
        .unwrap();
        assert_eq!(s.select(&url("http://a/")), [Proxy::http("plain", 8080)]);
        assert_eq!(s.select(&url("https://a/")), [Proxy::socks5("fallback", 1)]);
    }

    #[test]
    fn nothing_set_means_direct() {
        let s = EnvProxySelector::new(&ProxyEnv::default()).unwrap();
        assert_eq!(s.select(&url("https://a/")), [Proxy::Direct]);
        let blank = EnvProxySelector::new(&ProxyEnv {
            https_proxy: Some("  ".into()),
            ..ProxyEnv::default()
        })
        .unwrap();
        assert_eq!(blank.select(&url("https://a/")), [Proxy::Direct]);
    }

    #[test]
    fn no_proxy_exempts_hosts_from_every_proxy() {
        let s = EnvProxySelector::new(&ProxyEnv {
            http_proxy: Some("p:1".into()),
            all_proxy: Some("q:2".into()),
            no_proxy: Some("example.com, 10.0.0.0/8".into()),
            ..ProxyEnv::default()
        })
        .unwrap();
        assert_eq!(s.select(&url("http://www.example.com/")), [Proxy::Direct]);
        assert_eq!(s.select(&url("https://10.2.3.4/")), [Proxy::Direct]);
        assert_eq!(s.select(&url("https://11.2.3.4/")), [Proxy::http("q", 2)]);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let e = EnvProxySelector::new(&ProxyEnv {
            https_proxy: Some("https://tls-proxy:443".into()),
            ..ProxyEnv::default()
        })
        .unwrap_err();
        assert!(e.message().starts_with("https_proxy: "), "{e}");
    }

    #[test]
    fn lookup_prefers_lowercase_and_ignores_uppercase_http_proxy() {
        let vars = [
            ("https_proxy", "lower:1"),
            ("HTTPS_PROXY", "upper:2"),
            ("ALL_PROXY", "all:3"),
            ("HTTP_PROXY", "httpoxy:4"),
            ("NO_PROXY", "upper.example"),
            ("no_proxy", ""),
        ];
        let env = ProxyEnv::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(
            env,
            ProxyEnv {
                http_proxy: None,
                https_proxy: Some("lower:1".into()),
                all_proxy: Some("all:3".into()),
                no_proxy: Some(String::new()),
            }
        );
    }

    #[test]
    fn fixed_selector_respects_no_proxy() {
        let s = FixedProxySelector::new(Proxy::socks5("s", 1080))
            .with_no_proxy(NoProxy::parse(".local"));
        assert_eq!(s.select(&url("http://printer.local/")), [Proxy::Direct]);
        assert_eq!(
            s.select(&url("http://example.org/")),
            [Proxy::socks5("s", 1080)]
        );
    }
}
