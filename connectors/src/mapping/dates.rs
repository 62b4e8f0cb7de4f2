//! Date formats of partner files, parsed with `chrono` and normalised to the ISO form
//! (`YYYY-MM-DD`) the validate stage checks.

use std::fmt::Write as _;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate};

/// One way a partner writes a date.
#[derive(Debug, Clone, PartialEq)]
pub enum DateFormat {
    /// A `strftime` pattern (`%d/%m/%Y`, `%d-%b-%Y`, `%Y-%m-%d %H:%M:%S%.3f`); any time part
    /// is read and dropped.
    Pattern {
        /// The pattern as written.
        text: String,
        /// The pattern, parsed once.
        items: Vec<Item<'static>>,
    },
    /// An Excel serial date (days since 1899-12-30, as a cell formatted "General" shows it);
    /// a fraction (the time of day) is dropped. Serials before 1 March 1900 are refused: Excel
    /// counts a 29 February 1900 that never was.
    ExcelSerial,
}

/// The name an Excel serial date is given in a mapping.
pub const EXCEL: &str = "excel";

/// The first serial Excel and the calendar agree on: 1900-03-01.
const FIRST_EXCEL_SERIAL: f64 = 61.0;
/// The last serial Excel can show: 9999-12-31.
const LAST_EXCEL_SERIAL: f64 = 2_958_465.0;
/// Whole numbers read as a year written alone rather than as a serial (which would fall in
/// 1905 to 1905-09): the years tellonce's dates may hold.
const YEARS_WRITTEN_ALONE: std::ops::RangeInclusive<f64> = 1900.0..=2099.0;

impl DateFormat {
    /// The format named by `text`: `excel`, or a `strftime` pattern that names a year, a month
    /// and a day. `Err` says what is wrong, for the mapping's problem list.
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        if text.eq_ignore_ascii_case(EXCEL) {
            return Ok(DateFormat::ExcelSerial);
        }
        let items = StrftimeItems::new(text)
            .parse_to_owned()
            .map_err(|_| format!("{text:?} is not a valid date format (strftime, such as \"%d/%m/%Y\")"))?;
        if items.iter().any(|i| matches!(i, Item::Error)) {
            return Err(format!("{text:?} is not a valid date format (strftime, such as \"%d/%m/%Y\")"));
        }
        let format = DateFormat::Pattern { text: text.to_owned(), items };
        // A pattern must find a date again in what it writes: one without a day, or with only a
        // time, cannot. The probe's day (31) and month (12) cannot be confused.
        let probe = NaiveDate::from_ymd_opt(2024, 12, 31).and_then(|d| d.and_hms_milli_opt(13, 45, 56, 789));
        let mut written = String::new();
        let round_trips = match (&format, probe) {
            (DateFormat::Pattern { items, .. }, Some(probe)) => {
                write!(written, "{}", probe.format_with_items(items.iter())).is_ok()
                    && format.parse_date(&written) == probe.date().into()
            }
            _ => false,
        };
        if round_trips {
            Ok(format)
        } else {
            Err(format!("{text:?} does not name a whole date (a year, a month and a day)"))
        }
    }

    /// The format as written in the mapping.
    pub fn as_str(&self) -> &str {
        match self {
            DateFormat::Pattern { text, .. } => text,
            DateFormat::ExcelSerial => EXCEL,
        }
    }

    /// The date `value` (trimmed) holds in this format, if it holds one.
    pub fn parse_date(&self, value: &str) -> Option<NaiveDate> {
        let value = tellonce_schemas::check::as_shown(value);
        let value = value.as_ref();
        match self {
            DateFormat::Pattern { items, .. } => {
                let read = |value: &str| {
                    let mut parsed = Parsed::new();
                    chrono::format::parse(&mut parsed, value, items.iter()).ok()?;
                    parsed.to_naive_date().ok().filter(|d| whole_year_read(items, d.year()))
                };
                read(value).or_else(|| {
                    // What spreadsheets add to a date: the apostrophe that keeps a cell as text,
                    // and a time of day (`24/09/2015 00:00`) where the column is a date-time.
                    let bare = value.strip_prefix('\'').unwrap_or(value);
                    let bare = without_time_of_day(bare);
                    (bare.len() < value.len()).then(|| read(bare)).flatten()
                })
            }
            DateFormat::ExcelSerial => {
                // Digits with at most one decimal point; no sign, exponent or `inf`.
                let plain = !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && value.bytes().filter(|&b| b == b'.').count() <= 1;
                let serial: f64 = if plain { value.parse().ok()? } else { return None };
                // A year written alone (`2019`) is a serial of 1905, read as no partner meant it:
                // no date, as a year alone is under any pattern.
                if YEARS_WRITTEN_ALONE.contains(&serial) && serial.fract() == 0.0 {
                    return None;
                }
                from_excel_serial(serial)
            }
        }
    }
}

