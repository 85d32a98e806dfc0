//! wayfarer's on-disk cache store: [`DiskLruCache`], after OkHttp's class of the same name,
//! and [`Cache`], the HTTP cache a client uses, on it (`Cache::new(directory, max_size)`).
//!
//! It implements the core's [`CacheStore`](wayfarer_core::cache::store::CacheStore): per key,
//! an opaque metadata blob and a body, with atomic commits, LRU eviction under a max size,
//! and a journal that lets everything survive a restart, a crash or a torn write. The core
//! never touches a file; a runtime driver calls this store (async drivers on a blocking
//! pool).
//!
//! ```
//! use std::io::{Read, Write};
//! use wayfarer_core::cache::store::CacheStore;
//! use wayfarer_disk_cache::DiskLruCache;
//!
//! let dir = tempfile::tempdir()?;
//! let cache = DiskLruCache::open(dir.path(), 10 * 1024 * 1024)?;
//!
//! let mut editor = cache.edit("https://example.com/")?.expect("no other edit in progress");
//! editor.set_metadata(&b"HTTP/1.1 200 OK\r\n"[..]);
//! editor.write_all(b"hello")?; // streamed to a temporary file as it arrives
//! editor.commit()?; // renamed into place, recorded in the journal
//! drop(cache);
//!
//! // A new process finds it again.
//! let cache = DiskLruCache::open(dir.path(), 10 * 1024 * 1024)?;
//! let mut snapshot = cache.get("https://example.com/")?.expect("survives reopening");
//! let mut body = String::new();
//! snapshot.body().read_to_string(&mut body)?;
//! assert_eq!((snapshot.metadata(), body.as_str()), (&b"HTTP/1.1 200 OK\r\n"[..], "hello"));
//! assert_eq!(cache.size(), 17 + 5);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # The directory
//!
//! | file | what |
//! |---|---|
//! | `journal` | the record of every change, below |
//! | `journal.tmp` | a journal being rebuilt; renamed over `journal` when complete |
//! | `journal.lock` | empty; locked while a cache has the directory open, never deleted |
//! | `<stem>.0` | an entry's metadata |
//! | `<stem>.1` | an entry's body |
//! | `<stem>.0.<n>.tmp`, `<stem>.1.<n>.tmp` | the files of edit number `n` in progress |
//!
//! `<stem>` is the first 128 bits of the SHA-256 of the key, as 32 lowercase hex digits, so
//! any key (a URL, up to [`MAX_KEY_LEN`](wayfarer_core::cache::store::MAX_KEY_LEN) bytes)
//! gives a short name that is safe on every file system; the key itself is kept in the
//! journal. Files with other names are never touched, so the directory may be shared with
//! other files, but not with another open cache (see [Threads](#threads)).
//!
//! # The journal
//!
//! A header, then one record per line (`\n`-terminated, fields separated by one space):
//!
//! ```text
//! journal  = header *record
//! header   = "wayfarer.DiskLruCache" LF "1" LF app-version LF "2" LF LF
//! record   = ( "CLEAN" SP key SP metadata-length SP body-length
//!            / "DIRTY" SP key / "REMOVE" SP key / "READ" SP key ) LF
//! key      = 1*8192( any UTF-8 except ASCII whitespace and control characters )
//! length   = 1*20DIGIT
//! ```
//!
//! - `CLEAN`: the entry was published (or republished, after a metadata update or an aborted
//!   edit) and its files have these lengths; it becomes the most recently used.
//! - `DIRTY`: an edit of the key began. It is written and flushed before any file of the
//!   edit is; a later `CLEAN` or `REMOVE` closes it.
//! - `REMOVE`: the entry was removed or evicted, or an edit ended with nothing to keep.
//! - `READ`: the entry was read; it becomes the most recently used. READ records are
//!   buffered (a lost one only costs LRU order); every other record reaches the OS before the
//!   operation returns, and [`flush`](wayfarer_core::cache::store::CacheStore::flush) also
//!   asks the OS to put the journal on disk.
//!
//! The app version (set with [`Options::app_version`]) is the caller's format version:
//! opening a journal with another one discards every entry. Once the journal holds at least
//! [`Options::rebuild_threshold`] records beyond one per live entry, and at least as many as
//! there are live entries, it is rebuilt: one `CLEAN` per entry in LRU order (and a `DIRTY` per
//! edit in progress) written to `journal.tmp`, synced, and renamed over `journal`, so a crash
//! leaves either journal whole. Opening always rebuilds it, which also proves the directory
//! writable.
//!
//! # Commits
//!
//! 1. `edit(key)` takes the key's one edit slot (or returns `None` at once if another edit
//!    holds it), appends `DIRTY key` and creates `<stem>.1.<n>.tmp`.
//! 2. Body bytes go to that file as they stream, outside any lock. A body that outgrows the
//!    max size is discarded (the entry could never be kept) and its file deleted.
//! 3. `commit` writes the metadata to `<stem>.0.<n>.tmp`, then under the lock renames the body
//!    and then the metadata over `<stem>.1` and `<stem>.0`, appends `CLEAN key m b`, and evicts
//!    least recently used entries until the total is at most the max size.
//! 4. `abort` (or dropping the editor) deletes the temporary files and appends `CLEAN` for the
//!    unchanged old entry, or `REMOVE` if there was none.
//!
//! Readers open both files of an entry under the lock, so they get one version whole. An
//! open file stays readable after it is renamed over or deleted, which is how a
//! [`Snapshot`](wayfarer_core::cache::store::Snapshot) outlives a replacement or removal (Unix
//! semantics, which std also asks of Windows by opening files with `FILE_SHARE_DELETE`;
//! this crate is tested on Linux). Entry files are not synced before the rename: after a
//! power loss, the length check of recovery catches a file the OS had not yet written out.
//! `remove` and `evict_all` detach edits in progress: their commit stores nothing.
//!
//! # Recovery
//!
//! Opening replays the journal and keeps exactly the entries it can prove:
//! - only newline-terminated, well-formed records after a matching header count; a malformed
//!   line (garbage, a bad length, an invalid key) is skipped, and so is a last line cut
//!   short; a missing, torn or foreign header proves nothing, so the cache starts empty;
//! - a key whose last `DIRTY` has no later `CLEAN` or `REMOVE` was being edited at the crash:
//!   it is dropped, with its old version (a rename may already have replaced one file);
//! - an entry whose last record is `CLEAN` is kept only if both its files exist as regular
//!   files with the recorded lengths (a lost or truncated file drops it);
//! - then every `<stem>.*` file not belonging to a kept entry, every temporary file and
//!   `journal.tmp` are deleted (never `journal.lock`), and the journal is rebuilt from what was
//!   kept.
//!
//! An entry whose files are damaged while the cache is open is dropped when it is next read.
//!
//! # An unusable directory
//!
//! [`DiskLruCache::open`] fails with a clear [`std::io::Error`] (naming the directory and the
//! cause) when the directory cannot be created, is a file, cannot be read or written, or is
//! already open, by another cache in this process or by another process (the error's kind is
//! then [`ResourceBusy`](std::io::ErrorKind::ResourceBusy), and it says which). Opening only
//! ever deletes files with the names above, so pointing it at the wrong directory loses
//! nothing else. A client treats that error as "no cache": it reports it and carries on making
//! every request over the network, as OkHttp does when its cache directory fails. Errors from a cache that opened (a full disk,
//! say) fail only the cache operation; callers treat them as a miss or skip storing the
//! response.
//!
//! # Threads
//!
//! [`DiskLruCache`] is `Send + Sync` and cheap to clone. One mutex guards the index and the
//! journal; it is held for bookkeeping, journal appends, renames, deletions and opening an
//! entry's files, never while a body is read or written.
//!
//! One directory holds one open cache at a time. A cache takes an exclusive advisory lock on
//! `journal.lock` when it opens, without waiting, and keeps it until the cache and every
//! editor it handed out are gone (or the process ends, when the OS releases it), so two
//! processes started on one directory at once (two commands run in parallel, say) cannot
//! append to one journal and rebuild it under each other: the second one's open fails, and
//! that client goes on without a cache. The lock is advisory: it keeps out other caches, not other
//! programs writing in the directory. It relies on the file system's locks (`flock` on Unix,
//! `LockFileEx` on Windows); one that cannot lock makes the directory unusable, with the
//! error it gives.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod http_cache;
mod journal;
mod names;
mod open_directory;

pub use cache::{DiskLruCache, Options};
pub use http_cache::Cache;
