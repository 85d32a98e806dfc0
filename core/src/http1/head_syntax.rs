//! The syntax of a response head (RFC 9112 sections 2.2, 4 and 5): the status line and the
//! field lines, checked and located in one pass.
//!
//! Hand-rolled rather than httparse, for speed on the path every response takes: httparse
//! fills an array of borrowed fields that [`head`](super::head) then turned into the offsets
//! of its one-allocation [`Headers`](crate::Headers) (after counting the head's lines to find
//! folded values), and it dispatches to SIMD routines per field value, which costs more than
//! it saves on values a few dozen bytes long. This scanner writes offsets directly, checks a
//! value eight bytes at a time in a plain `u64`, and notes folded values as it meets them:
//! reading nginx's usual eight-field head takes about a fifth fewer instructions, some 250
//! of the 17,500 a keep-alive GET costs the blocking client.
//!
//! It accepts exactly what httparse (with obs-fold allowed in responses, its other options
//! off) accepts, reports a head that ends early as partial where httparse does, and fails
//! with httparse's words otherwise: a test compares the two over a large corpus of mutated
//! heads. Briefly:
//! - empty lines (CRLF or a bare LF) may precede the status line;
//! - the status line is `HTTP/1.0` or `HTTP/1.1`, one space, three digits, then either a
//!   space and a reason phrase (HTAB, SP, visible characters, obs-text) or the line's end;
//! - a field line is a token, a colon, optional spaces and tabs, and a value of HTAB, SP,
//!   visible characters and obs-text; trailing whitespace is not part of the value;
//! - a line starting with a space or tab continues the value before it (obs-fold);
//! - every line ends with CRLF or a bare LF, and an empty line ends the head.

use std::fmt;
use std::ops::Range;

use smallvec::SmallVec;

/// Where one field lies in the head: offsets as `u32` (a head is never 4 GiB long, see
/// [`scan`]), so that the list of them is small to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldAt {
    name: [u32; 2],
    /// Without the whitespace around it; line ends and indentation included when folded.
    value: [u32; 2],
    /// The value continues over more than one line (obs-fold), to be unfolded.
    folded: bool,
}

impl FieldAt {
    fn new(name: Range<usize>, value: Range<usize>, folded: bool) -> FieldAt {
        // `scan` reads at most `u32::MAX` bytes: every offset fits.
        let at = |r: Range<usize>| [r.start as u32, r.end as u32];
        FieldAt {
            name: at(name),
            value: at(value),
            folded,
        }
    }

    /// The name's bytes in the head.
    pub(crate) fn name(&self) -> Range<usize> {
        self.name[0] as usize..self.name[1] as usize
    }

    /// The value's bytes in the head.
    pub(crate) fn value(&self) -> Range<usize> {
        self.value[0] as usize..self.value[1] as usize
    }

    /// Whether the value continues over more than one line (obs-fold), to be unfolded.
    pub(crate) fn folded(&self) -> bool {
        self.folded
    }
}

/// Room for this many fields lives on the stack: most heads have a dozen or two.
pub(crate) const INLINE_FIELDS: usize = 32;

/// The fields of a head.
pub(crate) type Fields = SmallVec<[FieldAt; INLINE_FIELDS]>;

/// A complete status line and the head's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusLine {
    /// The minor version: 0 or 1.
    pub(crate) minor: u8,
    pub(crate) code: u16,
    /// The reason phrase; empty when absent, and when it holds obs-text (not UTF-8 for sure).
    pub(crate) reason: Range<usize>,
    /// The head's length in bytes, its final empty line included.
    pub(crate) len: usize,
}

/// What [`scan`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    Complete(StatusLine),
    /// The input ends before the head does.
    Partial,
    /// More fields than allowed.
    TooManyFields,
}

/// What is wrong with a head, in httparse's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyntaxError {
    FieldName,
    FieldValue,
    NewLine,
    Status,
    Version,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyntaxError::FieldName => "invalid header name",
            SyntaxError::FieldValue => "invalid header value",
            SyntaxError::NewLine => "invalid new line",
            SyntaxError::Status => "invalid response status",
            SyntaxError::Version => "invalid HTTP version",
        })
    }
}

/// Byte classes, one bit each.
const TOKEN: u8 = 1;
const VALUE: u8 = 2;
const REASON: u8 = 4;

