//! Reading a whole response body into memory, as every runtime's `bytes()` and `text()` do.
//!
//! The bytes go straight into the result, which grows when full: no copy through a chunk
//! buffer, and each read as large as the room left, so a bulk body's reads grow with it. A
//! small body whose length the head gave gets a buffer of exactly that size (the read that
//! finds its end gets a byte of room of the collector's own), so it costs one allocation of
//! its size and becomes the result without another. The room is zeroed once per growth, as
//! reads need an initialised slice.

use bytes::Bytes;

/// The first room for a body of unknown length, the least the buffer grows by, and the bound
/// on a length taken from the head: a larger one is not trusted with an allocation of its size
/// before the bytes arrive.
const CHUNK: usize = 64 * 1024;

/// A body being read whole: offer [`spare`](Self::spare) to a read, report what it read with
/// [`filled`](Self::filled), and take the result with [`finish`](Self::finish) once a read
/// returns 0.
///
/// ```
/// use wayfarer_core::driver::Collector;
///
/// let mut source: &[u8] = b"hello, world";
/// let mut body = Collector::new(Some(12));
/// loop {
///     let n = std::io::Read::read(&mut source, body.spare()).unwrap();
///     if n == 0 {
///         break;
///     }
///     body.filled(n);
/// }
/// assert_eq!(&body.finish()[..], b"hello, world");
/// ```
#[derive(Debug)]
pub struct Collector {
    out: Vec<u8>,
    filled: usize,
    /// The body's length as its head gave it, while it is small and not yet contradicted.
    expected: Option<usize>,
    /// The room of the read that looks for the end once `expected` bytes are in.
    probe: [u8; 1],
    /// The last room offered was `probe`.
    probing: bool,
}

impl Collector {
    /// A collector for a body that has `left` bytes to come, when its head said so
    /// (`Content-Length`, less what was read already). Only a hint: a longer body is read
    /// whole all the same.
    pub fn new(left: Option<u64>) -> Collector {
        Collector {
            out: Vec::new(),
            filled: 0,
            expected: left
                .and_then(|left| usize::try_from(left).ok())
                .filter(|&left| left < CHUNK),
            probe: [0],
            probing: false,
        }
    }

    /// Room for the next read, made when the buffer is full.
    pub fn spare(&mut self) -> &mut [u8] {
        self.probing = false;
        if self.filled == self.out.len() {
            if self.expected == Some(self.filled) {
                // The promised bytes are in: a byte of room to see the end (or that the head
                // was wrong), without growing the result.
                self.probing = true;
                return &mut self.probe;
            }
            let more = match (self.out.is_empty(), self.expected) {
                (true, Some(len)) => len,
                (true, None) => CHUNK,
                (false, _) => self.out.len().max(CHUNK),
            };
            self.out.resize(self.out.len() + more, 0);
        }
        &mut self.out[self.filled..]
    }

    /// The last read put `n` bytes at the start of [`spare`](Self::spare).
    pub fn filled(&mut self, n: usize) {
        if std::mem::take(&mut self.probing) {
            if n > 0 {
                // Longer than its head said: from here on, a body of unknown length.
                self.expected = None;
                self.out.push(self.probe[0]);
                self.filled = self.out.len();
            }
            return;
        }
        self.filled = (self.filled + n).min(self.out.len());
    }

    /// The body read so far.
    pub fn finish(mut self) -> Bytes {
        self.out.truncate(self.filled);
        if self.out.capacity() > 2 * self.filled {
            // A small body does not keep the whole first buffer.
            self.out.shrink_to_fit();
        }
        Bytes::from(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(left: Option<u64>, body: &[u8], piece: usize) -> (Bytes, Vec<usize>) {
        let mut c = Collector::new(left);
        let mut rest = body;
        let mut offered = Vec::new();
        loop {
            let room = c.spare();
            offered.push(room.len());
            let n = room.len().min(piece).min(rest.len());
            room[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            if n == 0 {
                break;
            }
            c.filled(n);
        }
        (c.finish(), offered)
    }

    #[test]
    fn a_known_small_length_gets_a_buffer_of_its_size() {
        let (bytes, offered) = collect(Some(13), b"thirteen byte", usize::MAX);
        assert_eq!(&bytes[..], b"thirteen byte");
        assert_eq!(
            offered,
            [13, 1],
            "the end is looked for in a byte of the collector's"
        );
        let v: Vec<u8> = bytes.into();
        assert_eq!(v.capacity(), 13, "the buffer is the result");
    }

    #[test]
    fn an_empty_body_allocates_nothing() {
        let (bytes, offered) = collect(Some(0), b"", usize::MAX);
        assert!(bytes.is_empty());
        assert_eq!(offered, [1]);
    }

    #[test]
    fn a_body_longer_than_its_head_said_is_read_whole() {
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for said in [0, 1, 13, 4096] {
            for piece in [1, 3, 4096, usize::MAX] {
                let (bytes, _) = collect(Some(said), &body, piece);
                assert_eq!(&bytes[..], &body[..], "said {said}, pieces of {piece}");
            }
        }
        let (bytes, _) = collect(Some(13), b"shorter", usize::MAX);
        assert_eq!(&bytes[..], b"shorter", "and one shorter too");
    }

    #[test]
    fn a_wrong_or_missing_length_still_reads_everything() {
        let body: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        for left in [None, Some(10), Some(1 << 40)] {
            for piece in [7, 4096, usize::MAX] {
                let (bytes, offered) = collect(left, &body, piece);
                assert_eq!(&bytes[..], &body[..], "{left:?} in pieces of {piece}");
                assert!(offered.iter().all(|&n| n > 0));
            }
        }
    }

    #[test]
    fn a_small_body_does_not_keep_a_large_buffer() {
        let (bytes, _) = collect(None, b"tiny", usize::MAX);
        assert_eq!(&bytes[..], b"tiny");
        let v: Vec<u8> = bytes.into();
        assert!(v.capacity() < 64, "capacity {}", v.capacity());
    }
}
