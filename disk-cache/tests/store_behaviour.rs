//! Behaviour every `CacheStore` shares, written once and run against the core's `MemoryStore`
//! and the disk store.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::thread;

use tempfile::TempDir;
use wayfarer_core::cache::store::{CacheStore, MemoryStore, Snapshot};
use wayfarer_disk_cache::DiskLruCache;

/// A store under test, with whatever must outlive it.
struct Subject {
    store: Arc<dyn CacheStore>,
    _dir: Option<TempDir>,
}

impl std::ops::Deref for Subject {
    type Target = dyn CacheStore;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

fn memory(max_size: u64) -> Subject {
    Subject {
        store: Arc::new(MemoryStore::with_max_size(max_size)),
        _dir: None,
    }
}

fn disk(max_size: u64) -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), max_size).unwrap();
    Subject {
        store: Arc::new(cache),
        _dir: Some(dir),
    }
}

type Make = fn(u64) -> Subject;

const BIG: u64 = 1 << 30;

fn put(store: &dyn CacheStore, key: &str, metadata: &str, body: &str) {
    let mut editor = store.edit(key).unwrap().expect("no edit in progress");
    editor.set_metadata(metadata.as_bytes().to_vec());
    editor.write_all(body.as_bytes()).unwrap();
    editor.commit().unwrap();
}

fn read_body(snapshot: &mut Snapshot) -> String {
    let mut body = String::new();
    snapshot.body().read_to_string(&mut body).unwrap();
    assert_eq!(body.len() as u64, snapshot.body_len());
    body
}

/// The entry under `key` as (metadata, body), if any.
fn entry(store: &dyn CacheStore, key: &str) -> Option<(String, String)> {
    let mut snapshot = store.get(key).unwrap()?;
    assert_eq!(snapshot.key(), key);
    let body = read_body(&mut snapshot);
    let metadata = String::from_utf8(snapshot.metadata().to_vec()).unwrap();
    Some((metadata, body))
}

fn pair(metadata: &str, body: &str) -> Option<(String, String)> {
    Some((metadata.to_owned(), body.to_owned()))
}

fn commit_makes_the_whole_entry_visible_at_once(make: Make) {
    let s = make(BIG);
    assert!(s.get("https://a.test/").unwrap().is_none());
    let mut editor = s.edit("https://a.test/").unwrap().unwrap();
    editor.set_metadata(&b"head"[..]);
    editor.write_all(b"first half,").unwrap();
    assert!(
        s.get("https://a.test/").unwrap().is_none(),
        "not before commit"
    );
    assert_eq!(s.size(), 0);
    editor.write_all(b" second half").unwrap();
    assert_eq!(editor.body_len(), 23);
    editor.commit().unwrap();
    assert_eq!(
        entry(&*s, "https://a.test/"),
        pair("head", "first half, second half")
    );
    assert_eq!(s.size(), 4 + 23);
    assert_eq!(s.keys().unwrap(), ["https://a.test/"]);
    assert_eq!(s.max_size(), Some(BIG));
    s.flush().unwrap();
}

fn abort_and_drop_keep_the_previous_entry(make: Make) {
    let s = make(BIG);
    put(&*s, "k", "m1", "v1");
    let mut editor = s.edit("k").unwrap().unwrap();
    editor.set_metadata(&b"m2"[..]);
    editor.write_all(b"v2, longer").unwrap();
    assert_eq!(
        entry(&*s, "k"),
        pair("m1", "v1"),
        "old entry readable meanwhile"
    );
    editor.abort();
    assert_eq!(entry(&*s, "k"), pair("m1", "v1"));
    let mut editor = s.edit("k").unwrap().unwrap();
    editor.set_metadata(&b"m3"[..]);
    editor.write_all(b"v3").unwrap();
    drop(editor);
    assert_eq!(entry(&*s, "k"), pair("m1", "v1"));
    assert_eq!(s.size(), 4);

    let mut editor = s.edit("new").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    editor.write_all(b"body").unwrap();
    drop(editor);
    assert!(s.get("new").unwrap().is_none());
    assert_eq!(s.keys().unwrap(), ["k"]);
    assert_eq!(s.size(), 4);
}

