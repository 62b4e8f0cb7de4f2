//! What a partner column's sampled values say: how well they fit a feed column, which date
//! formats read them, and which of the column's codes the partner's codes stand for.

use std::collections::BTreeMap;

use tellonce_schemas::Kind;

use crate::mapping::dates::DateFormat;
use crate::mapping::fold_heading;

/// Date formats tried, in order of preference: ISO first (the validate stage reads it without a
/// mapping), then day-first UK forms before the US month-first one, so that a column with no day
/// above 12 is read the UK way.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%b-%y",
    "%d %B %Y",
    "%Y-%m-%d %H:%M:%S%.3f",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "excel",
];

/// The ISO 8601 forms the validate stage reads itself: extended and basic.
const ISO_FORMS: [&str; 2] = ["%Y-%m-%d", "%Y%m%d"];

/// The month-first form, proposed only when no day-first form reads the values.
const US_DATE: &str = "%m/%d/%Y";
/// The day-first form it is confused with.
const UK_DATE: &str = "%d/%m/%Y";

/// The most date formats proposed for a column: enough for a case system that writes some dates
/// with a time, some with seconds, and some as Excel serials.
const MAX_FORMATS: usize = 5;

/// The least share of a column's values a second date format must read to be proposed.
const SECOND_FORMAT_SHARE: f64 = 0.01;

/// Formats that together read a date column, and what share of its values they read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateFormats {
    /// Formats, most values first; empty when ISO 8601 (`YYYY-MM-DD` or `YYYYMMDD`) reads them
    /// all (no mapping needed).
    pub(crate) formats: Vec<&'static str>,
    /// Share of the values one of them (or ISO) reads.
    pub(crate) share: f64,
    /// Whether a day-first format was chosen where month-first reads every value too (no day in
    /// the sample is above 12).
    pub(crate) ambiguous: bool,
}

/// The formats that read `values` (non-empty), by greedy cover: the format reading most of what
/// is left, while one reads a worthwhile share.
pub(crate) fn date_formats(values: &[&str]) -> DateFormats {
    let parsed: Vec<(&'static str, DateFormat)> =
        DATE_FORMATS.iter().filter_map(|f| DateFormat::parse(f).ok().map(|d| (*f, d))).collect();
    let reads: Vec<Vec<bool>> =
        parsed.iter().map(|(_, f)| values.iter().map(|v| f.parse_date(v).is_some()).collect()).collect();
    // The validate stage reads ISO 8601 in both its forms without a mapping, written in full,
    // and a value no format of a mapping reads passes to it as it is: an ISO format that reads
    // only such values takes no place in the list (it would crowd out one the column needs).
    let validate_reads = |v: &str| tellonce_schemas::identifiers::dates::parse_value(v.trim()).is_ok();
    let mut left: Vec<bool> = vec![true; values.len()];
    let mut chosen: Vec<usize> = Vec::new();
    let mut implicit: Vec<usize> = Vec::new();
    while chosen.len() < MAX_FORMATS {
        let gain = |i: usize| reads[i].iter().zip(&left).filter(|(r, l)| **r && **l).count();
        let Some(best) = (0..parsed.len())
            .filter(|i| !chosen.contains(i) && !implicit.contains(i))
            .max_by_key(|&i| (gain(i), usize::MAX - i))
        else {
            break;
        };
        let g = gain(best);
        if g == 0 || (!chosen.is_empty() && (g as f64) < SECOND_FORMAT_SHARE * values.len() as f64) {
            break;
        }
        let only_iso = ISO_FORMS.contains(&parsed[best].0)
            && values.iter().zip(&left).zip(&reads[best]).all(|((v, l), r)| !(*l && *r) || validate_reads(v));
        for (l, r) in left.iter_mut().zip(&reads[best]) {
            *l &= !r;
        }
        if only_iso { implicit.push(best) } else { chosen.push(best) }
    }
    let read = left.iter().filter(|l| !**l).count();
    let names: Vec<&'static str> = chosen.iter().map(|&i| parsed[i].0).collect();
    let count =
        |name: &str| parsed.iter().position(|(n, _)| *n == name).map_or(0, |i| reads[i].iter().filter(|r| **r).count());
    let ambiguous = names.contains(&UK_DATE) && count(US_DATE) >= count(UK_DATE);
    // A value the formats read unpadded (`2024011`) still needs the mapping to rewrite it.
    let iso_only = names.iter().all(|n| ISO_FORMS.contains(n))
        && values.iter().zip(&left).all(|(v, unread)| *unread || validate_reads(v));
    let formats = if iso_only { Vec::new() } else { names };
    DateFormats { formats, share: share(read, values.len()), ambiguous }
}

/// Whether `format` writes the year in two digits (`%y`): `chrono` reads 00-69 as 20xx and 70-99
/// as 19xx, so a parent born in 1965 written `65` reads as 2065.
pub(crate) fn two_digit_year(format: &str) -> bool {
    format.contains("%y")
}

/// How many of `values` the first of `formats` that reads each (in order) reads as a day after
/// `today`: dates of birth a two-digit year puts in the future.
pub(crate) fn read_after(values: &[&str], formats: &[&str], today: chrono::NaiveDate) -> usize {
    let parsed: Vec<DateFormat> = formats.iter().filter_map(|f| DateFormat::parse(f).ok()).collect();
    values.iter().filter(|v| parsed.iter().find_map(|f| f.parse_date(v)).is_some_and(|d| d > today)).count()
}

/// Today, as the system clock has it (UTC).
pub(crate) fn today() -> chrono::NaiveDate {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_days(chrono::Days::new(days)))
        .unwrap_or(chrono::NaiveDate::MAX)
}

