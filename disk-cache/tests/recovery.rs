//! What only the disk store has: durability, crash safety, recovery from a damaged journal or
//! damaged files, journal rebuilds, and the errors of an unusable directory.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use wayfarer_core::cache::store::CacheStore;
use wayfarer_disk_cache::{DiskLruCache, Options};

const MAX: u64 = 1 << 20;
const HEADER: &str = "wayfarer.DiskLruCache\n1\n1\n2\n\n";

/// The documented file name stem: the first 128 bits of SHA-256(key), lowercase hex.
fn stem(key: &str) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    hash.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn put(cache: &DiskLruCache, key: &str, metadata: &str, body: &str) {
    let mut editor = cache.edit(key).unwrap().expect("no edit in progress");
    editor.set_metadata(metadata.as_bytes().to_vec());
    editor.write_all(body.as_bytes()).unwrap();
    editor.commit().unwrap();
}

fn entry(cache: &DiskLruCache, key: &str) -> Option<(String, String)> {
    let mut snapshot = cache.get(key).unwrap()?;
    let mut body = String::new();
    snapshot.body().read_to_string(&mut body).unwrap();
    let metadata = String::from_utf8(snapshot.metadata().to_vec()).unwrap();
    Some((metadata, body))
}

fn pair(metadata: &str, body: &str) -> Option<(String, String)> {
    Some((metadata.to_owned(), body.to_owned()))
}

/// File names in a directory, sorted.
fn files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The files a cache holding exactly `keys` has: the journal, its lock file and two per entry.
fn expected_files(keys: &[&str]) -> BTreeSet<String> {
    let mut names = BTreeSet::from(["journal".to_owned(), "journal.lock".to_owned()]);
    for key in keys {
        names.insert(format!("{}.0", stem(key)));
        names.insert(format!("{}.1", stem(key)));
    }
    names
}

/// Copies the files of a directory as they are this instant: what a crash would leave.
fn crash_copy(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn journal_records(dir: &Path) -> Vec<String> {
    let journal = fs::read_to_string(dir.join("journal")).unwrap();
    let records = journal.strip_prefix(HEADER).expect("journal header");
    records.lines().map(str::to_owned).collect()
}

#[test]
fn entries_are_stored_as_files_named_by_key_hash() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    let key = "https://example.com/a%20b?q";
    put(&cache, key, "meta", "the body");
    let s = stem(key);
    assert_eq!(
        fs::read_to_string(dir.path().join(format!("{s}.0"))).unwrap(),
        "meta"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join(format!("{s}.1"))).unwrap(),
        "the body"
    );
    assert_eq!(
        journal_records(dir.path()),
        [format!("DIRTY {key}"), format!("CLEAN {key} 4 8")]
    );
    assert_eq!(files(dir.path()), expected_files(&[key]));
}

#[test]
fn reopening_preserves_entries_sizes_and_lru_order() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    put(&cache, "a", "ma", "aaaa");
    put(&cache, "b", "mb", "bb");
    put(&cache, "c", "mc", "c");
    put(&cache, "b", "mb2", "bbbbbb"); // replaced
    assert!(cache.get("a").unwrap().is_some()); // read: most recent
    let seq = cache.get("c").unwrap().unwrap().sequence();
    assert!(cache.update_metadata("c", seq, b"mc, updated").unwrap());
    put(&cache, "gone", "m", "x");
    assert!(cache.remove("gone").unwrap());
    let keys = cache.keys().unwrap();
    assert_eq!(keys, ["b", "a", "c"]);
    let size = cache.size();
    assert_eq!(size, 3 + 6 + 2 + 4 + 11 + 1);
    drop(cache);

    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    assert_eq!(cache.keys().unwrap(), keys);
    assert_eq!(cache.size(), size);
    assert_eq!(entry(&cache, "a"), pair("ma", "aaaa"));
    assert_eq!(entry(&cache, "b"), pair("mb2", "bbbbbb"));
    assert_eq!(entry(&cache, "c"), pair("mc, updated", "c"));
    assert!(entry(&cache, "gone").is_none());
    assert_eq!(files(dir.path()), expected_files(&["a", "b", "c"]));

    // A smaller max size on reopen evicts the least recently used (the reads above made
    // the order a, b, c).
    drop(cache);
    let cache = DiskLruCache::open(dir.path(), 21).unwrap();
    assert_eq!(cache.keys().unwrap(), ["b", "c"]);
    assert_eq!(cache.size(), 9 + 12);
    assert_eq!(files(dir.path()), expected_files(&["b", "c"]));
}

