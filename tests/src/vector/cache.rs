//! The vector format's cache features (`tests/vectors/README.md`, "The cache"): the `cache`
//! config key, the client's cache each runner builds from it, HTTP dates relative to the
//! origin's clock in what it sends (`{date-90s}`), and how a response came to be (`cache hit`).

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use wayfarer_core::{Cache, ClientBuilder, Response};

/// `[config] cache ...`: the client gets an HTTP cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSetting {
    /// `cache memory [MAX_BYTES]`: a `MemoryStore`.
    Memory(Option<u64>),
    /// `cache disk [MAX_BYTES]`: the crash-safe disk store in a temporary directory.
    Disk(Option<u64>),
}

/// The size a cache gets when the vector names none.
const DEFAULT_MAX: u64 = 10 << 20;

impl CacheSetting {
    /// Reads the value of a `cache` config line: `memory` or `disk`, then an optional size.
    pub fn parse(value: &str) -> Result<CacheSetting, String> {
        let mut words = value.split_whitespace();
        let kind = words.next().unwrap_or_default();
        let max = match words.next() {
            None => None,
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| format!("`cache {kind}` takes a size in bytes, not `{n}`"))?,
            ),
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected `{extra}` after the cache size"));
        }
        match kind {
            "memory" => Ok(CacheSetting::Memory(max)),
            "disk" => Ok(CacheSetting::Disk(max)),
            _ => Err(format!("`cache` is `memory` or `disk`, not `{kind}`")),
        }
    }
}

/// A cache for one replay; a disk cache's directory is deleted when this is dropped.
#[derive(Debug)]
pub struct CacheFixture {
    cache: Cache,
    _dir: Option<tempfile::TempDir>,
}

impl CacheFixture {
    /// A fresh, empty cache as `setting` says.
    pub fn open(setting: CacheSetting) -> CacheFixture {
        match setting {
            CacheSetting::Memory(max) => CacheFixture {
                cache: Cache::in_memory(max.unwrap_or(DEFAULT_MAX)),
                _dir: None,
            },
            CacheSetting::Disk(max) => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let disk = wayfarer_disk_cache::Cache::new(dir.path(), max.unwrap_or(DEFAULT_MAX))
                    .expect("a disk cache in a fresh temporary directory");
                CacheFixture {
                    cache: disk.into(),
                    _dir: Some(dir),
                }
            }
        }
    }

    /// The cache handle.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}

/// Gives the client the cache the vector's `[config]` asks for, if any. Keep the fixture for
/// as long as the client.
pub fn configure<C>(
    builder: ClientBuilder<C>,
    setting: Option<CacheSetting>,
) -> (ClientBuilder<C>, Option<CacheFixture>) {
    match setting {
        None => (builder, None),
        Some(setting) => {
            let fixture = CacheFixture::open(setting);
            (builder.cache(fixture.cache()), Some(fixture))
        }
    }
}

/// How a response came to be, as `[expect call N] cache ...` names it, from its cache and
/// network responses (see `Response::cache_response`).
pub fn source<B>(response: &Response<B>) -> &'static str {
    match (response.cache_response(), response.network_response()) {
        (Some(_), None) => "hit",
        (Some(_), Some(network)) if network.status().as_u16() == 304 => "conditional-hit",
        (Some(_), Some(_)) => "conditional-miss",
        (None, Some(_)) => "network",
        (None, None) => "none",
    }
}

/// The values `cache` accepts in `[expect call N]`.
pub const SOURCES: [&str; 5] = [
    "hit",
    "conditional-hit",
    "conditional-miss",
    "network",
    "none",
];

/// Replaces each `{date}`, `{date-Ns}` and `{date+Ns}` in bytes the origin sends with the
/// HTTP date of `now` moved by that many seconds, so that a vector states ages relative to
/// the time of the replay (virtual in the simulation, real over sockets). Anything else is
/// left as it is.
pub fn expand_dates(bytes: &[u8], now: SystemTime) -> Cow<'_, [u8]> {
    const OPEN: &[u8] = b"{date";
    if !bytes.windows(OPEN.len()).any(|w| w == OPEN) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 32);
    let mut rest = bytes;
    while let Some(at) = rest.windows(OPEN.len()).position(|w| w == OPEN) {
        out.extend_from_slice(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        match after.iter().position(|&b| b == b'}').and_then(|end| {
            let when = offset(now, &after[..end])?;
            Some((when, end))
        }) {
            Some((when, end)) => {
                out.extend_from_slice(httpdate::fmt_http_date(when).as_bytes());
                rest = &after[end + 1..];
            }
            None => {
                out.extend_from_slice(OPEN);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

/// `now` moved by an offset such as `-90s` or `+3600s` (empty: `now`).
fn offset(now: SystemTime, spec: &[u8]) -> Option<SystemTime> {
    if spec.is_empty() {
        return Some(now);
    }
    let (sign, digits) = spec.split_first()?;
    let seconds: u64 = std::str::from_utf8(digits.strip_suffix(b"s")?)
        .ok()?
        .parse()
        .ok()?;
    let by = Duration::from_secs(seconds);
    match sign {
        b'-' => now.checked_sub(by),
        b'+' => now.checked_add(by),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_relative_to_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let out = expand_dates(b"Date: {date}\r\nExpires: {date+60s}\r\nX: {date-1s}", now);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\
             Expires: Thu, 01 Jan 2026 00:01:00 GMT\r\n\
             X: Wed, 31 Dec 2025 23:59:59 GMT"
        );
        assert!(matches!(expand_dates(b"no dates", now), Cow::Borrowed(_)));
        assert_eq!(&*expand_dates(b"{date-x} {date", now), b"{date-x} {date");
    }

    #[test]
    fn settings_parse() {
        assert_eq!(
            CacheSetting::parse("memory"),
            Ok(CacheSetting::Memory(None))
        );
        assert_eq!(
            CacheSetting::parse("disk 4096"),
            Ok(CacheSetting::Disk(Some(4096)))
        );
        assert!(CacheSetting::parse("tape").is_err());
        assert!(CacheSetting::parse("disk big").is_err());
        assert!(CacheSetting::parse("disk 1 2").is_err());
    }
}
