//! Name resolution: the resolver the driver calls, and static overrides the core applies.
//!
//! The core never resolves a name. When a route needs one, the
//! [`RouteSelector`](crate::RouteSelector) first looks in its [`DnsOverrides`] (pure data, like
//! curl's `--resolve`) and otherwise asks for a lookup as an output; the driver performs it with
//! its [`Dns`] and hands the answer back.

use std::fmt;
use std::io;

use core::net::IpAddr;

use crate::Error;

/// A resolver: host name to IP addresses (OkHttp's `Dns`).
///
/// Called by the driver, never by the core, and possibly from several threads at once; it
/// may block (the blocking runtime calls it on the caller's thread, the async runtimes on a
/// blocking-task pool). The runtimes' default is the system resolver (`getaddrinfo`, through
/// the standard library's `ToSocketAddrs`). Closures implement it, which makes a fixed answer
/// for tests easy:
///
/// ```
/// use std::io;
/// use std::net::IpAddr;
/// use wayfarer_core::Dns;
///
/// let dns = |host: &str| -> io::Result<Vec<IpAddr>> {
///     match host {
///         "example.test" => Ok(vec!["192.0.2.7".parse().unwrap()]),
///         _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
///     }
/// };
/// assert_eq!(dns.lookup("example.test")?, ["192.0.2.7".parse::<IpAddr>().unwrap()]);
/// assert!(dns.lookup("other.test").is_err());
/// # Ok::<(), io::Error>(())
/// ```
pub trait Dns: Send + Sync {
    /// The addresses of `host`, in the order to try them. An empty list counts as a failure.
    fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

impl<F> Dns for F
where
    F: Fn(&str) -> io::Result<Vec<IpAddr>> + Send + Sync,
{
    fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self(host)
    }
}

/// Fixed answers for `host:port` pairs, consulted before any lookup: curl's
/// `--resolve host:port:addr[,addr]...`.
///
/// An entry applies to one port only (as in curl, so `example.com:443` can be pinned while
/// `example.com:80` resolves normally); a `*` host applies to every host on that port, after
/// the exact entries. A later entry for the same host and port replaces the earlier one.
///
/// ```
/// use wayfarer_core::DnsOverrides;
///
/// let mut overrides = DnsOverrides::new();
/// overrides.add_resolve("example.com:443:127.0.0.1")?;
/// overrides.add_resolve("+ipv6.example:80:[::1],192.0.2.1")?;
/// assert_eq!(overrides.lookup("example.com", 443), Some(&["127.0.0.1".parse().unwrap()][..]));
/// assert_eq!(overrides.lookup("example.com", 80), None);
/// assert_eq!(overrides.lookup("IPV6.example", 80).map(<[_]>::len), Some(2));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DnsOverrides {
    entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, Eq)]
struct Entry {
    /// Lowercase host; `None` for `*`.
    host: Option<String>,
    port: u16,
    addrs: Vec<IpAddr>,
}

impl DnsOverrides {
    /// No overrides.
    pub fn new() -> DnsOverrides {
        DnsOverrides::default()
    }

    /// True when there are no overrides.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Answers `host:port` with `addrs` (`host` `*` for every host on that port).
    pub fn insert(&mut self, host: &str, port: u16, addrs: impl IntoIterator<Item = IpAddr>) {
        let host = (host != "*").then(|| normalize(host));
        self.entries.retain(|e| !(e.host == host && e.port == port));
        self.entries.push(Entry {
            host,
            port,
            addrs: addrs.into_iter().collect(),
        });
    }

    /// Adds one curl `--resolve` entry: `[+]host:port:addr[,addr]...`, where an IPv6 host or
    /// address may be written in brackets and `host` may be `*`. The leading `+` (curl: "may
    /// time out") is accepted and has no effect, since overrides never expire. Removal entries
    /// (`-host:port`) are refused: remove by building a new set.
    pub fn add_resolve(&mut self, spec: &str) -> Result<(), Error> {
        let bad =
            |why: &str| Error::invalid_input(format!("invalid resolve entry {spec:?}: {why}"));
        let rest = spec.trim();
        let rest = rest.strip_prefix('+').unwrap_or(rest);
        if rest.starts_with('-') {
            return Err(bad("removal entries are not supported"));
        }
        let (host, rest) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, rest) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("unclosed '['"))?;
            let rest = rest
                .strip_prefix(':')
                .ok_or_else(|| bad("expected ':' after host"))?;
            (host, rest)
        } else {
            rest.split_once(':')
                .ok_or_else(|| bad("expected host:port:addresses"))?
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let (port, addrs) = rest
            .split_once(':')
            .ok_or_else(|| bad("expected host:port:addresses"))?;
        let port: u16 = port.parse().map_err(|_| bad("invalid port"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                let a = a.trim();
                let a = a
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .unwrap_or(a);
                a.parse::<IpAddr>()
                    .map_err(|_| bad(&format!("invalid address {a:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.insert(host, port, addrs);
        Ok(())
    }

    /// The fixed answer for `host:port`, if any: an exact entry first, then a `*` entry.
    pub fn lookup(&self, host: &str, port: u16) -> Option<&[IpAddr]> {
        let host = normalize(host);
        let find = |want: Option<&str>| {
            self.entries
                .iter()
                .find(|e| e.port == port && e.host.as_deref() == want)
        };
        find(Some(&host))
            .or_else(|| find(None))
            .map(|e| e.addrs.as_slice())
    }
}

fn normalize(host: &str) -> String {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_ascii_lowercase()
}

impl fmt::Debug for DnsOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for e in &self.entries {
            let host = e.host.as_deref().unwrap_or("*");
            list.entry(&format_args!("{host}:{}:{:?}", e.port, e.addrs));
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_curl_resolve_entries() {
        let mut o = DnsOverrides::new();
        o.add_resolve("Example.com:443:127.0.0.1,::1, [fe80::1]")
            .unwrap();
        o.add_resolve("[::1]:8080:10.0.0.1").unwrap();
        o.add_resolve("*:80:192.0.2.9").unwrap();
        assert_eq!(
            o.lookup("example.com", 443).unwrap(),
            [ip("127.0.0.1"), ip("::1"), ip("fe80::1")]
        );
        assert_eq!(o.lookup("::1", 8080).unwrap(), [ip("10.0.0.1")]);
        assert_eq!(o.lookup("[::1]", 8080).unwrap(), [ip("10.0.0.1")]);
        assert_eq!(o.lookup("anything", 80).unwrap(), [ip("192.0.2.9")]);
        assert_eq!(o.lookup("anything", 81), None);
    }

    #[test]
    fn exact_entries_win_over_the_wildcard_and_later_entries_replace() {
        let mut o = DnsOverrides::new();
        o.add_resolve("*:443:192.0.2.1").unwrap();
        o.add_resolve("a.test:443:192.0.2.2").unwrap();
        assert_eq!(o.lookup("a.test", 443).unwrap(), [ip("192.0.2.2")]);
        assert_eq!(o.lookup("b.test", 443).unwrap(), [ip("192.0.2.1")]);
        o.add_resolve("a.test:443:192.0.2.3").unwrap();
        assert_eq!(o.lookup("a.test", 443).unwrap(), [ip("192.0.2.3")]);
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            "example.com",
            "example.com:443",
            "example.com:https:127.0.0.1",
            "example.com:443:not-an-ip",
            "example.com:443:",
            ":443:127.0.0.1",
            "[::1:443:127.0.0.1",
            "-example.com:443",
            "example.com:70000:127.0.0.1",
        ] {
            let e = DnsOverrides::new().add_resolve(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