#[test]
fn an_abandoned_body_leaves_no_entry_and_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    put(&cache, "kept", "m", "kept body");
    put(&cache, "replaced", "m", "old body");
    let mut new = cache.edit("new").unwrap().unwrap();
    new.set_metadata(&b"m"[..]);
    new.write_all(&[b'n'; 5000]).unwrap();
    let mut replacing = cache.edit("replaced").unwrap().unwrap();
    replacing.set_metadata(&b"m2"[..]);
    replacing.write_all(&[b'r'; 5000]).unwrap();
    assert!(cache.get("new").unwrap().is_none());
    assert_eq!(entry(&cache, "replaced"), pair("m", "old body"));

    // The process dies here, halfway through both bodies.
    crash_copy(dir.path(), crashed.path());
    assert!(
        files(crashed.path()).iter().any(|f| f.ends_with(".tmp")),
        "the copy caught the edits in progress"
    );
    let recovered = DiskLruCache::open(crashed.path(), MAX).unwrap();
    assert_eq!(recovered.keys().unwrap(), ["kept"]);
    assert_eq!(entry(&recovered, "kept"), pair("m", "kept body"));
    assert!(recovered.get("new").unwrap().is_none());
    assert!(
        recovered.get("replaced").unwrap().is_none(),
        "an entry being edited at the crash is dropped"
    );
    assert_eq!(recovered.size(), 10);
    assert_eq!(files(crashed.path()), expected_files(&["kept"]));

    // In the process that lives on, abandoning the edits cleans up at once.
    drop(new);
    drop(replacing);
    assert_eq!(entry(&cache, "replaced"), pair("m", "old body"));
    assert_eq!(files(dir.path()), expected_files(&["kept", "replaced"]));
}

/// The journal the truncation test cuts, record by record, and after each prefix of
/// records the entries (in LRU order) that reopening must keep. Files on disk are those of
/// the end state, so an early CLEAN is only proof if its lengths still match.
const OPERATIONS_RECORDS: [&str; 17] = [
    "DIRTY a",
    "CLEAN a 2 4",
    "DIRTY b",
    "CLEAN b 2 6",
    "READ a",
    "REMOVE b",
    "DIRTY c",
    "CLEAN c 2 2",
    "DIRTY a",
    "CLEAN a 3 6",
    "DIRTY d",
    "CLEAN d 2 2",
    "DIRTY d",
    "CLEAN d 2 2",
    "READ c",
    "DIRTY e",
    "REMOVE e",
];

fn kept_after(records: usize) -> &'static [&'static str] {
    match records {
        0..=7 => &[],    // a's first lengths are stale, b was removed, c not yet clean
        8..=9 => &["c"], // DIRTY a leaves a open
        10..=11 => &["c", "a"],
        12 => &["c", "a", "d"], // d's first CLEAN matches its final files' lengths
        13 => &["c", "a"],      // DIRTY d
        14 => &["c", "a", "d"],
        _ => &["a", "d", "c"], // READ c
    }
}

