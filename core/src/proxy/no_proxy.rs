//! `no_proxy`: the hosts that bypass the proxy, matched as curl matches them.

use core::net::IpAddr;
use url::{Host, Url};

/// A parsed `no_proxy` value.
///
/// curl documents `no_proxy` loosely ("a comma-separated list of hosts"); what it does is in
/// `lib/noproxy.c`, and this is a re-implementation of that behaviour (curl 7.86 and later):
///
/// - The value is split on commas and blanks (spaces, tabs); empty pieces are skipped.
/// - A value that is exactly `*` (surrounding blanks aside) matches every host. A `*` among
///   other entries is an ordinary name and matches nothing, as in curl.
/// - A host-name entry matches that name and every name below it, on label boundaries:
///   `example.com` matches `example.com` and `www.example.com`, not `myexample.com`. A leading
///   dot is optional (`.example.com` means the same), a trailing dot on either side is ignored,
///   and case does not matter.
/// - An IP entry (IPv6 without brackets) matches only a host written as that IP literal, and a
///   CIDR entry (`192.168.0.0/16`, `fd00::/8`) a literal inside the range. Names are never
///   resolved to be compared with IP entries, and name entries never match IP literals. As in
///   curl, a prefix length of 0 means the exact address (not "everything"), and one longer than
///   the address (`/33` for IPv4) matches nothing.
/// - Entries with a port (`example.com:8080`) are not supported by curl, and match nothing
///   here either.
///
/// ```
/// use wayfarer_core::NoProxy;
///
/// let no_proxy = NoProxy::parse("localhost, .internal.example,10.0.0.0/8 ::1");
/// assert!(no_proxy.matches("localhost"));
/// assert!(no_proxy.matches("api.internal.example"));
/// assert!(no_proxy.matches("internal.example"));
/// assert!(!no_proxy.matches("notinternal.example"));
/// assert!(no_proxy.matches("10.1.2.3"));
/// assert!(no_proxy.matches("[::1]"));
/// assert!(!no_proxy.matches("11.0.0.1"));
/// assert!(NoProxy::parse("*").matches("anything.example"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    names: Vec<String>,
    nets: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    /// Parses a `no_proxy` value. Nothing is an error: entries that cannot match anything are
    /// dropped, as curl skips them.
    pub fn parse(value: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        if value.trim_matches(is_blank) == "*" {
            no_proxy.all = true;
            return no_proxy;
        }
        for token in value.split(|c: char| c == ',' || is_blank(c)) {
            if token.is_empty() {
                continue;
            }
            if let Some(net) = parse_net(token) {
                no_proxy.nets.extend(net);
                continue;
            }
            let name = token.strip_suffix('.').unwrap_or(token);
            let name = name.strip_prefix('.').unwrap_or(name);
            if !name.is_empty() {
                no_proxy.names.push(name.to_ascii_lowercase());
            }
        }
        no_proxy
    }

    /// True when no host bypasses the proxy (an empty or blank value).
    pub fn is_empty(&self) -> bool {
        !self.all && self.names.is_empty() && self.nets.is_empty()
    }

    /// Whether requests to `host` (a name, or an IP literal with or without brackets) should
    /// skip the proxy.
    pub fn matches(&self, host: &str) -> bool {
        if host.is_empty() {
            return false;
        }
        if self.all {
            return true;
        }
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match literal.parse::<IpAddr>() {
            Ok(ip) => self.matches_ip(ip),
            Err(_) => self.matches_name(host),
        }
    }

    /// Whether requests to this URL's host should skip the proxy.
    pub fn matches_url(&self, url: &Url) -> bool {
        match url.host() {
            Some(Host::Domain(d)) => self.matches(d),
            Some(Host::Ipv4(ip)) => self.all || self.matches_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.all || self.matches_ip(IpAddr::V6(ip)),
            None => false,
        }
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|&(net, bits)| in_net(ip, net, bits))
    }

    fn matches_name(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.names.iter().any(|name| {
            let (h, n) = (host.as_bytes(), name.as_bytes());
            if h.len() == n.len() {
                h.eq_ignore_ascii_case(n)
            } else if h.len() > n.len() {
                let split = h.len() - n.len();
                h[split - 1] == b'.' && h[split..].eq_ignore_ascii_case(n)
            } else {
                false
            }
        })
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// An IP or CIDR entry: `Some(Some(net))` to keep, `Some(None)` for an IP entry that can never
/// match (prefix too long), `None` when the token is not an IP entry at all.
fn parse_net(token: &str) -> Option<Option<(IpAddr, u8)>> {
    let (addr, bits) = match token.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits)),
        None => (token, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        // curl reads the length with atoi(): garbage or 0 means "exact address".
        Some(b) => match b.parse::<u32>() {
            Ok(0) | Err(_) => max,
            Ok(b) if b > u32::from(max) => return Some(None),
            Ok(b) => b as u8,
        },
    };
    Some(Some((ip, bits)))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            (u32::from(ip) ^ u32::from(net)) & mask == 0
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            (u128::from(ip) ^ u128::from(net)) & mask == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_on_label_boundaries() {
        let n = NoProxy::parse("example.com");
        assert!(n.matches("example.com"));
        assert!(n.matches("www.example.com"));
        assert!(n.matches("a.b.example.com"));
        assert!(n.matches("WWW.Example.COM"));
        assert!(n.matches("example.com."));
        assert!(!n.matches("myexample.com"));
        assert!(!n.matches("example.com.org"));
        assert!(!n.matches("com"));
    }

    #[test]
    fn leading_and_trailing_dots_are_optional() {
        let n = NoProxy::parse(".example.com.");
        assert!(n.matches("example.com"));
        assert!(n.matches("x.example.com"));
        assert!(!NoProxy::parse(".").matches("example.com"));
    }

    #[test]
    fn commas_and_blanks_separate_entries() {
        let n = NoProxy::parse(" a.example ,,\tb.example c.example, ");
        for h in ["a.example", "b.example", "c.example"] {
            assert!(n.matches(h), "{h}");
        }
        assert!(!n.matches("d.example"));
        assert!(NoProxy::parse(" , ").is_empty());
        assert!(!NoProxy::parse("").matches("a.example"));
    }

    #[test]
    fn only_a_lone_star_matches_everything() {
        assert!(NoProxy::parse(" * ").matches("anything"));
        assert!(NoProxy::parse("*").matches("10.0.0.1"));
        let n = NoProxy::parse("*,example.com");
        assert!(!n.matches("other.org"));
        assert!(n.matches("example.com"));
        assert!(!NoProxy::parse("*.example.com").matches("www.example.com"));
    }

    #[test]
    fn ip_entries_and_cidr_ranges() {
        let n = NoProxy::parse("192.168.0.0/16,10.1.2.3,fd00::/8,::1");
        assert!(n.matches("192.168.200.1"));
        assert!(!n.matches("192.169.0.1"));
        assert!(n.matches("10.1.2.3"));
        assert!(!n.matches("10.1.2.4"));
        assert!(n.matches("[fd12::1]"));
        assert!(n.matches("fd12::1"));
        assert!(!n.matches("fe80::1"));
        assert!(n.matches("[::1]"));
        // Families never cross, and names are not resolved.
        assert!(!NoProxy::parse("0.0.0.0/1").matches("::1"));
        assert!(!NoProxy::parse("127.0.0.1").matches("localhost"));
        assert!(!NoProxy::parse("localhost").matches("127.0.0.1"));
    }

    #[test]
    fn cidr_edge_lengths_follow_curl() {
        // /0 is the exact address in curl, not the whole space.
        let zero = NoProxy::parse("10.0.0.0/0");
        assert!(zero.matches("10.0.0.0"));
        assert!(!zero.matches("10.0.0.1"));
        assert!(NoProxy::parse("10.0.0.0/8").matches("10.255.255.255"));
        assert!(NoProxy::parse("1.2.3.4/32").matches("1.2.3.4"));
        assert!(!NoProxy::parse("1.2.3.4/33").matches("1.2.3.4"));
        assert!(NoProxy::parse("8000::/1").matches("ffff::1"));
        assert!(!NoProxy::parse("8000::/1").matches("7fff::1"));
        assert!(!NoProxy::parse("::1/129").matches("::1"));
    }

    #[test]
    fn port_entries_match_nothing() {
        let n = NoProxy::parse("example.com:8080,10.0.0.1:80");
        assert!(!n.matches("example.com"));
        assert!(!n.matches("10.0.0.1"));
    }

    #[test]
    fn urls_match_by_host() {
        let n = NoProxy::parse("example.com,127.0.0.0/8,::1");
        let m = |u: &str| n.matches_url(&Url::parse(u).unwrap());
        assert!(m("https://api.example.com:8443/x"));
        assert!(m("http://127.0.0.1:8080/"));
        assert!(m("http://[::1]/"));
        assert!(!m("http://example.org/"));
    }
}
