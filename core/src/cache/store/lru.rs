//! The bookkeeping every store shares, as pure data: which keys have a committed entry, in
//! least-recently-used order, their total size, which keys have an edit in progress, and the
//! sequence numbers that tell versions of an entry apart.
//!
//! This is `DiskLruCache`'s `lruEntries` map with the files taken out: [`MemoryStore`] keeps
//! the bytes in it, the disk store keeps file lengths. LRU order lives in a `BTreeMap` from a
//! monotonically increasing tick to the key, so "most recently used" is O(log n) and the
//! eldest entry is the first one (std has no linked hash map; a crate for one small structure
//! would not pay for itself).
//!
//! [`MemoryStore`]: super::MemoryStore

use std::collections::{BTreeMap, HashMap};

/// Identifies one edit of a key, so that a store can tell whether the edit finishing is still
/// the key's current one (or was detached by a remove and maybe superseded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EditId(u64);

impl EditId {
    /// A number unique among the edits of the index that issued it (the disk store names an
    /// edit's temporary files with it).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A committed entry as the index holds it.
#[derive(Debug, Clone)]
pub struct IndexedEntry<V> {
    /// What the store keeps for the entry (the bytes, or file lengths).
    pub value: V,
    /// The entry's size in bytes, counted in [`LruIndex::size`].
    pub size: u64,
    /// This version's sequence number (see [`Snapshot::sequence`](super::Snapshot::sequence)).
    pub sequence: u64,
    tick: u64,
}

#[derive(Debug)]
struct Slot<V> {
    entry: Option<IndexedEntry<V>>,
    editor: Option<EditId>,
}

/// Keys with committed entries in LRU order, their total size, and one edit slot per key.
///
/// ```
/// use wayfarer_core::cache::store::LruIndex;
///
/// let mut index = LruIndex::new();
/// index.insert("a", "first", 10);
/// index.insert("b", "second", 20);
/// index.touch("a"); // "a" is now the most recently used
/// assert_eq!(index.size(), 30);
/// let evicted = index.trim_to(25);
/// assert_eq!(evicted[0].0, "b");
/// assert_eq!(index.keys().collect::<Vec<_>>(), ["a"]);
///
/// let edit = index.begin_edit("a").expect("no edit in progress");
/// assert!(index.begin_edit("a").is_none(), "one edit per key at a time");
/// assert!(index.end_edit("a", edit), "still the current edit");
/// ```
#[derive(Debug)]
pub struct LruIndex<V> {
    slots: HashMap<String, Slot<V>>,
    order: BTreeMap<u64, String>,
    size: u64,
    next_tick: u64,
    next_sequence: u64,
    next_edit: u64,
}

impl<V> Default for LruIndex<V> {
    fn default() -> Self {
        LruIndex::new()
    }
}

impl<V> LruIndex<V> {
    /// An empty index.
    pub fn new() -> Self {
        LruIndex {
            slots: HashMap::new(),
            order: BTreeMap::new(),
            size: 0,
            next_tick: 0,
            next_sequence: 1,
            next_edit: 1,
        }
    }

    /// Number of committed entries.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there is no committed entry.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Total size of the committed entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The committed entry under `key`, leaving the LRU order alone.
    pub fn get(&self, key: &str) -> Option<&IndexedEntry<V>> {
        self.slots.get(key)?.entry.as_ref()
    }

    /// The committed entry under `key`, made the most recently used.
    pub fn touch(&mut self, key: &str) -> Option<&IndexedEntry<V>> {
        let tick = self.next_tick;
        let slot = self.slots.get_mut(key)?;
        let entry = slot.entry.as_mut()?;
        self.next_tick += 1;
        if let Some(k) = self.order.remove(&entry.tick) {
            self.order.insert(tick, k);
        }
        entry.tick = tick;
        Some(entry)
    }

    /// Stores `value` under `key` as the most recently used entry, with a new sequence
    /// number, and returns that number and the entry it replaced. An edit in progress for the
    /// key is left alone.
    pub fn insert(&mut self, key: &str, value: V, size: u64) -> (u64, Option<V>) {
        let old = self.take_entry(key);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let tick = self.next_tick;
        self.next_tick += 1;
        self.order.insert(tick, key.to_owned());
        self.size += size;
        let entry = IndexedEntry {
            value,
            size,
            sequence,
            tick,
        };
        match self.slots.get_mut(key) {
            Some(slot) => slot.entry = Some(entry),
            None => {
                self.slots.insert(
                    key.to_owned(),
                    Slot {
                        entry: Some(entry),
                        editor: None,
                    },
                );
            }
        }
        (sequence, old)
    }

    /// Removes the committed entry under `key`, and detaches the key's edit in progress.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let old = self.take_entry(key);
        self.slots.remove(key);
        old
    }

    /// Removes every entry, least recently used first, and detaches every edit.
    pub fn clear(&mut self) -> Vec<(String, V)> {
        let mut removed = Vec::with_capacity(self.order.len());
        while let Some(pair) = self.pop_eldest() {
            removed.push(pair);
        }
        self.slots.clear();
        removed
    }

    /// Removes least recently used entries until the size is at most `max_size`, and returns
    /// them, eldest first.
    pub fn trim_to(&mut self, max_size: u64) -> Vec<(String, V)> {
        let mut evicted = Vec::new();
        while self.size > max_size {
            match self.pop_eldest() {
                Some(pair) => evicted.push(pair),
                None => break,
            }
        }
        evicted
    }