fn run_operations(cache: &DiskLruCache) {
    put(cache, "a", "ma", "aaaa");
    put(cache, "b", "mb", "bbbbbb");
    assert!(cache.get("a").unwrap().is_some());
    assert!(cache.remove("b").unwrap());
    put(cache, "c", "mc", "cc");
    put(cache, "a", "ma2", "a2a2a2");
    put(cache, "d", "md", "dd");
    put(cache, "d", "nd", "ee");
    assert!(cache.get("c").unwrap().is_some());
    drop(cache.edit("e").unwrap());
}

fn final_contents(key: &str) -> Option<(String, String)> {
    match key {
        "a" => pair("ma2", "a2a2a2"),
        "c" => pair("mc", "cc"),
        "d" => pair("nd", "ee"),
        _ => None,
    }
}

#[test]
fn a_journal_cut_at_any_byte_keeps_exactly_the_provable_entries() {
    let template = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(template.path(), MAX).unwrap();
    run_operations(&cache);
    drop(cache);
    assert_eq!(journal_records(template.path()), OPERATIONS_RECORDS);
    let journal = fs::read(template.path().join("journal")).unwrap();

    for cut in 0..=journal.len() {
        let dir = tempfile::tempdir().unwrap();
        crash_copy(template.path(), dir.path());
        fs::write(dir.path().join("journal"), &journal[..cut]).unwrap();

        let prefix = &journal[..cut];
        let records = if prefix.starts_with(HEADER.as_bytes()) {
            prefix[HEADER.len()..]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        } else {
            0
        };
        let expected = kept_after(records);

        let cache =
            DiskLruCache::open(dir.path(), MAX).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(cache.keys().unwrap(), expected, "cut at {cut}");
        let mut size = 0;
        for key in expected {
            let (metadata, body) = entry(&cache, key).unwrap();
            assert_eq!(Some((metadata.clone(), body.clone())), final_contents(key));
            size += (metadata.len() + body.len()) as u64;
        }
        assert_eq!(cache.size(), size, "cut at {cut}");
        assert_eq!(files(dir.path()), expected_files(expected), "cut at {cut}");

        // Still a working cache, and the rebuilt journal holds what was kept.
        put(&cache, "after", "m", "x");
        let keys = cache.keys().unwrap();
        assert_eq!(keys.last().map(String::as_str), Some("after"));
        drop(cache);
        let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
        assert_eq!(cache.keys().unwrap(), keys, "cut at {cut}");
    }
}

/// Reopens a copy of the operations' directory whose journal is `journal`.
fn reopen_with_journal(journal: &str) -> (tempfile::TempDir, DiskLruCache) {
    let template = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(template.path(), MAX).unwrap();
    run_operations(&cache);
    drop(cache);
    let dir = tempfile::tempdir().unwrap();
    crash_copy(template.path(), dir.path());
    fs::write(dir.path().join("journal"), journal).unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    (dir, cache)
}

fn journal_with(records: &[&str]) -> String {
    let mut journal = HEADER.to_owned();
    for record in records {
        journal.push_str(record);
        journal.push('\n');
    }
    journal
}

#[test]
fn garbage_in_the_journal_is_skipped_line_by_line() {
    let all = journal_with(&OPERATIONS_RECORDS);
    let cases: Vec<(String, &[&str])> = vec![
        (format!("{all}garbage\n"), &["a", "d", "c"]),
        (
            format!("{all}\u{0}\u{1}binary without a newline"),
            &["a", "d", "c"],
        ),
        (format!("{all}CLEAN nofiles 1 1\n"), &["a", "d", "c"]),
        (format!("{all}CLEAN a 3 6 7\nREAD a\n"), &["d", "c", "a"]),
        (
            all.replacen("READ c\n", "READ c\n\u{7f}\u{ff}\n\n", 1),
            &["a", "d", "c"],
        ),
        // A damaged CLEAN proves nothing: c is dropped and its files deleted.
        (all.replace("CLEAN c 2 2", "CLEAN c 2 x"), &["a", "d"]),
        (all.replace("CLEAN c 2 2", "CLEAN c 2 3"), &["a", "d"]),
    ];
    for (journal, expected) in &cases {
        let (dir, cache) = reopen_with_journal(journal);
        assert_eq!(cache.keys().unwrap(), *expected, "{journal:?}");
        for key in *expected {
            assert_eq!(entry(&cache, key), final_contents(key), "{journal:?}");
        }
        assert_eq!(files(dir.path()), expected_files(expected), "{journal:?}");
    }
}

