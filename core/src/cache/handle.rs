//! [`Cache`]: the HTTP cache a client uses, as OkHttp's `Cache`: a store and its statistics.
//!
//! The handle is what a [`ClientBuilder`](crate::ClientBuilder) takes (`.cache(cache)`) and
//! what an application keeps to look at the cache: how many requests it answered, which URLs
//! it holds, how large it is. Clones share the store and the counters, so the handle given to
//! a client and the one kept by the application agree.
//!
//! The store behind it is any [`CacheStore`]: [`MemoryStore`] here, or the crash-safe disk
//! store of the `wayfarer-disk-cache` crate (which every runtime re-exports as its `Cache`,
//! opened with `Cache::new(directory, max_size)`).
//!
//! The core never calls the store during a call: a call asks its driver to (see
//! [`CacheOp`](crate::CacheOp)). The methods here call it directly, on the caller's thread:
//! for a disk store, [`urls`](Cache::urls), [`evict_all`](Cache::evict_all) and the like do
//! file I/O, as their OkHttp counterparts do.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use url::Url;

use super::entry::{Entry, key};
use super::store::{CacheStore, MemoryStore};
use super::strategy::CacheStrategy;

/// An HTTP cache: a [`CacheStore`] and counters of what it did (OkHttp's `Cache`).
///
/// Off by default; give one to a client with
/// [`ClientBuilder::cache`](crate::ClientBuilder::cache).
///
/// ```
/// use wayfarer_core::{Cache, Config};
///
/// let cache = Cache::in_memory(10 * 1024 * 1024);
/// let config = Config::builder().cache(cache.clone()).build()?;
/// assert_eq!(config.cache().map(Cache::max_size), Some(Some(10 * 1024 * 1024)));
/// assert_eq!((cache.request_count(), cache.hit_count(), cache.size()), (0, 0, 0));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn CacheStore>,
    requests: AtomicU64,
    network: AtomicU64,
    hits: AtomicU64,
}

impl Cache {
    /// A cache over `store`.
    pub fn with_store(store: impl CacheStore + 'static) -> Cache {
        Cache::with_shared_store(Arc::new(store))
    }

    /// A cache over a store that is shared with other code.
    pub fn with_shared_store(store: Arc<dyn CacheStore>) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                store,
                requests: AtomicU64::new(0),
                network: AtomicU64::new(0),
                hits: AtomicU64::new(0),
            }),
        }
    }

    /// A cache in memory that keeps itself under `max_size` bytes (a [`MemoryStore`]):
    /// nothing survives the process.
    pub fn in_memory(max_size: u64) -> Cache {
        Cache::with_store(MemoryStore::with_max_size(max_size))
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn CacheStore> {
        &self.inner.store
    }

    /// HTTP requests that reached the cache (each hop of a call counts: a redirect followed is
    /// two requests).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Requests that went to the network, conditional ones included.
    pub fn network_count(&self) -> u64 {
        self.inner.network.load(Ordering::Relaxed)
    }

    /// Requests the cache answered: fresh hits, and conditional requests the origin answered
    /// with `304 Not Modified`.
    pub fn hit_count(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// Counts a request and what the strategy made of it (OkHttp's `trackResponse`).
    pub(crate) fn track(&self, strategy: &CacheStrategy) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        if strategy.uses_network() {
            self.inner.network.fetch_add(1, Ordering::Relaxed);
        } else if strategy.uses_cache() {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a conditional request answered with 304 (OkHttp's `trackConditionalCacheHit`).
    pub(crate) fn track_conditional_hit(&self) {
        self.inner.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// The URLs of the stored responses, least recently used first, as an iterator that can
    /// remove the one it last returned (OkHttp's `urls()`).
    ///
    /// The iterator reads each entry's metadata when it gets to it: an entry removed or
    /// replaced meanwhile, or one that cannot be read, is skipped. Reading an entry counts as
    /// a use of it, as it does in OkHttp.
    ///
    /// ```
    /// # use wayfarer_core::Cache;
    /// let cache = Cache::in_memory(1024);
    /// let mut urls = cache.urls()?;
    /// while let Some(url) = urls.next() {
    ///     if url.path().starts_with("/private") {
    ///         urls.remove()?;
    ///     }
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The store could not list its keys.
    pub fn urls(&self) -> io::Result<Urls> {
        Ok(Urls {
            store: self.inner.store.clone(),
            keys: self.inner.store.keys()?.into_iter(),
            last: None,
        })
    }

    /// Removes the response stored for `url`, if any; `Ok(true)` if there was one.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub fn remove(&self, url: &Url) -> io::Result<bool> {
        self.inner.store.remove(&key(url))
    }

    /// Removes every stored response. Responses being written now are not stored.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub fn evict_all(&self) -> io::Result<()> {
        self.inner.store.evict_all()
    }

    /// Deletes every stored response and the files behind them, and makes that durable (for
    /// the disk store, nothing of them survives a restart or a crash). OkHttp's `delete` also
    /// closes the cache; here the cache stays usable, empty.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub fn delete(&self) -> io::Result<()> {
        self.inner.store.evict_all()?;
        self.inner.store.flush()
    }

    /// Bytes stored: metadata and bodies.
    pub fn size(&self) -> u64 {
        self.inner.store.size()
    }

    /// The size the store keeps itself under, if it has one.
    pub fn max_size(&self) -> Option<u64> {
        self.inner.store.max_size()
    }

    /// Pushes the store's buffered bookkeeping to durable storage.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub fn flush(&self) -> io::Result<()> {
        self.inner.store.flush()
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("store", &self.inner.store)
            .field("request_count", &self.request_count())
            .field("network_count", &self.network_count())
            .field("hit_count", &self.hit_count())
            .finish()
    }
}

