//! [`MemoryCookieJar`]: the cookie store of RFC 6265 sections 5.3 and 5.4, in memory.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use url::Url;

use super::CookieJar;
use super::cookie::Cookie;
use super::domain::{domain_match, is_ip, is_secure_url, path_match, registrable_domain};
use super::parse::Rejected;

/// The caps a [`MemoryCookieJar`] enforces, so that servers cannot make it grow without bound.
///
/// The defaults are RFC 6265 section 6.1's minimums, which are also what browsers allow:
/// cookies of 4096 bytes, 50 cookies per domain, 3000 cookies in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieLimits {
    /// The largest [`Cookie::size`] stored (name, value, domain and path added up); larger
    /// cookies are refused with [`Rejected::TooLarge`]. Default 4096.
    pub max_cookie_size: usize,
    /// The most cookies kept per registrable domain (`a.example.com` and `b.example.com` both
    /// count under `example.com`). Past it, the domain's least recently used cookie is evicted.
    /// Default 50.
    pub max_per_domain: usize,
    /// The most cookies kept in all. Past it, the jar's least recently used cookie is evicted.
    /// Default 3000.
    pub max_total: usize,
}

impl Default for CookieLimits {
    fn default() -> Self {
        CookieLimits {
            max_cookie_size: 4096,
            max_per_domain: 50,
            max_total: 3000,
        }
    }
}

/// A cookie jar in memory: the default [`CookieJar`], and a pure component on its own.
///
/// It is shared by concurrent calls (`&self` methods, a mutex inside) and takes the time as an
/// argument everywhere, so it can be tested, and replayed, with literal times.
///
/// What it does (RFC 6265 sections 5.3 and 5.4):
/// - a cookie replaces a stored one with the same name, domain and path, keeping the stored
///   one's creation time; a cookie that is already expired deletes the stored one and is not
///   stored;
/// - expired cookies are dropped whenever the jar is used;
/// - a request gets the cookies whose domain, path and `Secure` flag match its URL, longest
///   path first, then oldest first (ports do not matter, as section 8.5 says);
/// - from a URL that is not secure, a cookie may not replace or shadow a `Secure` one
///   (RFC 6265bis);
/// - [`CookieLimits`] caps sizes and counts, evicting the least recently used cookies (stored
///   or sent longest ago).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use wayfarer_core::{Url, cookies::{CookieJar, MemoryCookieJar}};
///
/// let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let jar = MemoryCookieJar::new();
/// let url = Url::parse("https://example.com/account/login")?;
/// jar.set_cookie(t0, &url, "sid=1; Path=/; Max-Age=3600")?;
/// jar.set_cookie(t0, &url, "lang=en")?; // default path /account
///
/// let page = Url::parse("https://example.com/account/settings")?;
/// let names = |cs: Vec<wayfarer_core::cookies::Cookie>| {
///     cs.iter().map(|c| c.pair()).collect::<Vec<_>>()
/// };
/// assert_eq!(names(jar.load_for_request(t0, &page)), ["lang=en", "sid=1"]);
/// // An hour later the session has expired.
/// let later = t0 + Duration::from_secs(3600);
/// assert_eq!(names(jar.load_for_request(later, &page)), ["lang=en"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryCookieJar {
    limits: CookieLimits,
    store: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    entries: Vec<Entry>,
    /// A counter that orders events: insertion (for ties of creation time) and use (for LRU).
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    cookie: Cookie,
    /// The registrable domain the per-domain cap counts this cookie under.
    key: String,
    /// When it was first stored, in `next_seq` order: breaks ties of equal creation times.
    created: u64,
    /// When it was last stored or sent, in `next_seq` order: the least recently used cookie has
    /// the smallest. A counter rather than a time, so that ties (and clocks set back) cannot make
    /// eviction ambiguous.
    used: u64,
}

impl Store {
    fn tick(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn remove_expired(&mut self, now: SystemTime) {
        self.entries.retain(|e| !e.cookie.is_expired(now));
    }

    /// Evicts the least recently used entry among those `which` selects.
    fn evict_lru(&mut self, which: impl Fn(&Entry) -> bool) {
        let lru = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| which(e))
            .min_by_key(|(_, e)| e.used)
            .map(|(i, _)| i);
        if let Some(i) = lru {
            self.entries.remove(i);
        }
    }
}

impl MemoryCookieJar {
    /// An empty jar with the default [`CookieLimits`].
    pub fn new() -> MemoryCookieJar {
        MemoryCookieJar::default()
    }

    /// An empty jar with the given caps.
    pub fn with_limits(limits: CookieLimits) -> MemoryCookieJar {
        MemoryCookieJar {
            limits,
            store: Mutex::default(),
        }
    }