    /// The keys of the committed entries, least recently used first.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.order.values().map(String::as_str)
    }

    /// The committed entries, least recently used first.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &IndexedEntry<V>)> {
        self.order.values().filter_map(|key| {
            let entry = self.slots.get(key)?.entry.as_ref()?;
            Some((key.as_str(), entry))
        })
    }

    /// The keys with an edit in progress, in no particular order.
    pub fn editing_keys(&self) -> impl Iterator<Item = &str> {
        self.slots
            .iter()
            .filter(|(_, slot)| slot.editor.is_some())
            .map(|(key, _)| key.as_str())
    }

    /// Starts an edit of `key`, or `None` when one is already in progress.
    pub fn begin_edit(&mut self, key: &str) -> Option<EditId> {
        let id = EditId(self.next_edit);
        match self.slots.get_mut(key) {
            Some(slot) if slot.editor.is_some() => return None,
            Some(slot) => slot.editor = Some(id),
            None => {
                self.slots.insert(
                    key.to_owned(),
                    Slot {
                        entry: None,
                        editor: Some(id),
                    },
                );
            }
        }
        self.next_edit += 1;
        Some(id)
    }

    /// Whether some edit of `key` is in progress.
    pub fn edit_in_progress(&self, key: &str) -> bool {
        self.slots
            .get(key)
            .is_some_and(|slot| slot.editor.is_some())
    }

    /// Whether `edit` is still the edit in progress for `key` (not detached).
    pub fn is_editing(&self, key: &str, edit: EditId) -> bool {
        self.slots
            .get(key)
            .is_some_and(|slot| slot.editor == Some(edit))
    }

    /// Ends `edit` of `key`, freeing the key for the next edit. `false` if the edit had been
    /// detached, in which case nothing changes.
    pub fn end_edit(&mut self, key: &str, edit: EditId) -> bool {
        let Some(slot) = self.slots.get_mut(key) else {
            return false;
        };
        if slot.editor != Some(edit) {
            return false;
        }
        slot.editor = None;
        if slot.entry.is_none() {
            self.slots.remove(key);
        }
        true
    }

    fn pop_eldest(&mut self) -> Option<(String, V)> {
        let (_, key) = self.order.pop_first()?;
        let slot = self.slots.get_mut(&key)?;
        let entry = slot.entry.take()?;
        self.size -= entry.size;
        if slot.editor.is_none() {
            self.slots.remove(&key);
        }
        Some((key, entry.value))
    }

    /// Takes the committed entry out of its slot (keeping the slot and its editor).
    fn take_entry(&mut self, key: &str) -> Option<V> {
        let entry = self.slots.get_mut(key)?.entry.take()?;
        self.order.remove(&entry.tick);
        self.size -= entry.size;
        Some(entry.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_insert_and_trim_follow_lru_order() {
        let mut index = LruIndex::new();
        index.insert("a", 1, 10);
        index.insert("b", 2, 10);
        index.insert("c", 3, 10);
        assert!(index.touch("a").is_some());
        assert!(index.touch("missing").is_none());
        assert_eq!(index.keys().collect::<Vec<_>>(), ["b", "c", "a"]);
        let evicted = index.trim_to(15);
        assert_eq!(evicted, [("b".to_owned(), 2), ("c".to_owned(), 3)]);
        assert_eq!(index.size(), 10);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn replacing_an_entry_updates_size_and_sequence() {
        let mut index = LruIndex::new();
        let (s1, old) = index.insert("a", "one", 10);
        assert!(old.is_none());
        let (s2, old) = index.insert("a", "two", 4);
        assert_eq!(old, Some("one"));
        assert_ne!(s1, s2);
        assert_eq!(index.size(), 4);
        assert_eq!(index.get("a").map(|e| e.sequence), Some(s2));
        assert_eq!(index.remove("a"), Some("two"));
        assert_eq!(index.size(), 0);
        let (s3, _) = index.insert("a", "three", 1);
        assert!(s3 != s1 && s3 != s2, "sequences are never reused");
    }

    #[test]
    fn edits_are_exclusive_per_key_and_detached_by_remove_and_clear() {
        let mut index: LruIndex<()> = LruIndex::new();
        let first = index.begin_edit("a").unwrap();
        assert!(index.begin_edit("a").is_none());
        assert!(index.begin_edit("b").is_some());
        assert_eq!(index.editing_keys().count(), 2);
        assert!(index.remove("a").is_none());
        assert!(!index.is_editing("a", first));
        let second = index.begin_edit("a").unwrap();
        assert!(
            !index.end_edit("a", first),
            "the detached edit cannot end the new one"
        );
        assert!(index.is_editing("a", second));
        index.insert("a", (), 1);
        index.clear();
        assert!(!index.is_editing("a", second));
        assert_eq!(index.editing_keys().count(), 0);
        assert!(index.is_empty());
    }

    #[test]
    fn an_edit_survives_eviction_of_its_key_old_entry() {
        let mut index = LruIndex::new();
        index.insert("a", 1, 10);
        let edit = index.begin_edit("a").unwrap();
        assert_eq!(index.trim_to(0).len(), 1);
        assert!(index.is_editing("a", edit), "eviction is not a remove");
        assert!(index.end_edit("a", edit));
        assert!(index.get("a").is_none());
    }
}
