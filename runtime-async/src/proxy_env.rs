//! Proxies from the environment, opt-in: the core never reads environment variables, so the
//! runtime reads them and hands the values to
//! [`EnvProxySelector`](wayfarer_core::EnvProxySelector).

use wayfarer_core::{EnvProxySelector, Error, ProxyEnv};

/// A proxy selector from `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy` (curl's
/// rules: lowercase names first, uppercase accepted except `HTTP_PROXY`, which CGI programs
/// cannot trust; `no_proxy` as curl reads it). Nothing is read unless this is called: pass
/// the result to [`ClientBuilder::proxy_selector`](wayfarer_core::ClientBuilder::proxy_selector).
///
/// A variable that does not parse as a proxy is an error naming it.
///
/// ```
/// let selector = wayfarer_async::env_proxy_selector()?;
/// let config = wayfarer_core::Config::builder().proxy_selector(selector).build()?;
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub fn env_proxy_selector() -> Result<EnvProxySelector, Error> {
    EnvProxySelector::new(&ProxyEnv::from_lookup(|name| std::env::var(name).ok()))
}