#[test]
fn a_foreign_header_or_app_version_starts_empty() {
    let all = journal_with(&OPERATIONS_RECORDS);
    for journal in [
        all.replace("wayfarer.DiskLruCache", "libcore.io.DiskLruCache"),
        all.replacen("\n1\n1\n2\n", "\n2\n1\n2\n", 1),
        all.replacen("\n1\n2\n\n", "\n1\n3\n\n", 1),
        all.replacen("\n2\n\n", "\n2\n", 1),
        String::new(),
    ] {
        let (dir, cache) = reopen_with_journal(&journal);
        assert!(cache.keys().unwrap().is_empty(), "{journal:?}");
        assert_eq!(cache.size(), 0);
        assert_eq!(files(dir.path()), expected_files(&[]));
    }

    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    put(&cache, "k", "m", "b");
    drop(cache);
    let cache = Options::new().app_version(2).open(dir.path(), MAX).unwrap();
    assert!(cache.get("k").unwrap().is_none());
    assert_eq!(files(dir.path()), expected_files(&[]));
}

#[test]
fn a_missing_or_damaged_entry_file_drops_the_entry() {
    // While closed: the next open cannot prove the entry.
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    put(&cache, "a", "m", "aaa");
    put(&cache, "b", "m", "bbb");
    put(&cache, "c", "m", "ccc");
    drop(cache);
    fs::remove_file(dir.path().join(format!("{}.1", stem("a")))).unwrap();
    fs::write(dir.path().join(format!("{}.0", stem("b"))), "longer").unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    assert_eq!(cache.keys().unwrap(), ["c"]);
    assert_eq!(cache.size(), 4);
    assert_eq!(files(dir.path()), expected_files(&["c"]));

    // While open: the next read finds out.
    put(&cache, "d", "m", "ddd");
    put(&cache, "e", "m", "eee");
    fs::remove_file(dir.path().join(format!("{}.1", stem("c")))).unwrap();
    fs::write(dir.path().join(format!("{}.1", stem("d"))), "d").unwrap();
    assert!(cache.get("c").unwrap().is_none());
    assert!(cache.get("d").unwrap().is_none());
    assert_eq!(cache.keys().unwrap(), ["e"]);
    assert_eq!(cache.size(), 4);
    assert_eq!(files(dir.path()), expected_files(&["e"]));
    drop(cache);
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    assert_eq!(cache.keys().unwrap(), ["e"]);
}

#[test]
fn the_journal_is_rebuilt_once_redundant_and_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Options::new()
        .rebuild_threshold(10)
        .open(dir.path(), MAX)
        .unwrap();
    put(&cache, "a", "ma", "aaaa");
    put(&cache, "b", "mb", "bbbb");
    put(&cache, "c", "mc", "cccc");
    let editing = cache.edit("d").unwrap().unwrap();
    for round in 0..50 {
        let key = ["a", "b", "c"][round % 3];
        assert!(cache.get(key).unwrap().is_some());
        put(&cache, "b", "mb", &"b".repeat(round % 7));
    }
    assert!(cache.get("a").unwrap().is_some());
    cache.flush().unwrap();
    let records = journal_records(dir.path());
    assert!(
        records.len() < 3 + 1 + 10 + 3,
        "rebuilt, not {} records",
        records.len()
    );
    let keys = cache.keys().unwrap();
    assert_eq!(keys, ["c", "b", "a"]);
    let size = cache.size();
    // An edit in progress during a rebuild still commits, and is recorded after it.
    let mut editing = editing;
    editing.set_metadata(&b"md"[..]);
    editing.write_all(b"dddd").unwrap();
    editing.commit().unwrap();
    drop(cache);

    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    assert_eq!(cache.keys().unwrap(), ["c", "b", "a", "d"]);
    assert_eq!(cache.size(), size + 6);
    assert_eq!(entry(&cache, "a"), pair("ma", "aaaa"));
    assert_eq!(entry(&cache, "b"), pair("mb", &"b".repeat(49 % 7)));
    assert_eq!(entry(&cache, "d"), pair("md", "dddd"));
    assert_eq!(files(dir.path()), expected_files(&["a", "b", "c", "d"]));
}

