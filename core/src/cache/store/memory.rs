//! [`MemoryStore`]: a [`CacheStore`] that keeps entries in memory.

use std::io::{self, Cursor};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::{CacheStore, EditId, Editor, EditorSink, LruIndex, Snapshot, check_key};

/// A [`CacheStore`] in memory, with an optional max size kept by LRU eviction.
///
/// For tests, and for embedders that want a cache without files. It behaves like the disk
/// store in everything but durability: snapshots survive replacement and removal (they share
/// the bytes), an edit is invisible until committed, and one edit per key runs at a time.
///
/// An edit buffers its body in memory until the commit. Once the body alone exceeds the max
/// size, the editor stops buffering (the entry could never be kept) and its commit just
/// removes the key's old entry.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    index: LruIndex<Stored>,
    max_size: Option<u64>,
}

#[derive(Debug, Clone)]
struct Stored {
    metadata: Bytes,
    body: Bytes,
}

impl MemoryStore {
    /// An unbounded store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store that evicts least recently used entries to stay at or under `max_size` bytes.
    pub fn with_max_size(max_size: u64) -> MemoryStore {
        let store = MemoryStore::new();
        store.shared.lock().max_size = Some(max_size);
        store
    }

    /// Changes the max size (`None`: unbounded), evicting at once if the store is over it.
    pub fn set_max_size(&self, max_size: Option<u64>) {
        let mut state = self.shared.lock();
        state.max_size = max_size;
        state.trim();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every operation leaves the state consistent before it could panic, so a poisoned
        // lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn trim(&mut self) {
        if let Some(max) = self.max_size {
            self.index.trim_to(max);
        }
    }

    fn fits(&self, size: u64) -> bool {
        self.max_size.is_none_or(|max| size <= max)
    }
}

impl CacheStore for MemoryStore {
    fn get(&self, key: &str) -> io::Result<Option<Snapshot>> {
        check_key(key)?;
        let mut state = self.shared.lock();
        let Some(entry) = state.index.touch(key) else {
            return Ok(None);
        };
        let body = entry.value.body.clone();
        Ok(Some(Snapshot::new(
            key,
            entry.sequence,
            entry.value.metadata.clone(),
            body.len() as u64,
            Box::new(Cursor::new(body)),
        )))
    }

    fn edit(&self, key: &str) -> io::Result<Option<Editor>> {
        check_key(key)?;
        let Some(edit) = self.shared.lock().index.begin_edit(key) else {
            return Ok(None);
        };
        let sink = MemorySink {
            shared: self.shared.clone(),
            key: key.to_owned(),
            edit,
            body: Vec::new(),
            oversized: false,
        };
        Ok(Some(Editor::new(key, Box::new(sink))))
    }

    fn update_metadata(&self, key: &str, sequence: u64, metadata: &[u8]) -> io::Result<bool> {
        check_key(key)?;
        let mut state = self.shared.lock();
        let body = match state.index.get(key) {
            Some(entry) if entry.sequence == sequence => entry.value.body.clone(),
            _ => return Ok(false),
        };
        if state.index.edit_in_progress(key) {
            return Ok(false);
        }
        let size = metadata.len() as u64 + body.len() as u64;
        if !state.fits(size) {
            state.index.remove(key);
            return Ok(false);
        }
        let metadata = Bytes::copy_from_slice(metadata);
        state.index.insert(key, Stored { metadata, body }, size);
        state.trim();
        Ok(true)
    }

    fn remove(&self, key: &str) -> io::Result<bool> {
        check_key(key)?;
        Ok(self.shared.lock().index.remove(key).is_some())
    }

    fn keys(&self) -> io::Result<Vec<String>> {
        Ok(self.shared.lock().index.keys().map(str::to_owned).collect())
    }

    fn evict_all(&self) -> io::Result<()> {
        self.shared.lock().index.clear();
        Ok(())
    }

    fn size(&self) -> u64 {
        self.shared.lock().index.size()
    }

    fn max_size(&self) -> Option<u64> {
        self.shared.lock().max_size
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    fn may_block(&self) -> bool {
        false
    }
}

/// One edit's body, buffered until the commit.
struct MemorySink {
    shared: Arc<Shared>,
    key: String,
    edit: EditId,
    body: Vec<u8>,
    oversized: bool,
}

impl EditorSink for MemorySink {
    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.oversized {
            return Ok(());
        }
        let len = self.body.len() as u64 + bytes.len() as u64;
        if self.shared.lock().fits(len) {
            self.body.extend_from_slice(bytes);
        } else {
            self.oversized = true;
            self.body = Vec::new();
        }
        Ok(())
    }

    fn commit(self: Box<Self>, metadata: Bytes) -> io::Result<()> {
        let mut state = self.shared.lock();
        if !state.index.end_edit(&self.key, self.edit) {
            return Ok(()); // detached by remove() or evict_all()
        }
        let size = metadata.len() as u64 + self.body.len() as u64;
        if self.oversized || !state.fits(size) {
            state.index.remove(&self.key);
            return Ok(());
        }
        let body = Bytes::from(self.body);
        state
            .index
            .insert(&self.key, Stored { metadata, body }, size);
        state.trim();
        Ok(())
    }

    fn abort(self: Box<Self>) {
        let mut state = self.shared.lock();
        if state.index.end_edit(&self.key, self.edit) {
            state.index.touch(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn put(store: &MemoryStore, key: &str, body: &[u8]) {
        let mut editor = store.edit(key).unwrap().unwrap();
        editor.set_metadata(&b"m"[..]);
        editor.write_all(body).unwrap();
        editor.commit().unwrap();
    }

    #[test]
    fn unbounded_until_a_max_size_is_set() {
        let store = MemoryStore::new();
        assert_eq!(store.max_size(), None);
        for key in ["a", "b", "c"] {
            put(&store, key, &[0; 99]);
        }
        assert_eq!(store.size(), 300);
        store.set_max_size(Some(250));
        assert_eq!(store.keys().unwrap(), ["b", "c"]);
        assert_eq!(store.max_size(), Some(250));
        store.set_max_size(None);
        put(&store, "d", &[0; 999]);
        assert_eq!(store.size(), 1200);
    }

    #[test]
    fn clones_share_the_entries() {
        let store = MemoryStore::with_max_size(100);
        let clone = store.clone();
        put(&store, "a", b"body");
        assert_eq!(clone.get("a").unwrap().unwrap().body_len(), 4);
        let _editing = store.edit("a").unwrap().unwrap();
        assert!(clone.edit("a").unwrap().is_none(), "one edit slot per key");
    }
}
