//! ISO 8601 calendar dates as days since 1970-01-01 (Arrow's `Date32`).

use crate::check::Rule;

/// Earliest plausible date: 1900-01-01.
pub const MIN_DAYS: i32 = -25_567;
/// Latest plausible date: 2099-12-31.
pub const MAX_DAYS: i32 = 47_481;

/// Parses `YYYY-MM-DD` (a trailing `T` and time part is accepted and ignored) into days since
/// 1970-01-01.
///
/// ```
/// use tellonce_schemas::identifiers::dates;
/// assert_eq!(dates::parse("1970-01-02"), Ok(1));
/// assert_eq!(dates::parse("2023-02-29").unwrap_err().code(), "date.calendar");
/// ```
pub fn parse(raw: &str) -> Result<i32, Rule> {
    parse_forms(raw, false)
}

/// Parses a date a record carries: ISO 8601 in its extended form (`YYYY-MM-DD`) or its basic
/// form (`YYYYMMDD`, as HL7 messages and many health-system extracts write it), a time part
/// allowed after `T` or a space (RFC 3339's and SQL's datetimes). The two forms cannot be
/// confused, and neither with a day-first date.
///
/// ```
/// use tellonce_schemas::identifiers::dates;
/// assert_eq!(dates::parse_value("19700102"), dates::parse("1970-01-02"));
/// assert_eq!(dates::parse_value("1970-01-02 00:00:00.000"), dates::parse("1970-01-02"));
/// assert_eq!(dates::parse_value("19700231").unwrap_err().code(), "date.calendar");
/// assert_eq!(dates::parse_value("24021986").unwrap_err().code(), "date.format");
/// ```
pub fn parse_value(raw: &str) -> Result<i32, Rule> {
    parse_forms(raw, true)
}

/// Whether `raw` is an ISO date (`YYYY-MM-DD`, any time after it) whose month is over 12 and
/// which, read with its month and day swapped, is a real day: what a date written month first
/// (`10/25/2026`) becomes when it is read day first.
pub fn month_first(raw: &str) -> bool {
    let b = raw.trim().as_bytes();
    if b.len() < 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b[..10].iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (month, day) = (two(5), two(8));
    if month <= 12 || !(1..=12).contains(&day) {
        return false;
    }
    let year = std::str::from_utf8(&b[..4]).unwrap_or("0000");
    parse_value(&format!("{year}-{day:02}-{month:02}")).is_ok()
}

/// [`parse`], and where `record` the basic form too and a time after a space.
fn parse_forms(raw: &str, record: bool) -> Result<i32, Rule> {
    let split = if record { raw.split_once(['T', ' ']) } else { raw.split_once('T') };
    let date = match split {
        // A time part may follow (`2024-02-29T10:00:00Z`), but only a time: digits and `:.+-Z`.
        Some((d, time)) if !time.is_empty() && time.bytes().all(|b| b.is_ascii_digit() || b":.+-Z".contains(&b)) => d,
        Some(_) => return Err(Rule::DateFormat),
        None => raw,
    };
    let b = date.as_bytes();
    let num = |s: &[u8]| -> Result<u32, Rule> {
        s.iter().try_fold(0u32, |acc, &c| {
            if c.is_ascii_digit() { Ok(acc * 10 + u32::from(c - b'0')) } else { Err(Rule::DateFormat) }
        })
    };
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?)
    } else if record && b.len() == 8 {
        let (y, m, d) = (num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?);
        // No month there: not this form (a day-first date with its separators dropped puts the
        // century where the month would be), so a format error, not a day that does not exist.
        if !(1..=12).contains(&m) {
            return Err(Rule::DateFormat);
        }
        (y, m, d)
    } else {
        return Err(Rule::DateFormat);
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(Rule::DateCalendar);
    }
    let days = days_from_civil(y as i32, m, d);
    if !(MIN_DAYS..=MAX_DAYS).contains(&days) {
        return Err(Rule::DateRange);
    }
    Ok(days)
}