    /// The caps this jar enforces.
    pub fn limits(&self) -> CookieLimits {
        self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic elsewhere while holding the lock leaves the store consistent (every change
        // is a single Vec operation), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parses a `Set-Cookie` value received at `now` from `url` and stores the cookie
    /// ([`Cookie::parse`], then [`save`](Self::save)).
    pub fn set_cookie(&self, now: SystemTime, url: &Url, set_cookie: &str) -> Result<(), Rejected> {
        self.save(now, url, Cookie::parse(now, url, set_cookie)?)
    }

    /// Stores a cookie that a response from `url` set, at `now`.
    ///
    /// The cookie must be one `url` may set: its domain the URL's host (or, unless host-only, a
    /// parent of it) and, if `Secure`, a secure URL; a cookie from a URL that is not secure may
    /// not replace or shadow a `Secure` one. Then as [`insert`](Self::insert).
    pub fn save(&self, now: SystemTime, url: &Url, cookie: Cookie) -> Result<(), Rejected> {
        if !cookie.may_be_set_by(url) {
            return Err(if cookie.secure && !is_secure_url(url) {
                Rejected::InsecureUrl
            } else {
                Rejected::DomainMismatch
            });
        }
        let mut store = self.lock();
        // An expired Secure cookie is gone, and must not keep shadowing the name.
        store.remove_expired(now);
        if !cookie.secure && !is_secure_url(url) && shadows_secure(&store, &cookie) {
            return Err(Rejected::ShadowsSecure);
        }
        self.store_cookie(&mut store, now, cookie)
    }

    /// Stores a cookie at `now` without a URL to check it against (for cookies read from a
    /// file or your own storage).
    ///
    /// A stored cookie with the same name, domain and path is replaced, and its creation time
    /// kept. An expired cookie only deletes that one. A cookie over
    /// [`max_cookie_size`](CookieLimits::max_cookie_size) is refused; past the count caps, the
    /// least recently used cookies are evicted.
    pub fn insert(&self, now: SystemTime, cookie: Cookie) -> Result<(), Rejected> {
        let mut store = self.lock();
        self.store_cookie(&mut store, now, cookie)
    }

    fn store_cookie(
        &self,
        store: &mut Store,
        now: SystemTime,
        mut cookie: Cookie,
    ) -> Result<(), Rejected> {
        if cookie.size() > self.limits.max_cookie_size {
            return Err(Rejected::TooLarge);
        }
        store.remove_expired(now);
        // 5.3 step 11: replace, keeping the old creation time.
        let same = store.entries.iter().position(|e| {
            e.cookie.name == cookie.name
                && e.cookie.domain == cookie.domain
                && e.cookie.path == cookie.path
        });
        let created = match same {
            Some(i) => {
                let old = store.entries.remove(i);
                cookie.creation_time = old.cookie.creation_time;
                old.created
            }
            None => store.tick(),
        };
        // 5.3 step 12: an expired cookie is not stored (it only deleted the old one).
        if cookie.is_expired(now) {
            return Ok(());
        }
        cookie.last_access_time = now;
        let key = registrable_domain(&cookie.domain).to_owned();
        let used = store.tick();
        store.entries.push(Entry {
            cookie,
            key,
            created,
            used,
        });
        // The caps. The new cookie is the most recently used, so it goes last.
        let key = store
            .entries
            .last()
            .map(|e| e.key.clone())
            .unwrap_or_default();
        while store.entries.iter().filter(|e| e.key == key).count() > self.limits.max_per_domain {
            store.evict_lru(|e| e.key == key);
        }
        while store.entries.len() > self.limits.max_total {
            store.evict_lru(|_| true);
        }
        Ok(())
    }

    /// The cookies to send with a request to `url` at `now`, in `Cookie` header order (RFC 6265
    /// section 5.4): matching domain, path and `Secure` flag, not expired; longest path first,
    /// then earliest creation time. Marks them used (for eviction) and drops expired cookies.
    pub fn cookies_for(&self, now: SystemTime, url: &Url) -> Vec<Cookie> {
        let mut store = self.lock();
        store.remove_expired(now);
        let mut hits: Vec<usize> = (0..store.entries.len())
            .filter(|&i| store.entries[i].cookie.matches(url))
            .collect();
        hits.sort_by(|&a, &b| {
            let (a, b) = (&store.entries[a], &store.entries[b]);
            b.cookie
                .path
                .len()
                .cmp(&a.cookie.path.len())
                .then(a.cookie.creation_time.cmp(&b.cookie.creation_time))
                .then(a.created.cmp(&b.created))
        });
        let mut cookies = Vec::with_capacity(hits.len());
        for i in hits {
            let used = store.tick();
            let entry = &mut store.entries[i];
            entry.used = used;
            entry.cookie.last_access_time = now;
            cookies.push(entry.cookie.clone());
        }
        cookies
    }

    /// Every cookie not expired at `now`, in the order they were first stored. Drops expired
    /// cookies; does not count as a use.
    pub fn all(&self, now: SystemTime) -> Vec<Cookie> {
        let mut store = self.lock();
        store.remove_expired(now);
        let mut entries: Vec<&Entry> = store.entries.iter().collect();
        entries.sort_by_key(|e| e.created);
        entries.into_iter().map(|e| e.cookie.clone()).collect()
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    /// Removes the session cookies (those without an expiry time), as a browser does when it
    /// closes.
    pub fn clear_session_cookies(&self) {
        self.lock().entries.retain(|e| e.cookie.is_persistent());
    }
}

impl CookieJar for MemoryCookieJar {
    fn save_from_response(&self, now: SystemTime, url: &Url, cookies: Vec<Cookie>) {
        for cookie in cookies {
            // Refused cookies are ignored, as RFC 6265 says.
            let _ = self.save(now, url, cookie);
        }
    }

    fn load_for_request(&self, now: SystemTime, url: &Url) -> Vec<Cookie> {
        self.cookies_for(now, url)
    }
}

/// RFC 6265bis section 5.7 step 15: is there a `Secure` cookie with the same name whose domain
/// domain-matches the new one's (or the other way round) and whose path the new one's
/// path-matches?
fn shadows_secure(store: &Store, cookie: &Cookie) -> bool {
    store.entries.iter().any(|e| {
        let old = &e.cookie;
        old.secure
            && old.name == cookie.name
            && (domain_match(&old.domain, is_ip(&old.domain), &cookie.domain)
                || domain_match(&cookie.domain, is_ip(&cookie.domain), &old.domain))
            && path_match(&cookie.path, &old.path)
    })
}

#[cfg(test)]
#[path = "jar_tests.rs"]
mod tests;
