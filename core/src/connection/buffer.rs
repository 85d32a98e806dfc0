//! The receive buffer: small at first, growing only when the traffic asks for it.
//!
//! A keep-alive response usually fits one read of the initial size. The buffer doubles when a
//! head does not fit (bounded by the head limit, checked by the reader) and when reads keep
//! filling it completely during a body (bulk transfer), up to [`MAX_ADAPTIVE`]; a connection
//! going back to the pool is shrunk again so idle connections stay cheap.

/// Size of a fresh connection's buffer.
pub(crate) const INITIAL: usize = 8 * 1024;
/// The size a busy buffer may grow to for bulk reads.
pub(crate) const MAX_ADAPTIVE: usize = 256 * 1024;

#[derive(Debug, Default)]
pub(crate) struct RecvBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The next `spare()` should offer a bigger region (the last read filled it).
    grow: bool,
}

impl RecvBuf {
    /// An empty buffer over `buf`, an initialized allocation (a closed connection's, from the
    /// [`BufferPool`](super::buffer_pool::BufferPool)): the first read needs no allocation.
    pub(crate) fn recycled(buf: Vec<u8>) -> RecvBuf {
        RecvBuf {
            buf,
            ..RecvBuf::default()
        }
    }

    /// Takes the allocation out, if it is of the initial size, for another connection (the
    /// bytes in it are dropped).
    pub(crate) fn take_initial(&mut self) -> Option<Vec<u8>> {
        if self.buf.len() != INITIAL {
            return None;
        }
        self.start = 0;
        self.end = 0;
        self.grow = false;
        Some(std::mem::take(&mut self.buf))
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

    /// Drops a large allocation once the buffer is empty, so pooled connections stay small.
    pub(crate) fn shrink(&mut self) {
        self.shrink_above(INITIAL);
    }

    /// Drops the allocation once the buffer is empty if it is larger than `keep` bytes. A
    /// buffer every exchange needs at its size (a TLS connection's record buffer) is kept
    /// rather than freed, allocated and zeroed again on each reuse.
    pub(crate) fn shrink_above(&mut self, keep: usize) {
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

    #[test]
    fn starts_small_and_grows_for_bulk_reads() {
        let mut b = RecvBuf::default();
        let offered = b.spare(1).len();
        assert_eq!(offered, INITIAL);
        b.commit(offered);
        b.note_fill(true);
        b.consume(offered);
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
        assert_eq!(b.spare(1).len(), INITIAL);
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
