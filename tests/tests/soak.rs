//! The fault-injection soak (see `wayfarer_tests::soak`): by default the CI size, 20,000
//! requests over the three runtimes. The long run is the same test with more requests:
//!
//! ```text
//! WAYFARER_SOAK_REQUESTS=1000000 WAYFARER_SOAK_PROGRESS=1 \
//!     nice -n 10 cargo test -p wayfarer-tests --test soak -- --nocapture
//! ```
//!
//! `tests/SOAK.md` lists the other settings and records the long run's results. A failure
//! names the seed and the cases that went wrong; `WAYFARER_SOAK_SEED` replays the same cases.

// The counting allocator below is the only unsafe code: a `GlobalAlloc` cannot be written
// without it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use wayfarer_tests::soak::{self, Settings};

/// The system allocator, counting the bytes allocated and not yet freed: the soak compares the
/// live heap after the warm-up with the one at the end, which (unlike the resident set) does
/// not depend on what the allocator keeps cached.
struct Counting;

static LIVE: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, and only
// adds bookkeeping on an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as u64, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// glibc keeps freed memory in per-thread arenas; this returns what it can to the system.
fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[test]
fn every_call_ends_as_its_fault_says_and_nothing_leaks() {
    let _ = soak::HEAP_HOOKS.set(soak::HeapHooks {
        live: || LIVE.load(Ordering::Relaxed),
        release_free,
    });
    let mut settings = Settings::from_env().unwrap_or_else(|e| panic!("{e}"));
    // The origin runs in a process of its own: the descriptors and memory measured are the
    // client's.
    settings.origin_exe = Some(env!("CARGO_BIN_EXE_soak_origin").into());
    let report = soak::run(&settings).unwrap_or_else(|e| panic!("{e}"));
    let markdown = report.to_markdown();
    println!("{markdown}");
    if let Ok(path) = std::env::var("WAYFARER_SOAK_REPORT") {
        std::fs::write(&path, &markdown).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "the soak with seed {:#x} failed:\n- {}\n\n{markdown}",
        settings.seed,
        failures.join("\n- ")
    );
}
