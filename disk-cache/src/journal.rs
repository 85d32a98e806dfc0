//! The journal format: its header, its four records, and replaying it into an index.
//!
//! Pure code over bytes; [`crate::DiskLruCache`] does the file I/O. The grammar is in the crate
//! docs.

use std::collections::HashSet;

use wayfarer_core::cache::store::{LruIndex, check_key};

/// The journal's first line.
pub(crate) const MAGIC: &str = "wayfarer.DiskLruCache";
/// The journal format version, its second line.
pub(crate) const VERSION: &str = "1";
/// Values per entry (metadata and body), its fourth line.
pub(crate) const VALUE_COUNT: &str = "2";

/// The lengths a CLEAN record states for an entry's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lengths {
    pub(crate) metadata: u64,
    pub(crate) body: u64,
}

impl Lengths {
    /// The entry's size as the store counts it, or `None` if the sum overflows (a corrupt
    /// record).
    pub(crate) fn total(self) -> Option<u64> {
        self.metadata.checked_add(self.body)
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record<'a> {
    /// The entry was published (or republished) with these file lengths.
    Clean(&'a str, Lengths),
    /// An edit of the key started; without a later CLEAN or REMOVE it never finished.
    Dirty(&'a str),
    /// The entry was removed (or an edit ended with nothing to keep).
    Remove(&'a str),
    /// The entry was read: it becomes the most recently used.
    Read(&'a str),
}

impl Record<'_> {
    /// The record as a journal line, newline included.
    pub(crate) fn line(&self) -> String {
        match self {
            Record::Clean(key, lens) => format!("CLEAN {key} {} {}\n", lens.metadata, lens.body),
            Record::Dirty(key) => format!("DIRTY {key}\n"),
            Record::Remove(key) => format!("REMOVE {key}\n"),
            Record::Read(key) => format!("READ {key}\n"),
        }
    }
}

/// The header of a journal for `app_version`, blank line included.
pub(crate) fn header(app_version: u32) -> String {
    format!("{MAGIC}\n{VERSION}\n{app_version}\n{VALUE_COUNT}\n\n")
}

/// Parses one line (without its newline), or `None` if it is not a well-formed record.
fn parse_record(line: &[u8]) -> Option<Record<'_>> {
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.split(' ');
    let kind = fields.next()?;
    let key = fields.next()?;
    check_key(key).ok()?;
    let record = match kind {
        "CLEAN" => {
            let metadata = parse_length(fields.next()?)?;
            let body = parse_length(fields.next()?)?;
            Record::Clean(key, Lengths { metadata, body })
        }
        "DIRTY" => Record::Dirty(key),
        "REMOVE" => Record::Remove(key),
        "READ" => Record::Read(key),
        _ => return None,
    };
    match fields.next() {
        None => Some(record),
        Some(_) => None,
    }
}

/// A decimal length: digits only (no sign, no spaces), as `Record::line` writes them.
fn parse_length(field: &str) -> Option<u64> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

/// What a journal says, before any file is checked.
#[derive(Debug)]
pub(crate) struct Replay {
    /// Entries whose last record is CLEAN (or READ after CLEAN), in LRU order.
    pub(crate) index: LruIndex<Lengths>,
    /// Keys whose last DIRTY record was never followed by CLEAN or REMOVE.
    pub(crate) dirty: HashSet<String>,
    /// Whether the header was intact and for this app version.
    pub(crate) header_ok: bool,
    /// Lines skipped as malformed, including a final line cut short.
    pub(crate) bad_lines: usize,
}

/// Replays a journal: every newline-terminated, well-formed record after a matching header,
/// in order. Malformed lines and a final line without its newline are skipped (counted in
/// `bad_lines`); a header that does not match yields an empty replay.
pub(crate) fn replay(journal: &[u8], app_version: u32) -> Replay {
    let mut replay = Replay {
        index: LruIndex::new(),
        dirty: HashSet::new(),
        header_ok: false,
        bad_lines: 0,
    };
    let expected = header(app_version);
    let Some(records) = journal.strip_prefix(expected.as_bytes()) else {
        return replay;
    };
    replay.header_ok = true;
    let mut rest = records;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            replay.bad_lines += 1; // torn: the write of the last record never finished
            break;
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        match parse_record(line) {
            Some(record) => apply(&mut replay, record),
            None => replay.bad_lines += 1,
        }
    }
    replay
}

fn apply(replay: &mut Replay, record: Record<'_>) {
    match record {
        Record::Clean(key, lens) => {
            replay.dirty.remove(key);
            match lens.total() {
                Some(size) => {
                    replay.index.insert(key, lens, size);
                }
                None => {
                    replay.index.remove(key);
                    replay.bad_lines += 1;
                }
            }
        }
        Record::Dirty(key) => {
            replay.dirty.insert(key.to_owned());
        }
        Record::Remove(key) => {
            replay.dirty.remove(key);
            replay.index.remove(key);
        }
        Record::Read(key) => {
            replay.index.touch(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(metadata: u64, body: u64) -> Lengths {
        Lengths { metadata, body }
    }

    #[test]
    fn records_round_trip_through_their_lines() {
        let records = [
            Record::Clean("https://a.test/x?y=1", lens(12, 3400)),
            Record::Dirty("k"),
            Record::Remove("k"),
            Record::Read("k"),
        ];
        for record in records {
            let line = record.line();
            assert!(line.ends_with('\n'));
            let parsed = parse_record(line.trim_end_matches('\n').as_bytes());
            assert_eq!(parsed, Some(record));
        }
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for line in [
            "",
            "CLEAN",
            "CLEAN k",
            "CLEAN k 1",
            "CLEAN k 1 2 3",
            "CLEAN k +1 2",
            "CLEAN k -1 2",
            "CLEAN k 1 99999999999999999999999",
            "CLEAN k 1  2",
            "DIRTY",
            "DIRTY k extra",
            "DIRTY  k",
            "clean k 1 2",
            "WRITE k",
            "READ k\r",
        ] {
            assert_eq!(parse_record(line.as_bytes()), None, "{line:?}");
        }
        assert_eq!(parse_record(b"READ \xff"), None);
    }

    #[test]
    fn replay_applies_records_in_order() {
        let journal = format!(
            "{}CLEAN a 1 2\nCLEAN b 3 4\nDIRTY c\nCLEAN c 5 6\nREAD a\nDIRTY b\nCLEAN d 7 8\n\
             REMOVE d\nDIRTY e\nREAD zz\n",
            header(7)
        );
        let replay = replay(journal.as_bytes(), 7);
        assert!(replay.header_ok);
        assert_eq!(replay.bad_lines, 0);
        let keys: Vec<_> = replay.index.keys().collect();
        assert_eq!(keys, ["b", "c", "a"]);
        assert_eq!(replay.index.size(), 3 + 4 + 5 + 6 + 1 + 2);
        let mut dirty: Vec<_> = replay.dirty.iter().map(String::as_str).collect();
        dirty.sort_unstable();
        assert_eq!(dirty, ["b", "e"]);
    }

    #[test]
    fn a_torn_last_line_or_garbage_is_skipped() {
        let journal = format!("{}CLEAN a 1 2\nxx yy\nCLEAN b 3 4\nCLEAN c 5", header(1));
        let replay = replay(journal.as_bytes(), 1);
        assert_eq!(replay.bad_lines, 2);
        assert_eq!(replay.index.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_foreign_or_torn_header_replays_nothing() {
        let good = format!("{}CLEAN a 1 2\n", header(1));
        assert!(replay(good.as_bytes(), 2).index.is_empty(), "app version");
        for cut in 0..header(1).len() {
            let r = replay(&good.as_bytes()[..cut], 1);
            assert!(!r.header_ok && r.index.is_empty());
        }
        let other = good.replace(MAGIC, "libcore.io.DiskLruCache");
        assert!(!replay(other.as_bytes(), 1).header_ok);
    }

    #[test]
    fn overflowing_lengths_drop_the_entry() {
        let journal = format!("{}CLEAN a 1 2\nCLEAN a {} 1\n", header(1), u64::MAX);
        let replay = replay(journal.as_bytes(), 1);
        assert!(replay.index.is_empty());
        assert_eq!(replay.bad_lines, 1);
    }
}
