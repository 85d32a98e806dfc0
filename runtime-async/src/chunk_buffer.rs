//! Where [`Body::chunk`](crate::Body::chunk) reads to, and how a chunk's buffer comes back.
//!
//! A read needs initialized memory (`AsyncRead` takes a `&mut [u8]`), so a fresh buffer is
//! zeroed before the socket fills it. Zeroing a new buffer for every large chunk cost a bulk
//! download a `memset` of every byte it received (64 MiB for a 64 MiB body, more instructions
//! than everything else the download did). So a large chunk is lent out as a slice of its
//! whole buffer, which is kept: once the caller drops the chunk, the buffer is taken back
//! whole, its bytes already written and so not zeroed again, and a download that drops each
//! chunk before asking for the next (the usual loop) runs through one buffer per size it
//! grows to.
//!
//! A body's last buffer, if small, is parked for the next body on the same thread: a run of
//! keep-alive GETs of a few KiB then reads them all through one buffer.
//!
//! A caller that keeps its chunks would keep a whole buffer with each of them. Once a chunk's
//! buffer is found still held, the body's later chunks are split off their buffer instead,
//! packed one after the other, as a stream of kept chunks should be.

use std::cell::Cell;

use bytes::{Bytes, BytesMut};

/// Chunks up to this size are copied out of the buffer rather than split off it or lent.
const SMALL_CHUNK: usize = 8 * 1024;

/// The size of the chunks at first.
const CHUNK: usize = 64 * 1024;
/// The most a chunk grows to, unless the caller sets a size: reads that fill their chunk
/// double the next one's size up to this. Larger reads mean fewer system calls and wake-ups
/// per byte of a bulk download (hyper's read buffer grows the same way).
const BULK_CHUNK: usize = 1024 * 1024;
/// A body of known length grows its chunks only while at least this many chunks of the new
/// size are left: for a body of a MiB or two, larger reads save a few system calls but cost
/// a larger buffer for each body in flight (64 concurrent 1 MiB downloads would hold 32 MiB).
const GROW_ONLY_WITH_CHUNKS_LEFT: u64 = 16;

/// The most one chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkSize {
    /// Set by the caller, for good.
    Fixed(usize),
    /// From [`CHUNK`], doubling after each read that fills it, up to [`BULK_CHUNK`].
    Growing(usize),
}

impl Default for ChunkSize {
    fn default() -> ChunkSize {
        ChunkSize::Growing(CHUNK)
    }
}

impl ChunkSize {
    pub(crate) fn get(self) -> usize {
        match self {
            ChunkSize::Fixed(size) | ChunkSize::Growing(size) => size,
        }
    }

    /// After a read of `n` bytes (at most the size), with `left` bytes of the body still to
    /// come when that is known.
    pub(crate) fn after_read(&mut self, n: usize, left: Option<u64>) {
        if let ChunkSize::Growing(size) = self {
            let bigger = (*size * 2).min(BULK_CHUNK);
            if n >= *size
                && left.is_none_or(|left| left >= bigger as u64 * GROW_ONLY_WITH_CHUNKS_LEFT)
            {
                *size = bigger;
            }
        }
    }
}

/// The largest buffer a body parks for the next one on its thread (see [`PARKED`]).
const PARK_AT_MOST: usize = CHUNK;

