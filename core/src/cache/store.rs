//! Where cached responses live: the [`CacheStore`] trait, after OkHttp's `DiskLruCache`.
//!
//! A store keeps, per key, an opaque *metadata* blob (the cache writes the response head and
//! what it needs to revalidate there) and a *body*. It knows nothing of HTTP. Reading a key
//! gives a [`Snapshot`]; writing one goes through an [`Editor`] that is either committed, making
//! the new entry visible at once and whole, or aborted (also by dropping it), leaving the old
//! entry as it was.
//!
//! ```text
//!   get(key) ──► Snapshot { metadata, body_len, body: Read }   (stays readable after the
//!                                                               entry is replaced or removed)
//!   edit(key) ─► Editor ── set_metadata, write body … ──┬─► commit: the entry becomes visible
//!              (None while another edit of the key        └─► abort / drop: nothing changes
//!               is in progress)
//!   update_metadata(key, sequence, metadata)   a 304 revalidation: new head, same body
//! ```
//!
//! The core never calls a store itself and never touches a file: a driver calls the store,
//! and since a store may do blocking file I/O, async drivers call it on a blocking pool. So the
//! trait is synchronous, and `Send + Sync` so that one store serves every call of a client.
//!
//! Two implementations exist: [`MemoryStore`] here (tests, embedders that want a bounded
//! in-memory cache) and `DiskLruCache` in the `wayfarer-disk-cache` crate. Both keep their
//! bookkeeping in an [`LruIndex`], the pure part (LRU order, sizes, edit slots) that any other
//! store can reuse too.
//!
//! # Keys
//!
//! A key is 1 to [`MAX_KEY_LEN`] bytes of UTF-8 with no ASCII whitespace or control
//! characters, so that every serialized URL is a valid key ([`check_key`]). A store maps keys
//! to its own storage names (the disk store hashes them); callers need not.
//!
//! # Errors
//!
//! Every fallible method returns [`std::io::Error`]: stores are I/O boundaries, and the driver
//! that calls one decides what a failure means (the HTTP cache treats any store error as a
//! cache miss and goes on without the cache). An invalid key is
//! [`io::ErrorKind::InvalidInput`]. "No entry" and "someone else is editing" are not errors:
//! they are `Ok(None)`.
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use wayfarer_core::cache::store::{CacheStore, MemoryStore};
//!
//! let store = MemoryStore::with_max_size(1024);
//! let mut editor = store.edit("https://example.com/")?.expect("no other edit in progress");
//! editor.set_metadata(&b"HTTP/1.1 200 OK"[..]);
//! editor.write_all(b"hello, ")?; // the body is written as it streams to the caller
//! editor.write_all(b"world")?;
//! editor.commit()?;
//!
//! let mut snapshot = store.get("https://example.com/")?.expect("committed");
//! assert_eq!(snapshot.metadata(), b"HTTP/1.1 200 OK");
//! let mut body = String::new();
//! snapshot.body().read_to_string(&mut body)?;
//! assert_eq!(body, "hello, world");
//! assert_eq!(store.size(), 15 + 12);
//! # Ok::<(), std::io::Error>(())
//! ```

mod lru;
mod memory;

use std::fmt;
use std::io::{self, Read, Write};

use bytes::Bytes;

pub use lru::{EditId, IndexedEntry, LruIndex};
pub use memory::MemoryStore;

/// The longest key a store accepts, in bytes: room for any URL a server would serve.
pub const MAX_KEY_LEN: usize = 8192;

/// Checks that `key` is a valid store key (see [Keys](self#keys)).
///
/// Every store calls this first, so that a key valid for one store is valid for all.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] for an empty key, a key over [`MAX_KEY_LEN`] bytes, or one
/// with ASCII whitespace or a control character.
pub fn check_key(key: &str) -> io::Result<()> {
    let problem = if key.is_empty() {
        "is empty"
    } else if key.len() > MAX_KEY_LEN {
        "is longer than MAX_KEY_LEN"
    } else if key
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        "contains whitespace or a control character"
    } else {
        return Ok(());
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid cache key: {problem}"),
    ))
}

