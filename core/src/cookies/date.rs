//! Cookie dates: the `Expires` attribute, parsed with the algorithm of RFC 6265 section 5.1.1.
//!
//! Servers write `Expires` in every date format HTTP ever had (RFC 1123, RFC 850 with two-digit
//! years and dashes, asctime, and odd mixes of them), so RFC 6265 does not define a format: it
//! defines a tolerant tokenising algorithm. We implement that algorithm by hand, because date
//! crates parse formats (`httpdate` knows exactly the three HTTP ones) and would reject dates
//! that every browser and OkHttp accept, such as `Wed, 09-Jun-2021 10:18:14 GMT`.
//!
//! The algorithm: split the string at delimiters into tokens; walk the tokens, and let the first
//! token that looks like a time (`hh:mm:ss`) be the time, the first one-or-two-digit token the
//! day of the month, the first one starting with a month name the month, and the first
//! two-to-four-digit token the year; each token is used for at most one of these. Two-digit
//! years 70–99 mean 19xx and 0–69 mean 20xx. If any part is missing or out of range (or the date
//! does not exist, like 30 February), the date is invalid and the attribute is ignored. The
//! zone is always UTC, whatever the string says.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// The last date cookies can carry, 9999-12-31T23:59:59Z: later expiry times (from a large
/// `Max-Age`) are clamped to it, as RFC 6265 section 5.2.1 asks ("the last date the user agent
/// can represent") and as OkHttp does. As seconds since the Unix epoch.
const LAST_DATE_SECONDS: i64 = 253_402_300_799;

/// [`LAST_DATE_SECONDS`] as a `SystemTime`.
pub(crate) fn last_date() -> SystemTime {
    from_unix_seconds(LAST_DATE_SECONDS)
}

/// Parses a cookie date (RFC 6265 section 5.1.1), as found in a Set-Cookie `Expires` attribute.
///
/// Returns `None` for a string that is not a valid cookie date. Every format servers use is
/// accepted, in any order of its parts, and the time zone is taken to be UTC:
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use wayfarer_core::cookies::parse_date;
///
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t)); // RFC 1123
/// assert_eq!(parse_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t)); // RFC 850
/// assert_eq!(parse_date("Sun Nov  6 08:49:37 1994"), Some(t)); // asctime
/// assert_eq!(parse_date("Sun, 06 Nov 1994"), None); // no time
/// ```
pub fn parse_date(input: impl AsRef<[u8]>) -> Option<SystemTime> {
    let mut time = None;
    let mut day = None;
    let mut month = None;
    let mut year = None;
    for token in input
        .as_ref()
        .split(|&b| is_delimiter(b))
        .filter(|t| !t.is_empty())
    {
        // Each token fills the first of these slots it fits that is still empty (step 2).
        if time.is_none() {
            if let Some(t) = parse_time(token) {
                time = Some(t);
                continue;
            }
        }
        if day.is_none() {
            if let Some(d) = leading_number(token, 1, 2) {
                day = Some(d);
                continue;
            }
        }
        if month.is_none() {
            if let Some(m) = parse_month(token) {
                month = Some(m);
                continue;
            }
        }
        if year.is_none() {
            if let Some(y) = leading_number(token, 2, 4) {
                year = Some(y);
            }
        }
    }
    let ((hour, minute, second), day, month, year) = (time?, day?, month?, year?);
    // Steps 3 and 4: two-digit years.
    let year = match year {
        70..=99 => year + 1900,
        0..=69 => year + 2000,
        _ => year,
    };
    // Step 5: ranges, and the date must exist.
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * SECONDS_PER_DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    Some(from_unix_seconds(seconds))
}

/// `delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E`: everything but digits, letters,
/// `:` and the bytes outside printable ASCII.
fn is_delimiter(b: u8) -> bool {
    matches!(b, 0x09 | 0x20..=0x2f | 0x3b..=0x40 | 0x5b..=0x60 | 0x7b..=0x7e)
}

/// A run of `min..=max` digits at the start of `token`, followed by the end or a non-digit
/// (`1*2DIGIT ( non-digit *OCTET )` and `2*4DIGIT ( non-digit *OCTET )`), as a number.
fn leading_number(token: &[u8], min: usize, max: usize) -> Option<u32> {
    let (n, _) = digits(token, min, max)?;
    Some(n)
}

