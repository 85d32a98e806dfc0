//! The driver's side of the cache: it performs a call's store operations
//! ([`CacheOp`](crate::CacheOp)) on the client's store, reads the body of a stored response
//! for the call, and writes the tee (the body of a response being stored) as the caller reads.
//!
//! Per call it keeps the body reader of the entry the call looked up and the editor of the
//! entry the call is writing. Operations on metadata (look up, open, commit, update, remove)
//! are small and done in place. Body reads and writes of a store that
//! [`may_block`](crate::cache::store::CacheStore::may_block) are [`StoreJob`]s the transport
//! runs ([`Transport::run_store_job`](super::Transport::run_store_job)): in place for a
//! blocking runtime, on a blocking pool for an async one. At most one job runs per call; it
//! owns the reader or editor while it runs, and gives it back when it is done.

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::cache::store::{CacheStore, Editor, Snapshot};
use crate::{CacheOp, Call, Now};

use super::Transport;

/// Largest piece of a stored body a job reads at once.
const READ_PIECE: usize = 64 * 1024;

/// A future of a [`StoreJob`] running elsewhere: the finished job, or `None` if it was lost
/// (it panicked).
pub type StoreFuture = Pin<Box<dyn Future<Output = Option<StoreJob>> + Send>>;

/// One read or write of a stored body, with what it needs (the entry's reader or editor, a
/// buffer), so that it can run on another thread. See
/// [`Transport::run_store_job`](super::Transport::run_store_job).
pub struct StoreJob {
    work: Work,
    buf: Vec<u8>,
    result: Option<io::Result<usize>>,
}

enum Work {
    /// Read up to `buf.len()` bytes of the body.
    Read(Box<dyn Read + Send>),
    /// Write all of `buf` to the entry.
    Write(Editor),
}

impl StoreJob {
    /// Performs the read or write (it may block on the store's disk).
    pub fn run(&mut self) {
        let result = match &mut self.work {
            Work::Read(reader) => loop {
                match reader.read(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            },
            Work::Write(editor) => editor.write_body(&self.buf).map(|()| self.buf.len()),
        };
        self.result = Some(result);
    }
}

impl fmt::Debug for StoreJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.work {
            Work::Read(_) => "read",
            Work::Write(_) => "write",
        };
        f.debug_struct("StoreJob")
            .field("kind", &kind)
            .field("len", &self.buf.len())
            .field("done", &self.result.is_some())
            .finish()
    }
}

/// What [`Transport::run_store_job`](super::Transport::run_store_job) made of a job.
pub enum StoreTask {
    /// It ran to completion, here.
    Done(StoreJob),
    /// It runs elsewhere; the future gives it back once done.
    Running(StoreFuture),
}

impl fmt::Debug for StoreTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreTask::Done(job) => f.debug_tuple("Done").field(job).finish(),
            StoreTask::Running(_) => f.write_str("Running"),
        }
    }
}

/// A call's use of the client's store, kept by its driver.
pub(super) struct StoreIo {
    store: Arc<dyn CacheStore>,
    /// Body reads and writes are done in place (the store never blocks).
    in_place: bool,
    /// The body of the entry the call looked up last.
    reader: Option<Box<dyn Read + Send>>,
    /// The entry the call is writing.
    editor: Option<Editor>,
    /// The job running elsewhere (it holds the reader or the editor meanwhile).
    running: Option<StoreFuture>,
    /// Bytes a read job got that the call has not taken yet: `buf[start..end]`.
    read: Vec<u8>,
    start: usize,
    end: usize,
    /// How the last read job ended, if it ended the body (EOF, `Ok(0)`) or failed.
    read_end: Option<io::Result<usize>>,
    /// A buffer for the next job.
    spare: Vec<u8>,
}

impl StoreIo {
    pub(super) fn new(store: Arc<dyn CacheStore>) -> StoreIo {
        StoreIo {
            in_place: !store.may_block(),
            store,
            reader: None,
            editor: None,
            running: None,
            read: Vec::new(),
            start: 0,
            end: 0,
            read_end: None,
            spare: Vec::new(),
        }
    }

    /// True while the call writes an entry (the editor is here, or with the running job).
    pub(super) fn is_writing(&self) -> bool {
        self.editor.is_some() || self.running.is_some()
    }

    /// Polls the running job, if any; ready once none runs.
    pub(super) fn poll_running(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(running) = self.running.as_mut() else {
            return Poll::Ready(());
        };
        let done = std::task::ready!(running.as_mut().poll(cx));
        self.running = None;
        if let Some(job) = done {
            self.finish(job);
        }
        Poll::Ready(())
    }

    /// Gives up on the running job (the call's deadline passed). The job still finishes
    /// wherever it runs; its reader or editor is then dropped, which abandons the entry.
    pub(super) fn abandon(&mut self) {
        self.running = None;
    }

