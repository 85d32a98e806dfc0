//! Streaming gzip decoding (RFC 1952) into the caller's buffer, with memory bounded whatever the
//! compression ratio.
//!
//! flate2's gzip readers pull from an `io::Read` and its writers push into an unbounded sink;
//! neither fits a sans-IO pipeline that is handed compressed bytes as they arrive and must fill
//! a caller's buffer of fixed size. So the member header and trailer are parsed here (a few
//! dozen lines) and only the deflate stream goes to flate2's `Decompress`, which writes
//! straight into the caller's buffer: a decompression bomb costs time, never memory, and the
//! decoded-size cap turns it into an error.
//!
//! Concatenated members are decoded one after another (RFC 1952 section 2.2). Every member's
//! CRC-32 and length are checked; a stream that ends mid-member, a bad header, a bad checksum or
//! bytes after the last member that do not start a new member are errors.

use flate2::{Decompress, FlushDecompress, Status};

use crate::Error;

const FTEXT: u8 = 1;
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The 10 fixed header bytes.
    Header,
    /// FEXTRA: the 2-byte length, then that many bytes.
    ExtraLen,
    Extra(usize),
    /// FNAME / FCOMMENT: bytes up to a NUL.
    Name,
    Comment,
    /// FHCRC: 2 bytes.
    HeaderCrc,
    Deflate,
    /// CRC-32 and ISIZE, 8 bytes.
    Trailer,
    /// A member ended; more input must be another member.
    Between,
}

/// Decodes a gzip stream.
pub(crate) struct GzipDecoder {
    part: Part,
    flags: u8,
    /// Bytes of a fixed-size part collected so far.
    fixed: [u8; 10],
    fixed_len: usize,
    inflate: Decompress,
    crc: crc32fast::Hasher,
    /// Decoded bytes of the current member (mod 2^32 is checked against ISIZE).
    member_len: u64,
    /// Decoded bytes in all.
    total: u64,
    max_decoded: Option<u64>,
    /// An error met after some bytes were already decoded in the same call: those bytes go to
    /// the caller first, the error with the next call, so what the caller sees does not depend
    /// on how the input was split.
    failed: Option<Error>,
}

impl std::fmt::Debug for GzipDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipDecoder")
            .field("part", &self.part)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

fn corrupt(what: &str) -> Error {
    Error::decode(format!("corrupt gzip response body: {what}"))
}

impl GzipDecoder {
    /// A decoder that fails once more than `max_decoded` bytes come out.
    pub(crate) fn new(max_decoded: Option<u64>) -> GzipDecoder {
        GzipDecoder {
            part: Part::Header,
            flags: 0,
            fixed: [0; 10],
            fixed_len: 0,
            inflate: Decompress::new(false),
            crc: crc32fast::Hasher::new(),
            member_len: 0,
            total: 0,
            max_decoded,
            failed: None,
        }
    }

    /// Collects `n` bytes of a fixed-size part; true once all are there.
    fn collect(&mut self, input: &[u8], used: &mut usize, n: usize) -> bool {
        let take = (n - self.fixed_len).min(input.len() - *used);
        self.fixed[self.fixed_len..self.fixed_len + take]
            .copy_from_slice(&input[*used..*used + take]);
        self.fixed_len += take;
        *used += take;
        if self.fixed_len == n {
            self.fixed_len = 0;
            true
        } else {
            false
        }
    }

    /// The part after the header fields given by the flags, from `after`.
    fn next_header_part(&self, after: Part) -> Part {
        let order = [
            (Part::ExtraLen, FEXTRA),
            (Part::Name, FNAME),
            (Part::Comment, FCOMMENT),
            (Part::HeaderCrc, FHCRC),
        ];
        let start = match after {
            Part::Header => 0,
            Part::ExtraLen | Part::Extra(_) => 1,
            Part::Name => 2,
            Part::Comment => 3,
            _ => 4,
        };
        order[start..]
            .iter()
            .find(|(_, flag)| self.flags & flag != 0)
            .map_or(Part::Deflate, |(part, _)| *part)
    }

