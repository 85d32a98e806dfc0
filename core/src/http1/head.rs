//! Reading a response head incrementally.
//!
//! Bytes arrive in arbitrary pieces, down to one at a time. Most often the first piece holds the
//! whole head, and it is parsed at once ([`head_syntax`]), its end found on the way. When it
//! does not, [`HeadReader`] remembers how far it has looked for the blank line that ends the
//! head, so each new piece is scanned once and the head is parsed once more, when it is complete:
//! reading a head byte by byte costs about what reading it whole does, and gives the same result
//! (errors included: a bad head is always reported by that second path).
//!
//! One reader reads every head of one response: the interim (1xx) heads and then the final one.
//! Limits come from the client's configuration ([`Limits`]): the size of all those heads
//! together (checked before the blank line arrives, so a server cannot make us buffer without
//! bound), the number of interim heads, and, if set, the number of fields. Each gives a
//! [`Limit`] error.
//!
//! The status code must lie in 100..=599 (RFC 9110 section 15). RFC 9110 lets a client treat a
//! code outside that range as a 5xx; we refuse it as a protocol error instead, since such codes
//! are in practice internal values leaking out of a broken server, not a server's answer.

use std::borrow::Cow;

use http::{StatusCode, Version};

use crate::config::Limits;
use crate::headers::ReceivedBuilder;
use crate::http1::head_syntax::{self, Fields, Scan};
use crate::response::ResponseParts;
use crate::{Error, Headers, Limit};

/// Whether a response with this status is an interim one, skipped while waiting for the final
/// response. 101 is final: the connection then speaks another protocol.
pub(crate) fn is_interim(status: StatusCode) -> bool {
    status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS
}

/// Finds and parses the heads of one response in a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    /// Bytes at the start of the buffer already known not to end the head.
    scanned: usize,
    /// Empty-line bytes (CR, LF) already counted at the start of the buffer, so a server
    /// sending blank lines a byte at a time costs a linear scan, not a quadratic one.
    blank: usize,
    /// Bytes of this response's interim heads already read: they count toward the head limit.
    earlier: usize,
    /// Interim heads already read.
    interim: usize,
}

