//! The validity period of an X.509 certificate, read from its DER encoding.
//!
//! A certificate trusted exactly (see [`super::exact_trust`]) is not checked by building a chain,
//! but its dates still apply. webpki parses them but keeps them private, and the X.509 crates
//! that expose them (x509-parser and its nom/asn1-rs/time stack) would more than double the
//! core's dependencies for two fields, so the path to them is walked here. It runs only on
//! certificates rustls has already parsed, and it refuses anything outside RFC 5280's strict
//! profile instead of guessing.
//!
//! ```text
//! Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
//! TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature
//!                               AlgorithmIdentifier, issuer Name, validity Validity, ... }
//! Validity ::= SEQUENCE { notBefore Time, notAfter Time }
//! Time ::= UTCTime "YYMMDDHHMMSSZ" | GeneralizedTime "YYYYMMDDHHMMSSZ"   (RFC 5280 4.1.2.5)
//! ```

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// When a certificate starts and stops being valid, in seconds since the Unix epoch (both ends
/// included, as RFC 5280 says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// Reads the validity of a DER certificate; `None` if it is not well-formed.
    pub(crate) fn of(cert: &[u8]) -> Option<Validity> {
        let (certificate, _) = expect(cert, SEQUENCE)?;
        let (mut tbs, _) = expect(certificate, SEQUENCE)?;
        if tbs.first() == Some(&VERSION) {
            tbs = tlv(tbs)?.2;
        }
        let (_, tbs) = expect(tbs, INTEGER)?;
        let (_, tbs) = expect(tbs, SEQUENCE)?; // signature algorithm
        let (_, tbs) = expect(tbs, SEQUENCE)?; // issuer
        let (validity, _) = expect(tbs, SEQUENCE)?;
        let (not_before, rest) = time(validity)?;
        let (not_after, rest) = time(rest)?;
        rest.is_empty().then_some(Validity {
            not_before,
            not_after,
        })
    }

    /// Whether `now` (seconds since the Unix epoch) falls inside the period.
    pub(crate) fn contains(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// One DER element: its tag, its contents and what follows it.
pub(crate) fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        // Long form: 1 to 4 length bytes (a certificate is far smaller than 4 GiB).
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            if rest.len() < count {
                return None;
            }
            let (bytes, rest) = rest.split_at(count);
            let len = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (len, rest)
        }
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

/// The element at the start of `input`, which must have tag `want`.
fn expect(input: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (tag, contents, rest) = tlv(input)?;
    (tag == want).then_some((contents, rest))
}

/// A `Time` in seconds since the Unix epoch, and what follows it.
fn time(input: &[u8]) -> Option<(i64, &[u8])> {
    let (tag, text, rest) = tlv(input)?;
    let (year, text) = match (tag, text.len()) {
        // RFC 5280: UTCTime years 50..99 are 19xx, 00..49 are 20xx.
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if text.last() != Some(&b'Z') {
        return None;
    }
    let [month, day, hour, minute, second] =
        [0, 2, 4, 6, 8].map(|i| digits(&text[i..i + 2]).unwrap_or(u32::MAX));
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some((seconds, rest))
}

/// ASCII decimal digits as a number; `None` if any byte is not a digit.
fn digits(text: &[u8]) -> Option<u32> {
    text.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match contents.len() {
            n @ 0..=0x7f => out.push(n as u8),
            n @ 0x80..=0xff => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(contents);
        out
    }

    /// A certificate skeleton with the given validity times (tag, text) and padding in the
    /// issuer, so both short and long length forms are exercised.
    fn cert(with_version: bool, not_before: (u8, &str), not_after: (u8, &str)) -> Vec<u8> {
        let mut tbs = Vec::new();
        if with_version {
            tbs.extend(element(VERSION, &element(INTEGER, &[2])));
        }
        tbs.extend(element(INTEGER, &[1, 2, 3]));
        tbs.extend(element(SEQUENCE, &element(0x06, &[42, 134, 72])));
        tbs.extend(element(SEQUENCE, &[0x31; 300]));
        let mut validity = element(not_before.0, not_before.1.as_bytes());
        validity.extend(element(not_after.0, not_after.1.as_bytes()));
        tbs.extend(element(SEQUENCE, &validity));
        tbs.extend(element(SEQUENCE, &[0; 10])); // subject
        let mut certificate = element(SEQUENCE, &tbs);
        certificate.extend(element(SEQUENCE, &[]));
        certificate.extend(element(0x03, &[0]));
        element(SEQUENCE, &certificate)
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        let der = cert(
            true,
            (UTC_TIME, "700101000000Z"),
            (GENERALIZED_TIME, "20380119031408Z"),
        );
        assert_eq!(
            Validity::of(&der),
            Some(Validity {
                not_before: 0,
                not_after: 2_147_483_648
            })
        );
        // Without the optional version, and across the UTCTime century pivot.
        let der = cert(
            false,
            (UTC_TIME, "491231235959Z"),
            (UTC_TIME, "500101000000Z"),
        );
        let validity = Validity::of(&der).unwrap();
        assert_eq!(validity.not_before, 2_524_607_999); // 2049-12-31T23:59:59Z
        assert_eq!(validity.not_after, -631_152_000); // 1950-01-01T00:00:00Z
    }

    #[test]
    fn leap_days_and_both_ends_of_the_period() {
        let der = cert(
            true,
            (GENERALIZED_TIME, "20240229120000Z"),
            (GENERALIZED_TIME, "21000301000000Z"),
        );
        let v = Validity::of(&der).unwrap();
        assert_eq!(v.not_before, 1_709_208_000);
        assert_eq!(v.not_after, 4_107_542_400);
        assert!(v.contains(v.not_before) && v.contains(v.not_after));
        assert!(!v.contains(v.not_before - 1) && !v.contains(v.not_after + 1));
    }

    #[test]
    fn refuses_what_rfc_5280_does_not_allow() {
        for bad in [
            (UTC_TIME, "7001010000Z"),       // no seconds
            (UTC_TIME, "700101000000+0100"), // an offset
            (GENERALIZED_TIME, "2023022912000Z"),
            (GENERALIZED_TIME, "20230229120000Z"), // not a leap year
            (GENERALIZED_TIME, "20231301000000Z"),
            (GENERALIZED_TIME, "2023010100006Z0"),
            (0x04, "20230101000000Z"), // an OCTET STRING
        ] {
            let der = cert(true, bad, (UTC_TIME, "700101000000Z"));
            assert_eq!(Validity::of(&der), None, "{bad:?}");
        }
    }

    #[test]
    fn truncated_or_garbage_input_is_refused() {
        let der = cert(
            true,
            (UTC_TIME, "700101000000Z"),
            (UTC_TIME, "800101000000Z"),
        );
        assert!(Validity::of(&der).is_some());
        for cut in 0..der.len() {
            assert_eq!(Validity::of(&der[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Validity::of(&[]), None);
        assert_eq!(Validity::of(&[0x30, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(Validity::of(&[0x30, 0x82, 0xff]), None);
    }
}
