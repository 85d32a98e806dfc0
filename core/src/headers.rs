//! Ordered header fields with case-insensitive lookup ([`Headers`]).

use std::fmt;

use bytes::Bytes;

use crate::Error;

/// An ordered list of header fields.
///
/// A received head is stored as one allocation: its bytes followed by a table of
/// where each name and value lies in them. Reading a response's fields is the hot path and
/// changing them is rare, so the head costs one allocation instead of a list plus a refcounted
/// slice per name and value; the first change turns it into the list form.
///
/// Names keep the case they were given (some servers still care, and `-v` output should show
/// what went on the wire) and fields keep their order. Values are bytes: HTTP allows obs-text, so
/// [`Headers::get`] gives `&str` only for values that are valid UTF-8, and
/// [`Headers::get_bytes`] always works.
///
/// Everything a caller adds is validated, so a name or value that would let a caller inject a
/// header or split a request (CR, LF, NUL and other controls) is refused with
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent.
///
/// ```
/// use wayfarer_core::Headers;
///
/// let mut headers = Headers::new();
/// headers.append("Accept", "text/plain")?;
/// headers.append("X-Trace", "a")?;
/// headers.append("x-trace", "b")?;
/// assert_eq!(headers.get("accept"), Some("text/plain"));
/// assert_eq!(headers.get_all("X-TRACE").collect::<Vec<_>>(), [&b"a"[..], &b"b"[..]]);
/// assert!(headers.append("X-Bad", "a\r\nInjected: yes").is_err());
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    /// Fields built by the caller (or changed after they were received); empty while
    /// `received` holds the fields.
    list: Vec<(Bytes, Bytes)>,
    /// Fields as received, until they change.
    received: Option<Received>,
}

/// A received head's fields in one shared block: the head's bytes, then a table of
/// [`TABLE_ENTRY`] bytes per field (name start, name end, value start, value end, as
/// little-endian u32 offsets into the block), then the values that had to be rewritten
/// (obs-fold unfolded).
#[derive(Clone)]
struct Received {
    block: Bytes,
    table: usize,
    len: usize,
    /// Which name lengths occur: bit `n` for a name of `n` bytes (bit 63 for 63 and longer).
    /// Most lookups are for a field a response does not have (`Transfer-Encoding`,
    /// `Content-Encoding`, `Cache-Control` ...), and this answers those without a scan.
    name_lengths: u64,
    /// Which name lengths occur more than once. Most names a lookup asks for have a length
    /// no other field of the head shares (`Content-Length`, `Connection`): once one is found,
    /// this says there is no second one, without scanning the rest of the head for it.
    repeated_lengths: u64,
}

/// A name length's bit in [`Received::name_lengths`].
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// Bytes per field in a [`Received`] table.
const TABLE_ENTRY: usize = 16;

impl Received {
    fn word(&self, at: usize) -> usize {
        le_u32(self.block.get(at..).unwrap_or_default())
    }

    fn range(&self, at: usize) -> std::ops::Range<usize> {
        self.word(at)..self.word(at + 4)
    }

    fn part(&self, at: usize) -> &[u8] {
        self.block.get(self.range(at)).unwrap_or_default()
    }

    /// Where field `i`'s table entry starts.
    fn entry(&self, i: usize) -> usize {
        self.table + i * TABLE_ENTRY
    }

    fn field(&self, i: usize) -> (&[u8], &[u8]) {
        (self.part(self.entry(i)), self.value(i))
    }

    fn value(&self, i: usize) -> &[u8] {
        self.part(self.entry(i) + 8)
    }

    /// The first field at or after `from` named `name` (ASCII case-insensitively). Lookups
    /// are the hot path of a response (framing, the bridge, the cache each ask for a few
    /// names): a name of the wrong length is passed over on its two offsets alone, without
    /// reading the value's.
    ///
    /// Kept out of line (see [`Headers::find`]): the look-ups each test the name's length
    /// inline and call this one scan.
    #[inline(never)]
    fn find(&self, name: &[u8], from: usize) -> Option<usize> {
        if self.name_lengths & length_bit(name.len()) == 0 {
            return None;
        }
        let (start, end) = (self.entry(from), self.entry(self.len));
        let entries = self.block.get(start..end)?.chunks_exact(TABLE_ENTRY);
        entries
            .enumerate()
            .find(|(_, entry)| {
                let (s, e) = (le_u32(entry), le_u32(&entry[4..]));
                e.wrapping_sub(s) == name.len()
                    && self.block.get(s..e).is_some_and(|n| same_name(n, name))
            })
            .map(|(i, _)| from + i)
    }