    /// Takes back what a finished job held, and keeps what it read.
    fn finish(&mut self, job: StoreJob) {
        let StoreJob { work, buf, result } = job;
        match work {
            Work::Read(reader) => {
                self.reader = Some(reader);
                self.read = buf;
                self.start = 0;
                self.end = 0;
                match result {
                    Some(Ok(n)) if n > 0 => self.end = n.min(self.read.len()),
                    Some(other) => self.read_end = Some(other),
                    None => {}
                }
            }
            Work::Write(editor) => {
                // A failed write poisons the editor: its commit then stores nothing.
                self.editor = Some(editor);
                self.spare = buf;
            }
        }
    }

    /// Starts `job` through the transport; finishes it at once if the transport ran it.
    fn start<T: Transport>(&mut self, transport: &mut T, job: StoreJob) {
        match transport.run_store_job(job) {
            StoreTask::Done(job) => self.finish(job),
            StoreTask::Running(future) => self.running = Some(future),
        }
    }

    /// Reads stored body bytes into `dst`: `Pending` means a job was started (poll it with
    /// [`poll_running`](Self::poll_running), then read again).
    pub(super) fn read_body<T: Transport>(
        &mut self,
        transport: &mut T,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.start < self.end {
            let n = (self.end - self.start).min(dst.len());
            dst[..n].copy_from_slice(&self.read[self.start..self.start + n]);
            self.start += n;
            return Poll::Ready(Ok(n));
        }
        if let Some(end) = self.read_end.take() {
            return Poll::Ready(end);
        }
        let Some(mut reader) = self.reader.take() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the stored body is not open",
            )));
        };
        if self.in_place {
            let result = loop {
                match reader.read(dst) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            self.reader = Some(reader);
            return Poll::Ready(result);
        }
        let mut buf = std::mem::take(&mut self.read);
        buf.resize(dst.len().min(READ_PIECE), 0);
        let job = StoreJob {
            work: Work::Read(reader),
            buf,
            result: None,
        };
        self.start(transport, job);
        if self.running.is_some() {
            return Poll::Pending;
        }
        self.read_body(transport, dst)
    }

    /// Writes tee bytes to the entry being written, if any: in place, or as a job that runs
    /// while the caller goes on (the next read waits for it).
    pub(super) fn write_body<T: Transport>(&mut self, transport: &mut T, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let Some(mut editor) = self.editor.take() else {
            return;
        };
        if self.in_place {
            // A failed write poisons the editor: its commit then stores nothing.
            let _ = editor.write_body(bytes);
            self.editor = Some(editor);
            return;
        }
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        buf.extend_from_slice(bytes);
        let job = StoreJob {
            work: Work::Write(editor),
            buf,
            result: None,
        };
        self.start(transport, job);
    }

    /// Performs a store operation (after any running job is done). Returns the answer the
    /// call expects, if any.
    pub(super) fn perform<T: Transport>(&mut self, transport: &mut T, op: CacheOp<'_>) -> Answer {
        match op {
            CacheOp::Get { key } => {
                self.reader = None;
                self.start = 0;
                self.end = 0;
                self.read_end = None;
                Answer::Get(self.store.get(key))
            }
            CacheOp::Edit { key, metadata } => {
                // Any earlier entry was committed or abandoned before a new one is opened.
                self.editor = None;
                Answer::Edit(self.store.edit(key).map(|editor| {
                    editor
                        .map(|mut editor| {
                            editor.set_metadata(metadata.clone());
                            self.editor = Some(editor);
                        })
                        .is_some()
                }))
            }
            CacheOp::Write { bytes } => {
                self.write_body(transport, bytes);
                Answer::None
            }
            CacheOp::Commit => {
                if let Some(editor) = self.editor.take() {
                    // A failed commit stores nothing; the call goes on.
                    let _ = editor.commit();
                }
                Answer::None
            }
            CacheOp::Abort => {
                if let Some(editor) = self.editor.take() {
                    editor.abort();
                }
                Answer::None
            }
            CacheOp::Update {
                key,
                sequence,
                metadata,
            } => {
                let _ = self.store.update_metadata(key, sequence, metadata);
                Answer::None
            }
            CacheOp::Remove { key } => {
                let _ = self.store.remove(key);
                Answer::None
            }
        }
    }

    /// Gives the call the entry it looked up, keeping its body to read.
    pub(super) fn answer_get(
        &mut self,
        call: &mut Call,
        now: Now,
        got: io::Result<Option<Snapshot>>,
    ) {
        match got {
            Ok(Some(snapshot)) => {
                call.handle_cache_get(now, Ok(Some(&snapshot)));
                self.reader = Some(snapshot.into_body());
            }
            Ok(None) => call.handle_cache_get(now, Ok(None)),
            Err(e) => call.handle_cache_get(now, Err(e)),
        }
    }
}

impl fmt::Debug for StoreIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreIo")
            .field("store", &self.store)
            .field("reading", &self.reader.is_some())
            .field("writing", &self.editor.is_some())
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

/// What a store operation answers the call.
pub(super) enum Answer {
    Get(io::Result<Option<Snapshot>>),
    Edit(io::Result<bool>),
    None,
}