/// The parts of a date of birth that is no date (`1931-99-24`, `19310974`) or lies in the
/// future, as `YYYY-MM-DD` digits, for the linkage encodings only. A slip of one digit leaves
/// two of the three parts as the partner meant them, and the matcher can weigh those; nulled
/// whole, the date would say nothing. So parts are read only where that holds: the year is
/// 1900–2099 and the month (1–12) or the day (1–31) is one too, which also leaves out the
/// placeholders systems write for an unknown date (`1900-00-00`, `1999-99-99`). `None` as well
/// for a date ([`parse_value`] reads it), anything after the date but a time, and eight digits
/// that may be a day-first date (their last four read as a year from 1900), whose parts would
/// be misplaced.
///
/// ```
/// use tellonce_schemas::identifiers::dates::readable_parts;
/// assert_eq!(readable_parts("1931-99-24"), Some(*b"1931-99-24"));
/// assert_eq!(readable_parts("19310974"), Some(*b"1931-09-74"));
/// assert_eq!(readable_parts("1931-02-30 00:00:00"), Some(*b"1931-02-30"));
/// for none in ["1931-09-24", "1900-00-00", "1999-99-99", "19021986", "20131986", "31/09/1931", "1931-99-24 (approx)"] {
///     assert_eq!(readable_parts(none), None, "{none}");
/// }
/// ```
pub fn readable_parts(raw: &str) -> Option<[u8; 10]> {
    let raw = raw.trim();
    if parse_value(raw).is_ok_and(|d| d <= today()) {
        return None;
    }
    let date = match raw.split_once(['T', ' ']) {
        Some((d, time)) if !time.is_empty() && time.bytes().all(|b| b.is_ascii_digit() || b":.+-Z".contains(&b)) => d,
        Some(_) => return None,
        None => raw,
    };
    let b = date.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let num = |s: &[u8]| s.iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (&b[0..4], &b[5..7], &b[8..10])
    } else if b.len() == 8 && digits(b) && !(1900..=2099).contains(&num(&b[4..8])) {
        (&b[0..4], &b[4..6], &b[6..8])
    } else {
        return None;
    };
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    let two_parts = (1900..=2099).contains(&num(y)) && ((1..=12).contains(&num(m)) || (1..=31).contains(&num(d)));
    if !two_parts {
        return None;
    }
    let mut iso = *b"0000-00-00";
    iso[0..4].copy_from_slice(y);
    iso[5..7].copy_from_slice(m);
    iso[8..10].copy_from_slice(d);
    Some(iso)
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `(year, month, day)` of a count of days since 1970-01-01.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` for a count of days since 1970-01-01.
pub fn format(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Writes `YYYY-MM-DD` for a count of days since 1970-01-01 into `out`, without allocating.
///
/// Years outside 0..=9999 cannot occur for checked dates (1900–2099); they are clamped.
pub fn write_iso(days: i32, out: &mut [u8; 10]) {
    let (y, m, d) = civil_from_days(days);
    let y = y.clamp(0, 9999) as u32;
    let digits = |n: u32, out: &mut [u8]| {
        let mut n = n;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(y, &mut out[0..4]);
    out[4] = b'-';
    digits(m, &mut out[5..7]);
    out[7] = b'-';
    digits(d, &mut out[8..10]);
}

/// `YYYY-MM` for a count of days since 1970-01-01: the generalised form of a date of birth.
pub fn year_month(days: i32) -> String {
    let (y, m, _) = civil_from_days(days);
    format!("{y:04}-{m:02}")
}

/// Today, as days since 1970-01-01 (UTC).
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i32::try_from(secs / 86_400).unwrap_or(MAX_DAYS)
}

/// This year (UTC).
pub fn current_year() -> u32 {
    u32::try_from(civil_from_days(today()).0).unwrap_or(2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_the_plausible_range() {
        for days in (MIN_DAYS..=MAX_DAYS).step_by(97) {
            assert_eq!(parse(&format(days)), Ok(days));
        }
        assert_eq!(parse("1900-01-01"), Ok(MIN_DAYS));
        assert_eq!(parse("2099-12-31"), Ok(MAX_DAYS));
    }

    #[test]
    fn impossible_and_implausible_dates_are_refused() {
        assert_eq!(parse("2023-02-30"), Err(Rule::DateCalendar));
        assert!(month_first("2026-25-10") && month_first("2026-13-12 00:00"));
        assert!(!month_first("2026-10-25") && !month_first("2026-25-13") && !month_first("2026-31-02"));
        assert!(!month_first("25/10/2026") && !month_first("2026-2-30"));
        assert_eq!(parse("2023-13-01"), Err(Rule::DateCalendar));
        assert_eq!(parse("1899-12-31"), Err(Rule::DateRange));
        assert_eq!(parse("31/12/2020"), Err(Rule::DateFormat));
        assert_eq!(parse("2020-1-01"), Err(Rule::DateFormat));
        assert_eq!(parse("2024-02-29"), Ok(days_from_civil(2024, 2, 29)));
        assert_eq!(parse("2024-02-29T10:00:00Z"), parse("2024-02-29"));
        assert_eq!(parse("2024-02-29Tjunk"), Err(Rule::DateFormat));
        assert_eq!(parse("2024-02-29T"), Err(Rule::DateFormat));
        assert_eq!(year_month(parse("2019-07-04").unwrap()), "2019-07");
        assert_eq!(parse("20190704"), Err(Rule::DateFormat), "configuration dates stay in the extended form");
        let mut iso = [0u8; 10];
        for days in (MIN_DAYS..=MAX_DAYS).step_by(101) {
            write_iso(days, &mut iso);
            assert_eq!(std::str::from_utf8(&iso).unwrap(), format(days));
        }
    }

    #[test]
    fn a_record_may_write_its_dates_in_the_basic_form_too() {
        for days in (MIN_DAYS..=MAX_DAYS).step_by(89) {
            let basic = format(days).replace('-', "");
            assert_eq!(parse_value(&basic), Ok(days));
            assert_eq!(parse_value(&format(days)), Ok(days));
        }
        assert_eq!(parse_value("20240229T101500"), parse("2024-02-29"));
        assert_eq!(parse_value("2024-02-29 10:15:00.000"), parse("2024-02-29"));
        assert_eq!(parse_value("20240229 101500"), parse("2024-02-29"));
        for bad in ["2024-02-29 ", "2024-02-29  10:15", "2024-02-29 10:15 pm", "2024-02-29 T10"] {
            assert_eq!(parse_value(bad), Err(Rule::DateFormat), "{bad:?}");
        }
        assert_eq!(parse("2024-02-29 10:15:00"), Err(Rule::DateFormat), "configuration dates: no space");
        assert_eq!(parse_value("19310931"), Err(Rule::DateCalendar), "31 September");
        assert_eq!(parse_value("18991231"), Err(Rule::DateRange));
        // A day-first or month-first date with its separators dropped is not this form: the
        // century stands where the month would, so it is a format error, never another day.
        for other in ["24021986", "13101965", "01012001", "19121920", "20011999", "12312020", "19319924"] {
            assert_eq!(parse_value(other), Err(Rule::DateFormat), "{other}");
        }
        for bad in ["2024022", "202402290", "2024-0229", "2O240229", "+2024022"] {
            assert_eq!(parse_value(bad), Err(Rule::DateFormat), "{bad}");
        }
    }
}