    /// Field `i`'s name and value as slices of the shared block (no copy).
    fn shared_field(&self, i: usize) -> (Bytes, Bytes) {
        let at = self.entry(i);
        let slice = |range: std::ops::Range<usize>| {
            if range.start <= range.end && range.end <= self.block.len() {
                self.block.slice(range)
            } else {
                Bytes::new()
            }
        };
        (slice(self.range(at)), slice(self.range(at + 8)))
    }

    /// The next field named `name` after field `found`, which is named `name`.
    fn find_after(&self, name: &[u8], found: usize) -> Option<usize> {
        if self.repeated_lengths & length_bit(name.len()) == 0 {
            return None;
        }
        self.find(name, found + 1)
    }
}

/// The little-endian `u32` at the start of `bytes` (a [`Received`] table offset); 0 when
/// fewer than four bytes are left.
fn le_u32(bytes: &[u8]) -> usize {
    let mut w = [0u8; 4];
    if let Some(first) = bytes.get(..4) {
        w.copy_from_slice(first);
    }
    u32::from_le_bytes(w) as usize
}

/// A field name as `Bytes`. The names callers set most are static, so adding one of them costs
/// no allocation (a name keeps the case it was given, so only exact spellings match); any other
/// name is copied.
fn name_bytes(name: &str) -> Bytes {
    macro_rules! common {
        ($($known:literal)|*) => {
            match name {
                $($known => Bytes::from_static($known.as_bytes()),)*
                _ => Bytes::copy_from_slice(name.as_bytes()),
            }
        };
    }
    common!(
        "Accept"
            | "Accept-Encoding"
            | "Accept-Language"
            | "Authorization"
            | "Cache-Control"
            | "Connection"
            | "Content-Length"
            | "Content-Type"
            | "Cookie"
            | "Host"
            | "If-Match"
            | "If-Modified-Since"
            | "If-None-Match"
            | "Origin"
            | "Range"
            | "Referer"
            | "User-Agent"
            | "X-Api-Key"
            | "X-Request-Id"
            | "X-Requested-With"
            | "accept"
            | "authorization"
            | "content-type"
            | "cookie"
            | "user-agent"
    )
}

/// Whether two field names are equal, ASCII case-insensitively.
///
/// Names are compared eight bytes at a time (std's comparison goes byte by byte below 16
/// bytes): every lookup that finds its field compares a whole name, and the names looked up
/// most (`Content-Length`, `Connection`, `Content-Type`) are 10 to 14 bytes long.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() < 8 {
        return a.eq_ignore_ascii_case(b);
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        lower8(u64::from_le_bytes(w))
    };
    // Whole words, then the last eight bytes (overlapping the last word when the length is
    // not a multiple of eight).
    let last = a.len() - 8;
    (0..last).step_by(8).all(|at| word(a, at) == word(b, at)) && word(a, last) == word(b, last)
}

/// Eight bytes with every ASCII capital turned into its small letter, and nothing else changed.
fn lower8(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Per byte, without carries between bytes: the high bit of `at_least_a` is set where the
    // low seven bits are 'A' or more, that of `past_z` where they are past 'Z'; a byte with
    // its own high bit set is not ASCII and is left alone.
    let low = x & (0x7f * ONES);
    let at_least_a = low + (0x80 - u64::from(b'A')) * ONES;
    let past_z = low + (0x7f - u64::from(b'Z')) * ONES;
    let capital = at_least_a & !past_z & !x & (0x80 * ONES);
    x | (capital >> 2)
}

/// Builds the one-allocation form of a received head (see [`Headers`]).
pub(crate) struct ReceivedBuilder {
    block: Vec<u8>,
    table: usize,
    next: usize,
    name_lengths: u64,
    repeated_lengths: u64,
}

impl ReceivedBuilder {
    /// A block for `fields` fields found in `head`, with room for `rewritten` bytes of
    /// rewritten values. `None` when offsets would not fit the table (a head over 4 GiB).
    pub(crate) fn new(head: &[u8], fields: usize, rewritten: usize) -> Option<ReceivedBuilder> {
        let size = head.len() + fields * TABLE_ENTRY + rewritten;
        u32::try_from(size).ok()?;
        let mut block = Vec::with_capacity(size);
        block.extend_from_slice(head);
        block.resize(head.len() + fields * TABLE_ENTRY, 0);
        Some(ReceivedBuilder {
            block,
            table: head.len(),
            next: 0,
            name_lengths: 0,
            repeated_lengths: 0,
        })
    }

    /// Adds a field whose name and value lie in the head at these ranges.
    pub(crate) fn push(&mut self, name: std::ops::Range<usize>, value: std::ops::Range<usize>) {
        let at = self.table + self.next * TABLE_ENTRY;
        if let Some(entry) = self.block.get_mut(at..at + TABLE_ENTRY) {
            for (slot, n) in
                entry
                    .chunks_exact_mut(4)
                    .zip([name.start, name.end, value.start, value.end])
            {
                // `new` checked that every offset fits.
                slot.copy_from_slice(&(n as u32).to_le_bytes());
            }
            self.next += 1;
            let bit = length_bit(name.len());
            self.repeated_lengths |= self.name_lengths & bit;
            self.name_lengths |= bit;
        }
    }

