//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) on the stable toolchain.
//!
//! Each fuzz target in `fuzz/fuzz_targets/` is a one-liner over an entry point in
//! `wayfarer_core::fuzzing`; here every corpus file goes through the same entry point, so a
//! crash the fuzzer once found (and that was added to the corpus) stays fixed without nightly or
//! cargo-fuzz. Every file is tried, and all that panic are listed by name.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wayfarer_core::fuzzing;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Runs `entry` on every file of `target`'s corpus; fails listing each file that panicked.
fn replay(target: &str, entry: fn(&[u8])) {
    let dir = corpus_dir(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("corpus directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the corpus {} has no files",
        dir.display()
    );

    let mut failures = Vec::new();
    for path in &files {
        let input =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| entry(&input))) {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            failures.push(format!("{target}/{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn response_decoder() {
    replay("response_decoder", fuzzing::response);
}

#[test]
fn response_decoder_bytewise() {
    replay("response_decoder_bytewise", fuzzing::response_bytewise);
}

#[test]
fn chunked_decoder() {
    replay("chunked_decoder", fuzzing::chunked);
}

#[test]
fn cache_control() {
    replay("cache_control", fuzzing::cache_control);
}

#[test]
fn cache_entry() {
    replay("cache_entry", fuzzing::cache_entry);
}

#[test]
fn set_cookie() {
    replay("set_cookie", fuzzing::set_cookie);
}

#[test]
fn cookie_date() {
    replay("cookie_date", fuzzing::cookie_date);
}

#[test]
fn netscape_cookie_file() {
    replay("netscape_cookie_file", fuzzing::netscape_file);
}
