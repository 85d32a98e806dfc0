//! The receive buffer: small at first, growing only when the traffic asks for it.
//!
//! A keep-alive response usually fits one read of the initial size. The buffer doubles when a
//! head does not fit (bounded by the head limit, checked by the reader) and when reads keep
//! filling it completely during a body (bulk transfer), up to [`MAX_ADAPTIVE`]; a connection
//! going back to the pool is shrunk again so idle connections stay cheap.
//!
//! A connection whose reads have filled its initial buffer (its responses are larger than
//! that: a 16 KiB document took two reads, where a hand-written loop with a large buffer takes
//! one) reads through a [`LENT`]-byte buffer its thread lends it while it is in use, and gives
//! back when it goes idle: the next response arrives in one read, and an idle connection
//! still holds only its own small buffer. A thread keeps one such buffer, allocated once and
//! kept for as long as the thread lives; a connection that finds it lent to another reads
//! through its own, as before.

use std::cell::Cell;

/// Size of a fresh connection's buffer.
pub(crate) const INITIAL: usize = 8 * 1024;
/// The size a busy buffer may grow to for bulk reads.
pub(crate) const MAX_ADAPTIVE: usize = 256 * 1024;
/// The size of the buffer a thread lends to a connection whose responses are large.
pub(crate) const LENT: usize = 64 * 1024;

/// A thread's large receive buffer (see the module documentation).
enum Large {
    /// None made yet on this thread: the first connection to ask gets a new one.
    Never,
    /// Lent to a connection; a connection asking meanwhile reads through its own buffer.
    Lent,
    Here(Vec<u8>),
}

thread_local! {
    static LARGE: Cell<Large> = const { Cell::new(Large::Never) };
}

/// The thread's large buffer, if it is not lent already.
fn borrow_large() -> Option<Vec<u8>> {
    LARGE
        .try_with(|large| match large.replace(Large::Lent) {
            Large::Never => Some(vec![0; LENT]),
            Large::Here(buf) => Some(buf),
            Large::Lent => None,
        })
        .ok()
        .flatten()
}

/// Gives a large buffer back to this thread (which may not be the one that lent it: an async
/// task can move between threads). A thread keeps one.
fn return_large(mut buf: Vec<u8>) {
    if buf.len() != LENT {
        // It grew for a bulk transfer: back to its lent size, its bytes still initialized.
        buf.truncate(LENT);
        buf.shrink_to_fit();
    }
    let _ = LARGE.try_with(|large| match large.replace(Large::Lent) {
        Large::Here(kept) => large.set(Large::Here(kept)),
        Large::Never | Large::Lent => large.set(Large::Here(buf)),
    });
}

#[derive(Debug, Default)]
pub(crate) struct RecvBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The next `spare()` should offer a bigger region (the last read filled it).
    grow: bool,
    /// A read has filled this buffer at its initial size: the connection borrows its thread's
    /// large buffer whenever it is empty (see the module documentation).
    large_reads: bool,
    /// The connection's own allocation, set aside while `buf` is the thread's large buffer.
    own: Option<Vec<u8>>,
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        // A closing connection gives its thread's large buffer back.
        if let Some(own) = self.own.take() {
            return_large(std::mem::replace(&mut self.buf, own));
        }
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
        if let Some(large) = borrow_large() {
            self.own = Some(std::mem::replace(&mut self.buf, large));
            self.grow = false;
        }
    }

    /// While empty: the own buffer back in place of a large one borrowed.
    fn give_back_large(&mut self) {
        if let Some(own) = self.own.take() {
            return_large(std::mem::replace(&mut self.buf, own));
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
        if filled && self.buf.len() <= INITIAL {
            self.large_reads = true;
        }
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

    #[test]
    fn starts_small_and_grows_for_bulk_reads() {
        // Another buffer holds the thread's large one, so this one grows its own.
        let mut holder = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut holder), INITIAL);
        assert_eq!(holder.spare(1).len(), LENT);
        let mut b = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut b), INITIAL);
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
    fn a_connection_with_large_responses_reads_them_through_its_threads_large_buffer() {
        let mut b = RecvBuf::default();
        assert_eq!(b.spare(1).len(), INITIAL);
        b.commit(100);
        b.note_fill(false);
        b.consume(100);
        assert_eq!(b.spare(1).len(), INITIAL, "short reads borrow nothing");
        assert_eq!(fill_and_consume(&mut b), INITIAL);
        assert_eq!(
            b.spare(1).len(),
            LENT,
            "the next read goes into the large buffer"
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
        assert_eq!(fill_and_consume(&mut other), INITIAL);
        assert_eq!(other.spare(1).len(), LENT);
        // Lent out: a third connection reads through its own, doubled.
        let mut third = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut third), INITIAL);
        assert_eq!(third.spare(1).len(), INITIAL * 2);
        // A connection closing with it gives it back too.
        drop(other);
        let mut fourth = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut fourth), INITIAL);
        assert_eq!(fourth.spare(1).len(), LENT);
        // Grown for a bulk transfer, it comes back at its lent size.
        assert_eq!(fill_and_consume(&mut fourth), LENT);
        assert_eq!(fourth.spare(1).len(), LENT * 2);
        let own = fourth
            .take_initial()
            .expect("its own buffer, of the initial size");
        assert_eq!(own.len(), INITIAL);
        let mut fifth = RecvBuf::default();
        assert_eq!(fill_and_consume(&mut fifth), INITIAL);
        assert_eq!(fifth.spare(1).len(), LENT);
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
        // Another buffer holds the thread's large one, so this one grows its own.
        let mut holder = RecvBuf::default();
        fill_and_consume(&mut holder);
        assert_eq!(holder.spare(1).len(), LENT);
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