impl DateFormat {
    /// For a value written in this format's shape that is no real day (`30/02/2024`), the year,
    /// month and day it names; `None` for a real date or a value of another shape. A mapping
    /// passes it on as `YYYY-MM-DD`, so that the record is refused as the impossible day it is
    /// (`date.calendar`), not as a format no one can read.
    pub fn impossible_day(&self, value: &str) -> Option<(i32, u32, u32)> {
        let DateFormat::Pattern { items, .. } = self else { return None };
        let mut parsed = Parsed::new();
        if chrono::format::parse(&mut parsed, value.trim(), items.iter()).is_err() {
            // chrono refuses a month past 12 or a day past 31 as it reads them.
            return slipped_numbers(items, value.trim());
        }
        if parsed.to_naive_date().is_ok() {
            return None;
        }
        // `%y` sets no year of its own: chrono's century rule (69 and below are 20xx).
        let year = parsed.year().or_else(|| parsed.year_mod_100().map(|y| if y < 70 { 2000 + y } else { 1900 + y }))?;
        whole_year_read(items, year).then_some((year, parsed.month()?, parsed.day()?))
    }
}

/// `value` without a time of day ending it (`24/09/2015 00:00`, `2015-09-24T13:45:00.000`,
/// `24/09/2015 1:45 PM`): hours and minutes, seconds and their fraction if written, and AM or
/// PM, after a space or a `T`. As it is when it ends in no time.
fn without_time_of_day(value: &str) -> &str {
    let mut rest = value.trim_end();
    for suffix in ["AM", "PM", "am", "pm"] {
        if let Some(r) = rest.strip_suffix(suffix) {
            rest = r.trim_end();
            break;
        }
    }
    let Some(at) = rest.rfind([' ', 'T']) else { return value };
    let time = &rest[at + 1..];
    let mut parts = time.splitn(3, ':');
    let digits = |s: &str, most: usize| !s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit());
    let hours = parts.next().is_some_and(|h| digits(h, 2));
    let minutes = parts.next().is_some_and(|m| m.len() == 2 && digits(m, 2));
    let seconds = parts.next().is_none_or(|s| {
        let (whole, fraction) = s.split_once(['.', ',']).unwrap_or((s, "0"));
        whole.len() == 2 && digits(whole, 2) && digits(fraction, 9)
    });
    if hours && minutes && seconds { rest[..at].trim_end() } else { value }
}

