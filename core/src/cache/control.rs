//! `Cache-Control`: the directives of requests and responses (RFC 9111 section 5.2), as
//! OkHttp's `CacheControl`.
//!
//! One type serves both sides: a response's directives say how long it stays fresh and whether
//! it may be stored; a request's say how fresh an answer the caller will take. Parsing never
//! fails: a field that makes no sense yields the directives that do, and the rest is handled as
//! RFC 9111 says.
//!
//! ```
//! use std::time::Duration;
//! use wayfarer_core::CacheControl;
//!
//! let cc = CacheControl::parse_value(b"public, max-age=\"600\", stale-if-error=30");
//! assert!(cc.is_public());
//! assert_eq!(cc.max_age(), Some(Duration::from_secs(600)));
//! assert_eq!(cc.extension("stale-if-error"), Some(Some("30")));
//! assert_eq!(cc.to_string(), "max-age=600, public, stale-if-error=30");
//!
//! // A request that takes anything stored, however old, and never the network.
//! assert_eq!(CacheControl::FORCE_CACHE.to_string(), "max-stale, only-if-cached");
//! let fresh_enough = CacheControl::builder().max_age(Duration::from_secs(60)).build();
//! assert_eq!(fresh_enough.to_string(), "max-age=60");
//! ```
//!
//! # How odd fields are read
//!
//! - Directive names are case-insensitive; arguments may be tokens or quoted strings (section
//!   5.2: "recipients ought to accept both forms"). OkHttp also splits on `;`, and so do we,
//!   since servers do send `public; max-age=60`.
//! - Every `Cache-Control` field of a message is read, in order, as one list.
//! - `max-age` and `s-maxage` whose argument is not a non-negative integer (`max-age=abc`,
//!   `max-age=-1`, `max-age=1.5`, no argument) count as `0`: section 4.2.1 encourages caches to
//!   consider a response with invalid freshness information stale, and for a request `0` is the
//!   reading that asks for the freshest answer.
//! - An invalid `min-fresh` or `max-stale` argument is ignored, as if the directive were absent
//!   (`max-stale` without an argument means "any staleness").
//! - When a directive appears more than once, its first occurrence counts (section 4.2.1:
//!   "either the first occurrence should be used or the response should be considered stale").
//! - Numbers too large to represent saturate at 2^31 seconds (section 1.2.2).
//! - `no-cache="field"` and `private="field"` (the qualified forms) count as plain `no-cache`
//!   and `private`: this is a private cache, and revalidating always is the safe reading.
//! - Unknown directives are kept, in order, and available through
//!   [`extensions`](CacheControl::extensions); the cache ignores them (section 5.2.3).
//! - `Pragma: no-cache` counts as `no-cache` when the message has no `Cache-Control` field at
//!   all (section 5.4, for HTTP/1.0 caches and origins).

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::{Error, Headers};

/// The largest number of seconds kept: RFC 9111 section 1.2.2 lets a cache treat any larger
/// delta-seconds value as 2^31.
pub const MAX_DELTA_SECONDS: u64 = 1 << 31;

/// The directives of one message's `Cache-Control` fields.
///
/// Build a request's directives with [`CacheControl::builder`], read a message's with
/// [`CacheControl::from_headers`], and write them back with `to_string()` or
/// [`CacheControl::set_on`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    no_cache: bool,
    no_store: bool,
    max_age: Option<u32>,
    s_max_age: Option<u32>,
    private: bool,
    public: bool,
    must_revalidate: bool,
    max_stale: Option<MaxStale>,
    min_fresh: Option<u32>,
    only_if_cached: bool,
    no_transform: bool,
    immutable: bool,
    extensions: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaxStale {
    /// `max-stale` without an argument: any staleness.
    Any,
    Seconds(u32),
}

impl CacheControl {
    /// No directives at all.
    pub const EMPTY: CacheControl = CacheControl {
        no_cache: false,
        no_store: false,
        max_age: None,
        s_max_age: None,
        private: false,
        public: false,
        must_revalidate: false,
        max_stale: None,
        min_fresh: None,
        only_if_cached: false,
        no_transform: false,
        immutable: false,
        extensions: Vec::new(),
    };