/// The class bits of every byte value.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let token = c.is_ascii_alphanumeric()
            || matches!(c, b'!' | b'#' | b'$' | b'%' | b'&')
            || matches!(
                c,
                b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        // HTAB, SP, visible characters and obs-text: field values and reason phrases alike.
        let text = c == b'\t' || (c >= b' ' && c != 0x7f);
        table[b] = if token { TOKEN } else { 0 } | if text { VALUE | REASON } else { 0 };
        b += 1;
    }
    table
};

fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
}

/// Scans the head at the start of `input`: its status line, and its fields into `fields`
/// (at most `max_fields` of them). A head is looked for in the first 4 GiB of the input only
/// (far past any head limit): one that does not end there is partial.
pub(crate) fn scan(
    input: &[u8],
    max_fields: usize,
    fields: &mut Fields,
) -> Result<Scan, SyntaxError> {
    let input = input.get(..u32::MAX as usize).unwrap_or(input);
    let mut s = Scanner { input, at: 0 };
    match s.head(max_fields, fields) {
        Ok(scan) => Ok(scan),
        Err(Stop::Partial) => Ok(Scan::Partial),
        Err(Stop::Invalid(e)) => Err(e),
    }
}

/// Why scanning stopped early.
enum Stop {
    Partial,
    Invalid(SyntaxError),
}

impl From<SyntaxError> for Stop {
    fn from(e: SyntaxError) -> Stop {
        Stop::Invalid(e)
    }
}

struct Scanner<'a> {
    input: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn next(&mut self) -> Result<u8, Stop> {
        let b = *self.input.get(self.at).ok_or(Stop::Partial)?;
        self.at += 1;
        Ok(b)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    /// After a CR: the LF that must follow it.
    fn lf(&mut self, error: SyntaxError) -> Result<(), Stop> {
        match self.next()? {
            b'\n' => Ok(()),
            _ => Err(error.into()),
        }
    }

    fn head(&mut self, max_fields: usize, fields: &mut Fields) -> Result<Scan, Stop> {
        loop {
            match self.peek() {
                Some(b'\r') => {
                    self.at += 1;
                    self.lf(SyntaxError::NewLine)?;
                }
                Some(b'\n') => self.at += 1,
                Some(_) => break,
                None => return Err(Stop::Partial),
            }
        }
        let minor = self.version()?;
        if self.next()? != b' ' {
            return Err(SyntaxError::Version.into());
        }
        let mut code = 0u16;
        for _ in 0..3 {
            let digit = self.next()?;
            if !digit.is_ascii_digit() {
                return Err(SyntaxError::Status.into());
            }
            code = code * 10 + u16::from(digit - b'0');
        }
        let reason = match self.next()? {
            b' ' => self.reason()?,
            b'\r' => {
                self.lf(SyntaxError::Status)?;
                self.at..self.at
            }
            b'\n' => self.at..self.at,
            _ => return Err(SyntaxError::Status.into()),
        };
        loop {
            match self.next()? {
                b'\r' => {
                    self.lf(SyntaxError::NewLine)?;
                    break;
                }
                b'\n' => break,
                first if is(first, TOKEN) => {
                    let field = self.field(self.at - 1)?;
                    if fields.len() == max_fields {
                        return Ok(Scan::TooManyFields);
                    }
                    fields.push(field);
                }
                _ => return Err(SyntaxError::FieldName.into()),
            }
        }
        Ok(Scan::Complete(StatusLine {
            minor,
            code,
            reason,
            len: self.at,
        }))
    }

    /// `HTTP/1.0` or `HTTP/1.1`; a shorter input that could still become one is partial.
    fn version(&mut self) -> Result<u8, Stop> {
        let rest = self.input.get(self.at..).unwrap_or_default();
        match rest.get(..8) {
            Some(b"HTTP/1.0") | Some(b"HTTP/1.1") => {
                self.at += 8;
                Ok(rest[7] - b'0')
            }
            Some(_) => Err(SyntaxError::Version.into()),
            None if b"HTTP/1.".starts_with(&rest[..rest.len().min(7)]) => Err(Stop::Partial),
            None => Err(SyntaxError::Version.into()),
        }
    }

    /// The reason phrase, after the space that follows the code, and its line end.
    fn reason(&mut self) -> Result<Range<usize>, Stop> {
        let start = self.at;
        let mut obs_text = false;
        loop {
            let b = self.next()?;
            let end = self.at - 1;
            match b {
                b'\r' => {
                    self.lf(SyntaxError::Status)?;
                    return Ok(if obs_text { end..end } else { start..end });
                }
                b'\n' => return Ok(if obs_text { end..end } else { start..end }),
                b if !is(b, REASON) => return Err(SyntaxError::Status.into()),
                b => obs_text |= b >= 0x80,
            }
        }
    }

    /// A field line whose name starts at `start` (its first byte, a token character, read).
    ///
    /// Written over a local index into the input, with the line's pieces found in tight loops:
    /// a field line is most of a head, and a `Result` and a bounds check per byte (as `next`
    /// has) doubled its cost.
    fn field(&mut self, start: usize) -> Result<FieldAt, Stop> {
        let input = self.input;
        let mut i = self.at;
        while input.get(i).is_some_and(|&b| is(b, TOKEN)) {
            i += 1;
        }
        match input.get(i) {
            Some(b':') => i += 1,
            Some(_) => return Err(SyntaxError::FieldName.into()),
            None => return Err(Stop::Partial),
        }
        let name = start..i - 1;
        // Whitespace, and folds, before the value are no part of it.
        let value_start = loop {
            match *input.get(i).ok_or(Stop::Partial)? {
                b' ' | b'\t' => i += 1,
                b'\r' | b'\n' => {
                    i = line_end(input, i, SyntaxError::FieldValue)?;
                    if folds(input, i)? {
                        continue;
                    }
                    // An empty value.
                    self.at = i;
                    return Ok(FieldAt::new(name, i..i, false));
                }
                b if is(b, VALUE) => break i,
                _ => return Err(SyntaxError::FieldValue.into()),
            }
        };
        let mut folded = false;
        let value_end = loop {
            i = skip_value_bytes(input, i);
            let end = i;
            match input.get(i) {
                Some(b'\r' | b'\n') => i = line_end(input, i, SyntaxError::FieldValue)?,
                Some(_) => return Err(SyntaxError::FieldValue.into()),
                None => return Err(Stop::Partial),
            }
            if folds(input, i)? {
                folded = true;
                continue;
            }
            break end;
        };
        self.at = i;
        // Trailing whitespace (and, after a fold, line ends) is not part of the value; most
        // values end in a visible character.
        let value = &input[value_start..value_end];
        let trimmed = match value.last() {
            Some(b' ' | b'\t' | b'\r' | b'\n') => value
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .map_or(value_start, |last| value_start + last + 1),
            _ => value_end,
        };
        Ok(FieldAt::new(name, value_start..trimmed, folded))
    }
}

