//! A cache directory is open in one process at a time: another process's open fails, touching
//! nothing, until the first process's cache and editors are gone.
//!
//! The other process is this test binary again, running only the calling test, with
//! [`CHILD_DIR`] set: the test's first line hands over to [`child_side`], which opens the
//! cache, prints one line saying how that went, and holds whatever it got until its standard
//! input closes.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use wayfarer_core::cache::store::CacheStore;
use wayfarer_disk_cache::DiskLruCache;

const MAX: u64 = 1024 * 1024;

/// Set for a child process: the cache directory its test opens.
const CHILD_DIR: &str = "WAYFARER_DISK_CACHE_TEST_CHILD_DIR";
/// Begins what a child prints once it tried to open the cache, on one line: then `opened` or
/// `failed: <kind>: <message>`.
const REPORT: &str = "child open: ";

/// In a child process, opens the cache, begins an edit of `k` with part of a body, reports,
/// and holds both until standard input closes; returns whether this is a child (the test then
/// returns at once).
fn child_side() -> bool {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return false;
    };
    let held = DiskLruCache::open(&dir, MAX).and_then(|cache| {
        let mut editor = cache.edit("k")?.expect("no other edit");
        editor.write_all(b"half a body")?;
        editor.flush()?;
        Ok((cache, editor))
    });
    match &held {
        Ok(_) => println!("{REPORT}opened"),
        Err(e) => println!("{REPORT}failed: {:?}: {e}", e.kind()),
    }
    io::stdout().flush().unwrap();
    io::copy(&mut io::stdin(), &mut io::sink()).unwrap();
    drop(held);
    true
}

/// Another process running `test` (the calling test's name) on `dir`, and what its open gave.
struct Other {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    report: String,
}

impl Other {
    /// Starts it and waits for its report line.
    fn open(test: &str, dir: &Path) -> Other {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let report = loop {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).unwrap();
            assert_ne!(
                read, 0,
                "the child process ended without trying to open the cache"
            );
            // The harness may have begun the line with the test's name.
            if let Some((_, report)) = line.split_once(REPORT) {
                break report.trim_end().to_owned();
            }
        };
        Other {
            child,
            stdin,
            stdout,
            report,
        }
    }

    /// Closes its standard input, so it lets go of the cache and ends, and waits for that.
    fn close(mut self) {
        drop(self.stdin.take());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "the child process failed: {status}\n{rest}"
        );
    }
}

impl Drop for Other {
    fn drop(&mut self) {
        // After a failed assertion: the child ends once its input closes.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Every file in `dir` with its contents.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn assert_busy_elsewhere(err: &io::Error, dir: &Path) {
    assert_eq!(err.kind(), io::ErrorKind::ResourceBusy, "{err}");
    let message = err.to_string();
    let dir = dir.canonicalize().unwrap();
    assert!(message.contains(&*dir.to_string_lossy()), "{message}");
    assert!(message.contains("open in another process"), "{message}");
}

#[test]
fn a_directory_another_process_has_open_is_busy_until_it_closes_the_cache() {
    if child_side() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    let mut editor = cache.edit("kept").unwrap().unwrap();
    editor.set_metadata(&b"m"[..]);
    editor.write_all(b"body").unwrap();
    editor.commit().unwrap();
    drop(cache);

    let other = Other::open(
        "a_directory_another_process_has_open_is_busy_until_it_closes_the_cache",
        dir.path(),
    );
    assert_eq!(other.report, "opened");
    let before = contents(dir.path());
    assert!(
        before.keys().any(|name| name.ends_with(".tmp")),
        "the other process's edit is under way: {:?}",
        before.keys()
    );

    let err = DiskLruCache::open(dir.path(), MAX).unwrap_err();
    assert_busy_elsewhere(&err, dir.path());
    // No recovery ran: the other process's journal and edit in progress are as they were.
    assert_eq!(contents(dir.path()), before);

    other.close();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    assert!(cache.get("kept").unwrap().is_some());
}

#[test]
fn the_directory_is_free_for_another_process_once_the_cache_and_its_editors_are_gone() {
    const TEST: &str =
        "the_directory_is_free_for_another_process_once_the_cache_and_its_editors_are_gone";
    if child_side() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskLruCache::open(dir.path(), MAX).unwrap();
    let other = Other::open(TEST, dir.path());
    assert!(
        other.report.starts_with("failed: ResourceBusy: ")
            && other.report.contains("open in another process"),
        "{}",
        other.report
    );
    other.close();

    let editor = cache.edit("k").unwrap().unwrap();
    drop(cache);
    let other = Other::open(TEST, dir.path());
    assert!(
        other.report.starts_with("failed: ResourceBusy: "),
        "an editor still holds the cache open: {}",
        other.report
    );
    other.close();

    drop(editor);
    let other = Other::open(TEST, dir.path());
    assert_eq!(other.report, "opened");
    other.close();

    // And in this process, again and again.
    drop(DiskLruCache::open(dir.path(), MAX).unwrap());
    drop(DiskLruCache::open(dir.path(), MAX).unwrap());
}