    /// A request's directives that skip the cache: `no-cache` (OkHttp's `FORCE_NETWORK`). The
    /// response may still be stored.
    pub const FORCE_NETWORK: CacheControl = {
        let mut cc = CacheControl::EMPTY;
        cc.no_cache = true;
        cc
    };

    /// A request's directives that use only the cache, however stale, and never the network:
    /// `only-if-cached, max-stale` (OkHttp's `FORCE_CACHE`). When nothing is stored the call
    /// gets a 504.
    pub const FORCE_CACHE: CacheControl = {
        let mut cc = CacheControl::EMPTY;
        cc.only_if_cached = true;
        cc.max_stale = Some(MaxStale::Any);
        cc
    };

    /// Starts building a request's directives.
    pub fn builder() -> CacheControlBuilder {
        CacheControlBuilder {
            inner: CacheControl::EMPTY,
        }
    }

    /// The directives of every `Cache-Control` field in `headers`, read as one list; when there
    /// is none, `Pragma: no-cache` counts as `no-cache`.
    pub fn from_headers(headers: &Headers) -> CacheControl {
        let mut cc = CacheControl::EMPTY;
        let mut seen = Seen::default();
        let mut any = false;
        for value in headers.get_all("cache-control") {
            any = true;
            cc.parse_into(value, &mut seen);
        }
        if !any && headers.has_token("pragma", "no-cache") {
            cc.no_cache = true;
        }
        cc
    }

    /// The directives of one `Cache-Control` field value.
    pub fn parse_value(value: &[u8]) -> CacheControl {
        let mut cc = CacheControl::EMPTY;
        cc.parse_into(value, &mut Seen::default());
        cc
    }

    fn parse_into(&mut self, value: &[u8], seen: &mut Seen) {
        for (name, argument) in Directives::new(value) {
            let first = |flag: &mut bool| !std::mem::replace(flag, true);
            match name.to_ascii_lowercase().as_str() {
                "no-cache" => self.no_cache = true,
                "no-store" => self.no_store = true,
                "private" => self.private = true,
                "public" => self.public = true,
                "must-revalidate" => self.must_revalidate = true,
                "only-if-cached" => self.only_if_cached = true,
                "no-transform" => self.no_transform = true,
                "immutable" => self.immutable = true,
                "max-age" => {
                    if first(&mut seen.max_age) {
                        self.max_age = Some(delta_seconds(argument.as_deref()).unwrap_or(0));
                    }
                }
                "s-maxage" => {
                    if first(&mut seen.s_max_age) {
                        self.s_max_age = Some(delta_seconds(argument.as_deref()).unwrap_or(0));
                    }
                }
                "min-fresh" => {
                    if first(&mut seen.min_fresh) {
                        self.min_fresh = delta_seconds(argument.as_deref());
                    }
                }
                "max-stale" => {
                    if first(&mut seen.max_stale) {
                        self.max_stale = match argument.as_deref() {
                            None => Some(MaxStale::Any),
                            Some(a) => delta_seconds(Some(a)).map(MaxStale::Seconds),
                        };
                    }
                }
                _ => self.extensions.push((name, argument)),
            }
        }
    }

    /// `no-cache`: a response must be revalidated before each use; a request wants a response
    /// from the origin, not the cache.
    pub fn is_no_cache(&self) -> bool {
        self.no_cache
    }

    /// `no-store`: the response must not be stored (on either side).
    pub fn is_no_store(&self) -> bool {
        self.no_store
    }