/// The year, month and day of `value` read by a pattern of numbers and separators alone
/// (`%d/%m/%Y`, `%Y%m%d`), where the month or the day is out of range: `24/99/1931`, a month
/// mistyped, names the parts `1931`, `99` and `24`. A year takes four digits (1000 or later), a
/// month or day one or two, and two where it has no separator from its neighbour (`%Y%m%d`).
/// `None` for any other item (a month's name, a time, `%y`), and where neither the month nor the
/// day is in range (`99/99/9999`, a placeholder rather than a slip).
fn slipped_numbers(items: &[Item<'static>], value: &str) -> Option<(i32, u32, u32)> {
    use chrono::format::Numeric;
    let (mut rest, mut parts) = (value, [None::<u32>; 3]);
    for (k, item) in items.iter().enumerate() {
        match item {
            Item::Literal(l) => rest = rest.strip_prefix(*l)?,
            Item::OwnedLiteral(l) => rest = rest.strip_prefix(&**l)?,
            Item::Space(_) | Item::OwnedSpace(_) => rest = rest.trim_start(),
            Item::Numeric(field, _) => {
                let (slot, most) = match field {
                    Numeric::Year => (0, 4),
                    Numeric::Month => (1, 2),
                    Numeric::Day => (2, 2),
                    _ => return None,
                };
                let numeric = |i: Option<&Item<'static>>| matches!(i, Some(Item::Numeric(..)));
                let packed = numeric(k.checked_sub(1).and_then(|p| items.get(p))) || numeric(items.get(k + 1));
                let len = rest.bytes().take(most).take_while(u8::is_ascii_digit).count();
                let whole = if slot == 0 || packed { len == most } else { len > 0 };
                if !whole || parts[slot].is_some() {
                    return None;
                }
                parts[slot] = Some(rest[..len].parse().ok()?);
                rest = &rest[len..];
            }
            _ => return None,
        }
    }
    let (true, [Some(y), Some(m), Some(d)]) = (rest.is_empty(), parts) else { return None };
    let slip = (1..=12).contains(&m) || (1..=31).contains(&d);
    (y >= 1000 && slip).then_some((i32::try_from(y).ok()?, m, d))
}

/// Whether a year read by `items` is a whole one: `%Y` takes any number of digits, so
/// `13/07/12` under `%d/%m/%Y` is the year 12. A year before 1000 is always a shortened one in a
/// partner's file; refused, so that a mapping's next format (`%d/%m/%y`) reads it instead of a
/// record quarantined for a date out of range.
fn whole_year_read(items: &[Item<'static>], year: i32) -> bool {
    year >= 1000 || !items.iter().any(|i| matches!(i, Item::Numeric(chrono::format::Numeric::Year, _)))
}

/// The day an Excel serial date (days since 1899-12-30, a fraction for the time) falls on;
/// `None` before 1 March 1900 (Excel counts a 29 February 1900 that never was) or past
/// 9999-12-31.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(FIRST_EXCEL_SERIAL..LAST_EXCEL_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    // In range, so the whole days fit an i64 exactly.
    #[allow(clippy::cast_possible_truncation)]
    let days = serial.floor() as i64;
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(u64::try_from(days).ok()?))
}

