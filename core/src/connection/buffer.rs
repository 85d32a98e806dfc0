//! The receive buffer: small at first, growing only when the traffic asks for it.
//!
//! A keep-alive response usually fits one read of the initial size. The buffer doubles when a
//! head does not fit (bounded by the head limit, checked by the reader) and when reads keep
//! filling it completely during a body (bulk transfer), up to [`MAX_ADAPTIVE`]; a connection
//! going back to the pool is shrunk again so idle connections stay cheap.
//!
//! A connection whose last response was larger than its initial buffer but fits a [`LENT`]
//! one (a 16 KiB document took two reads, where a hand-written loop with a large buffer takes
//! one) reads the next through a large buffer its thread lends it while it is in use, and
//! gives back when it goes idle: that response arrives in one read, and an idle connection
//! still holds only its own small buffer. Larger bodies gain nothing (they are read straight
//! into the caller's buffer) and borrow nothing. A thread keeps one such buffer, allocated
//! once, for as long as the thread lives; a connection that finds it lent to another reads
//! through its own, as before. At most [`MAX_LARGE`] exist in the process at once, so that a
//! program running calls on many threads (the blocking client's thread per call) does not
//! keep one per thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Size of a fresh connection's buffer.
pub(crate) const INITIAL: usize = 8 * 1024;
/// The size a busy buffer may grow to for bulk reads.
pub(crate) const MAX_ADAPTIVE: usize = 256 * 1024;
/// The size of the buffer a thread lends to a connection whose responses are large.
pub(crate) const LENT: usize = 64 * 1024;
/// The most large buffers that exist in the process at once (512 KiB in all).
pub(crate) const MAX_LARGE: usize = 8;

/// How many large buffers exist: kept by threads or lent to connections.
static LARGE_BUFFERS: AtomicUsize = AtomicUsize::new(0);

/// A thread's large receive buffer (see the module documentation).
enum Large {
    /// None here: the next connection to ask gets a new one, if the process has room for it.
    Never,
    /// Lent to a connection; a connection asking meanwhile reads through its own buffer.
    Lent,
    Here(Vec<u8>),
}