    /// `max-age`: on a response, how long it stays fresh; on a request, the oldest response the
    /// caller takes. An invalid argument reads as zero.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age.map(secs)
    }

    /// `s-maxage`: parsed, but ignored by this private cache except for the `Authorization`
    /// rule of RFC 9111 section 3.5.
    pub fn s_max_age(&self) -> Option<Duration> {
        self.s_max_age.map(secs)
    }

    /// `private`: only a private cache (like this one) may store the response.
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// `public`: any cache may store the response, even to a request with `Authorization`.
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// `must-revalidate`: once stale, the response must not be served without revalidation,
    /// whatever a request's `max-stale` says.
    pub fn must_revalidate(&self) -> bool {
        self.must_revalidate
    }

    /// `max-stale`: how stale a response the caller takes. `Some(Duration::MAX)` for
    /// `max-stale` without an argument (any staleness).
    pub fn max_stale(&self) -> Option<Duration> {
        self.max_stale.map(|m| match m {
            MaxStale::Any => Duration::MAX,
            MaxStale::Seconds(s) => secs(s),
        })
    }

    /// `min-fresh`: the caller wants a response that stays fresh at least this long.
    pub fn min_fresh(&self) -> Option<Duration> {
        self.min_fresh.map(secs)
    }

    /// `only-if-cached`: the caller takes only a stored response, never the network.
    pub fn is_only_if_cached(&self) -> bool {
        self.only_if_cached
    }

    /// `no-transform`: intermediaries must not transform the content.
    pub fn is_no_transform(&self) -> bool {
        self.no_transform
    }

    /// `immutable` (RFC 8246): the response will not change while fresh.
    pub fn is_immutable(&self) -> bool {
        self.immutable
    }

    /// The directives this type does not know, in order, with their argument (unquoted).
    pub fn extensions(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.extensions
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_deref()))
    }

    /// The argument of the first unknown directive called `name` (case-insensitive):
    /// `Some(None)` when it has none, `None` when it is absent.
    pub fn extension(&self, name: &str) -> Option<Option<&str>> {
        self.extensions
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// True when there is no directive.
    pub fn is_empty(&self) -> bool {
        *self == CacheControl::EMPTY
    }

    /// Writes these directives as the `Cache-Control` field of `headers`, replacing any there,
    /// or removes the field when there are none (as OkHttp's `Request.Builder.cacheControl`).
    /// Fails only if an extension holds a character a header value cannot carry.
    pub fn set_on(&self, headers: &mut Headers) -> Result<(), Error> {
        if self.is_empty() {
            headers.remove("cache-control");
            Ok(())
        } else {
            headers.set("Cache-Control", self.to_string())
        }
    }
}

/// Renders the directives as a `Cache-Control` field value, in OkHttp's order, then the
/// extensions; empty when there are none.
impl fmt::Display for CacheControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = |name: &str, s: Option<u32>| s.map(|s| format!("{name}={s}"));
        let flag = |name: &str, on: bool| on.then(|| name.to_owned());
        let max_stale = self.max_stale.map(|m| match m {
            MaxStale::Any => "max-stale".to_owned(),
            MaxStale::Seconds(s) => format!("max-stale={s}"),
        });
        let known = [
            flag("no-cache", self.no_cache),
            flag("no-store", self.no_store),
            seconds("max-age", self.max_age),
            seconds("s-maxage", self.s_max_age),
            flag("private", self.private),
            flag("public", self.public),
            flag("must-revalidate", self.must_revalidate),
            max_stale,
            seconds("min-fresh", self.min_fresh),
            flag("only-if-cached", self.only_if_cached),
            flag("no-transform", self.no_transform),
            flag("immutable", self.immutable),
        ];
        let extensions = self.extensions.iter().map(|(name, argument)| {
            let mut part = name.clone();
            if let Some(a) = argument {
                part.push('=');
                write_argument(&mut part, a);
            }
            part
        });
        let parts: Vec<String> = known.into_iter().flatten().chain(extensions).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Builds a request's directives (OkHttp's `CacheControl.Builder`). Durations are whole
/// seconds (rounded down) and saturate at [`MAX_DELTA_SECONDS`].
#[derive(Debug, Clone)]
pub struct CacheControlBuilder {
    inner: CacheControl,
}

impl CacheControlBuilder {
    /// `no-cache`: do not answer from the cache without asking the origin.
    pub fn no_cache(mut self) -> Self {
        self.inner.no_cache = true;
        self
    }

    /// `no-store`: do not store the response.
    pub fn no_store(mut self) -> Self {
        self.inner.no_store = true;
        self
    }