/// Storage for cached entries: per key, a metadata blob and a body.
///
/// Implementations must be safe to call from many threads at once, and must make
/// [`Editor::commit`] atomic: a reader sees the old entry or the new one, never a mix, and a
/// crash or an abandoned edit never leaves a corrupt entry behind.
pub trait CacheStore: Send + Sync + fmt::Debug {
    /// The entry stored under `key`, if any, and marks it most recently used.
    ///
    /// The snapshot stays readable, with the contents it had when it was taken, even if the
    /// entry is replaced or removed meanwhile. An entry that turns out to be damaged (its files
    /// gone or changed behind the store's back) is removed and reported as `Ok(None)`.
    fn get(&self, key: &str) -> io::Result<Option<Snapshot>>;

    /// Starts writing a new entry for `key`, or `Ok(None)` when another edit of the same key is
    /// in progress.
    ///
    /// This never waits for the other edit: concurrent responses for the same URL simply do
    /// not all get cached. Until the returned editor is committed, [`get`](Self::get) keeps
    /// returning the previous entry, if there was one. An edit counts as a use of the key:
    /// when it ends, committed or aborted, the key's entry is the most recently used.
    fn edit(&self, key: &str) -> io::Result<Option<Editor>>;

    /// Replaces the metadata of the entry under `key` and keeps its body, as a 304
    /// revalidation does.
    ///
    /// `sequence` is the [`Snapshot::sequence`] the caller read: nothing is written, and the
    /// result is `Ok(false)`, if the entry has been replaced or removed since, or is being
    /// edited, so new headers are never paired with a body they do not describe. `Ok(true)`
    /// when the new metadata is stored.
    fn update_metadata(&self, key: &str, sequence: u64, metadata: &[u8]) -> io::Result<bool>;

    /// Removes the entry under `key`; `Ok(true)` if there was one.
    ///
    /// An edit of the key in progress is detached: its commit will store nothing (a request
    /// that invalidates a URL wins over a response still being cached for it).
    fn remove(&self, key: &str) -> io::Result<bool>;

    /// The keys of all stored entries, least recently used first.
    ///
    /// A copy: entries may be removed while going through it (with [`remove`](Self::remove)),
    /// and one removed by someone else meanwhile just has no snapshot any more.
    fn keys(&self) -> io::Result<Vec<String>>;

    /// Removes every entry, and detaches every edit in progress.
    fn evict_all(&self) -> io::Result<()>;

    /// Bytes stored: the metadata and body lengths of all committed entries.
    fn size(&self) -> u64;

    /// The size the store keeps itself under by evicting least recently used entries, if it
    /// has one.
    fn max_size(&self) -> Option<u64>;

    /// Pushes buffered bookkeeping to durable storage (for the disk store: the journal).
    fn flush(&self) -> io::Result<()>;

    /// Whether reading a [`Snapshot`]'s body or writing an [`Editor`]'s may block the thread
    /// on I/O (a disk). True unless the store says otherwise.
    ///
    /// Drivers of async runtimes move such body reads and writes to a blocking pool, so that
    /// a slow disk never stalls their executor; a store that only touches memory returns
    /// `false` and is called in place. (The other methods do small, bounded work, such as
    /// opening files and appending a journal line, and are always called in place.)
    fn may_block(&self) -> bool {
        true
    }
}

/// One entry as it was when it was read: its metadata, and a reader over its body.
///
/// Like `DiskLruCache.Snapshot`, it holds the body open, so it stays readable after the entry
/// is replaced or removed. Stores build snapshots with [`Snapshot::new`].
pub struct Snapshot {
    key: String,
    sequence: u64,
    metadata: Bytes,
    body_len: u64,
    body: Box<dyn Read + Send>,
}