/// The thread's slot; a buffer still in it when the thread ends leaves the count.
struct Slot(Cell<Large>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Large::Here(_) = self.0.replace(Large::Never) {
            LARGE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

thread_local! {
    static LARGE: Slot = const { Slot(Cell::new(Large::Never)) };
}

/// The thread's large buffer, if it is not lent already (or a new one, if the process has
/// fewer than [`MAX_LARGE`]).
fn lend_from_thread() -> Option<Vec<u8>> {
    LARGE
        .try_with(|slot| match slot.0.replace(Large::Lent) {
            Large::Here(buf) => Some(buf),
            Large::Lent => None,
            Large::Never => {
                if reserve(&LARGE_BUFFERS, MAX_LARGE) {
                    Some(vec![0; LENT])
                } else {
                    slot.0.set(Large::Never);
                    None
                }
            }
        })
        .ok()
        .flatten()
}

/// Counts one more in `count` if that stays within `max`; false (and `count` unchanged)
/// otherwise.
fn reserve(count: &AtomicUsize, max: usize) -> bool {
    if count.fetch_add(1, Ordering::Relaxed) < max {
        return true;
    }
    count.fetch_sub(1, Ordering::Relaxed);
    false
}

/// Gives a large buffer back to this thread (which may not be the one that lent it: an async
/// task can move between threads). A thread keeps one; another is freed.
fn return_to_thread(mut buf: Vec<u8>) {
    if buf.len() != LENT {
        // It grew for a bulk transfer: back to its lent size, its bytes still initialized.
        buf.truncate(LENT);
        buf.shrink_to_fit();
    }
    let mut buf = Some(buf);
    let _ = LARGE.try_with(|slot| match slot.0.replace(Large::Lent) {
        Large::Here(kept) => slot.0.set(Large::Here(kept)),
        Large::Never | Large::Lent => slot.0.set(buf.take().map_or(Large::Never, Large::Here)),
    });
    if buf.is_some() {
        LARGE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
pub(crate) struct RecvBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The next `spare()` should offer a bigger region (the last read filled it).
    grow: bool,
    /// The last response was larger than the initial size and fits a large buffer: the
    /// connection borrows its thread's whenever it is empty (see the module documentation).
    large_reads: bool,
    /// The connection's own allocation, set aside while `buf` is the thread's large buffer.
    own: Option<Vec<u8>>,
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        // A closing connection gives its thread's large buffer back.
        self.give_back_large();
    }
}

impl RecvBuf {
    /// An empty buffer over `buf`, an initialized allocation (a closed connection's, from the
    /// [`BufferPool`](super::buffer_pool::BufferPool)): the first read needs no allocation.
    pub(crate) fn recycled(buf: Vec<u8>) -> RecvBuf {
        RecvBuf {
            buf,
            start: 0,
            end: 0,
            grow: false,
            large_reads: false,
            own: None,
        }
    }

    /// Takes the allocation out, if it is of the initial size, for another connection (the
    /// bytes in it are dropped).
    pub(crate) fn take_initial(&mut self) -> Option<Vec<u8>> {
        self.start = 0;
        self.end = 0;
        self.give_back_large();
        if self.buf.len() != INITIAL {
            return None;
        }
        self.grow = false;
        Some(std::mem::take(&mut self.buf))
    }

    /// While empty: swaps in the thread's large buffer, if it is free, keeping the own one.
    fn borrow_large(&mut self) {
        if let Some(large) = lend_from_thread() {
            self.own = Some(std::mem::replace(&mut self.buf, large));
            self.grow = false;
        }
    }

    /// While empty: the own buffer back in place of a large one borrowed.
    fn give_back_large(&mut self) {
        if let Some(own) = self.own.take() {
            return_to_thread(std::mem::replace(&mut self.buf, own));
        }
    }

    /// The bytes received and not yet consumed.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Marks `n` bytes at the front as used.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space after the data, at least `min` bytes, for the next read. Moves data to the
    /// front or grows the allocation when needed.
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.large_reads && self.own.is_none() && self.is_empty() && self.buf.len() <= INITIAL {
            self.borrow_large();
        }
        if self.buf.is_empty() {
            self.buf.resize(INITIAL.max(min), 0);
        }
        if self.grow && self.buf.len() < MAX_ADAPTIVE {
            let bigger = (self.buf.len() * 2).min(MAX_ADAPTIVE);
            self.buf.resize(bigger, 0);
            self.grow = false;
        }
        if self.buf.len() - self.end < min.max(1) {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < min.max(1) {
                let needed = self.end + min.max(1);
                let bigger = (self.buf.len() * 2).max(needed);
                self.buf.resize(bigger, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Records that `n` bytes were written into the region `spare()` returned.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// Records whether the last socket read filled all the space it was offered: if it did,
    /// more data is probably waiting and the next read gets a bigger region.
    pub(crate) fn note_fill(&mut self, filled: bool) {
        self.grow = filled;
    }

    /// Records the length of a response (head and body) read through this buffer, when known:
    /// the connection's next response is read through a large buffer when this one would have
    /// fitted it and not the initial one.
    pub(crate) fn note_response_len(&mut self, len: Option<u64>) {
        self.large_reads = len.is_some_and(|len| len > INITIAL as u64 && len <= LENT as u64);
    }

    /// Drops a large allocation once the buffer is empty, so pooled connections stay small.
    pub(crate) fn shrink(&mut self) {
        self.shrink_above(INITIAL);
    }

    /// Drops the allocation once the buffer is empty if it is larger than `keep` bytes. A
    /// buffer every exchange needs at its size (a TLS connection's record buffer) is kept
    /// rather than freed, allocated and zeroed again on each reuse.
    pub(crate) fn shrink_above(&mut self, keep: usize) {
        if self.is_empty() {
            self.give_back_large();
        }
        if self.is_empty() && self.buf.len() > keep {
            self.buf = Vec::new();
        }
        if self.is_empty() {
            self.grow = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills the region `b` offers, and consumes it all.
    fn fill_and_consume(b: &mut RecvBuf) -> usize {
        let offered = b.spare(1).len();
        b.commit(offered);
        b.note_fill(true);
        b.consume(offered);
        offered
    }

    /// A buffer holding the thread's large one, so that others grow their own.
    fn holder() -> RecvBuf {
        let mut holder = RecvBuf::default();
        holder.note_response_len(Some(16 * 1024));
        assert_eq!(holder.spare(1).len(), LENT);
        holder
    }

    #[test]
    fn starts_small_and_grows_for_bulk_reads() {
        let _holder = holder();
        let mut b = RecvBuf::default();
        b.note_response_len(Some(16 * 1024));
        assert_eq!(
            fill_and_consume(&mut b),
            INITIAL,
            "the thread's is lent already"
        );
        assert_eq!(
            b.spare(1).len(),
            INITIAL * 2,
            "a full read doubles the next one"
        );
        b.commit(10);
        b.note_fill(false);
        b.consume(10);
        assert_eq!(b.spare(1).len(), INITIAL * 2, "a short read does not");
        b.shrink();
        assert_eq!(b.buf.len(), 0, "an idle connection drops a grown buffer");
        assert_eq!(b.spare(1).len(), INITIAL);
    }

    #[test]
    fn a_connection_whose_responses_fit_a_large_buffer_reads_them_through_its_threads() {
        let mut b = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut b), INITIAL);
        b.shrink();
        for (len, why) in [
            (None, "a response of unknown length"),
            (Some(100), "a response that fits the initial buffer"),
            (
                Some(LENT as u64 + 1),
                "a response larger than the large buffer",
            ),
        ] {
            b.note_response_len(len);
            assert_eq!(b.spare(1).len(), INITIAL, "{why} borrows nothing");
        }
        b.note_response_len(Some(16 * 1024));
        assert_eq!(
            b.spare(1).len(),
            LENT,
            "after a 16 KiB response the next read goes into the large buffer"
        );
        b.spare(1)[..5].copy_from_slice(b"hello");
        b.commit(5);
        b.shrink();
        assert_eq!(b.data(), b"hello", "a buffer holding data keeps it");
        assert_eq!(b.buf.len(), LENT);
        b.consume(5);
        b.shrink();
        assert_eq!(
            b.buf.len(),
            INITIAL,
            "idle, it holds only its own buffer again"
        );
        assert!(b.own.is_none());

        // Given back, the thread's buffer serves the next connection that asks.
        let mut other = RecvBuf::default();
        other.note_response_len(Some(16 * 1024));
        assert_eq!(other.spare(1).len(), LENT);
        // Lent out: a third connection reads through its own.
        let mut third = RecvBuf::default();
        third.note_response_len(Some(16 * 1024));
        assert_eq!(third.spare(1).len(), INITIAL);
        // A connection closing with it gives it back too.
        drop(other);
        let mut fourth = RecvBuf::default();
        fourth.note_response_len(Some(16 * 1024));
        assert_eq!(fourth.spare(1).len(), LENT);
        // Grown for a bulk transfer, it comes back at its lent size.
        assert_eq!(fill_and_consume(&mut fourth), LENT);
        assert_eq!(fourth.spare(1).len(), LENT * 2);
        assert!(
            fourth.take_initial().is_none(),
            "closing, it had no buffer of its own to pass on"
        );
        let mut fifth = RecvBuf::default();
        fifth.note_response_len(Some(16 * 1024));
        assert_eq!(fifth.spare(1).len(), LENT);
    }

    #[test]
    fn the_count_of_large_buffers_is_bounded() {
        let count = AtomicUsize::new(0);
        for _ in 0..3 {
            assert!(reserve(&count, 3));
        }
        assert!(!reserve(&count, 3), "over the bound");
        assert_eq!(count.load(Ordering::Relaxed), 3, "a refusal counts nothing");
        count.fetch_sub(1, Ordering::Relaxed);
        assert!(reserve(&count, 3), "room again once one is freed");
    }

    #[test]
    fn a_buffer_within_the_kept_size_survives_shrinking() {
        let mut b = RecvBuf::default();
        let offered = b.spare(INITIAL * 2).len();
        assert_eq!(offered, INITIAL * 2);
        b.commit(offered);
        b.note_fill(true);
        b.consume(offered);
        b.shrink_above(INITIAL * 2);
        assert_eq!(b.spare(1).len(), INITIAL * 2, "kept, and no longer growing");
        b.shrink_above(INITIAL);
        assert_eq!(b.spare(1).len(), INITIAL, "freed above the limit");
    }

    #[test]
    fn a_recycled_buffer_starts_empty_and_serves_the_first_read() {
        let _holder = holder();
        let mut used = RecvBuf::default();
        let n = used.spare(1).len();
        used.spare(1)[..n].fill(9);
        used.commit(5);
        let buf = used
            .take_initial()
            .expect("an initial-size buffer comes back");
        assert!(used.is_empty());
        let mut b = RecvBuf::recycled(buf);
        assert!(b.is_empty(), "the old connection's bytes are not data");
        assert_eq!(b.spare(1).len(), INITIAL);
        b.spare(1)[..2].copy_from_slice(b"hi");
        b.commit(2);
        assert_eq!(b.data(), b"hi");
        b.commit(0);
        b.note_fill(true);
        b.consume(2);
        b.spare(1);
        assert!(
            b.take_initial().is_none(),
            "a grown buffer is not passed on"
        );
    }

    #[test]
    fn compacts_before_growing_and_keeps_data() {
        let mut b = RecvBuf::default();
        let n = b.spare(1).len();
        b.spare(1)[..n].fill(7);
        b.commit(n);
        b.consume(n - 3);
        let spare = b.spare(INITIAL - 3).len();
        assert!(spare >= INITIAL - 3);
        assert_eq!(b.data(), &[7, 7, 7]);
        b.spare(3)[..3].copy_from_slice(b"abc");
        b.commit(3);
        assert_eq!(b.data(), &[7, 7, 7, b'a', b'b', b'c']);
    }
}
