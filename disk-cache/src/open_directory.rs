//! [`OpenDirectory`]: a cache's hold on its directory, against a second cache in this process
//! and against any other process.
//!
//! Two caches on one directory would append to one journal and rebuild it under each other,
//! losing records and entries, so the second open fails instead. Within this process a set of
//! open directories says so; across processes an exclusive advisory lock on
//! [`names::LOCK`] does, held as long as the cache is open and released by the OS if the
//! process dies.
//!
//! The lock is taken with `fs4`: std's `File::try_lock` is newer than this crate's minimum
//! Rust version, and `fs4` (the maintained successor of `fs2`) locks a plain [`File`] with
//! `flock` on Unix and `LockFileEx` on Windows, through `rustix` and `windows-sys`, which the
//! workspace already builds. Unlike `fd-lock`, whose lock is a guard borrowing the file, its
//! lock lives as long as the file handle, so the cache can simply own it.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use fs4::TryLockError;

use crate::names;

/// A cache's claim on its directory, released when the cache (and every editor it handed
/// out) is gone.
pub(crate) struct OpenDirectory {
    // Fields drop in declaration order: the lock file closes (releasing its lock) before the
    // in-process claim goes, so another open in this process never finds the claim free but
    // the lock still taken, which it would report as another process's.
    _lock: File,
    _claim: ProcessClaim,
}

impl OpenDirectory {
    /// Claims `directory` (canonicalized) for one cache, or fails with
    /// [`ResourceBusy`](io::ErrorKind::ResourceBusy) if a cache in this or another process has
    /// it open.
    pub(crate) fn claim(directory: &Path) -> io::Result<OpenDirectory> {
        let claim = ProcessClaim::take(directory)?;
        let lock = lock(directory)?;
        Ok(OpenDirectory {
            _lock: lock,
            _claim: claim,
        })
    }
}

/// Opens (creating if needed) the lock file and takes an exclusive lock on it without waiting.
/// The file is never deleted: removing it while another process waits to lock it would let
/// two processes each hold a lock on a different file.
fn lock(directory: &Path) -> io::Result<File> {
    let context = |what: &str, e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "cache directory {}: {what} {}: {e}",
                directory.display(),
                names::LOCK
            ),
        )
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(directory.join(names::LOCK))
        .map_err(|e| context("cannot open its lock file", e))?;
    // Named through the trait: from Rust 1.89 on, `File` has an inherent `try_lock` too.
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::ResourceBusy,
            format!(
                "cache directory {} is already open in another process",
                directory.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(context("cannot lock its lock file", e)),
    }
}

/// Directories open in this process. The lock file alone would catch a second cache here too
/// (its lock belongs to the open file, not the process), but this says which it is.
fn open_directories() -> &'static Mutex<HashSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// This process's entry in [`open_directories`].
struct ProcessClaim(PathBuf);

impl ProcessClaim {
    fn take(directory: &Path) -> io::Result<ProcessClaim> {
        let mut open = open_directories()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !open.insert(directory.to_path_buf()) {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "cache directory {} is already open in this process",
                    directory.display()
                ),
            ));
        }
        Ok(ProcessClaim(directory.to_path_buf()))
    }
}

impl Drop for ProcessClaim {
    fn drop(&mut self) {
        open_directories()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.0);
    }
}