/// The date formats of [`DATE_FORMATS`] but Excel serials, parsed once: a plain number such as
/// `1` or `89` reads as a serial, so only these tell a written date.
static WRITTEN_DATES: std::sync::LazyLock<Vec<DateFormat>> = std::sync::LazyLock::new(|| {
    DATE_FORMATS.iter().filter(|f| **f != "excel").filter_map(|f| DateFormat::parse(f).ok()).collect()
});

/// Whether `value` is a date as partners write one (any form of [`DATE_FORMATS`] but an Excel
/// serial).
pub(crate) fn is_written_date(value: &str) -> bool {
    let v = value.trim();
    WRITTEN_DATES.iter().any(|f| f.parse_date(v).is_some())
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// The code of `codes` a partner's value stands for, by the spelling alone: the code itself in
/// another case or spacing (`not stated` for `NOT_STATED`), or the only code that begins the
/// value or that the value begins (`Male` for `M`, `Fem` for `FEMALE`).
fn by_spelling(value: &str, codes: &[&'static str]) -> Option<&'static str> {
    let v = fold_heading(value);
    if v.is_empty() {
        return None;
    }
    if let Some(c) = codes.iter().find(|c| fold_heading(c) == v) {
        return Some(c);
    }
    let mut found = codes.iter().filter(|c| {
        let c = fold_heading(c);
        !c.is_empty() && (v.starts_with(&c) || (v.len() >= 3 && c.starts_with(&v)))
    });
    match (found.next(), found.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Whether `codes` holds all of `wanted`.
fn has(codes: &[&str], wanted: &[&str]) -> bool {
    wanted.iter().all(|w| codes.contains(w))
}

/// The code a value of a published code list stands for, where the feed column's codes are the
/// targets of that list: sex as ISO/IEC 5218 numbers (0 not known, 1 male, 2 female, 9 not
/// applicable); ethnicity as school census codes (`WBRI`, `MWBC`, `APKN`…) or NHS ethnic
/// category letters (`A`–`S`, `Z`), to the census's broad groups.
fn by_code_list(value: &str, codes: &[&'static str]) -> Option<&'static str> {
    let v = value.trim().to_ascii_uppercase();
    let pick = |code: &str| codes.iter().find(|c| **c == code).copied();
    if has(codes, &["M", "F"]) {
        return match v.as_str() {
            "1" => pick("M"),
            "2" => pick("F"),
            "0" | "9" | "NK" | "UNKNOWN" | "NOT KNOWN" => pick("U"),
            "I" | "INDETERMINATE" | "OTHER" => pick("X"),
            _ => None,
        };
    }
    if !has(codes, &["WHITE", "MIXED", "ASIAN", "BLACK", "OTHER"]) {
        return None;
    }
    let group = match v.as_str() {
        "NOBT" | "REFU" | "Z" | "99" | "NS" => "NOT_STATED",
        "CHNE" | "R" => "ASIAN",
        "OOTH" | "OARA" | "S" => "OTHER",
        "A" | "B" | "C" => "WHITE",
        "D" | "E" | "F" | "G" => "MIXED",
        "H" | "J" | "K" | "L" => "ASIAN",
        "M" | "N" | "P" => "BLACK",
        s if s.len() == 4 && s.starts_with('W') => "WHITE",
        s if s.len() == 4 && s.starts_with('M') => "MIXED",
        s if s.len() == 4 && s.starts_with('A') => "ASIAN",
        s if s.len() == 4 && s.starts_with('B') => "BLACK",
        _ => return None,
    };
    pick(group)
}

/// What the values of a code column come to.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CodeMap {
    /// Partner value → code, for values that are not a code already, with how often each was seen.
    pub(crate) map: Vec<(String, &'static str, usize)>,
    /// Distinct values that are neither a code nor mapped, with how often each was seen.
    pub(crate) unmapped: Vec<(String, usize)>,
    /// Share of the values that are a code or mapped.
    pub(crate) share: f64,
}

/// The value map a code column needs: each distinct value (trimmed, ignoring case) that is not
/// one of `codes` matched by spelling or by a published code list.
pub(crate) fn code_map(values: &[&str], codes: &[&'static str]) -> CodeMap {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *seen.entry(v.trim().to_owned()).or_default() += 1;
    }
    let mut out = CodeMap::default();
    let mut fitting = 0;
    for (value, n) in seen {
        if codes.iter().any(|c| c.eq_ignore_ascii_case(&value)) {
            fitting += n;
        } else if let Some(code) = by_code_list(&value, codes).or_else(|| by_spelling(&value, codes)) {
            fitting += n;
            out.map.push((value, code, n));
        } else {
            out.unmapped.push((value, n));
        }
    }
    out.share = share(fitting, values.len());
    out
}

/// Currency signs and codes a partner may write around an amount, and the per cent sign a
/// percentage exported as text keeps (`93.1%`): a mapping's `currency_symbol` removes either
/// from the ends of a number.
const CURRENCIES: &[&str] = &["£", "€", "$", "GBP", "EUR", "%"];

/// How a number column's values are written, where they need a `[decimals]` table to read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberForm {
    /// The decimal separator, where it is not a point.
    pub(crate) point: Option<char>,
    /// A thousands separator.
    pub(crate) thousands: Option<char>,
    /// A currency sign or code around the numbers.
    pub(crate) currency: Option<&'static str>,
}

/// The currency of `CURRENCIES` that some of `values` carry at either end (after a sign).
fn currency_of(values: &[&str]) -> Option<&'static str> {
    CURRENCIES.iter().copied().find(|c| {
        values.iter().any(|v| {
            let t = v.trim().trim_start_matches(['-', '+']).trim_start();
            t.starts_with(c) || t.ends_with(c)
        })
    })
}

/// `value` with `currency` removed from either end, its sign kept.
fn without_currency(value: &str, currency: Option<&str>) -> String {
    let Some(c) = currency else { return value.trim().to_owned() };
    let t = value.trim();
    let (sign, rest) = match t.strip_prefix(['-', '+']) {
        Some(r) => (&t[..1], r.trim_start()),
        None => ("", t),
    };
    let rest = rest.strip_prefix(c).map_or(rest, str::trim_start);
    let rest = rest.strip_suffix(c).map_or(rest, str::trim_end);
    format!("{sign}{rest}")
}

/// The spelling a number column's values need to read: currency, decimal and thousands
/// separators; `None` when they read as they are.
pub(crate) fn number_form(values: &[&str], kind: &Kind) -> Option<NumberForm> {
    let currency = currency_of(values);
    let bare: Vec<String> = values.iter().map(|v| without_currency(v, currency)).collect();
    let fits = |rewrite: &dyn Fn(&str) -> String| bare.iter().all(|v| kind.check(&rewrite(v)).is_ok());
    if fits(&|v| v.to_owned()) {
        return currency.map(|currency| NumberForm { point: None, thousands: None, currency: Some(currency) });
    }
    // A comma is the decimal separator where it is the last separator of a value and not
    // followed by exactly three digits (`3,5`, `1.250,00`); otherwise it groups thousands.
    let comma_decimal = bare.iter().any(|v| {
        let Some(at) = v.rfind([',', '.']) else { return false };
        let after = &v[at + 1..];
        v[at..].starts_with(',') && (after.len() != 3 || v[..at].contains('.'))
    });
    if comma_decimal && fits(&|v| v.replace('.', "").replace(',', ".")) {
        let thousands = bare.iter().any(|v| v.contains('.')).then_some('.');
        return Some(NumberForm { point: Some(','), thousands, currency });
    }
    if fits(&|v| v.replace(',', "")) {
        return Some(NumberForm { point: None, thousands: Some(','), currency });
    }
    None
}

/// Spellings of true and false partners use beyond those the feed reads unaided (`true`,
/// `yes`, `y`, `1`, `t` and their opposites): Access's `-1`, ticks, and Dutch or German forms.
const MORE_TRUE: &[&str] = &["-1", "x", "on", "ticked", "checked", "j", "ja", "oui", "si"];
const MORE_FALSE: &[&str] = &["off", "unticked", "unchecked", "not ticked", "nee", "nein", "non"];

/// What the values of a boolean column come to.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BooleanSpellings {
    /// Spellings read as true, with times seen (those the feed reads unaided included, so the
    /// table is whole).
    pub(crate) yes: Vec<(String, usize)>,
    /// Spellings read as false, with times seen.
    pub(crate) no: Vec<(String, usize)>,
    /// Distinct values read as neither, with times seen.
    pub(crate) unknown: Vec<(String, usize)>,
    /// Whether any value needs the table (one the feed does not read unaided).
    pub(crate) needed: bool,
}

/// The spellings of a boolean column's values (trimmed; matched without case).
pub(crate) fn boolean_spellings(values: &[&str]) -> BooleanSpellings {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        *seen.entry(v.to_owned()).or_default() += 1;
    }
    let mut out = BooleanSpellings::default();
    for (value, n) in seen {
        let native = Kind::Boolean.check(&value).ok();
        let is = |list: &[&str]| list.iter().any(|s| s.eq_ignore_ascii_case(&value));
        match native {
            Some(tellonce_schemas::Value::Bool(true)) => out.yes.push((value, n)),
            Some(_) => out.no.push((value, n)),
            None if is(MORE_TRUE) => {
                out.needed = true;
                out.yes.push((value, n));
            }
            None if is(MORE_FALSE) => {
                out.needed = true;
                out.no.push((value, n));
            }
            None => {
                out.needed = true;
                out.unknown.push((value, n));
            }
        }
    }
    out
}

/// How well `values` (non-empty) fit a column of `kind`: the share that would pass its check
/// once read by the formats or maps proposed for it.
pub(crate) fn fit(values: &[&str], kind: &Kind) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    match kind {
        Kind::Date | Kind::BirthDate => date_formats(values).share,
        Kind::Code(codes) => code_map(values, codes).share,
        Kind::Decimal { .. } | Kind::Integer { .. } => {
            let currency = currency_of(values);
            let passes = |v: &str| {
                let v = without_currency(v, currency);
                kind.check(&v).is_ok() || kind.check(&v.replace(',', "")).is_ok()
            };
            share(values.iter().filter(|v| passes(v)).count(), values.len())
        }
        Kind::Boolean => {
            let b = boolean_spellings(values);
            let known: usize = b.yes.iter().chain(&b.no).map(|(_, n)| n).sum();
            share(known, values.len())
        }
        _ => share(values.iter().filter(|v| kind.check(v).is_ok()).count(), values.len()),
    }
}

/// Whether a fit of this kind tells one column from another: a check digit, a format or a code
/// list does; a free text name or reference does not.
pub(crate) fn telling(kind: &Kind) -> bool {
    matches!(kind, Kind::NhsNumber | Kind::Upn | Kind::PncId | Kind::Postcode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_dates_sql_server_datetimes_and_excel_serials_are_found_and_iso_needs_nothing() {
        let uk = date_formats(&["24/02/1986", "01/12/2001", "31/01/2010"]);
        assert_eq!((uk.formats.as_slice(), uk.share, uk.ambiguous), (["%d/%m/%Y"].as_slice(), 1.0, false));
        let low_days = date_formats(&["04/02/1986", "01/12/2001"]);
        assert_eq!(low_days.formats, ["%d/%m/%Y"]);
        assert!(low_days.ambiguous, "no day above 12: the UK reading is assumed and said to be");
        let mixed = date_formats(&["2024-12-31 00:00:00.000", "2023-01-05 00:00:00.000", "45291"]);
        // SQL Server's date-times are ISO dates with a time of day, which validation reads.
        assert_eq!(mixed.formats, ["excel"]);
        assert_eq!(date_formats(&["2024-12-31", "2020-02-29"]).formats, Vec::<&str>::new());
        assert_eq!(date_formats(&["20241231", "2020-02-29"]).formats, Vec::<&str>::new(), "basic ISO too");
        assert_eq!(date_formats(&["2024011", "20241231"]).formats, ["%Y%m%d"], "unpadded: the mapping rewrites it");
        assert!(date_formats(&["soon", "later"]).share == 0.0);
    }

    #[test]
    fn partner_codes_map_by_spelling_and_by_published_code_lists() {
        let sex: &[&'static str] = &["M", "F", "X", "U"];
        let m = code_map(&["1", "2", "2", "9", "Male", "F"], sex);
        let got: Vec<(&str, &str)> = m.map.iter().map(|(v, c, _)| (v.as_str(), *c)).collect();
        assert_eq!(got, [("1", "M"), ("2", "F"), ("9", "U"), ("Male", "M")]);
        assert_eq!(m.share, 1.0);
        let groups: &[&'static str] = &["WHITE", "MIXED", "ASIAN", "BLACK", "OTHER", "NOT_STATED"];
        let e =
            code_map(&["WBRI", "MWBC", "APKN", "BCRB", "CHNE", "REFU", "White British", "Not Stated", "XXXX"], groups);
        let got: Vec<(&str, &str)> = e.map.iter().map(|(v, c, _)| (v.as_str(), *c)).collect();
        assert!(got.contains(&("WBRI", "WHITE")) && got.contains(&("CHNE", "ASIAN")), "{got:?}");
        assert!(got.contains(&("White British", "WHITE")) && got.contains(&("Not Stated", "NOT_STATED")), "{got:?}");
        assert_eq!(e.unmapped, [("XXXX".to_owned(), 1)]);
    }

    #[test]
    fn separators_and_currency_are_proposed_only_when_the_values_need_them() {
        let kind = Kind::Decimal { min: -1e6, max: 1e6 };
        let form = |point, thousands, currency| Some(NumberForm { point, thousands, currency });
        assert_eq!(number_form(&["12.5", "3"], &kind), None);
        assert_eq!(number_form(&["1,250.00", "3.5"], &kind), form(None, Some(','), None));
        assert_eq!(number_form(&["1.250,00", "3,5"], &kind), form(Some(','), Some('.'), None));
        assert_eq!(number_form(&["£1,250.00", "-£3.50", "7"], &kind), form(None, Some(','), Some("£")));
        assert_eq!(number_form(&["€ 12,50", "3"], &kind), form(Some(','), None, Some("€")));
        assert_eq!(number_form(&["£12.50", "£3"], &kind), form(None, None, Some("£")));
        assert_eq!(fit(&["£12.50", "£1,003.10"], &kind), 1.0);
    }

    #[test]
    fn boolean_spellings_beyond_the_usual_are_sorted_into_true_false_and_unknown() {
        let b = boolean_spellings(&["-1", "0", "0", "X", "", "Maybe", "yes"]);
        let names = |v: &[(String, usize)]| v.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
        assert_eq!(names(&b.yes), ["-1", "X", "yes"]);
        assert_eq!(names(&b.no), ["0"]);
        assert_eq!(names(&b.unknown), ["Maybe"]);
        assert!(b.needed);
        assert!(!boolean_spellings(&["Y", "n", "TRUE"]).needed, "the usual spellings need no table");
        assert!((fit(&["J", "N", "nee", "?"], &Kind::Boolean) - 0.75).abs() < 1e-9);
    }
}
