//! [`DiskLruCache`]: the store, its open-time recovery, and its editor.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use wayfarer_core::cache::store::{
    CacheStore, EditId, Editor, EditorSink, LruIndex, Snapshot, check_key,
};

use crate::journal::{self, Lengths, Record};
use crate::names::{self, Kind, Part};
use crate::open_directory::OpenDirectory;

/// How a [`DiskLruCache`] is opened; [`DiskLruCache::open`] uses the defaults.
#[derive(Debug, Clone)]
pub struct Options {
    app_version: u32,
    rebuild_threshold: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            app_version: 1,
            rebuild_threshold: 2000,
        }
    }
}

impl Options {
    /// The defaults: app version 1, journal rebuilt past 2000 redundant records.
    pub fn new() -> Options {
        Options::default()
    }

    /// The application's format version, written in the journal header. Opening a directory
    /// whose journal has another app version discards its entries: bump it when the meaning
    /// of the stored metadata changes.
    pub fn app_version(mut self, app_version: u32) -> Options {
        self.app_version = app_version;
        self
    }

    /// Rebuild the journal once it holds at least this many redundant records (records
    /// beyond one per live entry) and at least as many as there are live entries. Default
    /// 2000, as in `DiskLruCache`.
    pub fn rebuild_threshold(mut self, records: usize) -> Options {
        self.rebuild_threshold = records;
        self
    }

    /// Opens (creating if needed) the cache in `directory`, keeping it under `max_size`
    /// bytes.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or is not a directory, or is not writable; or it is
    /// already open, in this process or another
    /// ([`ResourceBusy`](io::ErrorKind::ResourceBusy)). See [Recovery](crate#recovery) for what
    /// opening repairs rather than reports.
    pub fn open(&self, directory: impl AsRef<Path>, max_size: u64) -> io::Result<DiskLruCache> {
        DiskLruCache::open_with(directory.as_ref(), max_size, self)
    }
}

/// A crash-safe, size-bounded LRU cache in a directory: the disk [`CacheStore`].
///
/// See the [crate docs](crate) for the directory format, the commit protocol and recovery.
/// Cloning is cheap and shares the cache.
#[derive(Clone)]
pub struct DiskLruCache {
    inner: Arc<Inner>,
}

struct Inner {
    directory: PathBuf,
    app_version: u32,
    rebuild_threshold: usize,
    max_size: AtomicU64,
    state: Mutex<State>,
    _open: OpenDirectory,
}

struct State {
    index: LruIndex<Lengths>,
    /// Appends go through a buffer; every record but READ is flushed to the OS at once.
    journal: BufWriter<File>,
    /// Records in the journal file, to tell when it is worth rebuilding.
    records: usize,
    /// A journal write failed: the file may end in a torn record, so nothing more is
    /// appended to it and edits are refused until a rebuild succeeds.
    journal_failed: bool,
}

impl DiskLruCache {
    /// Opens (creating if needed) the cache in `directory` with the default [`Options`],
    /// keeping it under `max_size` bytes.
    ///
    /// # Errors
    ///
    /// As [`Options::open`].
    pub fn open(directory: impl AsRef<Path>, max_size: u64) -> io::Result<DiskLruCache> {
        Options::default().open(directory, max_size)
    }