/// The index after the line end (CR LF, or a bare LF) at `i`; a CR without its LF is an
/// `error`.
fn line_end(input: &[u8], i: usize, error: SyntaxError) -> Result<usize, Stop> {
    match (input.get(i), input.get(i + 1)) {
        (Some(b'\n'), _) => Ok(i + 1),
        (_, Some(b'\n')) => Ok(i + 2),
        (_, Some(_)) => Err(error.into()),
        (_, None) => Err(Stop::Partial),
    }
}

/// After a line end inside a field: whether the line at `i` continues it (obs-fold). Not
/// knowable until its first byte is there.
fn folds(input: &[u8], i: usize) -> Result<bool, Stop> {
    match input.get(i) {
        None => Err(Stop::Partial),
        Some(&b) => Ok(b == b' ' || b == b'\t'),
    }
}

/// The index of the first byte at or after `i` that cannot be in a value (HTAB, SP, visible
/// characters, obs-text), usually the line's CR. Eight bytes at a time: a value's bytes are each
/// checked for being a control character (below 0x20) or DEL with a few word operations, and a
/// tab (the one control character allowed) is stepped over singly.
fn skip_value_bytes(input: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = input.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        // The high bit of each byte below 0x20 (bytes of 0x80 and up excluded), and of each
        // byte equal to 0x7f; the lowest flagged byte is exact (borrows only run upwards).
        let control = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
        let del = (x ^ (0x7f * ONES)).wrapping_sub(ONES) & !(x ^ (0x7f * ONES)) & HIGH;
        let flagged = control | del;
        if flagged == 0 {
            i += 8;
            continue;
        }
        i += (flagged.trailing_zeros() / 8) as usize;
        if input.get(i) != Some(&b'\t') {
            return i;
        }
        i += 1;
    }
    while input.get(i).is_some_and(|&b| is(b, VALUE)) {
        i += 1;
    }
    i
}

#[cfg(test)]
#[path = "head_syntax_tests.rs"]
mod tests;