thread_local! {
    /// The buffer the last body read by chunks on this thread ended with, written already: the
    /// next body takes it rather than allocating and zeroing one, so a keep-alive GET of a few
    /// KiB costs its chunk buffer nothing. One per thread, of at most [`PARK_AT_MOST`] bytes.
    static PARKED: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// The read buffer of one body's chunks.
#[derive(Debug, Default)]
pub(crate) struct ChunkBuffer {
    /// Initialized bytes to read into (all of its length): what the last chunk left.
    spare: BytesMut,
    /// The whole buffer the last chunk was lent from, to take back once that chunk is dropped.
    lent: Option<Bytes>,
    /// Whether that chunk filled its buffer: the next read may want a larger one.
    lent_filled: bool,
    /// The caller keeps its chunks: they are split off the buffer rather than lent.
    kept: bool,
}

impl ChunkBuffer {
    /// A buffer to read the next chunk into: `want` bytes or more, or at least half of that
    /// when what the last chunk left is that large (its bytes would be wasted otherwise). Its
    /// length, all of it initialized, is what a read may fill; hand it back with
    /// [`chunk`](Self::chunk) or [`put_back`](Self::put_back).
    pub(crate) fn take(&mut self, want: usize) -> BytesMut {
        let spare = std::mem::take(&mut self.spare);
        if spare.len() >= want {
            return spare;
        }
        // The last chunk's buffer, if its caller has dropped it: written already, so with
        // nothing to zero. Like what a split chunk leaves, half of `want` will do, unless that
        // chunk filled it: then the chunks may have grown, and a buffer of the new size is made.
        match self.lent.take().map(Bytes::try_into_mut) {
            Some(Ok(back)) => {
                let enough = if self.lent_filled {
                    want
                } else {
                    want.div_ceil(2)
                };
                if back.len() >= enough {
                    return back;
                }
            }
            Some(Err(_)) => self.kept = true,
            None => {}
        }
        if spare.len() >= want.div_ceil(2) {
            return spare;
        }
        // The buffer an earlier body on this thread ended with, just as good.
        if let Some(parked) = PARKED.try_with(Cell::take).ok().flatten() {
            if parked.len() >= want.div_ceil(2) {
                return parked;
            }
            PARKED.set(Some(parked));
        }
        // Cleared first, so that growing it copies nothing over.
        let mut fresh = spare;
        fresh.clear();
        fresh.resize(want, 0);
        if want > SMALL_CHUNK {
            // Made shared now (one allocation, for its reference count), so that lending it
            // out and taking it back allocate nothing: a buffer not yet shared would allocate
            // that count again for every chunk it lends. A small one is never lent.
            drop(fresh.split_to(0));
        }
        fresh
    }

    /// Hands back `buf` (from [`take`](Self::take)) after a read put `n` bytes (at least one)
    /// at its start, and returns them as a chunk.
    pub(crate) fn chunk(&mut self, mut buf: BytesMut, n: usize) -> Bytes {
        debug_assert!(n > 0 && n <= buf.len());
        if n <= SMALL_CHUNK {
            if buf.len() <= SMALL_CHUNK {
                // A buffer this small was made for a small body's bytes (or a small chunk
                // size): it is the chunk, with nothing to copy.
                buf.truncate(n);
                return buf.freeze();
            }
            // Copied out, so that a small chunk never holds the whole buffer.
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            self.spare = buf;
            return chunk;
        }
        if !self.kept {
            self.lent_filled = n == buf.len();
            let whole = buf.freeze();
            let chunk = whole.slice(..n);
            self.lent = Some(whole);
            return chunk;
        }
        let chunk = buf.split_to(n).freeze();
        self.spare = buf;
        chunk
    }

    /// Hands back `buf` (from [`take`](Self::take)) after a read that gave no chunk.
    pub(crate) fn put_back(&mut self, buf: BytesMut) {
        self.spare = buf;
    }

    /// Lets the buffer go: the body has ended. One no larger than [`PARK_AT_MOST`] that no
    /// chunk holds is parked for the thread's next body.
    pub(crate) fn release(&mut self) {
        let spare = std::mem::take(&mut self.spare);
        let buf = match self.lent.take().map(Bytes::try_into_mut) {
            Some(Ok(back)) => back,
            _ => spare,
        };
        // Not a caller's packed chunks' buffer: parked, its rest would keep all of it alive.
        if !self.kept && !buf.is_empty() && buf.len() <= PARK_AT_MOST {
            // A body dropped as its thread exits finds the slot gone, and lets the buffer go.
            let _ = PARKED.try_with(|parked| parked.set(Some(buf)));
        }
    }
}

impl Drop for ChunkBuffer {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: usize = 64 * 1024;

    /// A body's buffer, on a thread with nothing parked.
    fn fresh() -> ChunkBuffer {
        PARKED.take();
        ChunkBuffer::default()
    }

    /// A read of `n` bytes of `fill` into `buf`'s start.
    fn read(buf: &mut BytesMut, n: usize, fill: u8) -> usize {
        buf[..n].fill(fill);
        n
    }

    #[test]
    fn a_dropped_large_chunk_gives_its_buffer_back_unzeroed() {
        let mut chunks = fresh();
        let mut buf = chunks.take(BIG);
        assert_eq!(buf.len(), BIG);
        let at = buf.as_ptr();
        let n = read(&mut buf, BIG - 10, 7);
        let chunk = chunks.chunk(buf, n);
        assert_eq!(chunk.len(), BIG - 10);
        assert!(chunk.iter().all(|&b| b == 7));
        drop(chunk);
        let buf = chunks.take(BIG);
        // The same memory, whole, still holding the last read's bytes: not zeroed again.
        assert_eq!(buf.as_ptr(), at);
        assert_eq!(buf.len(), BIG);
        assert!(buf[..BIG - 10].iter().all(|&b| b == 7));
    }

    #[test]
    fn kept_chunks_are_never_written_over_and_are_packed_once_seen_kept() {
        let mut chunks = fresh();
        let mut kept = Vec::new();
        let mut at = Vec::new();
        for round in 0..6u8 {
            let mut buf = chunks.take(BIG);
            at.push(buf.as_ptr() as usize);
            let n = read(&mut buf, BIG / 4, round);
            kept.push(chunks.chunk(buf, n));
        }
        for (round, chunk) in kept.iter().enumerate() {
            assert_eq!(chunk.len(), BIG / 4);
            assert!(chunk.iter().all(|&b| b == round as u8), "chunk {round}");
        }
        // The first chunk was lent its whole buffer; the second read found it still held, so
        // from then on chunks are split off one buffer, each right after the one before.
        assert_ne!(at[1], at[0]);
        assert_eq!(at[2], at[1] + BIG / 4);
        assert_eq!(at[3], at[2] + BIG / 4);
        assert!(chunks.kept);
        // Its rest is not parked: it would keep the kept chunks' buffer alive.
        drop(chunks);
        assert!(PARKED.take().is_none());
    }

    #[test]
    fn a_small_buffer_is_its_chunk() {
        let mut chunks = fresh();
        let mut buf = chunks.take(13);
        assert_eq!(buf.len(), 13);
        let at = buf.as_ptr();
        let n = read(&mut buf, 13, 1);
        let chunk = chunks.chunk(buf, n);
        assert_eq!((chunk.as_ptr(), &chunk[..]), (at, &[1; 13][..]));
        assert!(chunks.spare.is_empty() && chunks.lent.is_none());
    }

    #[test]
    fn a_small_chunk_is_a_copy_and_leaves_the_buffer_whole() {
        let mut chunks = fresh();
        let mut buf = chunks.take(BIG);
        let at = buf.as_ptr();
        let n = read(&mut buf, 100, 2);
        let small = chunks.chunk(buf, n);
        let buf = chunks.take(BIG);
        assert_eq!((buf.as_ptr(), buf.len()), (at, BIG));
        assert_eq!(&small[..], &[2; 100][..]);
    }

    #[test]
    fn a_larger_want_than_the_lent_buffer_gets_a_new_zeroed_one() {
        let mut chunks = fresh();
        let mut buf = chunks.take(BIG);
        let n = read(&mut buf, BIG, 9);
        drop(chunks.chunk(buf, n));
        let buf = chunks.take(4 * BIG);
        assert_eq!(buf.len(), 4 * BIG);
        assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_lent_buffer_that_was_not_filled_serves_a_want_up_to_twice_its_size() {
        let mut chunks = fresh();
        let mut buf = chunks.take(BIG);
        let at = buf.as_ptr();
        let n = read(&mut buf, BIG * 3 / 4, 4);
        drop(chunks.chunk(buf, n));
        let buf = chunks.take(2 * BIG);
        assert_eq!((buf.as_ptr(), buf.len()), (at, BIG));
    }

    #[test]
    fn a_growing_size_doubles_on_full_reads_up_to_the_bulk_size() {
        let mut size = ChunkSize::default();
        size.after_read(CHUNK - 1, None);
        assert_eq!(size.get(), CHUNK);
        size.after_read(CHUNK, None);
        assert_eq!(size.get(), 2 * CHUNK);
        for _ in 0..10 {
            size.after_read(size.get(), None);
        }
        assert_eq!(size.get(), BULK_CHUNK);
        size.after_read(1, None);
        assert_eq!(size.get(), BULK_CHUNK);
    }

    #[test]
    fn a_known_length_grows_the_size_only_while_many_chunks_are_left() {
        let mut size = ChunkSize::default();
        size.after_read(
            CHUNK,
            Some(2 * CHUNK as u64 * GROW_ONLY_WITH_CHUNKS_LEFT - 1),
        );
        assert_eq!(size.get(), CHUNK);
        size.after_read(CHUNK, Some(2 * CHUNK as u64 * GROW_ONLY_WITH_CHUNKS_LEFT));
        assert_eq!(size.get(), 2 * CHUNK);
    }

    #[test]
    fn a_fixed_size_stays() {
        let mut size = ChunkSize::Fixed(100);
        size.after_read(100, None);
        size.after_read(1, None);
        size.after_read(1, None);
        assert_eq!(size, ChunkSize::Fixed(100));
    }

    #[test]
    fn a_body_parks_its_small_buffer_for_the_next_one_on_its_thread() {
        let mut first = fresh();
        let mut buf = first.take(BIG);
        let at = buf.as_ptr();
        let n = read(&mut buf, BIG / 2, 6);
        drop(first.chunk(buf, n));
        drop(first);
        let mut second = ChunkBuffer::default();
        let buf = second.take(16 * 1024);
        assert_eq!((buf.as_ptr(), buf.len()), (at, BIG));
        second.put_back(buf);
        drop(second);
        // A buffer larger than a first chunk is let go, not parked: the one parked stays.
        let mut third = ChunkBuffer::default();
        let mut buf = third.take(2 * BIG + 1);
        assert_ne!(buf.as_ptr(), at);
        let n = read(&mut buf, 2 * BIG + 1, 1);
        drop(third.chunk(buf, n));
        drop(third);
        assert_eq!(PARKED.take().map(|b| b.as_ptr()), Some(at));
    }

    #[test]
    fn release_lets_go_of_everything() {
        let mut chunks = fresh();
        let mut buf = chunks.take(BIG);
        let n = read(&mut buf, BIG, 5);
        let chunk = chunks.chunk(buf, n);
        chunks.release();
        assert!(chunks.lent.is_none() && chunks.spare.is_empty());
        // The chunk alone holds its buffer now.
        assert!(chunk.is_unique());
    }
}