    /// Decodes from `input` into `out`. Returns (input bytes used, bytes written to `out`).
    /// Makes progress whenever `input` is non-empty and `out` has room.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let (mut used, mut written) = (0, 0);
        match self.run(input, out, &mut used, &mut written) {
            Ok(()) => Ok((used, written)),
            Err(e) => {
                self.failed = Some(e.clone());
                // Bytes decoded before the error reach the caller first; the error comes with
                // the next call.
                if written > 0 {
                    Ok((used, written))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The decoding loop: advances `*used` and `*written` as it goes, so the caller still knows
    /// what was decoded when it fails.
    fn run(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        used: &mut usize,
        written: &mut usize,
    ) -> Result<(), Error> {
        loop {
            match self.part {
                Part::Header | Part::Between => {
                    if *used == input.len() {
                        break;
                    }
                    if self.part == Part::Between && self.fixed_len == 0 && input[*used] != 0x1f {
                        return Err(corrupt("unexpected bytes after the end of the stream"));
                    }
                    self.part = Part::Header;
                    if !self.collect(input, used, 10) {
                        break;
                    }
                    let h = self.fixed;
                    if h[0] != 0x1f || h[1] != 0x8b {
                        return Err(corrupt("not a gzip stream"));
                    }
                    if h[2] != 8 {
                        return Err(corrupt("unknown compression method"));
                    }
                    if h[3] & !(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT) != 0 {
                        return Err(corrupt("reserved header flags set"));
                    }
                    self.flags = h[3];
                    self.part = self.next_header_part(Part::Header);
                }
                Part::ExtraLen => {
                    if !self.collect(input, used, 2) {
                        break;
                    }
                    let len = u16::from_le_bytes([self.fixed[0], self.fixed[1]]) as usize;
                    self.part = Part::Extra(len);
                }
                Part::Extra(left) => {
                    let take = left.min(input.len() - *used);
                    *used += take;
                    if take < left {
                        self.part = Part::Extra(left - take);
                        break;
                    }
                    self.part = self.next_header_part(Part::Extra(0));
                }
                Part::Name | Part::Comment => match input[*used..].iter().position(|&b| b == 0) {
                    Some(i) => {
                        *used += i + 1;
                        self.part = self.next_header_part(self.part);
                    }
                    None => {
                        *used = input.len();
                        break;
                    }
                },
                Part::HeaderCrc => {
                    if !self.collect(input, used, 2) {
                        break;
                    }
                    self.part = Part::Deflate;
                }
                Part::Deflate => {
                    if *written == out.len() {
                        break;
                    }
                    let before_in = self.inflate.total_in();
                    let before_out = self.inflate.total_out();
                    let status = self
                        .inflate
                        .decompress(&input[*used..], &mut out[*written..], FlushDecompress::None)
                        .map_err(|_| corrupt("invalid deflate data"))?;
                    let took = (self.inflate.total_in() - before_in) as usize;
                    let made = (self.inflate.total_out() - before_out) as usize;
                    self.crc.update(&out[*written..*written + made]);
                    *used += took;
                    *written += made;
                    self.member_len += made as u64;
                    self.total += made as u64;
                    if self.max_decoded.is_some_and(|max| self.total > max) {
                        return Err(Error::protocol(format!(
                            "the gzip response body decodes to more than the limit of {} bytes (max_decompressed_bytes)",
                            self.max_decoded.unwrap_or_default()
                        )));
                    }
                    match status {
                        Status::StreamEnd => self.part = Part::Trailer,
                        Status::Ok | Status::BufError if took == 0 && made == 0 => break,
                        Status::Ok | Status::BufError => {}
                    }
                }
                Part::Trailer => {
                    if !self.collect(input, used, 8) {
                        break;
                    }
                    let t = self.fixed;
                    let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                    let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                    let hasher = std::mem::take(&mut self.crc);
                    if hasher.finalize() != crc {
                        return Err(corrupt("CRC-32 mismatch"));
                    }
                    if (self.member_len & 0xffff_ffff) as u32 != size {
                        return Err(corrupt("length mismatch"));
                    }
                    self.member_len = 0;
                    self.inflate.reset(false);
                    self.part = Part::Between;
                }
            }
        }
        Ok(())
    }

    /// The compressed stream ended: fine only between members.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        match self.part {
            Part::Between => Ok(()),
            _ => Err(corrupt("unexpected end of stream")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Decodes `input` fed in pieces of `piece` bytes into an output buffer of `out` bytes.
    fn decode(input: &[u8], piece: usize, out: usize, max: Option<u64>) -> Result<Vec<u8>, Error> {
        let mut d = GzipDecoder::new(max);
        let mut result = Vec::new();
        let mut buf = vec![0u8; out];
        let mut pending: &[u8] = &[];
        let mut rest = input;
        loop {
            if pending.is_empty() {
                if rest.is_empty() {
                    // Drain what the inflater still holds.
                    loop {
                        let (_, n) = d.decode(&[], &mut buf)?;
                        if n == 0 {
                            break;
                        }
                        result.extend_from_slice(&buf[..n]);
                    }
                    d.finish()?;
                    return Ok(result);
                }
                let n = piece.min(rest.len());
                pending = &rest[..n];
                rest = &rest[n..];
            }
            let (used, n) = d.decode(pending, &mut buf)?;
            pending = &pending[used..];
            result.extend_from_slice(&buf[..n]);
            assert!(used > 0 || n > 0 || pending.is_empty(), "no progress");
        }
    }

    #[test]
    fn any_split_and_buffer_size_gives_the_same_bytes() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let z = gzip(&data);
        for piece in [1, 3, 64, 4096, z.len()] {
            for out in [1, 7, 1024, 100_000] {
                assert_eq!(decode(&z, piece, out, None).unwrap(), data, "{piece}/{out}");
            }
        }
    }

    #[test]
    fn header_fields_and_concatenated_members() {
        let mut with_name = gzip(b"hello ");
        // Set FNAME and FCOMMENT and insert the strings after the 10-byte header.
        with_name[3] |= FNAME | FCOMMENT;
        with_name.splice(10..10, b"name.txt\0a comment\0".iter().copied());
        let mut both = with_name.clone();
        both.extend_from_slice(&gzip(b"world"));
        for piece in [1, 5, both.len()] {
            assert_eq!(decode(&both, piece, 3, None).unwrap(), b"hello world");
        }
    }

    #[test]
    fn truncated_corrupt_and_trailing_garbage_are_errors() {
        let z = gzip(b"some text that compresses some text that compresses");
        for cut in [0, 5, 10, 15, z.len() - 4, z.len() - 1] {
            if cut == 0 {
                continue;
            }
            assert!(decode(&z[..cut], 3, 64, None).is_err(), "cut at {cut}");
        }
        let mut bad_crc = z.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert!(
            decode(&bad_crc, 64, 64, None)
                .unwrap_err()
                .to_string()
                .contains("CRC")
        );
        let mut garbage = z.clone();
        garbage.extend_from_slice(b"junk");
        assert!(decode(&garbage, 64, 64, None).is_err());
        assert!(decode(b"not gzip at all", 64, 64, None).is_err());
    }

    #[test]
    fn bytes_decoded_before_an_error_reach_the_caller_first() {
        let mut z = gzip(b"all of these bytes arrive");
        let n = z.len();
        z[n - 8] ^= 1; // a bad CRC-32
        let mut d = GzipDecoder::new(None);
        let mut out = [0u8; 64];
        let (used, written) = d.decode(&z, &mut out).unwrap();
        assert_eq!(used, z.len());
        assert_eq!(&out[..written], b"all of these bytes arrive");
        let e = d.decode(&[], &mut out).unwrap_err();
        assert!(e.to_string().contains("CRC"), "{e}");
        assert!(d.decode(b"more", &mut out).is_err(), "the error sticks");
    }

    #[test]
    fn a_decompression_bomb_hits_the_cap_with_bounded_memory() {
        let zeros = vec![0u8; 10 << 20];
        let z = gzip(&zeros);
        assert!(z.len() < 20_000);
        let e = decode(&z, 4096, 8192, Some(1 << 20)).unwrap_err();
        assert!(e.to_string().contains("max_decompressed_bytes"), "{e}");
        assert_eq!(
            decode(&z, 4096, 8192, Some(10 << 20)).unwrap().len(),
            10 << 20
        );
    }
}