fn commit_without_metadata_fails_and_keeps_the_previous_entry(make: Make) {
    let s = make(BIG);
    put(&*s, "k", "m1", "v1");
    let mut editor = s.edit("k").unwrap().unwrap();
    editor.write_all(b"v2").unwrap();
    let err = editor.commit().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(entry(&*s, "k"), pair("m1", "v1"));
    assert!(s.edit("k").unwrap().is_some(), "the edit slot was released");
}

fn a_second_editor_gets_none_until_the_first_ends(make: Make) {
    let s = make(BIG);
    let first = s.edit("k").unwrap().unwrap();
    assert!(s.edit("k").unwrap().is_none());
    let other = s.edit("other").unwrap();
    assert!(other.is_some(), "other keys are independent");
    drop(other);
    let mut first = first;
    first.set_metadata(&b"m"[..]);
    first.write_all(b"one").unwrap();
    first.commit().unwrap();
    let second = s.edit("k").unwrap();
    assert!(second.is_some(), "a new edit works after the commit");
    assert!(s.edit("k").unwrap().is_none());
    drop(second);
    let mut third = s.edit("k").unwrap().unwrap();
    third.set_metadata(&b"m3"[..]);
    third.write_all(b"three").unwrap();
    third.commit().unwrap();
    assert_eq!(entry(&*s, "k"), pair("m3", "three"));
}