#[test]
fn a_body_over_the_max_size_stops_using_disk() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), 1000).unwrap();
    let mut editor = cache.edit("big").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    editor.write_all(&[0; 900]).unwrap();
    editor.flush().unwrap();
    editor.write_all(&[0; 200]).unwrap();
    assert_eq!(
        files(dir.path()),
        expected_files(&[]),
        "the temporary body is gone once it cannot fit"
    );
    editor.write_all(&[0; 5000]).unwrap();
    editor.commit().unwrap();
    assert!(cache.get("big").unwrap().is_none());
    assert_eq!(files(dir.path()), expected_files(&[]));

    cache.set_max_size(10);
    put(&cache, "a", "m", "1234");
    put(&cache, "b", "m", "1234");
    assert_eq!(cache.keys().unwrap(), ["a", "b"]);
    cache.set_max_size(5);
    assert_eq!(cache.keys().unwrap(), ["b"]);
    assert_eq!(CacheStore::max_size(&cache), Some(5));
}

#[test]
fn files_the_cache_does_not_name_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    fs::write(dir.path().join(format!("{}.2", stem("x"))), "also mine").unwrap();
    let leftover = format!("{}.1.7.tmp", stem("x"));
    fs::write(dir.path().join(&leftover), "partial").unwrap();
    fs::write(dir.path().join("journal.tmp"), "partial").unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    put(&cache, "k", "m", "b");
    cache.evict_all().unwrap();
    let mut expected = expected_files(&[]);
    expected.insert("notes.txt".to_owned());
    expected.insert(format!("{}.2", stem("x")));
    assert_eq!(files(dir.path()), expected);
}

#[test]
fn an_unusable_directory_is_an_error_at_open() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("a-file");
    fs::write(&file, "in the way").unwrap();

    let err = DiskLruCache::open(&file, MAX).unwrap_err();
    assert!(err.to_string().contains("a-file"), "{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "in the way");

    let below_a_file = file.join("cache");
    let err = DiskLruCache::open(&below_a_file, MAX).unwrap_err();
    assert!(err.to_string().contains("cannot create"), "{err}");

    let unwritable = unwritable_directory(root.path());
    let err = DiskLruCache::open(&unwritable, MAX).unwrap_err();
    assert!(err.to_string().contains("journal"), "{err}");
}

/// A directory this process cannot create files in: a read-only one, or where permissions
/// do not bind (as root) a directory of the proc file system.
fn unwritable_directory(root: &Path) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = root.join("read-only");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        if fs::write(dir.join("probe"), "").is_err() {
            return dir;
        }
    }
    let proc = std::path::PathBuf::from("/proc/self");
    assert!(
        fs::write(proc.join("probe"), "").is_err(),
        "no unwritable directory to test with"
    );
    proc
}

#[test]
fn a_directory_is_open_once_per_process() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    let err = DiskLruCache::open(dir.path().join("."), MAX).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
    let editor = cache.edit("k").unwrap().unwrap();
    drop(cache);
    assert!(
        DiskLruCache::open(dir.path(), MAX).is_err(),
        "an editor still holds the cache open"
    );
    drop(editor);
    assert!(DiskLruCache::open(dir.path(), MAX).is_ok());
}