impl<S: CacheStore + 'static> From<S> for Cache {
    fn from(store: S) -> Cache {
        Cache::with_store(store)
    }
}

impl From<&Cache> for Cache {
    fn from(cache: &Cache) -> Cache {
        cache.clone()
    }
}

/// The URLs of a [`Cache`]'s stored responses; see [`Cache::urls`].
pub struct Urls {
    store: Arc<dyn CacheStore>,
    keys: std::vec::IntoIter<String>,
    last: Option<String>,
}

impl Urls {
    /// Removes the response of the URL [`next`](Iterator::next) returned last; `Ok(false)`
    /// when there is none (nothing returned yet, already removed, or removed by someone else).
    ///
    /// # Errors
    ///
    /// The store's error.
    pub fn remove(&mut self) -> io::Result<bool> {
        match self.last.take() {
            Some(key) => self.store.remove(&key),
            None => Ok(false),
        }
    }
}

impl Iterator for Urls {
    type Item = Url;

    fn next(&mut self) -> Option<Url> {
        self.last = None;
        for key in self.keys.by_ref() {
            let Ok(Some(snapshot)) = self.store.get(&key) else {
                continue;
            };
            if let Ok(entry) = Entry::decode(snapshot.metadata()) {
                self.last = Some(key);
                return Some(entry.url);
            }
        }
        None
    }
}

impl fmt::Debug for Urls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Urls")
            .field("remaining", &self.keys.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::SystemTime;

    use http::StatusCode;

    use super::*;
    use crate::Headers;

    fn put(cache: &Cache, url: &str, body: &[u8]) {
        let url = Url::parse(url).unwrap();
        let entry = Entry::new(
            url.clone(),
            StatusCode::OK,
            Headers::new(),
            SystemTime::UNIX_EPOCH,
            SystemTime::UNIX_EPOCH,
        );
        let mut editor = cache.store().edit(&key(&url)).unwrap().unwrap();
        editor.set_metadata(entry.encode());
        editor.write_all(body).unwrap();
        editor.commit().unwrap();
    }

    #[test]
    fn urls_are_listed_and_removed_through_the_iterator() {
        let cache = Cache::in_memory(1 << 20);
        put(&cache, "http://h.test/a", b"1");
        put(&cache, "http://h.test/b", b"22");
        put(&cache, "http://h.test/c", b"333");
        // Not an entry: skipped.
        let mut junk = cache.store().edit("junk").unwrap().unwrap();
        junk.set_metadata(&b"not an entry"[..]);
        junk.commit().unwrap();

        let mut urls = cache.urls().unwrap();
        assert!(!urls.remove().unwrap(), "nothing returned yet");
        let mut seen = Vec::new();
        while let Some(url) = urls.next() {
            if url.path() == "/b" {
                assert!(urls.remove().unwrap());
                assert!(!urls.remove().unwrap(), "removed once");
            }
            seen.push(url.to_string());
        }
        assert_eq!(
            seen,
            ["http://h.test/a", "http://h.test/b", "http://h.test/c"]
        );
        let left: Vec<String> = cache.urls().unwrap().map(|u| u.to_string()).collect();
        assert_eq!(left, ["http://h.test/a", "http://h.test/c"]);
        assert!(
            cache
                .remove(&Url::parse("http://h.test/a#x").unwrap())
                .unwrap()
        );
        assert!(
            !cache
                .remove(&Url::parse("http://h.test/a").unwrap())
                .unwrap()
        );
    }

    #[test]
    fn size_eviction_and_delete_go_to_the_store() {
        let cache = Cache::in_memory(1 << 20);
        assert_eq!(cache.max_size(), Some(1 << 20));
        put(&cache, "http://h.test/a", b"hello");
        let stored = cache.size();
        assert!(stored > 5, "metadata and body: {stored}");
        cache.evict_all().unwrap();
        assert_eq!(cache.size(), 0);
        put(&cache, "http://h.test/a", b"hello");
        cache.delete().unwrap();
        assert_eq!((cache.size(), cache.urls().unwrap().count()), (0, 0));
        cache.flush().unwrap();
    }

    #[test]
    fn clones_share_counters() {
        let cache = Cache::in_memory(1024);
        let clone = Cache::from(&cache);
        let network = CacheStrategy::Network {
            reason: super::super::NetworkReason::NoCandidate,
        };
        clone.track(&network);
        clone.track(&CacheStrategy::Cache {
            headers: Headers::new(),
        });
        clone.track(&CacheStrategy::Unsatisfiable);
        cache.track_conditional_hit();
        assert_eq!(
            (
                cache.request_count(),
                cache.network_count(),
                cache.hit_count()
            ),
            (3, 1, 2)
        );
    }
}
