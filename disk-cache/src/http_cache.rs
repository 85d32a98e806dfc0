//! [`Cache`]: an HTTP cache on disk for a wayfarer client, opened in one line.

use std::fmt;
use std::ops::Deref;
use std::path::Path;

use wayfarer_core::Error;

use crate::DiskLruCache;

/// An HTTP cache in a directory: the core's [`Cache`](wayfarer_core::Cache) handle (counters,
/// [`urls`](wayfarer_core::Cache::urls), [`evict_all`](wayfarer_core::Cache::evict_all), ...,
/// reached through `Deref`) over a [`DiskLruCache`]. Every runtime re-exports it as its
/// `Cache`, and every client builder takes it with `.cache(...)`.
///
/// ```
/// use wayfarer_core::{Config, StatusCode};
/// use wayfarer_disk_cache::Cache;
///
/// let dir = tempfile::tempdir()?;
/// let cache = Cache::new(dir.path().join("http"), 50 * 1024 * 1024)?;
/// let config = Config::builder().cache(&cache).build()?;
/// assert!(config.cache().is_some());
/// assert_eq!((cache.hit_count(), cache.size()), (0, 0));
///
/// // An unusable directory is an error naming it; the client then goes without a cache.
/// let file = dir.path().join("a-file");
/// std::fs::write(&file, b"not a directory")?;
/// let error = Cache::new(&file, 1024).unwrap_err();
/// assert!(error.to_string().contains("a-file"), "{error}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Cache {
    handle: wayfarer_core::Cache,
    disk: DiskLruCache,
}

impl Cache {
    /// Opens (creating it if needed) the cache in `directory`, keeping it under `max_size`
    /// bytes. What an earlier run stored is found again.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Io`](wayfarer_core::ErrorKind::Io) error naming the directory and why
    /// it is unusable: it cannot be created, is not a directory, cannot be read or written, or
    /// is already open, in this process (share one `Cache` between clients instead: clones
    /// share it) or in another. Build the client without a cache then; it makes every request
    /// over the network.
    pub fn new(directory: impl AsRef<Path>, max_size: u64) -> Result<Cache, Error> {
        let disk = DiskLruCache::open(directory, max_size)
            .map_err(|e| Error::io(format!("cannot open the HTTP cache: {e}"), Some(e)))?;
        Ok(Cache::from_disk(disk))
    }

    /// The HTTP cache over a disk store opened with other [`Options`](crate::Options).
    pub fn from_disk(disk: DiskLruCache) -> Cache {
        Cache {
            handle: wayfarer_core::Cache::with_store(disk.clone()),
            disk,
        }
    }

    /// The cache directory.
    pub fn directory(&self) -> &Path {
        self.disk.directory()
    }

    /// The disk store.
    pub fn disk(&self) -> &DiskLruCache {
        &self.disk
    }
}

impl Deref for Cache {
    type Target = wayfarer_core::Cache;

    fn deref(&self) -> &wayfarer_core::Cache {
        &self.handle
    }
}

impl From<Cache> for wayfarer_core::Cache {
    fn from(cache: Cache) -> wayfarer_core::Cache {
        cache.handle
    }
}

impl From<&Cache> for wayfarer_core::Cache {
    fn from(cache: &Cache) -> wayfarer_core::Cache {
        cache.handle.clone()
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("directory", &self.directory())
            .field("handle", &self.handle)
            .finish()
    }
}