impl HeadReader {
    /// Looks for a complete head at the start of `buf`. Returns the head and its length in bytes
    /// once complete, `None` while more bytes are needed.
    ///
    /// Call again after consuming an interim head, for the next head of the same response.
    pub(crate) fn read(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<(ResponseParts, usize)>, Error> {
        let budget = limits.max_head_bytes.saturating_sub(self.earlier);
        // A head's first look: most often the whole head is there (with the start of the
        // body), and the parser finds its end on the way. Only after a partial first look
        // does the incremental scan below take over, so a head that trickles in a byte at a
        // time still costs one scan, plus this one parse of its first piece.
        if self.scanned == 0 && self.blank == 0 {
            if let Some((parts, end)) = parse_arrived(buf, limits) {
                if end > budget {
                    return Err(head_too_large(limits));
                }
                return self.arrived(parts, end, limits);
            }
        }
        // Leading empty lines before the status line are tolerated (RFC 9112 section 2.2);
        // the parser skips them too, but the end-of-head scan must not mistake them for the end.
        let blank = self.blank.min(buf.len());
        let skip = blank
            + buf[blank..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        self.blank = skip;
        // The limit counts those leading empty lines too: while the head is incomplete they are
        // buffered like the rest of it, and the check must not depend on how the bytes arrived
        // (counting them only before the head ends would refuse byte by byte what it accepts
        // whole).
        let Some(end) = self.find_end(buf, skip) else {
            if buf.len() > budget {
                return Err(head_too_large(limits));
            }
            return Ok(None);
        };
        if end > budget {
            return Err(head_too_large(limits));
        }
        self.scanned = 0;
        self.blank = 0;
        let parts = parse(&buf[..end], limits)?;
        self.arrived(parts, end, limits)
    }

    /// A complete head of `end` bytes: an interim one counts toward the limits of those to come.
    fn arrived(
        &mut self,
        parts: ResponseParts,
        end: usize,
        limits: &Limits,
    ) -> Result<Option<(ResponseParts, usize)>, Error> {
        if is_interim(parts.status) {
            self.interim += 1;
            if self.interim > limits.max_interim_responses {
                return Err(Error::limit_exceeded(
                    Limit::InterimResponses,
                    limits.max_interim_responses as u64,
                ));
            }
            self.earlier += end;
        }
        Ok(Some((parts, end)))
    }

    /// The index just past the blank line ending the head, scanning from where the last call
    /// stopped.
    fn find_end(&mut self, buf: &[u8], skip: usize) -> Option<usize> {
        // Every byte before `skip` is a CR or LF: no line end after it was looked at yet.
        let mut i = self.scanned.max(skip);
        // Line ends are found with memchr (word-at-a-time or SIMD), not byte by byte: the scan
        // runs over every head that arrives in pieces before the parser does.
        while let Some(at) = buf.get(i..).and_then(|rest| memchr::memchr(b'\n', rest)) {
            i += at;
            match buf.get(i + 1..) {
                Some([b'\n', ..]) => return Some(i + 2),
                Some([b'\r', b'\n', ..]) => return Some(i + 3),
                // Not enough bytes yet to know: look here again next time.
                Some([] | [b'\r']) => {
                    self.scanned = i;
                    return None;
                }
                _ => {}
            }
            i += 1;
        }
        self.scanned = buf.len();
        None
    }
}

fn head_too_large(limits: &Limits) -> Error {
    Error::limit_exceeded(Limit::HeadBytes, limits.max_head_bytes as u64)
}

/// Parses the head at the start of `buf` if it is all there; `None` otherwise (more bytes
/// needed, or a fault), for the incremental path to handle. Returns the head and its length.
fn parse_arrived(buf: &[u8], limits: &Limits) -> Option<(ResponseParts, usize)> {
    match parse_into(buf, limits) {
        Ok(Parsed::Head(parts, len)) => Some((parts, len)),
        // A bad head is left to the incremental path too: it reports the same error however
        // the head arrived (a head over the size limit, say, before its fields' faults).
        Ok(Parsed::Partial | Parsed::TooManyFields) | Err(_) => None,
    }
}

/// Parses a complete head.
fn parse(head: &[u8], limits: &Limits) -> Result<ResponseParts, Error> {
    match parse_into(head, limits)? {
        Parsed::Head(parts, _) => Ok(parts),
        Parsed::Partial => Err(incomplete()),
        Parsed::TooManyFields => Err(Error::limit_exceeded(
            Limit::HeaderFields,
            limits.max_headers.unwrap_or(usize::MAX) as u64,
        )),
    }
}

#[cold]
fn incomplete() -> Error {
    Error::protocol("incomplete response head")
}

/// What [`parse_into`] made of its input.
enum Parsed {
    /// The head, and its length in bytes.
    Head(ResponseParts, usize),
    /// The head does not end in the input.
    Partial,
    /// The head has more fields than the limit allows.
    TooManyFields,
}

/// Parses the head at the start of `input`.
fn parse_into(input: &[u8], limits: &Limits) -> Result<Parsed, Error> {
    let mut fields = Fields::new();
    let max_fields = limits.max_headers.unwrap_or(usize::MAX);
    let line = match head_syntax::scan(input, max_fields, &mut fields) {
        Ok(Scan::Complete(line)) => line,
        Ok(Scan::Partial) => return Ok(Parsed::Partial),
        Ok(Scan::TooManyFields) => return Ok(Parsed::TooManyFields),
        Err(e) => return Err(Error::protocol(format!("malformed response head: {e}"))),
    };
    let head = input.get(..line.len).unwrap_or(input);
    let version = match line.minor {
        0 => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let code = line.code;
    if !(100..=599).contains(&code) {
        return Err(Error::protocol(format!(
            "invalid status code {code}: not in 100-599"
        )));
    }
    let status = StatusCode::from_u16(code)
        .map_err(|_| Error::protocol(format!("invalid status code {code}")))?;
    // The standard phrase for the status (what nearly every server sends) is kept as the
    // static string it is; only another phrase is copied. The scanner leaves out a phrase
    // with obs-text, so what is left is ASCII.
    let sent = head.get(line.reason).unwrap_or_default();
    let reason = match status.canonical_reason() {
        Some(standard) if sent == standard.as_bytes() => Cow::Borrowed(standard),
        _ if sent.is_empty() => Cow::Borrowed(""),
        _ => Cow::Owned(String::from_utf8_lossy(sent).into_owned()),
    };

    // One allocation for all the fields: the head's bytes and a table of where each name and
    // value lies in them (see `Headers`). A folded value is written unfolded after the table.
    let rewritten: usize = fields
        .iter()
        .filter(|f| f.folded())
        .map(|f| f.value().len())
        .sum();
    let Some(mut block) = ReceivedBuilder::new(head, fields.len(), rewritten) else {
        return Err(Error::protocol("response head too large"));
    };
    for field in &fields {
        if field.folded() {
            let value = head.get(field.value()).unwrap_or_default();
            block.push_rewritten(field.name(), |out| unfold(value, out));
        } else {
            block.push(field.name(), field.value());
        }
    }
    let parts = ResponseParts {
        status,
        reason,
        version,
        headers: block.finish(),
    };
    Ok(Parsed::Head(parts, line.len))
}

/// Appends `value` to `out` with each obs-fold (line end plus leading whitespace) replaced by
/// one space. The result is never longer than `value`.
fn unfold(value: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' | b'\n' => {
                while i < value.len() && matches!(value[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// Parses a trailer section (header fields followed by a blank line), for chunked bodies.
pub(crate) fn parse_trailers(block: &[u8], limits: &Limits) -> Result<Headers, Error> {
    // The trailer fields are parsed behind a stand-in status line: they follow exactly the same
    // field rules as the head (obs-fold unfolded, same field limit) with one code path.
    let mut framed = Vec::with_capacity(block.len() + 17);
    framed.extend_from_slice(b"HTTP/1.1 200 T\r\n");
    framed.extend_from_slice(block);
    parse(&framed, limits)
        .map(|parts| parts.headers)
        .map_err(|e| {
            if e.limit().is_some() {
                return e;
            }
            Error::protocol(format!(
                "malformed trailer section: {}",
                e.message().trim_start_matches("malformed response head: ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_whole(input: &[u8], limits: &Limits) -> Result<Option<(ResponseParts, usize)>, Error> {
        HeadReader::default().read(input, limits)
    }

    fn read_bytewise(
        input: &[u8],
        limits: &Limits,
    ) -> Result<Option<(ResponseParts, usize)>, Error> {
        let mut reader = HeadReader::default();
        for end in 1..=input.len() {
            if let Some(done) = reader.read(&input[..end], limits)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    const HEAD: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Multi: a\r\nx-multi: b\r\n\r\nbody";

    #[test]
    fn parses_a_head_whole_and_byte_by_byte_alike() {
        let limits = Limits::default();
        for read in [read_whole, read_bytewise] {
            let (parts, len) = read(HEAD, &limits).unwrap().unwrap();
            assert_eq!(len, HEAD.len() - 4);
            assert_eq!(parts.status, StatusCode::OK);
            assert_eq!(parts.reason, "OK");
            assert_eq!(parts.version, Version::HTTP_11);
            assert_eq!(parts.headers.get("content-type"), Some("text/plain"));
            assert_eq!(parts.headers.get_all("X-MULTI").count(), 2);
        }
    }

    #[test]
    fn accepts_bare_lf_leading_blank_lines_and_missing_reason() {
        let limits = Limits::default();
        let (parts, _) = read_bytewise(b"\r\nHTTP/1.0 204\nA: 1\n\n", &limits)
            .unwrap()
            .unwrap();
        assert_eq!(parts.status, StatusCode::NO_CONTENT);
        assert_eq!(parts.reason, "");
        assert_eq!(parts.version, Version::HTTP_10);
        assert_eq!(parts.headers.get("a"), Some("1"));
    }

    #[test]
    fn unfolds_obsolete_line_folding() {
        // Whole and byte by byte, after leading empty lines and with bare LFs: a fold is found
        // wherever the head's lines lie.
        let heads: [(&[u8], &str); 4] = [
            (b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nY: 1\r\n\r\n", "a b"),
            (
                b"\r\n\n\r\nHTTP/1.1 200 OK\r\nY: 1\r\nX: a\r\n  b\r\n\r\n",
                "a b",
            ),
            (b"\n\nHTTP/1.1 200 OK\nY: 1\nX: a\n\tb\n\n", "a b"),
            (
                b"HTTP/1.1 200 OK\r\nY: 1\r\nX: a\r\n b\r\n \r\n c\r\n\r\n",
                "a b c",
            ),
        ];
        for (head, want) in heads {
            for read in [read_whole, read_bytewise] {
                let (parts, _) = read(head, &Limits::default()).unwrap().unwrap();
                assert_eq!(parts.headers.get("x"), Some(want), "{head:?}");
                assert_eq!(parts.headers.get("y"), Some("1"), "{head:?}");
            }
        }
    }

    /// A head without folding is never searched for it; one with folding only in its last
    /// field (so with exactly one line more than fields) still has it unfolded.
    #[test]
    fn a_fold_in_the_last_field_is_found_by_the_line_count() {
        let head = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nZ: x\r\n y\r\n\r\n";
        for read in [read_whole, read_bytewise] {
            let (parts, _) = read(head, &Limits::default()).unwrap().unwrap();
            assert_eq!(parts.headers.get("z"), Some("x y"));
            assert_eq!(parts.headers.get("b"), Some("2"));
        }
        let mut reader = HeadReader::default();
        let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
        let (parts, used) = reader.read(interim, &Limits::default()).unwrap().unwrap();
        assert_eq!((parts.status.as_u16(), used), (100, interim.len()));
        let (parts, _) = reader.read(head, &Limits::default()).unwrap().unwrap();
        assert_eq!(parts.headers.get("z"), Some("x y"), "after an interim head");
    }

    /// Folded values are found among any number of fields, past the 64 parsed on the stack.
    #[test]
    fn unfolds_values_past_the_sixty_fourth_field() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..70 {
            let fold = if [0, 63, 64, 69].contains(&i) {
                "\r\n\tmore"
            } else {
                ""
            };
            head.extend_from_slice(format!("F{i}: v{i}{fold}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let (parts, _) = read_whole(&head, &Limits::default()).unwrap().unwrap();
        for i in 0..70 {
            let want = if [0, 63, 64, 69].contains(&i) {
                format!("v{i} more")
            } else {
                format!("v{i}")
            };
            assert_eq!(
                parts.headers.get(&format!("f{i}")),
                Some(want.as_str()),
                "F{i}"
            );
        }
    }

    #[test]
    fn enforces_limits_before_the_head_ends() {
        let limits = Limits {
            max_head_bytes: 32,
            ..Limits::default()
        };
        let long = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let e = read_bytewise(long, &limits).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::HeadBytes));
        assert!(e.to_string().contains("max_response_head_bytes"), "{e}");
        let limits = Limits {
            max_headers: Some(2),
            ..Limits::default()
        };
        let many = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        let e = read_whole(many, &limits).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::HeaderFields));
        assert!(e.to_string().contains("max_response_headers"), "{e}");
    }

    #[test]
    fn a_head_parsed_at_first_look_fails_as_one_read_in_pieces() {
        let limits = Limits {
            max_head_bytes: 40,
            ..Limits::default()
        };
        // A bad field name, in a head that outgrows the limit before it ends: the size limit
        // is what both paths report, not the field.
        let bad = b"HTTP/1.1 200 OK\r\nBad Name: 1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaa";
        for read in [read_whole, read_bytewise] {
            let e = read(bad, &limits).unwrap_err();
            assert_eq!(e.limit(), Some(Limit::HeadBytes), "{e}");
        }
        // Whole, a head over the limit is refused though the parser read it at once.
        let long = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        let e = read_whole(long, &limits).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::HeadBytes), "{e}");
        // A first look at part of a head, then the rest: the scan takes over.
        let mut reader = HeadReader::default();
        assert!(
            reader
                .read(&HEAD[..20], &Limits::default())
                .unwrap()
                .is_none()
        );
        let (parts, len) = reader.read(HEAD, &Limits::default()).unwrap().unwrap();
        assert_eq!((parts.status, len), (StatusCode::OK, HEAD.len() - 4));
    }

    fn head_with_fields(count: usize) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..count {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    #[test]
    fn many_fields_need_no_field_limit_only_the_size_limit() {
        let head = head_with_fields(10_000);
        assert!(head.len() < Limits::default().max_head_bytes);
        let (parts, len) = read_whole(&head, &Limits::default()).unwrap().unwrap();
        assert_eq!(len, head.len());
        assert_eq!(parts.headers.len(), 10_000);
        assert_eq!(parts.headers.get("x-9999"), Some("v"));
        // Just over the stack room, and exactly at it.
        for count in [
            head_syntax::INLINE_FIELDS - 1,
            head_syntax::INLINE_FIELDS,
            head_syntax::INLINE_FIELDS + 1,
        ] {
            let (parts, _) = read_whole(&head_with_fields(count), &Limits::default())
                .unwrap()
                .unwrap();
            assert_eq!(parts.headers.len(), count);
        }
    }

    #[test]
    fn a_field_limit_is_exact_on_either_side_of_the_stack_room() {
        for max in [
            0,
            3,
            head_syntax::INLINE_FIELDS,
            head_syntax::INLINE_FIELDS + 1,
            1000,
        ] {
            let limits = Limits {
                max_headers: Some(max),
                ..Limits::default()
            };
            let (parts, _) = read_whole(&head_with_fields(max), &limits)
                .unwrap()
                .unwrap();
            assert_eq!(parts.headers.len(), max);
            let e = read_whole(&head_with_fields(max + 1), &limits).unwrap_err();
            assert_eq!(e.limit(), Some(Limit::HeaderFields), "max {max}: {e}");
        }
    }

    /// Reads every head of one response from `input` (bytewise or whole), as a call does.
    fn read_response(input: &[u8], limits: &Limits, bytewise: bool) -> Result<u16, Error> {
        let mut reader = HeadReader::default();
        let mut start = 0;
        let mut end = if bytewise { 0 } else { input.len() };
        loop {
            match reader.read(&input[start..end], limits)? {
                Some((parts, len)) => {
                    start += len;
                    end = end.max(start);
                    if !is_interim(parts.status) {
                        return Ok(parts.status.as_u16());
                    }
                }
                None if end < input.len() => end += 1,
                None => return Err(Error::protocol("incomplete")),
            }
        }
    }

    #[test]
    fn interim_heads_count_toward_the_head_limit() {
        let input =
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
        let final_len = b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n".len();
        for bytewise in [false, true] {
            let fits = Limits {
                max_head_bytes: input.len(),
                ..Limits::default()
            };
            assert_eq!(read_response(input, &fits, bytewise).unwrap(), 200);
            // Each head alone fits, but not both.
            let tight = Limits {
                max_head_bytes: input.len() - 1,
                ..Limits::default()
            };
            assert!(input.len() - final_len <= tight.max_head_bytes);
            let e = read_response(input, &tight, bytewise).unwrap_err();
            assert_eq!(e.limit(), Some(Limit::HeadBytes), "{e}");
        }
    }

    #[test]
    fn interim_heads_are_counted() {
        let input = [&b"HTTP/1.1 100 Continue\r\n\r\n"[..]; 3].concat();
        let input = [&input[..], b"HTTP/1.1 204 No Content\r\n\r\n"].concat();
        let three = Limits {
            max_interim_responses: 3,
            ..Limits::default()
        };
        assert_eq!(read_response(&input, &three, true).unwrap(), 204);
        let two = Limits {
            max_interim_responses: 2,
            ..Limits::default()
        };
        let e = read_response(&input, &two, false).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::InterimResponses));
        assert!(e.to_string().contains("max_interim_responses"), "{e}");
        // 101 is a final response, not an interim one.
        let zero = Limits {
            max_interim_responses: 0,
            ..Limits::default()
        };
        let upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        assert_eq!(read_response(upgrade, &zero, false).unwrap(), 101);
    }

    #[test]
    fn status_codes_outside_100_to_599_are_refused() {
        for ok in [100, 199, 200, 404, 599] {
            let head = format!("HTTP/1.1 {ok} X\r\n\r\n");
            let (parts, _) = read_whole(head.as_bytes(), &Limits::default())
                .unwrap()
                .unwrap();
            assert_eq!(parts.status.as_u16(), ok);
        }
        for bad in ["000", "099", "600", "999"] {
            let head = format!("HTTP/1.1 {bad} X\r\n\r\n");
            let e = read_whole(head.as_bytes(), &Limits::default()).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Protocol, "{bad}");
            assert_eq!(e.limit(), None);
        }
    }

    #[test]
    fn leading_empty_lines_count_toward_the_limit_however_the_head_arrives() {
        let input = b"\r\n\r\n\n\nHTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
        for max_head_bytes in 16..=input.len() + 1 {
            let limits = Limits {
                max_head_bytes,
                ..Limits::default()
            };
            let whole = read_whole(input, &limits).map(|r| r.map(|(_, len)| len));
            let bytewise = read_bytewise(input, &limits).map(|r| r.map(|(_, len)| len));
            assert_eq!(
                whole.is_ok(),
                max_head_bytes >= input.len(),
                "limit {max_head_bytes}"
            );
            assert_eq!(
                whole.map_err(|e| e.to_string()),
                bytewise.map_err(|e| e.to_string()),
                "limit {max_head_bytes}"
            );
        }
    }

    #[test]
    fn leading_empty_lines_are_scanned_once_each() {
        // A server may send up to the head limit of blank lines in tiny pieces; each read
        // looks only at the new bytes, so the whole costs a linear scan.
        let mut input = b"\r\n".repeat(50_000);
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
        let limits = Limits::default();
        let mut reader = HeadReader::default();
        for end in 1..=100_000 {
            assert!(reader.read(&input[..end], &limits).unwrap().is_none());
            assert_eq!(reader.blank, end, "blank bytes counted so far");
        }
        let (parts, len) = read_bytewise(&input, &limits).unwrap().unwrap();
        assert_eq!((parts.status, len), (StatusCode::OK, input.len()));
        let (_, whole) = read_whole(&input, &limits).unwrap().unwrap();
        assert_eq!(whole, input.len());
    }

    #[test]
    fn rejects_malformed_heads() {
        for bad in [
            &b"HTTP/1.1 2000 OK\r\n\r\n"[..],
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
        ] {
            let e = read_whole(bad, &Limits::default()).unwrap_err();
            assert_eq!(
                e.kind(),
                crate::ErrorKind::Protocol,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn trailers_follow_the_head_rules() {
        let t = parse_trailers(b"X: a\r\n b\r\n\r\n", &Limits::default()).unwrap();
        assert_eq!(t.get("x"), Some("a b"));
        assert!(parse_trailers(b"Bad Field\r\n\r\n", &Limits::default()).is_err());
        let limits = Limits {
            max_headers: Some(1),
            ..Limits::default()
        };
        let e = parse_trailers(b"A: 1\r\nB: 2\r\n\r\n", &limits).unwrap_err();
        assert_eq!(e.limit(), Some(Limit::HeaderFields));
    }

    #[test]
    fn parses_trailers() {
        let t = parse_trailers(b"X-Sum: 1\r\nY: 2\r\n\r\n", &Limits::default()).unwrap();
        assert_eq!(t.get("x-sum"), Some("1"));
        assert_eq!(t.len(), 2);
    }
}