    fn open_with(directory: &Path, max_size: u64, options: &Options) -> io::Result<DiskLruCache> {
        let context = |what: &str, e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("cache directory {}: {what}: {e}", directory.display()),
            )
        };
        fs::create_dir_all(directory).map_err(|e| context("cannot create it", e))?;
        let meta = fs::metadata(directory).map_err(|e| context("cannot inspect it", e))?;
        if !meta.is_dir() {
            return Err(context(
                "not a directory",
                io::Error::from(io::ErrorKind::NotADirectory),
            ));
        }
        let directory = directory
            .canonicalize()
            .map_err(|e| context("cannot resolve it", e))?;
        let open = OpenDirectory::claim(&directory)?;

        let index =
            recover(&directory, options.app_version).map_err(|e| context("cannot read it", e))?;
        let (journal, records) = write_journal(&directory, options.app_version, &index)
            .map_err(|e| context("cannot write the journal", e))?;
        let inner = Inner {
            directory,
            app_version: options.app_version,
            rebuild_threshold: options.rebuild_threshold,
            max_size: AtomicU64::new(max_size),
            state: Mutex::new(State {
                index,
                journal,
                records,
                journal_failed: false,
            }),
            _open: open,
        };
        inner.lock().trim(&inner);
        Ok(DiskLruCache {
            inner: Arc::new(inner),
        })
    }

    /// The cache directory (canonicalized).
    pub fn directory(&self) -> &Path {
        &self.inner.directory
    }

    /// Changes the max size, evicting least recently used entries at once if the cache is
    /// over it.
    pub fn set_max_size(&self, max_size: u64) {
        self.inner.max_size.store(max_size, Ordering::Relaxed);
        let mut state = self.inner.lock();
        state.trim(&self.inner);
        state.maybe_rebuild(&self.inner);
    }
}

impl fmt::Debug for DiskLruCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskLruCache")
            .field("directory", &self.inner.directory)
            .field("size", &self.size())
            .field("max_size", &self.inner.max_size())
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every operation keeps the index consistent with the journal before anything that
        // could panic, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn max_size(&self) -> u64 {
        self.max_size.load(Ordering::Relaxed)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }

    fn clean_path(&self, stem: &str, part: Part) -> PathBuf {
        self.path(&names::clean(stem, part))
    }

    fn temporary_path(&self, stem: &str, part: Part, edit: EditId) -> PathBuf {
        self.path(&names::temporary(stem, part, edit.get()))
    }

    /// Deletes an entry's committed files. A file that cannot be deleted is a leftover the
    /// next open deletes; the entry is gone from the index either way.
    fn delete_entry_files(&self, key: &str) {
        let stem = names::stem(key);
        delete_quietly(&self.clean_path(&stem, Part::Metadata));
        delete_quietly(&self.clean_path(&stem, Part::Body));
    }
}

impl State {
    /// Appends a record; `flush` pushes it to the OS at once (all but READ, as in
    /// DiskLruCache: a lost READ only costs LRU order).
    fn append(&mut self, record: Record<'_>, flush: bool) -> io::Result<()> {
        if self.journal_failed {
            return Err(io::Error::other("the cache journal could not be written"));
        }
        let result = self
            .journal
            .write_all(record.line().as_bytes())
            .and_then(|()| if flush { self.journal.flush() } else { Ok(()) });
        match result {
            Ok(()) => {
                self.records += 1;
                Ok(())
            }
            Err(e) => {
                self.journal_failed = true;
                Err(e)
            }
        }
    }

    /// Drops `key`'s committed entry (if any) and its files, detaching its edit, and records
    /// the removal. Whether there was an entry.
    fn remove(&mut self, inner: &Inner, key: &str) -> bool {
        let editing = self.index.edit_in_progress(key);
        let removed = self.index.remove(key).is_some();
        if removed {
            inner.delete_entry_files(key);
        }
        if removed || editing {
            // A REMOVE that cannot be written is harmless (and marks the journal for a
            // rebuild): a reopen drops the entry anyway, as its files are gone or its DIRTY
            // record is left open.
            let _ = self.append(Record::Remove(key), true);
        }
        removed
    }

    /// Evicts least recently used entries until the cache fits its max size.
    fn trim(&mut self, inner: &Inner) {
        for (key, _) in self.index.trim_to(inner.max_size()) {
            inner.delete_entry_files(&key);
            // As in `remove`, a lost REMOVE is harmless.
            let _ = self.append(Record::Remove(&key), false);
        }
        let _ = self.flush_journal();
    }

    /// Pushes buffered records to the OS; a failure marks the journal for a rebuild (the
    /// file may now end in a torn record).
    fn flush_journal(&mut self) -> io::Result<()> {
        let result = self.journal.flush();
        if result.is_err() {
            self.journal_failed = true;
        }
        result
    }

