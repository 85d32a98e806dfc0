//! Receive buffers of closed connections, kept for the next new connections.
//!
//! Okio keeps the 8 KiB segments of finished buffers in its `SegmentPool` for the same
//! reason: a new connection's receive buffer is a large allocation (past the allocator's
//! small-object caches) that must also be zeroed before a socket read may fill it. A client
//! that opens a connection per request (a server that closes after each response, or
//! `Connection: close`) paid for both on every call; with the buffer of the last closed
//! connection at hand it pays for neither. Only buffers of the initial size come back, and only
//! a few of them, so what the pool holds stays small and bounded.

use std::sync::Mutex;

use super::buffer::INITIAL;

/// How many spare buffers one client keeps (32 KiB in all).
const KEPT: usize = 4;

/// Spare receive buffers of one client, each [`INITIAL`] bytes, already initialized.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// A spare buffer, if one is kept.
    pub(crate) fn take(&self) -> Option<Vec<u8>> {
        // A lock poisoned by a panic elsewhere only costs the reuse.
        self.free.lock().ok()?.pop()
    }

    /// Keeps `buf` for a later connection, if it is of the initial size and the pool has room.
    /// Its contents stay as they are: a buffer's bytes are read only after a socket read has
    /// written them.
    pub(crate) fn give(&self, buf: Vec<u8>) {
        if buf.len() != INITIAL {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < KEPT {
                free.push(buf);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.free.lock().map_or(0, |f| f.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_buffers_of_the_initial_size_only() {
        let pool = BufferPool::default();
        assert!(pool.take().is_none());
        pool.give(vec![0; INITIAL * 2]);
        pool.give(Vec::new());
        assert_eq!(pool.len(), 0, "a grown or empty buffer is not kept");
        for _ in 0..KEPT + 2 {
            pool.give(vec![7; INITIAL]);
        }
        assert_eq!(pool.len(), KEPT, "the pool is bounded");
        let buf = pool.take().unwrap();
        assert_eq!(buf.len(), INITIAL);
        assert_eq!(pool.len(), KEPT - 1);
    }
}
