//! File names in the cache directory: the journal, and each entry's files named after a hash
//! of its key.

use std::fmt::Write as _;

use ring::digest;

/// The journal.
pub(crate) const JOURNAL: &str = "journal";
/// A journal being rebuilt, renamed over [`JOURNAL`] once complete.
pub(crate) const JOURNAL_TMP: &str = "journal.tmp";
/// The file whose exclusive lock a cache holds while it is open, against another process
/// opening the directory too. Never deleted, and empty.
pub(crate) const LOCK: &str = "journal.lock";
/// DiskLruCache's backup journal name; never written here, deleted if found.
const JOURNAL_BKP: &str = "journal.bkp";

/// Which of an entry's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Metadata = 0,
    Body = 1,
}

/// Hex digits of the key hash in a file name: 128 bits of SHA-256.
const STEM_LEN: usize = 32;

/// The stem of an entry's file names: the first 128 bits of the SHA-256 of its key, in
/// lowercase hex. Any key maps to a safe, fixed-length name; two keys sharing one would take
/// about 2^64 keys to find.
pub(crate) fn stem(key: &str) -> String {
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    let mut stem = String::with_capacity(STEM_LEN);
    for byte in &hash.as_ref()[..STEM_LEN / 2] {
        let _ = write!(stem, "{byte:02x}");
    }
    stem
}

/// A committed entry file: `<stem>.0` (metadata) or `<stem>.1` (body).
pub(crate) fn clean(stem: &str, part: Part) -> String {
    format!("{stem}.{}", part as u8)
}

/// A file being written by edit number `edit`: `<stem>.0.<edit>.tmp` or `<stem>.1.<edit>.tmp`.
///
/// The edit number keeps the files of an edit detached by a remove apart from those of the
/// key's next edit.
pub(crate) fn temporary(stem: &str, part: Part, edit: u64) -> String {
    format!("{stem}.{}.{edit}.tmp", part as u8)
}

/// What a file name in the cache directory is to the store.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// The journal itself.
    Journal,
    /// The lock file, [`LOCK`]: never deleted.
    Lock,
    /// A committed entry file, with its stem.
    Clean(&'a str),
    /// A leftover: a temporary entry file, a journal being rebuilt, a backup journal.
    Leftover,
    /// Not a name the store writes; left alone.
    Foreign,
}

/// Classifies a file name found in the cache directory.
pub(crate) fn classify(name: &str) -> Kind<'_> {
    match name {
        JOURNAL => return Kind::Journal,
        LOCK => return Kind::Lock,
        JOURNAL_TMP | JOURNAL_BKP => return Kind::Leftover,
        _ => {}
    }
    let Some((stem, rest)) = name.split_at_checked(STEM_LEN) else {
        return Kind::Foreign;
    };
    if !stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Kind::Foreign;
    }
    let Some(rest) = rest.strip_prefix(".0").or_else(|| rest.strip_prefix(".1")) else {
        return Kind::Foreign;
    };
    if rest.is_empty() {
        return Kind::Clean(stem);
    }
    match rest.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) {
        Some(edit) if !edit.is_empty() && edit.bytes().all(|b| b.is_ascii_digit()) => {
            Kind::Leftover
        }
        _ => Kind::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_fixed_length_hex_and_differ_per_key() {
        let a = stem("https://example.com/");
        let b = stem("https://example.com/a");
        assert_eq!(a.len(), STEM_LEN);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(a, stem("https://example.com/"));
        // SHA-256("abc") starts with ba7816bf8f01cfea414140de5dae2223.
        assert_eq!(stem("abc"), "ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn names_classify_as_written() {
        let s = stem("k");
        assert_eq!(classify(&clean(&s, Part::Metadata)), Kind::Clean(&s));
        assert_eq!(classify(&clean(&s, Part::Body)), Kind::Clean(&s));
        assert_eq!(classify(&temporary(&s, Part::Body, 17)), Kind::Leftover);
        assert_eq!(classify(JOURNAL), Kind::Journal);
        assert_eq!(classify(LOCK), Kind::Lock);
        assert_eq!(classify(JOURNAL_TMP), Kind::Leftover);
        assert_eq!(classify(JOURNAL_BKP), Kind::Leftover);
        for foreign in [
            "notes.txt".to_owned(),
            format!("{s}.2"),
            format!("{s}.0.tmp"),
            format!("{s}.0.x.tmp"),
            format!("{s}.01"),
            s.to_uppercase() + ".0",
            s[1..].to_owned() + ".0",
            "é".repeat(20),
        ] {
            assert_eq!(classify(&foreign), Kind::Foreign, "{foreign}");
        }
    }
}
