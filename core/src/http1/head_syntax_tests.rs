//! The scanner against httparse, the parser it replaced: over heads mutated at random, cut
//! short at every length and fed whole, both must accept the same heads with the same parts,
//! call the same ones partial, and refuse the same ones with the same words.

use crate::http1::head_syntax_oracle::agree;

const HEADS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 03 Dec 2026 09:00:00 GMT\r\n\
      Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\
      ETag: \"6566a1b2-d\"\r\nAccept-Ranges: bytes\r\n\r\nHello, world!",
    b"\r\n\nHTTP/1.0 404 Not Found\nX-A:b\n\n",
    b"HTTP/1.1 204\r\n\r\n",
    b"HTTP/1.1 200 \r\nEmpty:\r\nTabs:\t a\tb \t\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nFolded: first\r\n  second\r\n\tthird\r\nNext: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nLead:\r\n folded start\r\n\r\n",
    b"HTTP/1.1 500 Caf\xc3\xa9\r\nObs: \xff\xfe text\r\n\r\n",
    b"HTTP/1.1 301 Moved\r\nLocation: /a-very-long-path/that/runs/over/several/words?q=1\r\n\r\n",
];

/// Bytes the mutations draw from: line ends, whitespace, delimiters, controls, DEL, obs-text.
const ALPHABET: &[u8] = b"\r\n \t:/.01H9aZ\x00\x01\x7f\x80\xff\"";

/// A small deterministic generator (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, head: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(out.len() + 1);
        let byte = ALPHABET[rng.below(ALPHABET.len())];
        match rng.below(3) {
            0 => out.insert(at, byte),
            1 if at < out.len() => out[at] = byte,
            _ if at < out.len() => {
                out.remove(at);
            }
            _ => out.push(byte),
        }
    }
    out
}

#[test]
fn every_prefix_of_the_sample_heads_reads_as_httparse_reads_it() {
    for head in HEADS {
        for end in 0..=head.len() {
            agree(&head[..end], 64);
        }
    }
}

#[test]
fn mutated_heads_read_as_httparse_reads_them() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..40_000 {
        let head = HEADS[rng.below(HEADS.len())];
        let mutated = mutate(&mut rng, head);
        agree(&mutated, 64);
        // Cut short somewhere, too.
        agree(&mutated[..rng.below(mutated.len() + 1)], 64);
    }
}

#[test]
fn the_field_limit_counts_as_httparse_counts() {
    for head in HEADS {
        for max in 0..4 {
            agree(head, max);
        }
    }
}

#[test]
fn every_byte_value_in_every_part_reads_as_httparse_reads_it() {
    let head: &[u8] = b"HTTP/1.1 200 OK\r\nName: value here\r\n\r\n";
    for at in 0..head.len() {
        for byte in 0..=255u8 {
            let mut changed = head.to_vec();
            changed[at] = byte;
            agree(&changed, 64);
        }
    }
}

#[test]
fn values_are_checked_a_word_at_a_time_and_past_it() {
    // A bad byte at every position of a long value: in a full word, and in the tail.
    let mut head = b"HTTP/1.1 200 OK\r\nLong: ".to_vec();
    let start = head.len();
    head.extend_from_slice(b"abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n");
    for at in start..start + 36 {
        for bad in [0x00, 0x08, 0x09, 0x0b, 0x1f, 0x7f, 0x80, b'\r', b'\n'] {
            let mut changed = head.clone();
            changed[at] = bad;
            agree(&changed, 64);
        }
    }
}