    /// Adds a field whose value is written by `write` after the table.
    pub(crate) fn push_rewritten(
        &mut self,
        name: std::ops::Range<usize>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let start = self.block.len();
        write(&mut self.block);
        let end = self.block.len();
        self.push(name, start..end);
    }

    pub(crate) fn finish(self) -> Headers {
        Headers {
            list: Vec::new(),
            received: Some(Received {
                table: self.table,
                len: self.next,
                name_lengths: self.name_lengths,
                repeated_lengths: self.repeated_lengths,
                // A block filled to its capacity becomes `Bytes` without another allocation.
                block: Bytes::from(self.block),
            }),
        }
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.len() == other.len() && self.fields().eq(other.fields())
    }
}

impl Eq for Headers {}

impl Headers {
    /// An empty list.
    pub fn new() -> Headers {
        Headers::default()
    }

    pub(crate) fn with_capacity(n: usize) -> Headers {
        Headers {
            list: Vec::with_capacity(n),
            received: None,
        }
    }

    /// Number of fields (a name that appears twice counts twice).
    pub fn len(&self) -> usize {
        match &self.received {
            Some(r) => r.len,
            None => self.list.len(),
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn field(&self, i: usize) -> (&[u8], &[u8]) {
        match &self.received {
            Some(r) => r.field(i),
            None => self.list.get(i).map_or((&[][..], &[][..]), |(n, v)| (n, v)),
        }
    }

    /// The index of the first field at or after `from` named `name`, ASCII case-insensitively.
    ///
    /// Inline, so each look-up (framing, the bridge, the charset ask for a few per response)
    /// picks the form in place and calls the received table's scan directly: left to itself
    /// the compiler sometimes folded that scan in here and called this instead, which cost
    /// about 200 instructions per response, depending on what else the module held.
    #[inline]
    fn find(&self, name: &[u8], from: usize) -> Option<usize> {
        match &self.received {
            Some(r) => r.find(name, from),
            None => self
                .list
                .get(from..)?
                .iter()
                .position(|(n, _)| same_name(n, name))
                .map(|i| i + from),
        }
    }

    /// The next field named `name` after field `found`, which is named `name`.
    fn find_after(&self, name: &[u8], found: usize) -> Option<usize> {
        match &self.received {
            Some(r) => r.find_after(name, found),
            None => self.find(name, found + 1),
        }
    }

    /// The value of field `i`.
    fn value(&self, i: usize) -> &[u8] {
        match &self.received {
            Some(r) => r.value(i),
            None => self.list.get(i).map_or(&[][..], |(_, v)| v),
        }
    }

    /// Every field as raw `(name, value)`, in order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.len()).map(|i| self.field(i))
    }

    /// The fields as a list that can change (a received head is turned into one first).
    fn list_mut(&mut self) -> &mut Vec<(Bytes, Bytes)> {
        if let Some(r) = self.received.take() {
            self.list = (0..r.len).map(|i| r.shared_field(i)).collect();
        }
        &mut self.list
    }

    /// Field `i` as bytes shared with these fields (a reference count, no copy), for adding it
    /// to other fields: `None` past the end.
    pub(crate) fn shared_field(&self, i: usize) -> Option<(Bytes, Bytes)> {
        match &self.received {
            Some(r) => (i < r.len).then(|| r.shared_field(i)),
            None => self.list.get(i).cloned(),
        }
    }

    /// The first value of `name` as text, or `None` if absent or not UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// False when no field holds `byte` anywhere: a received head is searched whole (status
    /// line included) in one vectorized pass, cheaper than looking one field up; fields set
    /// one by one answer true (maybe).
    pub(crate) fn may_hold(&self, byte: u8) -> bool {
        match &self.received {
            Some(r) => r
                .block
                .get(..r.table)
                .is_none_or(|head| memchr::memchr(byte, head).is_some()),
            None => true,
        }
    }

    /// The first value of `name` as bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.find(name.as_bytes(), 0).map(|i| self.value(i))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let name = name.as_bytes();
        std::iter::successors(self.find(name, 0), move |&i| self.find_after(name, i))
            .map(|i| self.value(i))
    }