    /// Rebuilds the journal when it has grown well past the live entries, or when a write to
    /// it failed.
    fn maybe_rebuild(&mut self, inner: &Inner) {
        let live = self.index.len();
        let redundant = self.records.saturating_sub(live);
        if self.journal_failed || (redundant >= inner.rebuild_threshold && redundant >= live) {
            let _ = self.rebuild(inner);
        }
    }

    fn rebuild(&mut self, inner: &Inner) -> io::Result<()> {
        // Whatever the old journal buffered is superseded by the rebuilt one.
        let _ = self.journal.flush();
        let (journal, records) = write_journal(&inner.directory, inner.app_version, &self.index)?;
        self.journal = journal;
        self.records = records;
        self.journal_failed = false;
        Ok(())
    }

    /// Takes `key`'s edit slot and records `DIRTY key`, or `None` if another edit holds it.
    ///
    /// The record is flushed before any file of the edit is written, so a crash during the
    /// edit leaves a DIRTY record that tells the next open to clean up. A journal that failed
    /// earlier is rebuilt first, or the edit is refused.
    fn begin_edit(&mut self, inner: &Inner, key: &str) -> io::Result<Option<EditId>> {
        if self.journal_failed {
            self.rebuild(inner)?;
        }
        let Some(edit) = self.index.begin_edit(key) else {
            return Ok(None);
        };
        if let Err(e) = self.append(Record::Dirty(key), true) {
            self.index.end_edit(key, edit);
            return Err(e);
        }
        Ok(Some(edit))
    }

    /// Ends an edit that publishes nothing: restores the key's entry as it was (a CLEAN
    /// record, and it becomes the most recently used) or records that there is none.
    fn end_edit_unchanged(&mut self, inner: &Inner, key: &str, edit: EditId) {
        if !self.index.end_edit(key, edit) {
            return; // detached: the remove already closed the DIRTY record
        }
        let result = match self.index.touch(key).map(|entry| entry.value) {
            Some(lens) => self.append(Record::Clean(key, lens), true),
            None => self.append(Record::Remove(key), true),
        };
        if result.is_err() {
            // The DIRTY record stays open, so a reopen drops the entry: drop it now too,
            // rather than keep an entry the journal cannot vouch for.
            if self.index.remove(key).is_some() {
                inner.delete_entry_files(key);
            }
        }
        self.maybe_rebuild(inner);
    }
}

/// Replays the journal in `directory` and keeps only what the files prove; deletes the files
/// of everything else and every leftover. Returns the index to start from.
fn recover(directory: &Path, app_version: u32) -> io::Result<LruIndex<Lengths>> {
    let bytes = match fs::read(directory.join(names::JOURNAL)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut replay = journal::replay(&bytes, app_version);
    drop(bytes);
    for key in &replay.dirty {
        replay.index.remove(key);
    }
    let unproven: Vec<String> = replay
        .index
        .entries()
        .filter(|(key, entry)| !files_match(directory, key, entry.value))
        .map(|(key, _)| key.to_owned())
        .collect();
    for key in &unproven {
        replay.index.remove(key);
    }
    let live: HashSet<String> = replay.index.keys().map(names::stem).collect();
    for dirent in fs::read_dir(directory)? {
        let dirent = dirent?;
        let name = dirent.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let delete = match names::classify(name) {
            Kind::Journal | Kind::Lock | Kind::Foreign => false,
            Kind::Clean(stem) => !live.contains(stem),
            Kind::Leftover => true,
        };
        if delete {
            delete_quietly(&dirent.path());
        }
    }
    Ok(replay.index)
}

/// Whether both files of an entry exist as regular files with the recorded lengths.
fn files_match(directory: &Path, key: &str, lens: Lengths) -> bool {
    let stem = names::stem(key);
    let len_of = |part| {
        fs::symlink_metadata(directory.join(names::clean(&stem, part)))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    };
    len_of(Part::Metadata) == Some(lens.metadata) && len_of(Part::Body) == Some(lens.body)
}

/// Writes a fresh journal for `index` (CLEAN records in LRU order, DIRTY for edits in
/// progress) to `journal.tmp`, syncs it and renames it over `journal`, so a crash leaves the
/// old journal or the new one, whole. Returns it opened for appending, and its record count.
fn write_journal(
    directory: &Path,
    app_version: u32,
    index: &LruIndex<Lengths>,
) -> io::Result<(BufWriter<File>, usize)> {
    let tmp = directory.join(names::JOURNAL_TMP);
    let path = directory.join(names::JOURNAL);
    let mut records = 0;
    let mut out = BufWriter::new(File::create(&tmp)?);
    out.write_all(journal::header(app_version).as_bytes())?;
    for (key, entry) in index.entries() {
        out.write_all(Record::Clean(key, entry.value).line().as_bytes())?;
        records += 1;
    }
    for key in index.editing_keys() {
        out.write_all(Record::Dirty(key).line().as_bytes())?;
        records += 1;
    }
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &path)?;
    sync_directory(directory);
    let journal = OpenOptions::new().append(true).open(&path)?;
    Ok((BufWriter::new(journal), records))
}

