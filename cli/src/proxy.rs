//! The proxy and name resolution flags, as curl has them: `-x`/`--proxy URL`, `--noproxy LIST`
//! and `--resolve HOST:PORT:ADDR`.
//!
//! As curl does, the command reads `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`
//! from the environment when `--proxy` is not given (the library never does on its own), and
//! `--noproxy` replaces `no_proxy`.

use wayfarer_blocking::{
    Client, ClientBuilder, DnsOverrides, EnvProxySelector, FixedProxySelector, NoProxy, Proxy,
    ProxyEnv,
};

use crate::args::Args;
use crate::exit::{Failure, code};

/// `--proxy`: `[scheme://][user:password@]host[:port]` with `http`, `socks5` or `socks5h`; an
/// empty string is no proxy at all, whatever the environment says, as with curl.
pub fn parse_proxy(s: &str) -> Result<Proxy, String> {
    if s.is_empty() {
        return Ok(Proxy::Direct);
    }
    Proxy::parse(s).map_err(|e| e.message().to_string())
}

/// `--resolve HOST:PORT:ADDR[,ADDR]...`, checked when the command line is read.
pub fn parse_resolve(s: &str) -> Result<String, String> {
    DnsOverrides::new()
        .add_resolve(s)
        .map_err(|e| e.message().to_string())?;
    Ok(s.to_string())
}

/// Applies the proxy and resolve flags (and the proxy variables of `env`) to the builder.
pub fn configure(
    mut builder: ClientBuilder<Client>,
    args: &Args,
    env: impl FnMut(&str) -> Option<String>,
) -> Result<ClientBuilder<Client>, Failure> {
    let no_proxy = args.noproxy.as_deref().map(NoProxy::parse);
    match &args.proxy {
        Some(proxy) => {
            let selector = FixedProxySelector::new(proxy.clone());
            builder = builder.proxy_selector(match no_proxy {
                Some(list) => selector.with_no_proxy(list),
                None => selector,
            });
        }
        None => {
            let mut vars = ProxyEnv::from_lookup(env);
            if let Some(list) = &args.noproxy {
                vars.no_proxy = Some(list.clone());
            }
            let any =
                vars.http_proxy.is_some() || vars.https_proxy.is_some() || vars.all_proxy.is_some();
            if any {
                let selector = EnvProxySelector::new(&vars)
                    .map_err(|e| Failure::new(code::URL_MALFORMAT, e.message().to_string()))?;
                builder = builder.proxy_selector(selector);
            }
        }
    }
    for spec in &args.resolve {
        builder = builder.resolve(spec);
    }
    Ok(builder)
}