impl Snapshot {
    /// A snapshot of the entry under `key`; for store implementations.
    ///
    /// `sequence` identifies this version of the entry (it changes on every commit and
    /// metadata update, and is never reused by the store that made it); `body` yields exactly
    /// `body_len` bytes.
    pub fn new(
        key: impl Into<String>,
        sequence: u64,
        metadata: impl Into<Bytes>,
        body_len: u64,
        body: Box<dyn Read + Send>,
    ) -> Snapshot {
        Snapshot {
            key: key.into(),
            sequence,
            metadata: metadata.into(),
            body_len,
            body,
        }
    }

    /// The key this entry is stored under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Which version of the entry this is; pass it to [`CacheStore::update_metadata`].
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The metadata blob.
    pub fn metadata(&self) -> &[u8] {
        &self.metadata
    }

    /// The length of the body in bytes.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// The body, to read from.
    pub fn body(&mut self) -> &mut (dyn Read + Send) {
        &mut *self.body
    }

    /// The body reader, when the metadata is no longer needed.
    pub fn into_body(self) -> Box<dyn Read + Send> {
        self.body
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("key", &self.key)
            .field("sequence", &self.sequence)
            .field("metadata_len", &self.metadata.len())
            .field("body_len", &self.body_len)
            .finish_non_exhaustive()
    }
}

/// A store's side of one edit: where an [`Editor`]'s bytes go.
///
/// [`Editor`] does the bookkeeping every store needs (metadata required, a failed write poisons
/// the commit, drop aborts), so an implementation only moves bytes.
pub trait EditorSink: Send {
    /// Appends body bytes, all of them or an error.
    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Publishes the entry with this metadata and the body written so far, atomically.
    ///
    /// Called at most once, and only if every `write_body` succeeded. A store that detached
    /// this edit ([`CacheStore::remove`], [`CacheStore::evict_all`]) stores nothing and
    /// returns `Ok(())`; so does one whose entry would not fit in its max size (it removes
    /// the key's old entry, which the new one supersedes).
    fn commit(self: Box<Self>, metadata: Bytes) -> io::Result<()>;

    /// Abandons the edit: the previous entry, if any, stays as it was.
    fn abort(self: Box<Self>);
}

/// Writes one entry: set its metadata, stream its body, then commit or abort.
///
/// Dropping an editor without committing aborts it. Body writes are not visible to anyone
/// until [`commit`](Editor::commit), which makes the whole entry visible at once. The editor
/// implements [`Write`] for the body.
pub struct Editor {
    key: String,
    metadata: Option<Bytes>,
    body_len: u64,
    failed: bool,
    sink: Option<Box<dyn EditorSink>>,
}

impl Editor {
    /// An editor for `key` whose bytes go to `sink`; for store implementations.
    pub fn new(key: impl Into<String>, sink: Box<dyn EditorSink>) -> Editor {
        Editor {
            key: key.into(),
            metadata: None,
            body_len: 0,
            failed: false,
            sink: Some(sink),
        }
    }

    /// The key being written.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Sets (or replaces) the metadata to commit.
    pub fn set_metadata(&mut self, metadata: impl Into<Bytes>) {
        self.metadata = Some(metadata.into());
    }

    /// Appends bytes to the body.
    ///
    /// # Errors
    ///
    /// The store's write error. After one, [`commit`](Editor::commit) fails and stores nothing.
    pub fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(poisoned());
        }
        let Some(sink) = self.sink.as_mut() else {
            return Err(poisoned());
        };
        match sink.write_body(bytes) {
            Ok(()) => {
                self.body_len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Body bytes written so far.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Makes the entry visible, replacing any previous one, atomically.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if no metadata was set; the error of an earlier body
    /// write; the store's error while publishing. In every error case nothing is stored and
    /// the previous entry, if any, is kept unless the store reports otherwise.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(sink) = self.sink.take() else {
            return Err(poisoned());
        };
        if self.failed {
            sink.abort();
            return Err(poisoned());
        }
        let Some(metadata) = self.metadata.take() else {
            sink.abort();
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cache entry committed without metadata",
            ));
        };
        sink.commit(metadata)
    }

    /// Abandons the edit; the previous entry, if any, stays as it was.
    pub fn abort(mut self) {
        if let Some(sink) = self.sink.take() {
            sink.abort();
        }
    }
}

