//! The bytes of a case: fault names, filler and upload bytes, and the body the origin sends.

use super::*;

/// A fault's name in the report.
pub fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::ResetBeforeHead => "reset before the head",
        Fault::ResetInHead { .. } => "reset in the head",
        Fault::ResetInBody { .. } => "reset in the body",
        Fault::CloseBeforeHead => "early close before the head",
        Fault::CloseBeforeBody => "early close, request body unread",
        Fault::CloseInHead { .. } => "early close in the head",
        Fault::TruncatedLength { .. } => "truncated Content-Length body",
        Fault::TruncatedChunked { .. } => "truncated chunked body",
        Fault::StallBeforeHead => "stall before the head",
        Fault::StallInHead { .. } => "stall in the head",
        Fault::StallInBody { .. } => "stall in the body",
        Fault::GarbageHead(_) => "garbage head",
        Fault::GarbageChunk => "garbage chunk size",
    }
}

/// Filler byte `i` of a body for case `id`: printable, and different from case to case.
pub fn filler_byte(id: u64, i: usize) -> u8 {
    let start = (id % 26) as usize;
    b'a' + ((start + i * 7 + i / 26) % 26) as u8
}

/// Byte `i` of case `id`'s upload: a hash, so any byte can be produced alone.
pub fn upload_byte(seed: u64, id: u64, i: usize) -> u8 {
    let word = seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 / 8).rotate_left(29);
    let mut z = word.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).to_le_bytes()[i % 8]
}

/// A soak body, described rather than held: a short prefix naming the case, the echoed upload,
/// then filler. The client checks what it reads against it byte by byte, with no copy of the
/// expected body, so the soak's own allocations do not blur the client's memory profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySpec {
    /// `<id|...|`.
    pub prefix: Vec<u8>,
    /// The upload echoed after the prefix: the seed and its length.
    pub echo: Option<(u64, usize)>,
    /// The case, for the filler.
    pub id: u64,
    /// Filler bytes at the end.
    pub filler: usize,
}

impl BodySpec {
    /// No body.
    pub fn empty() -> BodySpec {
        BodySpec {
            prefix: Vec::new(),
            echo: None,
            id: 0,
            filler: 0,
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.echo.map_or(0, |(_, n)| n) + self.filler
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Byte `i` (below [`len`](Self::len)).
    pub fn byte(&self, i: usize) -> u8 {
        if let Some(&b) = self.prefix.get(i) {
            return b;
        }
        let i = i - self.prefix.len();
        match self.echo {
            Some((seed, n)) if i < n => upload_byte(seed, self.id, i),
            Some((_, n)) => filler_byte(self.id, i - n),
            None => filler_byte(self.id, i),
        }
    }

    /// The offset of the first byte of `chunk` (found at `offset` in a body) that differs from
    /// this body, counting bytes past its end as different.
    pub fn first_difference(&self, offset: usize, chunk: &[u8]) -> Option<usize> {
        let len = self.len();
        chunk
            .iter()
            .enumerate()
            .position(|(k, &b)| offset + k >= len || self.byte(offset + k) != b)
            .map(|k| offset + k)
    }

    /// The whole body.
    pub fn to_vec(&self) -> Vec<u8> {
        (0..self.len()).map(|i| self.byte(i)).collect()
    }
}

/// The id a soak body names in its `<id|` prefix, if it has one.
pub fn named_id(body: &[u8]) -> Option<u64> {
    let rest = body.strip_prefix(b"<")?;
    let end = rest.iter().position(|&b| b == b'|')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}