/// Like [`leading_number`], also returning what follows the digits.
fn digits(token: &[u8], min: usize, max: usize) -> Option<(u32, &[u8])> {
    let len = token.iter().take_while(|b| b.is_ascii_digit()).count();
    if len < min || len > max {
        return None;
    }
    let n = token[..len]
        .iter()
        .fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    Some((n, &token[len..]))
}

/// `time = hms-time ( non-digit *OCTET )`, `hms-time = time-field ":" time-field ":" time-field`,
/// `time-field = 1*2DIGIT`.
fn parse_time(token: &[u8]) -> Option<(u32, u32, u32)> {
    let (hour, rest) = digits(token, 1, 2)?;
    let rest = rest.strip_prefix(b":")?;
    let (minute, rest) = digits(rest, 1, 2)?;
    let rest = rest.strip_prefix(b":")?;
    // `digits` already refuses a third digit, so what follows is the end or a non-digit.
    let (second, _) = digits(rest, 1, 2)?;
    Some((hour, minute, second))
}

/// `month = ( "jan" / "feb" / ... / "dec" ) *OCTET`, case-insensitive: 1 to 12.
fn parse_month(token: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let prefix = token.get(..3)?;
    MONTHS
        .iter()
        .position(|m| prefix.eq_ignore_ascii_case(&m[..]))
        .map(|i| i as u32 + 1)
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`; small enough that a date crate is not worth a dependency).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `seconds` after (or before, when negative) the Unix epoch. Out of the platform's range it
/// saturates to the epoch (for the past, which is expired either way) or the last cookie date.
pub(crate) fn from_unix_seconds(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    let t = if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    t.unwrap_or(if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(LAST_DATE_SECONDS as u64)
    } else {
        UNIX_EPOCH
    })
}

/// Whole seconds since the Unix epoch, rounded down (negative before it).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -whole.saturating_add(1)
            } else {
                -whole
            }
        }
    }
}

/// Formats `t` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 section 5.6.7),
/// the form cookie dates are written in. Sub-second parts are dropped.
pub(crate) fn format_date(t: SystemTime) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = unix_seconds(t);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let in_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<SystemTime> {
        Some(from_unix_seconds(seconds))
    }

    /// 1994-11-06T08:49:37Z, the date of RFC 9110's examples.
    const NOV_6_1994: i64 = 784_111_777;
    /// 2021-06-09T10:18:14Z.
    const JUN_9_2021: i64 = 1_623_233_894;

    #[test]
    fn rfc_1123_date() {
        assert_eq!(parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), at(NOV_6_1994));
    }

    #[test]
    fn rfc_850_date_with_two_digit_year() {
        assert_eq!(parse_date("Sunday, 06-Nov-94 08:49:37 GMT"), at(NOV_6_1994));
    }

    #[test]
    fn asctime_date() {
        assert_eq!(parse_date("Sun Nov  6 08:49:37 1994"), at(NOV_6_1994));
    }

    #[test]
    fn odd_but_valid_forms() {
        for s in [
            "Wed, 09-Jun-2021 10:18:14 GMT",
            "Wed, 09 Jun 2021 10:18:14",
            "09 Jun 2021 10:18:14 UTC",
            "2021 Jun 09 10:18:14",
            "Wed,09/Jun/2021;10:18:14",
            "10:18:14 9 June 2021",
            "Wednesday, 9-JUNE-21 10:18:14GMT",
            "wed, 09 jun 2021 10:18:14 +0200", // the zone is ignored: always UTC
            "09th junk 2021th 10:18:14xyz",    // the grammar allows trailing octets
        ] {
            assert_eq!(parse_date(s), at(JUN_9_2021), "{s}");
        }
    }

    #[test]
    fn one_digit_time_fields() {
        assert_eq!(
            parse_date("9 Jun 2021 1:2:3"),
            at(JUN_9_2021 - 10 * 3600 - 18 * 60 - 14 + 3600 + 2 * 60 + 3)
        );
    }

    #[test]
    fn two_digit_years() {
        // 70..=99 -> 19xx, 0..=69 -> 20xx.
        assert_eq!(parse_date("01 Jan 70 00:00:00"), at(0));
        assert_eq!(parse_date("01 Jan 69 00:00:00"), at(3_124_224_000));
        assert_eq!(
            parse_date("01 Jan 00 00:00:00"),
            parse_date("01 Jan 2000 00:00:00")
        );
        assert_eq!(parse_date("06 Nov 94 08:49:37"), at(NOV_6_1994));
        // Three-digit years are taken as they are, and are before 1601.
        assert_eq!(parse_date("01 Jan 999 00:00:00"), None);
    }

    #[test]
    fn missing_parts_make_the_date_invalid() {
        assert_eq!(parse_date("Wed, 09 Jun 2021 GMT"), None, "no time");
        assert_eq!(parse_date("Wed, Jun 2021 10:18:14 GMT"), None, "no day");
        assert_eq!(parse_date("Wed, 09 2021 10:18:14 GMT"), None, "no month");
        assert_eq!(parse_date("Wed, 09 Jun 10:18:14 GMT"), None, "no year");
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("not a date"), None);
    }

    #[test]
    fn tokens_that_do_not_fit_a_slot() {
        // Hour and minute only: not a time.
        assert_eq!(parse_date("09 Jun 2021 10:18"), None);
        // A one-digit year is not a year; a five-digit one neither.
        assert_eq!(parse_date("09 Jun 1 10:18:14"), None);
        assert_eq!(parse_date("09 Jun 20210 10:18:14"), None);
        // A three-digit time field is not a time field.
        assert_eq!(parse_date("09 Jun 2021 100:18:14"), None);
    }

    #[test]
    fn first_match_wins_and_each_token_fills_one_slot() {
        // "10:18:14" is the time; the second time-like token is then a day-of-month ("11"),
        // which is already taken, so it is ignored.
        assert_eq!(parse_date("09 Jun 2021 10:18:14 11:00:00"), at(JUN_9_2021));
        // "09" fills the day, "21" the year: the order of day and year is by position.
        assert_eq!(parse_date("Jun 09 21 10:18:14"), at(JUN_9_2021));
    }

    #[test]
    fn out_of_range_fields_make_the_date_invalid() {
        assert_eq!(parse_date("09 Jun 2021 24:00:00"), None);
        assert_eq!(parse_date("09 Jun 2021 23:60:00"), None);
        assert_eq!(parse_date("09 Jun 2021 23:59:60"), None);
        assert_eq!(parse_date("00 Jun 2021 10:18:14"), None);
        assert_eq!(parse_date("32 Jan 2021 10:18:14"), None);
        assert_eq!(parse_date("31 Jun 2021 10:18:14"), None, "June has 30 days");
        assert_eq!(parse_date("30 Feb 2020 10:18:14"), None);
        assert_eq!(
            parse_date("29 Feb 2021 10:18:14"),
            None,
            "2021 is no leap year"
        );
        assert_eq!(
            parse_date("29 Feb 1900 00:00:00"),
            None,
            "1900 is no leap year"
        );
        assert_eq!(parse_date("29 Feb 2020 12:00:00"), at(1_582_977_600));
        assert_eq!(parse_date("29 Feb 2000 00:00:00"), at(951_782_400));
        assert_eq!(parse_date("31 Dec 1600 23:59:59"), None, "before 1601");
        assert_eq!(parse_date("01 Jan 1601 00:00:00"), at(-11_644_473_600));
        assert_eq!(parse_date("31 Dec 9999 23:59:59"), at(LAST_DATE_SECONDS));
    }

    #[test]
    fn bytes_outside_ascii_are_part_of_tokens() {
        // 0x80..=0xFF are non-delimiters: "09\xff" is still a day (digits then a non-digit).
        assert_eq!(parse_date(b"09\xff Jun 2021 10:18:14"), at(JUN_9_2021));
        // ...but "\xffJun" does not start with a month name.
        assert_eq!(parse_date(b"09 \xffJun 2021 10:18:14"), None);
    }

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(
            format_date(from_unix_seconds(NOV_6_1994)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(format_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_date(from_unix_seconds(-11_644_473_600)),
            "Mon, 01 Jan 1601 00:00:00 GMT"
        );
        assert_eq!(format_date(last_date()), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            format_date(UNIX_EPOCH - Duration::from_millis(500)),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
    }

    #[test]
    fn formatted_dates_parse_back() {
        for s in [
            -11_644_473_600,
            -1,
            0,
            1,
            NOV_6_1994,
            2_147_483_648,
            LAST_DATE_SECONDS,
        ] {
            let t = from_unix_seconds(s);
            assert_eq!(parse_date(format_date(t)), Some(t), "{s}");
        }
    }
}