/// Makes a rename durable. Best effort: not every platform can open a directory to sync it.
fn sync_directory(directory: &Path) {
    if let Ok(dir) = File::open(directory) {
        let _ = dir.sync_all();
    }
}

fn delete_quietly(path: &Path) {
    let _ = fs::remove_file(path);
}

impl CacheStore for DiskLruCache {
    fn get(&self, key: &str) -> io::Result<Option<Snapshot>> {
        check_key(key)?;
        let inner = &self.inner;
        let stem = names::stem(key);
        let (sequence, lens, metadata_file, body_file) = {
            let mut state = inner.lock();
            let Some(entry) = state.index.get(key) else {
                return Ok(None);
            };
            let (sequence, lens) = (entry.sequence, entry.value);
            // Both files are opened under the lock, so no commit can swap one in between:
            // the snapshot pairs the metadata and body of one version.
            let opened = File::open(inner.clean_path(&stem, Part::Metadata))
                .and_then(|m| Ok((m, File::open(inner.clean_path(&stem, Part::Body))?)));
            let (metadata_file, body_file) = match opened {
                Ok(files) => files,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    state.remove(inner, key);
                    state.maybe_rebuild(inner);
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            state.index.touch(key);
            // A READ that cannot be written only costs LRU order after a reopen.
            let _ = state.append(Record::Read(key), false);
            state.maybe_rebuild(inner);
            (sequence, lens, metadata_file, body_file)
        };
        let mut metadata = Vec::new();
        metadata_file
            .take(lens.metadata.saturating_add(1))
            .read_to_end(&mut metadata)?;
        let body_len = body_file.metadata()?.len();
        if metadata.len() as u64 != lens.metadata || body_len != lens.body {
            // Changed behind the store's back: not an entry it can vouch for.
            let mut state = inner.lock();
            if state.index.get(key).is_some_and(|e| e.sequence == sequence) {
                state.remove(inner, key);
                state.maybe_rebuild(inner);
            }
            return Ok(None);
        }
        let body = Box::new(body_file.take(lens.body));
        Ok(Some(Snapshot::new(
            key, sequence, metadata, lens.body, body,
        )))
    }

    fn edit(&self, key: &str) -> io::Result<Option<Editor>> {
        check_key(key)?;
        let inner = &self.inner;
        let stem = names::stem(key);
        let Some(edit) = inner.lock().begin_edit(inner, key)? else {
            return Ok(None);
        };
        let body_path = inner.temporary_path(&stem, Part::Body, edit);
        let body = match File::create(&body_path) {
            Ok(file) => BufWriter::new(file),
            Err(e) => {
                inner.lock().end_edit_unchanged(inner, key, edit);
                delete_quietly(&body_path);
                return Err(e);
            }
        };
        let sink = DiskSink {
            inner: self.inner.clone(),
            key: key.to_owned(),
            stem,
            edit,
            body: Some(body),
            written: 0,
        };
        Ok(Some(Editor::new(key, Box::new(sink))))
    }

    fn update_metadata(&self, key: &str, sequence: u64, metadata: &[u8]) -> io::Result<bool> {
        check_key(key)?;
        let inner = &self.inner;
        let stem = names::stem(key);
        let edit = {
            let mut state = inner.lock();
            let body_len = match state.index.get(key) {
                Some(entry) if entry.sequence == sequence => entry.value.body,
                _ => return Ok(false),
            };
            // An entry being edited is left alone (the edit's commit supersedes it), even by
            // an update too big to keep: removing the entry would detach that edit.
            if state.index.edit_in_progress(key) {
                return Ok(false);
            }
            if body_len.saturating_add(metadata.len() as u64) > inner.max_size() {
                state.remove(inner, key);
                return Ok(false);
            }
            match state.begin_edit(inner, key)? {
                Some(edit) => edit,
                None => return Ok(false),
            }
        };
        let tmp = inner.temporary_path(&stem, Part::Metadata, edit);
        if let Err(e) = fs::write(&tmp, metadata) {
            inner.lock().end_edit_unchanged(inner, key, edit);
            delete_quietly(&tmp);
            return Err(e);
        }
        let mut state = inner.lock();
        let current = state
            .index
            .get(key)
            .filter(|entry| entry.sequence == sequence)
            .map(|entry| entry.value);
        let (true, Some(lens)) = (state.index.is_editing(key, edit), current) else {
            // Removed (detaching this update) or evicted meanwhile.
            state.end_edit_unchanged(inner, key, edit);
            drop(state);
            delete_quietly(&tmp);
            return Ok(false);
        };
        let lens = Lengths {
            metadata: metadata.len() as u64,
            body: lens.body,
        };
        state.index.end_edit(key, edit);
        state.publish(inner, key, lens, &[(tmp, Part::Metadata)])?;
        Ok(true)
    }

    fn remove(&self, key: &str) -> io::Result<bool> {
        check_key(key)?;
        let inner = &self.inner;
        let mut state = inner.lock();
        let removed = state.remove(inner, key);
        state.maybe_rebuild(inner);
        Ok(removed)
    }

    fn keys(&self) -> io::Result<Vec<String>> {
        Ok(self.inner.lock().index.keys().map(str::to_owned).collect())
    }

    fn evict_all(&self) -> io::Result<()> {
        let inner = &self.inner;
        let mut state = inner.lock();
        let editing: Vec<String> = state.index.editing_keys().map(str::to_owned).collect();
        let removed = state.index.clear();
        for (key, _) in &removed {
            inner.delete_entry_files(key);
        }
        let mut result = Ok(());
        let closed = removed.iter().map(|(key, _)| key).chain(&editing);
        for key in closed.collect::<HashSet<_>>() {
            if let Err(e) = state.append(Record::Remove(key), false) {
                result = Err(e);
                break;
            }
        }
        if let Err(e) = state.flush_journal() {
            result = result.and(Err(e));
        }
        state.maybe_rebuild(inner);
        result
    }

    fn size(&self) -> u64 {
        self.inner.lock().index.size()
    }

    fn max_size(&self) -> Option<u64> {
        Some(self.inner.max_size())
    }

    fn flush(&self) -> io::Result<()> {
        let inner = &self.inner;
        let mut state = inner.lock();
        if state.journal_failed {
            return state.rebuild(inner);
        }
        state.flush_journal()?;
        state.journal.get_ref().sync_data()
    }
}

impl State {
    /// Renames an edit's temporary files over the entry's, records the entry with `lens` as
    /// CLEAN, and evicts to fit. The edit must have been ended (and not detached) by the
    /// caller under the same lock.
    ///
    /// On failure the entry is dropped entirely: after a partial rename the files on disk
    /// may not belong together.
    fn publish(
        &mut self,
        inner: &Inner,
        key: &str,
        lens: Lengths,
        files: &[(PathBuf, Part)],
    ) -> io::Result<()> {
        let stem = names::stem(key);
        let size = lens.total().unwrap_or(u64::MAX);
        let renamed = files
            .iter()
            .try_for_each(|(tmp, part)| fs::rename(tmp, inner.clean_path(&stem, *part)));
        let result = renamed.and_then(|()| {
            self.index.insert(key, lens, size);
            self.append(Record::Clean(key, lens), true)
        });
        if let Err(e) = result {
            for (tmp, _) in files {
                delete_quietly(tmp);
            }
            self.remove(inner, key);
            inner.delete_entry_files(key);
            self.maybe_rebuild(inner);
            return Err(e);
        }
        self.trim(inner);
        self.maybe_rebuild(inner);
        Ok(())
    }
}

/// One edit's files: the body is streamed to `<stem>.1.<edit>.tmp`; the commit writes the
/// metadata to `<stem>.0.<edit>.tmp` and renames both into place under the lock.
struct DiskSink {
    inner: Arc<Inner>,
    key: String,
    stem: String,
    edit: EditId,
    /// `None` once the body outgrew the max size: the rest is discarded.
    body: Option<BufWriter<File>>,
    written: u64,
}

impl DiskSink {
    fn body_path(&self) -> PathBuf {
        self.inner.temporary_path(&self.stem, Part::Body, self.edit)
    }