fn concurrent_edits_of_one_key_never_corrupt_it(make: Make) {
    let s = make(BIG);
    let committed = thread::scope(|scope| {
        let workers: Vec<_> = (0..4u8)
            .map(|worker| {
                let store = s.store.clone();
                scope.spawn(move || {
                    let mut committed = 0;
                    for round in 0..40u8 {
                        // Metadata says what the body must be: the pair is torn if they
                        // disagree.
                        let fill = b'a' + worker;
                        let len = 1 + usize::from(round) * 37 % 500;
                        if let Some(mut editor) = store.edit("shared").unwrap() {
                            editor.set_metadata(format!("{}:{len}", fill as char).into_bytes());
                            for chunk in vec![fill; len].chunks(64) {
                                editor.write_all(chunk).unwrap();
                            }
                            if round % 5 == 4 {
                                editor.abort();
                            } else {
                                editor.commit().unwrap();
                                committed += 1;
                            }
                        }
                        if let Some((metadata, body)) = entry(&*store, "shared") {
                            let (fill, len) = metadata.split_once(':').unwrap();
                            assert_eq!(body, fill.repeat(len.parse().unwrap()));
                        }
                    }
                    committed
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .sum::<usize>()
    });
    assert!(committed > 0);
    let (metadata, body) = entry(&*s, "shared").unwrap();
    assert_eq!(s.size(), (metadata.len() + body.len()) as u64);
    assert!(s.edit("shared").unwrap().is_some(), "no edit slot leaked");
}

fn a_snapshot_stays_readable_after_replace_and_remove(make: Make) {
    let s = make(BIG);
    put(&*s, "k", "m1", "version one");
    let mut one = s.get("k").unwrap().unwrap();
    put(&*s, "k", "m2", "version two");
    let two = s.get("k").unwrap().unwrap();
    assert_ne!(one.sequence(), two.sequence());
    assert!(s.remove("k").unwrap());
    assert!(s.get("k").unwrap().is_none());
    assert_eq!(read_body(&mut one), "version one");
    assert_eq!(one.metadata(), b"m1");
    assert_eq!(two.metadata(), b"m2");
    let mut body = String::new();
    two.into_body().read_to_string(&mut body).unwrap();
    assert_eq!(body, "version two");
}

fn update_metadata_keeps_the_body_of_the_version_read(make: Make) {
    let s = make(BIG);
    put(&*s, "k", "old head", "body");
    let seq = s.get("k").unwrap().unwrap().sequence();
    assert!(s.update_metadata("k", seq, b"new, longer head").unwrap());
    assert_eq!(entry(&*s, "k"), pair("new, longer head", "body"));
    assert_eq!(s.size(), 16 + 4);
    assert!(
        !s.update_metadata("k", seq, b"stale").unwrap(),
        "the update made a new version"
    );

    let seq = s.get("k").unwrap().unwrap().sequence();
    put(&*s, "k", "replaced", "other body");
    assert!(!s.update_metadata("k", seq, b"stale").unwrap());
    assert_eq!(entry(&*s, "k"), pair("replaced", "other body"));

    let seq = s.get("k").unwrap().unwrap().sequence();
    let editor = s.edit("k").unwrap().unwrap();
    assert!(!s.update_metadata("k", seq, b"during an edit").unwrap());
    drop(editor);
    let seq = s.get("k").unwrap().unwrap().sequence();
    assert!(s.remove("k").unwrap());
    assert!(!s.update_metadata("k", seq, b"after remove").unwrap());
    assert!(s.get("k").unwrap().is_none());
    assert!(!s.update_metadata("never", 1, b"m").unwrap());
    assert_eq!(s.size(), 0);
}

fn remove_detaches_an_edit_in_progress(make: Make) {
    let s = make(BIG);
    put(&*s, "k", "m0", "v0");
    let mut detached = s.edit("k").unwrap().unwrap();
    detached.set_metadata(&b"m1"[..]);
    detached.write_all(b"v1").unwrap();
    assert!(s.remove("k").unwrap());
    assert!(!s.remove("k").unwrap());
    let mut next = s.edit("k").unwrap().expect("the key is free again");
    next.set_metadata(&b"m2"[..]);
    next.write_all(b"v2").unwrap();
    next.commit().unwrap();
    detached.commit().unwrap(); // stores nothing
    assert_eq!(entry(&*s, "k"), pair("m2", "v2"));

    let mut new_key = s.edit("fresh").unwrap().unwrap();
    new_key.set_metadata(&b"m"[..]);
    assert!(!s.remove("fresh").unwrap(), "nothing committed yet");
    new_key.commit().unwrap();
    assert!(s.get("fresh").unwrap().is_none());
    assert_eq!(s.size(), 4);
}

fn evict_all_empties_the_store_and_detaches_edits(make: Make) {
    let s = make(BIG);
    put(&*s, "a", "m", "aaa");
    put(&*s, "b", "m", "bbb");
    let mut editor = s.edit("c").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    s.evict_all().unwrap();
    editor.commit().unwrap();
    assert!(s.keys().unwrap().is_empty());
    assert_eq!(s.size(), 0);
    for key in ["a", "b", "c"] {
        assert!(s.get(key).unwrap().is_none());
    }
    put(&*s, "a", "m", "again");
    assert_eq!(entry(&*s, "a"), pair("m", "again"));
}

fn eviction_drops_the_least_recently_used_first(make: Make) {
    // Entries of 30 bytes in a 100-byte store.
    let s = make(100);
    let body = "x".repeat(28);
    for key in ["a", "b", "c"] {
        put(&*s, key, "mm", &body);
    }
    assert_eq!(s.keys().unwrap(), ["a", "b", "c"]);
    assert!(s.get("a").unwrap().is_some()); // a read makes "a" the most recent
    put(&*s, "d", "mm", &body);
    assert_eq!(s.keys().unwrap(), ["c", "a", "d"]);
    assert!(s.get("b").unwrap().is_none());
    assert_eq!(s.size(), 90);

    // Replacing an entry makes it the most recent too; so does an aborted edit.
    put(&*s, "c", "mm", &body);
    drop(s.edit("a").unwrap());
    put(&*s, "e", "mm", &body);
    assert_eq!(s.keys().unwrap(), ["c", "a", "e"]);
    assert_eq!(s.size(), 90);

    // A bigger entry evicts as many as it needs.
    put(&*s, "big", "mm", &"y".repeat(68));
    assert_eq!(s.keys().unwrap(), ["e", "big"]);
    assert_eq!(s.size(), 100);
}

fn an_entry_over_the_max_size_is_not_kept(make: Make) {
    let s = make(50);
    put(&*s, "a", "m", "small");
    put(&*s, "b", "m", "small");
    let mut editor = s.edit("a").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    for _ in 0..10 {
        editor.write_all(&[b'z'; 10]).unwrap(); // keeps accepting bytes
    }
    assert_eq!(editor.body_len(), 100);
    editor.commit().unwrap();
    assert!(
        s.get("a").unwrap().is_none(),
        "superseded, and too big to keep"
    );
    assert_eq!(entry(&*s, "b"), pair("m", "small"), "nothing else evicted");
    assert_eq!(s.size(), 6);

    // Metadata counts too.
    let mut editor = s.edit("c").unwrap().unwrap();
    editor.set_metadata(vec![b'm'; 45]);
    editor.write_all(b"123456").unwrap();
    editor.commit().unwrap();
    assert!(s.get("c").unwrap().is_none());
    let seq = s.get("b").unwrap().unwrap().sequence();
    assert!(!s.update_metadata("b", seq, &[b'm'; 46]).unwrap());
    assert!(s.get("b").unwrap().is_none());
    assert_eq!(s.size(), 0);
}

fn an_update_too_big_to_keep_leaves_an_edit_in_progress_alone(make: Make) {
    let s = make(50);
    put(&*s, "k", "m", "old");
    let seq = s.get("k").unwrap().unwrap().sequence();
    let mut editor = s.edit("k").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    editor.write_all(b"new").unwrap();
    // The key is being edited: the update does nothing, whatever its size.
    assert!(!s.update_metadata("k", seq, &[b'm'; 48]).unwrap());
    assert_eq!(entry(&*s, "k"), pair("m", "old"));
    editor.commit().unwrap();
    assert_eq!(
        entry(&*s, "k"),
        pair("m", "new"),
        "the edit was not detached"
    );
}

fn size_follows_commits_updates_and_removes(make: Make) {
    let s = make(BIG);
    put(&*s, "a", "12", "3456");
    put(&*s, "b", "1", "2");
    assert_eq!(s.size(), 8);
    put(&*s, "a", "1", "2"); // smaller
    assert_eq!(s.size(), 4);
    put(&*s, "b", "123", "4567890"); // bigger
    assert_eq!(s.size(), 12);
    let seq = s.get("b").unwrap().unwrap().sequence();
    assert!(s.update_metadata("b", seq, b"1").unwrap());
    assert_eq!(s.size(), 10);
    drop(s.edit("a").unwrap());
    assert_eq!(s.size(), 10);
    assert!(s.remove("a").unwrap());
    assert_eq!(s.size(), 8);
    s.evict_all().unwrap();
    assert_eq!(s.size(), 0);
}

fn keys_can_be_walked_while_removing(make: Make) {
    let s = make(BIG);
    for key in ["k1", "k2", "k3", "k4"] {
        put(&*s, key, "m", key);
    }
    assert!(s.get("k1").unwrap().is_some());
    let keys = s.keys().unwrap();
    assert_eq!(keys, ["k2", "k3", "k4", "k1"]);
    for key in &keys {
        let (_, body) = entry(&*s, key).unwrap();
        if body.ends_with('2') || body.ends_with('4') {
            assert!(s.remove(key).unwrap());
        }
    }
    assert_eq!(s.keys().unwrap(), ["k3", "k1"]);
}

fn invalid_keys_are_rejected(make: Make) {
    let s = make(BIG);
    for key in ["", "a b", "line\nbreak", "tab\tkey"] {
        let kinds = [
            s.get(key).map(|_| ()),
            s.edit(key).map(|_| ()),
            s.update_metadata(key, 1, b"m").map(|_| ()),
            s.remove(key).map(|_| ()),
        ];
        for result in kinds {
            assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        }
    }
    let url = "https://example.com/päth?q=%20&x=[1]#frag";
    put(&*s, url, "m", "b");
    assert_eq!(s.keys().unwrap(), [url]);
}

macro_rules! behaviours {
    ($($name:ident),* $(,)?) => {
        mod memory_store {
            $(#[test] fn $name() { super::$name(super::memory) })*
        }
        mod disk_lru_cache {
            $(#[test] fn $name() { super::$name(super::disk) })*
        }
    };
}

behaviours!(
    commit_makes_the_whole_entry_visible_at_once,
    abort_and_drop_keep_the_previous_entry,
    commit_without_metadata_fails_and_keeps_the_previous_entry,
    a_second_editor_gets_none_until_the_first_ends,
    concurrent_edits_of_one_key_never_corrupt_it,
    a_snapshot_stays_readable_after_replace_and_remove,
    update_metadata_keeps_the_body_of_the_version_read,
    remove_detaches_an_edit_in_progress,
    evict_all_empties_the_store_and_detaches_edits,
    eviction_drops_the_least_recently_used_first,
    an_entry_over_the_max_size_is_not_kept,
    an_update_too_big_to_keep_leaves_an_edit_in_progress_alone,
    size_follows_commits_updates_and_removes,
    keys_can_be_walked_while_removing,
    invalid_keys_are_rejected,
);