/// `date` as `YYYY-MM-DD`.
pub fn iso(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_iso(format: &str, value: &str) -> Option<String> {
        DateFormat::parse(format).unwrap().parse_date(value).map(iso)
    }

    #[test]
    fn partner_formats_become_iso_dates() {
        assert_eq!(to_iso("%d/%m/%Y", "24/02/1986").as_deref(), Some("1986-02-24"));
        assert_eq!(to_iso("%d/%m/%Y", " 4/2/1986 ").as_deref(), Some("1986-02-04"));
        assert_eq!(to_iso("%d-%b-%Y", "24-Feb-1986").as_deref(), Some("1986-02-24"));
        assert_eq!(to_iso("%d-%b-%Y", "24-FEB-1986").as_deref(), Some("1986-02-24"));
        assert_eq!(to_iso("%d/%m/%y", "24/02/16").as_deref(), Some("2016-02-24"));
        let sql = "%Y-%m-%d %H:%M:%S%.3f";
        assert_eq!(to_iso(sql, "2024-12-31 00:00:00.000").as_deref(), Some("2024-12-31"));
        assert_eq!(to_iso(sql, "2024-12-31").as_deref(), None);
        assert_eq!(to_iso("%d/%m/%Y", "30/02/2020"), None, "no such day");
        assert_eq!(to_iso("%d/%m/%Y", "1986-02-24"), None);
        let uk = DateFormat::parse("%d/%m/%Y").unwrap();
        assert_eq!(uk.impossible_day("30/02/2020"), Some((2020, 2, 30)));
        assert_eq!(uk.impossible_day("28/02/2020"), None, "a real day");
        assert_eq!(uk.impossible_day("2020-02-30"), None, "another shape");
        // A month or day mistyped past its range is still read as the parts it names, so that
        // validation judges it as no such day and the linkage keeps the parts that are right.
        assert_eq!(uk.impossible_day("24/99/1931"), Some((1931, 99, 24)));
        assert_eq!(uk.impossible_day("74/09/1931"), Some((1931, 9, 74)));
        assert_eq!(uk.impossible_day("24/9/1931"), None, "a real day");
        for other in
            ["24/099/1931", "24/99/31", "24-99-1931", "24/99/1931 x", "x24/99/1931", "00/00/0000", "99/99/9999"]
        {
            assert_eq!(uk.impossible_day(other), None, "{other}");
        }
        let basic = DateFormat::parse("%Y%m%d").unwrap();
        assert_eq!(basic.impossible_day("19319924"), Some((1931, 99, 24)));
        assert_eq!(basic.impossible_day("1931924"), None, "seven digits: which part is short is not known");
        let named = DateFormat::parse("%d-%b-%Y").unwrap();
        assert_eq!(named.impossible_day("74-Sep-1931"), None, "only patterns of numbers");
    }

    #[test]
    fn a_time_of_day_and_a_text_apostrophe_a_spreadsheet_adds_are_read_past() {
        for value in [
            "24/09/2015 00:00",
            "24/09/2015 13:45:07",
            "24/09/2015 00:00:00.000",
            "24/09/2015T00:00",
            "24/09/2015 1:45 PM",
            "'24/09/2015",
            "'24/09/2015 00:00",
        ] {
            assert_eq!(to_iso("%d/%m/%Y", value).as_deref(), Some("2015-09-24"), "{value}");
        }
        for value in ["24/09/2015 00", "24/09/2015 0000", "24/09/2015 x", "24/09/2015 12:3", "''24/09/2015"] {
            assert_eq!(to_iso("%d/%m/%Y", value), None, "{value}");
        }
        assert_eq!(to_iso("%d %b %Y", "24 Sep 2015 00:00").as_deref(), Some("2015-09-24"));
    }

    #[test]
    fn a_whole_year_pattern_does_not_read_a_shortened_year() {
        // `%Y` would take `12` as the year 12: the record then fails as out of range, and a
        // mapping that lists `%d/%m/%y` second never reaches it.
        assert_eq!(to_iso("%d/%m/%Y", "13/07/12"), None);
        assert_eq!(to_iso("%d/%m/%Y", "13/07/0012"), None);
        assert_eq!(to_iso("%d/%m/%y", "13/07/12").as_deref(), Some("2012-07-13"));
        assert_eq!(DateFormat::parse("%d/%m/%Y").unwrap().impossible_day("31/02/12"), None);
        // An impossible day under `%y` is still the impossible day it names.
        let short = DateFormat::parse("%d/%m/%y").unwrap();
        assert_eq!(short.impossible_day("31/02/23"), Some((2023, 2, 31)));
        assert_eq!(short.impossible_day("31/02/85"), Some((1985, 2, 31)));
    }

    #[test]
    fn excel_serials_count_from_1899_12_30() {
        assert_eq!(to_iso("excel", "45657").as_deref(), Some("2024-12-31"));
        assert_eq!(to_iso("EXCEL", "31467.75").as_deref(), Some("1986-02-24"));
        assert_eq!(to_iso("excel", "61").as_deref(), Some("1900-03-01"));
        for bad in
            ["60", "-1", "1e4", "inf", "NaN", "", "12/01/2020", "2958466", "2019", "1900", "2099", "2019.0", "2019."]
        {
            assert_eq!(to_iso("excel", bad), None, "{bad}");
        }
        // Serials of 1905 to 1927 that no year is still read.
        assert_eq!(to_iso("excel", "2100").as_deref(), Some("1905-09-30"));
        assert_eq!(to_iso("excel", "1899").as_deref(), Some("1905-03-13"));
    }

    #[test]
    fn a_format_must_name_a_whole_date() {
        assert!(DateFormat::parse("%d/%m/%Y").is_ok());
        assert!(DateFormat::parse("%m/%d/%Y").is_ok());
        for bad in ["%Y-%m", "%H:%M", "%Q/%m/%Y", "dd/mm/yyyy", "%"] {
            assert!(DateFormat::parse(bad).is_err(), "{bad}");
        }
    }
}