    /// True if `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name.as_bytes(), 0).is_some()
    }

    /// Every field as `(name, value)`, in order. Names are ASCII tokens, so they are `&str`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields()
            // Names are validated tokens (or came from the head parser, which only accepts tokens).
            .map(|(n, v)| (std::str::from_utf8(n).unwrap_or(""), v))
    }

    /// Adds a field after the existing ones.
    pub fn append(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
        let value = value.as_ref();
        validate_name(name.as_bytes())?;
        validate_value(name, value)?;
        self.list_mut()
            .push((name_bytes(name), Bytes::copy_from_slice(value)));
        Ok(())
    }

    /// Replaces every field named `name` with one field holding `value`, at the position of the
    /// first one (or at the end).
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
        let value = value.as_ref();
        validate_name(name.as_bytes())?;
        validate_value(name, value)?;
        let value = Bytes::copy_from_slice(value);
        let entries = self.list_mut();
        match entries
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some(first) => {
                entries[first].1 = value;
                let mut i = first + 1;
                while i < entries.len() {
                    if entries[i].0.eq_ignore_ascii_case(name.as_bytes()) {
                        entries.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            None => entries.push((name_bytes(name), value)),
        }
        Ok(())
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        if !self.contains(name) {
            return 0;
        }
        let entries = self.list_mut();
        let before = entries.len();
        entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
        before - entries.len()
    }

    /// True if any value of `name`, read as a comma-separated list, holds `token`
    /// (case-insensitively), as for `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        let (name, token) = (name.as_bytes(), token.as_bytes());
        let mut at = self.find(name, 0);
        while let Some(i) = at {
            if list_holds(self.value(i), token) {
                return true;
            }
            at = self.find_after(name, i);
        }
        false
    }

    /// Adds a field that is already known to be valid (parsed from a head, or a constant).
    pub(crate) fn push_unchecked(&mut self, name: Bytes, value: Bytes) {
        self.list_mut().push((name, value));
    }
}

impl fmt::Debug for Headers {
    /// Shows every field, except that the values of credential fields (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`, `Set-Cookie`) are replaced by `██`, as OkHttp does, so
    /// a logged request or response never carries a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(n, v)| {
                let shown = if is_sensitive(n) {
                    "██".into()
                } else {
                    String::from_utf8_lossy(v)
                };
                (n, shown)
            }))
            .finish()
    }
}

/// Whether the comma-separated list `value` holds `token` as one of its items (ASCII
/// case-insensitively). Framing asks every response whether `Connection` holds `close`, and
/// the value is nearly always one item: compared whole when it has no comma.
fn list_holds(value: &[u8], token: &[u8]) -> bool {
    if value.len() < token.len() {
        return false;
    }
    if !value.contains(&b',') {
        return trim_ows(value).eq_ignore_ascii_case(token);
    }
    value
        .split(|&b| b == b',')
        .any(|item| trim_ows(item).eq_ignore_ascii_case(token))
}

/// Fields whose values are credentials: never shown in `Debug` output or error messages.
pub(crate) fn is_sensitive(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|s| name.eq_ignore_ascii_case(s))
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a [u8])> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Strips optional whitespace (SP / HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// A field name must be a non-empty token.
///
/// The error does not show the name: an invalid one is often a whole `Name: value` line or a
/// value passed as the name, and the value may be a credential (OkHttp once leaked
/// `Authorization` values this way, CVE-2023-0833). The position and the offending character
/// are enough to find the mistake.
pub(crate) fn validate_name(name: &[u8]) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid_input("header name is empty"));
    }
    if let Some(at) = name.iter().position(|&b| !is_tchar(b)) {
        return Err(Error::invalid_input(format!(
            "invalid header name: it contains {:?} at byte {at}, and a name may hold only \
             letters, digits and !#$%&'*+-.^_`|~",
            char::from(name[at])
        )));
    }
    Ok(())
}

/// A field value may hold visible characters, spaces, tabs and obs-text, but no controls: CR or
/// LF would end the field (header injection, request splitting) and NUL is refused by servers.
///
/// The error names the field and the character, never the value, which may be a credential.
pub(crate) fn validate_value(name: &str, value: &[u8]) -> Result<(), Error> {
    if let Some(&bad) = value
        .iter()
        .find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(Error::invalid_input(format!(
            "value of header {name} contains the control character {:?}",
            bad as char
        )));
    }
    Ok(())
}

impl From<&Headers> for http::HeaderMap {
    /// Converts to the `http` crate's map. Names are lowercased by `http`; fields whose name or
    /// value `http` rejects are skipped.
    fn from(headers: &Headers) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(headers.len());
        for (n, v) in headers.iter() {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(n.as_bytes()),
                http::HeaderValue::from_bytes(v),
            ) {
                map.append(n, v);
            }
        }
        map
    }
}

impl TryFrom<&http::HeaderMap> for Headers {
    type Error = Error;
    fn try_from(map: &http::HeaderMap) -> Result<Headers, Error> {
        let mut headers = Headers::with_capacity(map.len());
        for (n, v) in map {
            headers.append(n.as_str(), v.as_bytes())?;
        }
        Ok(headers)
    }
}

#[cfg(test)]
#[path = "headers_tests.rs"]
mod tests;