    /// `max-age`: take no response older than `age`.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.inner.max_age = Some(to_secs(age));
        self
    }

    /// `max-stale=<secs>`: take a response stale by at most `staleness`.
    pub fn max_stale(mut self, staleness: Duration) -> Self {
        self.inner.max_stale = Some(MaxStale::Seconds(to_secs(staleness)));
        self
    }

    /// `max-stale` without an argument: take a response however stale.
    pub fn max_stale_any(mut self) -> Self {
        self.inner.max_stale = Some(MaxStale::Any);
        self
    }

    /// `min-fresh`: take only a response that stays fresh at least `freshness` longer.
    pub fn min_fresh(mut self, freshness: Duration) -> Self {
        self.inner.min_fresh = Some(to_secs(freshness));
        self
    }

    /// `only-if-cached`: never use the network.
    pub fn only_if_cached(mut self) -> Self {
        self.inner.only_if_cached = true;
        self
    }

    /// `no-transform`.
    pub fn no_transform(mut self) -> Self {
        self.inner.no_transform = true;
        self
    }

    /// `immutable`.
    pub fn immutable(mut self) -> Self {
        self.inner.immutable = true;
        self
    }

    /// The directives.
    pub fn build(self) -> CacheControl {
        self.inner
    }
}

/// Which valued directives were already met: the first occurrence counts.
#[derive(Default)]
struct Seen {
    max_age: bool,
    s_max_age: bool,
    min_fresh: bool,
    max_stale: bool,
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn to_secs(d: Duration) -> u32 {
    // MAX_DELTA_SECONDS is 2^31, which fits in u32.
    d.as_secs().min(MAX_DELTA_SECONDS) as u32
}

/// RFC 9111 `delta-seconds` (`1*DIGIT`), saturating at 2^31; `None` when invalid.
pub(crate) fn delta_seconds(argument: Option<&str>) -> Option<u32> {
    let digits = argument?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u64 = 0;
    for b in digits.bytes() {
        value = value * 10 + u64::from(b - b'0');
        if value >= MAX_DELTA_SECONDS {
            return Some(MAX_DELTA_SECONDS as u32);
        }
    }
    Some(value as u32)
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Writes an argument as a token when it is one, else as a quoted string.
fn write_argument(out: &mut String, argument: &str) {
    if !argument.is_empty() && argument.chars().all(is_tchar) {
        out.push_str(argument);
        return;
    }
    out.push('"');
    for c in argument.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        let _ = out.write_char(c);
    }
    out.push('"');
}

/// The `name[=argument]` items of one field value.
///
/// Hand-rolled: no well-kept crate parses Cache-Control leniently the way OkHttp does (`;` as
/// a separator, quoted strings anywhere an argument may be), and the grammar is small.
struct Directives<'a> {
    rest: &'a [u8],
}

impl<'a> Directives<'a> {
    fn new(value: &'a [u8]) -> Self {
        Directives { rest: value }
    }
}

fn is_separator(b: u8) -> bool {
    b == b',' || b == b';'
}

fn trim(s: &[u8]) -> &[u8] {
    crate::headers::trim_ows(s)
}

fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

impl Iterator for Directives<'_> {
    type Item = (String, Option<String>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self
                .rest
                .iter()
                .position(|&b| b == b'=' || is_separator(b))
                .unwrap_or(self.rest.len());
            let name = trim(&self.rest[..end]);
            let has_argument = self.rest.get(end) == Some(&b'=');
            self.rest = self.rest.get(end + 1..).unwrap_or_default();
            let argument = if has_argument {
                Some(self.argument())
            } else {
                None
            };
            // Empty list elements (`a,,b`) are allowed and mean nothing; so is `=x` alone.
            if !name.is_empty() {
                return Some((text(name), argument));
            }
        }
    }
}