    fn metadata_path(&self) -> PathBuf {
        self.inner
            .temporary_path(&self.stem, Part::Metadata, self.edit)
    }

    fn delete_temporaries(&mut self) {
        self.body = None;
        delete_quietly(&self.body_path());
        delete_quietly(&self.metadata_path());
    }

    /// Ends the edit with nothing published. `supersede`: the edit was committed but cannot
    /// be kept (too big), so the key's old entry goes too.
    fn finish_unpublished(mut self, supersede: bool) {
        self.delete_temporaries();
        let inner = &self.inner;
        let mut state = inner.lock();
        if supersede && state.index.end_edit(&self.key, self.edit) {
            state.remove(inner, &self.key);
            state.maybe_rebuild(inner);
        } else {
            state.end_edit_unchanged(inner, &self.key, self.edit);
        }
    }
}

impl EditorSink for DiskSink {
    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some(body) = self.body.as_mut() else {
            return Ok(());
        };
        self.written = self.written.saturating_add(bytes.len() as u64);
        if self.written > self.inner.max_size() {
            // Could never be kept: stop using disk for it.
            self.body = None;
            delete_quietly(&self.body_path());
            return Ok(());
        }
        body.write_all(bytes)
    }

    fn commit(mut self: Box<Self>, metadata: Bytes) -> io::Result<()> {
        let Some(body) = self.body.take() else {
            self.finish_unpublished(true);
            return Ok(());
        };
        let lens = Lengths {
            metadata: metadata.len() as u64,
            body: self.written,
        };
        if lens.total().is_none_or(|size| size > self.inner.max_size()) {
            drop(body);
            self.finish_unpublished(true);
            return Ok(());
        }
        // Dropping the body's file closes it before the rename.
        let written = body
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|_file| fs::write(self.metadata_path(), &metadata));
        if let Err(e) = written {
            self.finish_unpublished(false);
            return Err(e);
        }
        let inner = self.inner.clone();
        let mut state = inner.lock();
        if !state.index.end_edit(&self.key, self.edit) {
            drop(state);
            self.delete_temporaries();
            return Ok(()); // detached by remove() or evict_all()
        }
        // Until the CLEAN record is written, the DIRTY record makes a reopen drop the
        // entry, so a crash between the two renames cannot pair files of two versions.
        let files = [
            (self.body_path(), Part::Body),
            (self.metadata_path(), Part::Metadata),
        ];
        state.publish(&inner, &self.key, lens, &files)
    }

    fn abort(self: Box<Self>) {
        self.finish_unpublished(false);
    }
}