fn poisoned() -> io::Error {
    io::Error::other("an earlier write to this cache entry failed")
}

impl Write for Editor {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_body(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.abort();
        }
    }
}

impl fmt::Debug for Editor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Editor")
            .field("key", &self.key)
            .field("metadata_len", &self.metadata.as_ref().map(Bytes::len))
            .field("body_len", &self.body_len)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_urls_without_whitespace_or_controls() {
        assert!(check_key("https://example.com/a?b=c%20d#e").is_ok());
        assert!(check_key("ключ").is_ok());
        assert!(check_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
        for bad in ["", "a b", "a\nb", "a\rb", "a\tb", "a\u{7f}b", "a\0b"] {
            let err = check_key(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let long = "k".repeat(MAX_KEY_LEN + 1);
        assert_eq!(
            check_key(&long).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    /// Records what reached the sink, to check the editor's own rules.
    #[derive(Default)]
    struct Log {
        body: Vec<u8>,
        committed: Option<Bytes>,
        aborted: bool,
        fail_writes: bool,
    }

    struct TestSink(std::sync::Arc<std::sync::Mutex<Log>>);

    impl EditorSink for TestSink {
        fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
            let mut log = self.0.lock().unwrap();
            if log.fail_writes {
                return Err(io::Error::other("disk full"));
            }
            log.body.extend_from_slice(bytes);
            Ok(())
        }
        fn commit(self: Box<Self>, metadata: Bytes) -> io::Result<()> {
            self.0.lock().unwrap().committed = Some(metadata);
            Ok(())
        }
        fn abort(self: Box<Self>) {
            self.0.lock().unwrap().aborted = true;
        }
    }

    fn editor(fail_writes: bool) -> (Editor, std::sync::Arc<std::sync::Mutex<Log>>) {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Log {
            fail_writes,
            ..Log::default()
        }));
        (Editor::new("k", Box::new(TestSink(log.clone()))), log)
    }

    #[test]
    fn editor_commits_metadata_and_counts_body_bytes() {
        let (mut e, log) = editor(false);
        e.write_all(b"abc").unwrap();
        e.write_body(b"de").unwrap();
        assert_eq!(e.body_len(), 5);
        e.set_metadata(&b"old"[..]);
        e.set_metadata(&b"meta"[..]);
        e.commit().unwrap();
        let log = log.lock().unwrap();
        assert_eq!(log.body, b"abcde");
        assert_eq!(log.committed.as_deref(), Some(&b"meta"[..]));
        assert!(!log.aborted);
    }

    #[test]
    fn editor_without_metadata_aborts_on_commit() {
        let (mut e, log) = editor(false);
        e.write_all(b"abc").unwrap();
        let err = e.commit().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let log = log.lock().unwrap();
        assert!(log.aborted && log.committed.is_none());
    }

    #[test]
    fn editor_after_a_failed_write_cannot_commit() {
        let (mut e, log) = editor(true);
        e.set_metadata(&b"m"[..]);
        assert!(e.write_all(b"abc").is_err());
        log.lock().unwrap().fail_writes = false;
        assert!(e.write_all(b"abc").is_err(), "the edit stays poisoned");
        assert!(e.commit().is_err());
        let log = log.lock().unwrap();
        assert!(log.aborted && log.committed.is_none() && log.body.is_empty());
    }

    #[test]
    fn dropping_an_editor_aborts_it() {
        let (mut e, log) = editor(false);
        e.set_metadata(&b"m"[..]);
        e.write_all(b"abc").unwrap();
        drop(e);
        assert!(log.lock().unwrap().aborted);
        let (e, log) = editor(false);
        e.abort();
        assert!(log.lock().unwrap().aborted);
    }
}