impl Directives<'_> {
    /// Reads an argument after `=`, leaving `rest` after the next separator.
    fn argument(&mut self) -> String {
        let start = self
            .rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(self.rest.len());
        self.rest = &self.rest[start..];
        if self.rest.first() == Some(&b'"') {
            // A quoted string, with backslash escapes. An unterminated one runs to the end.
            let mut out = Vec::new();
            let mut i = 1;
            let mut closed = false;
            while let Some(&b) = self.rest.get(i) {
                i += 1;
                match b {
                    b'"' => {
                        closed = true;
                        break;
                    }
                    b'\\' => {
                        if let Some(&escaped) = self.rest.get(i) {
                            out.push(escaped);
                            i += 1;
                        }
                    }
                    _ => out.push(b),
                }
            }
            let rest = self.rest.get(i..).unwrap_or_default();
            // Anything between the closing quote and the next separator is junk: skip it.
            let next = if closed {
                rest.iter()
                    .position(|&b| is_separator(b))
                    .map_or(rest.len(), |p| p + 1)
            } else {
                rest.len()
            };
            self.rest = rest.get(next..).unwrap_or_default();
            text(&out)
        } else {
            let end = self
                .rest
                .iter()
                .position(|&b| is_separator(b))
                .unwrap_or(self.rest.len());
            let argument = text(trim(&self.rest[..end]));
            self.rest = self.rest.get(end + 1..).unwrap_or_default();
            argument
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::test_headers as headers;

    fn parse(value: &str) -> CacheControl {
        CacheControl::parse_value(value.as_bytes())
    }

    #[test]
    fn reads_every_known_directive() {
        let cc = parse(
            "no-cache, no-store, max-age=1, s-maxage=2, private, public, must-revalidate, \
             max-stale=3, min-fresh=4, only-if-cached, no-transform, immutable",
        );
        assert!(cc.is_no_cache() && cc.is_no_store());
        assert_eq!(cc.max_age(), Some(Duration::from_secs(1)));
        assert_eq!(cc.s_max_age(), Some(Duration::from_secs(2)));
        assert!(cc.is_private() && cc.is_public() && cc.must_revalidate());
        assert_eq!(cc.max_stale(), Some(Duration::from_secs(3)));
        assert_eq!(cc.min_fresh(), Some(Duration::from_secs(4)));
        assert!(cc.is_only_if_cached() && cc.is_no_transform() && cc.is_immutable());
        assert_eq!(cc.extensions().count(), 0);
        assert_eq!(
            cc.to_string(),
            "no-cache, no-store, max-age=1, s-maxage=2, private, public, must-revalidate, \
             max-stale=3, min-fresh=4, only-if-cached, no-transform, immutable"
        );
    }

    #[test]
    fn names_are_case_insensitive_and_arguments_may_be_quoted() {
        let cc = parse("MAX-AGE=\"60\", Max-Stale = 5 ; PUBLIC");
        assert_eq!(cc.max_age(), Some(Duration::from_secs(60)));
        assert_eq!(cc.max_stale(), Some(Duration::from_secs(5)));
        assert!(cc.is_public());
    }

    #[test]
    fn invalid_max_age_reads_as_zero_and_invalid_min_fresh_or_max_stale_as_absent() {
        for bad in [
            "max-age=abc",
            "max-age=-1",
            "max-age=1.5",
            "max-age",
            "max-age=",
            "max-age=\" 5\"",
        ] {
            assert_eq!(parse(bad).max_age(), Some(Duration::ZERO), "{bad}");
        }
        assert_eq!(parse("s-maxage=x").s_max_age(), Some(Duration::ZERO));
        assert_eq!(parse("min-fresh=x").min_fresh(), None);
        assert_eq!(parse("min-fresh=-3").min_fresh(), None);
        assert_eq!(parse("max-stale=x").max_stale(), None);
        assert_eq!(parse("max-stale=-1").max_stale(), None);
        assert_eq!(parse("max-stale").max_stale(), Some(Duration::MAX));
        assert_eq!(
            parse("max-stale=\"7\"").max_stale(),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn huge_numbers_saturate_at_two_to_the_31() {
        let cc =
            parse("max-age=99999999999999999999999999, min-fresh=2147483648, max-stale=2147483647");
        assert_eq!(cc.max_age(), Some(Duration::from_secs(1 << 31)));
        assert_eq!(cc.min_fresh(), Some(Duration::from_secs(1 << 31)));
        assert_eq!(cc.max_stale(), Some(Duration::from_secs((1 << 31) - 1)));
    }

    #[test]
    fn first_occurrence_of_a_duplicate_counts_across_fields() {
        assert_eq!(
            parse("max-age=5, max-age=10").max_age(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse("max-age=x, max-age=10").max_age(),
            Some(Duration::ZERO)
        );
        let h = headers(&[
            ("Cache-Control", "max-age=7"),
            ("cache-control", "max-age=1, no-store"),
        ]);
        let cc = CacheControl::from_headers(&h);
        assert_eq!(cc.max_age(), Some(Duration::from_secs(7)));
        assert!(cc.is_no_store());
    }

    #[test]
    fn qualified_no_cache_and_private_count_as_plain() {
        let cc = parse("no-cache=\"Set-Cookie, X-Foo\", private=\"Authorization\", max-age=5");
        assert!(cc.is_no_cache());
        assert!(cc.is_private());
        assert_eq!(cc.max_age(), Some(Duration::from_secs(5)));
        assert_eq!(cc.extensions().count(), 0);
    }

    #[test]
    fn unknown_directives_are_kept_and_rendered() {
        let cc = parse("stale-while-revalidate=60, x-odd=\"a b\", x-flag, x-quote=\"q\\\"x\"");
        assert_eq!(
            cc.extensions().collect::<Vec<_>>(),
            vec![
                ("stale-while-revalidate", Some("60")),
                ("x-odd", Some("a b")),
                ("x-flag", None),
                ("x-quote", Some("q\"x")),
            ]
        );
        assert_eq!(cc.extension("X-FLAG"), Some(None));
        assert_eq!(cc.extension("absent"), None);
        assert_eq!(
            cc.to_string(),
            "stale-while-revalidate=60, x-odd=\"a b\", x-flag, x-quote=\"q\\\"x\""
        );
        assert_eq!(parse(&cc.to_string()), cc);
    }

    #[test]
    fn odd_syntax_does_not_break_the_rest() {
        let cc = parse(",, ;max-age=3,,=x, x=\"unterminated, public");
        assert_eq!(cc.max_age(), Some(Duration::from_secs(3)));
        assert!(!cc.is_public(), "inside the unterminated quoted string");
        assert_eq!(cc.extension("x"), Some(Some("unterminated, public")));
        let cc = parse("x=\"a\"junk, public");
        assert_eq!(cc.extension("x"), Some(Some("a")));
        assert!(cc.is_public());
        assert!(parse("").is_empty());
        assert!(parse(" , ").is_empty());
    }

    #[test]
    fn pragma_no_cache_counts_only_without_cache_control() {
        let h = headers(&[("Pragma", "no-cache")]);
        assert!(CacheControl::from_headers(&h).is_no_cache());
        let h = headers(&[("Pragma", "no-cache"), ("Cache-Control", "max-age=5")]);
        assert!(!CacheControl::from_headers(&h).is_no_cache());
        let h = headers(&[("Pragma", "x-other")]);
        assert!(!CacheControl::from_headers(&h).is_no_cache());
    }

    #[test]
    fn builder_and_constants_render_like_okhttp() {
        assert_eq!(CacheControl::FORCE_NETWORK.to_string(), "no-cache");
        assert!(CacheControl::FORCE_CACHE.is_only_if_cached());
        assert_eq!(CacheControl::FORCE_CACHE.max_stale(), Some(Duration::MAX));
        let cc = CacheControl::builder()
            .no_cache()
            .no_store()
            .max_age(Duration::from_millis(1999))
            .max_stale(Duration::from_secs(u64::MAX))
            .min_fresh(Duration::from_secs(3))
            .only_if_cached()
            .no_transform()
            .immutable()
            .build();
        assert_eq!(
            cc.to_string(),
            "no-cache, no-store, max-age=1, max-stale=2147483648, min-fresh=3, only-if-cached, \
             no-transform, immutable"
        );
        assert_eq!(parse(&cc.to_string()), cc);
        assert_eq!(
            CacheControl::builder().max_stale_any().build().to_string(),
            "max-stale"
        );
        assert_eq!(CacheControl::EMPTY.to_string(), "");
    }

    #[test]
    fn set_on_replaces_or_removes_the_field() {
        let mut h = headers(&[("Cache-Control", "max-age=1"), ("cache-control", "public")]);
        CacheControl::FORCE_NETWORK.set_on(&mut h).unwrap();
        assert_eq!(
            h.get_all("cache-control").collect::<Vec<_>>(),
            [&b"no-cache"[..]]
        );
        CacheControl::EMPTY.set_on(&mut h).unwrap();
        assert!(!h.contains("cache-control"));
    }
}
